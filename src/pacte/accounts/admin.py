from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from pacte.accounts.models import ApiToken, Membership, Organisation, SigningKey, User
from pacte.accounts.services import vouch_for_address


@admin.register(User)
class PacteUserAdmin(UserAdmin[User]):
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Pacte", {"fields": ("display_name",)}))

    def save_model(self, request: Any, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        vouch_for_address(obj)  # an account made here: its address is vouched for by the admin


class MembershipInline(admin.TabularInline[Membership, Organisation]):
    model = Membership
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ("name", "kind", "legal_form", "territory")
    list_filter = ("kind", "legal_form")
    search_fields = ("name", "slug")
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "user", "organisation", "prefix", "expires_at", "revoked_at")
    readonly_fields = ("token_hash", "prefix")


admin.site.register(SigningKey)
admin.site.site_header = "Pacte — back-office"
