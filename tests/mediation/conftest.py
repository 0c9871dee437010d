"""The data fixtures (a published cohort with a person column) and the comptoir's routing table,
for the assisted consent and assisted post tests."""

from tests.comptoirs.conftest import desk  # noqa: F401
from tests.data.conftest import cohort, parquet_files  # noqa: F401
