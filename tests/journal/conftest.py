from __future__ import annotations

import pytest

from pacte.journal import services


@pytest.fixture(autouse=True)
def _fresh_log_caches():
    """The node/checkpoint caches are process-wide: each test starts and ends without them."""
    services.clear_caches()
    yield
    services.clear_caches()


@pytest.fixture
def wsgi_client():
    """An httpx client speaking WSGI to the Django app (as `--url` commands do), keeping the
    test's DB connection open across requests (like django.test.Client; PostgreSQL)."""
    import httpx
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    def make() -> httpx.Client:
        return httpx.Client(
            transport=httpx.WSGITransport(app=get_wsgi_application()), base_url="http://testserver"
        )

    yield make
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
