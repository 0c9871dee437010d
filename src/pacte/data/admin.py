from django.contrib import admin

from pacte.data.models import (
    Consent,
    DataRequest,
    Dataset,
    DatasetVersion,
    Grant,
    PersonLink,
    Release,
    RequestReview,
    Reservation,
)


class VersionInline(admin.TabularInline[DatasetVersion, Dataset]):
    model = DatasetVersion
    extra = 0
    fields = ("version", "is_current", "row_count", "rho_cap", "rho_spent", "sha256")
    readonly_fields = ("rho_spent", "sha256")


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin[Dataset]):
    list_display = ("slug", "title", "publisher", "sensitivity", "certified")
    inlines = [VersionInline]


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin[DataRequest]):
    list_display = ("reference", "project", "dataset", "tier", "status", "created_at")
    list_filter = ("status", "tier")


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin[Grant]):
    list_display = (
        "reference",
        "project",
        "dataset_version",
        "tier",
        "state",
        "rho_spent",
        "rho_grant",
        "expires_at",
    )
    list_filter = ("state", "tier")
    exclude = ("token_hash", "pseudonym_key")


for model in (RequestReview, Release, Reservation, PersonLink, Consent):
    admin.site.register(model)
