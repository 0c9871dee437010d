from django.contrib import admin

from pacte.mediation.models import AssistedAction


@admin.register(AssistedAction)
class AssistedActionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("reference", "kind", "organisation", "created_at", "claimed_at")
    readonly_fields = [f.name for f in AssistedAction._meta.fields]
