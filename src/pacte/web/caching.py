"""Cache of public pages for visitors without an account.

Every governance change appends an event to the public log in the same transaction, so the hash
of the newest entry versions everything the public sees: the cache key includes it, and a new
event makes every cached page stale at once. A short TTL bounds what no event covers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

from pacte.journal.models import Event


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if (
            request.method != "GET"
            or request.user.is_authenticated
            or not settings.PUBLIC_PAGE_CACHE_SECONDS
            or len(messages.get_messages(request))  # a flash message is for this visitor only
        ):
            return view(request, *args, **kwargs)
        head = (
            Event.objects.order_by("-index").values_list("entry_hash", flat=True).first() or "empty"
        )
        # htmx asks the same URL for a section's body alone (web.views.project_section)
        part = "hx" if request.headers.get("HX-Request") == "true" else "page"
        key = f"public-page:{head}:{get_language()}:{part}:{request.get_full_path()}"
        cached: HttpResponse | None = cache.get(key)
        if cached is not None:
            return cached
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            patch_vary_headers(response, ("Cookie", "Accept-Language", "HX-Request"))
            cache.set(key, response, settings.PUBLIC_PAGE_CACHE_SECONDS)
        return response

    return wrapper
