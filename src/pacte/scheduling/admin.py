from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from pacte.scheduling.models import ScheduledRun

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[ScheduledRun]
else:
    ModelAdmin = admin.ModelAdmin


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ModelAdmin):
    list_display = ("job", "due_at", "enqueued_at", "task_result_id")
    list_filter = ("job",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
