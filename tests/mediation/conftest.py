"""The data fixtures (a published cohort with a person column) for the assisted consent tests."""

from tests.data.conftest import cohort, parquet_files  # noqa: F401
