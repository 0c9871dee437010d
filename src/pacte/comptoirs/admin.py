from django.contrib import admin
from django.http import HttpRequest

from pacte.comptoirs.models import Route


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin[Route]):
    """Read-only: the routing table changes through ``comptoirs.routing.set_route``, which
    writes the journal (``pacte comptoir-route`` or the demo)."""

    list_display = ("theme", "territory", "institution", "contact_title", "clock_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Route | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Route | None = None) -> bool:
        return False
