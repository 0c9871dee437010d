"""The outbox in the back office: what was sent, what waits, what failed and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from pacte.notifications.models import Notification

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Notification]
else:
    ModelAdmin = admin.ModelAdmin
from pacte.notifications.notifier import retry_now


@admin.register(Notification)
class NotificationAdmin(ModelAdmin):
    list_display = (
        "created_at",
        "event",
        "subject",
        "recipient_count",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    )
    list_filter = ("state", "event")
    search_fields = ("subject", "event")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["retry"]

    @admin.display(description=_("destinataires"))
    def recipient_count(self, obj: Notification) -> int:
        return len(obj.recipients)

    @admin.display(description=_("dernière erreur"))
    def short_error(self, obj: Notification) -> str:
        return obj.last_error[:80]

    @admin.action(description=_("Réessayer maintenant"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        waiting = list(queryset.exclude(state=Notification.State.SENT))
        for notification in waiting:
            retry_now(notification)
        self.message_user(
            request,
            ngettext(
                "%(n)d notification remise en file.",
                "%(n)d notifications remises en file.",
                len(waiting),
            )
            % {"n": len(waiting)},
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
