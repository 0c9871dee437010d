from django.contrib import admin

from pacte.pacts.models import Commitment, Pact, PactVersion, Review, Signature


class VersionInline(admin.TabularInline):
    model = PactVersion
    extra = 0
    fields = ("number", "status", "is_current", "canonical_sha256")
    readonly_fields = fields
    can_delete = False


@admin.register(Pact)
class PactAdmin(admin.ModelAdmin):
    list_display = ("reference", "project", "institution", "created_at")
    search_fields = ("reference", "project__name")
    inlines = [VersionInline]


@admin.register(PactVersion)
class PactVersionAdmin(admin.ModelAdmin):
    """Read-only: the life cycle goes through the use cases so that it is logged."""

    list_display = ("pact", "number", "status", "is_current", "status_changed_at")
    list_filter = ("status",)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ("key", "version", "owner", "status", "progress", "due_date")
    list_filter = ("status", "owner")

    def has_change_permission(self, request, obj=None):
        return False


admin.site.register(Review)
admin.site.register(Signature)
