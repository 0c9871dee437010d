from django.contrib import admin
from django.http import HttpRequest

from pacte.journal.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = (
        "index",
        "type",
        "organisation_slug",
        "subject_type",
        "subject_id",
        "occurred_at",
    )
    list_filter = ("type",)
    search_fields = ("subject_id", "project_slug", "entry_hash")

    def has_change_permission(
        self, request: HttpRequest, obj: Event | None = None
    ) -> bool:  # append-only
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
