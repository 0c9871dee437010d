from __future__ import annotations

import pytest

from pacte.journal import services


@pytest.fixture(autouse=True)
def _fresh_log_caches():
    """The node/checkpoint caches are process-wide: each test starts and ends without them."""
    services.clear_caches()
    yield
    services.clear_caches()
