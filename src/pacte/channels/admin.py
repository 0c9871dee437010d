from django.contrib import admin

from pacte.channels.models import Channel, ChannelListing, ServiceCoverage, Takeover


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin[Channel]):
    list_display = ("name", "institution", "kind", "listing_delay_days", "rules_version")
    search_fields = ("name", "slug")
    readonly_fields = ("rules_version",)


@admin.register(ChannelListing)
class ChannelListingAdmin(admin.ModelAdmin[ChannelListing]):
    list_display = ("channel", "project", "status", "eligible_on", "due_on", "listed_on", "late")
    list_filter = ("status",)
    list_select_related = ("channel", "project", "commitment")
    # listings change only through the daily run and the institution's listing (journal events)
    readonly_fields = [f.name for f in ChannelListing._meta.fields]


admin.site.register(ServiceCoverage)
admin.site.register(Takeover)
