from django.contrib import admin
from django.http import HttpRequest

from pacte.pacts.models import Commitment, Pact, PactVersion, Review, Signature


class VersionInline(admin.TabularInline[PactVersion, Pact]):
    model = PactVersion
    extra = 0
    fields = ("number", "status", "is_current", "canonical_sha256")
    readonly_fields = fields
    can_delete = False


@admin.register(Pact)
class PactAdmin(admin.ModelAdmin[Pact]):
    list_display = ("reference", "project", "institution", "created_at")
    search_fields = ("reference", "project__name")
    inlines = [VersionInline]


@admin.register(PactVersion)
class PactVersionAdmin(admin.ModelAdmin[PactVersion]):
    """Read-only: the life cycle goes through the use cases so that it is logged."""

    list_display = ("pact", "number", "status", "is_current", "status_changed_at")
    list_filter = ("status",)

    def has_change_permission(self, request: HttpRequest, obj: PactVersion | None = None) -> bool:
        return False


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin[Commitment]):
    list_display = ("key", "version", "owner", "status", "progress", "due_date")
    list_filter = ("status", "owner")

    def has_change_permission(self, request: HttpRequest, obj: Commitment | None = None) -> bool:
        return False


admin.site.register(Review)
admin.site.register(Signature)
