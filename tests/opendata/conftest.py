from __future__ import annotations

import pytest

# the data domain's fixtures (a published dataset, an active grant with its token)
from tests.data.conftest import (  # noqa: F401
    cohort,
    dp_grant,
    hiring,
    parquet_files,
)


@pytest.fixture(autouse=True)
def _open_data_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.OPEN_DATA_DIR = tmp_path / "opendata"
