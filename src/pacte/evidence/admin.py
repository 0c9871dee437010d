from django.contrib import admin
from django.http import HttpRequest

from pacte.evidence.models import (
    AlgorithmSheet,
    Audit,
    ComplianceCase,
    Evaluation,
    Experiment,
    Feedback,
    PanelCall,
)


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin[Evaluation]):
    list_display = (
        "title",
        "project",
        "evaluator",
        "status",
        "estimate",
        "conclusive",
        "published_at",
    )
    list_filter = ("status", "method", "conclusive")

    def has_delete_permission(self, request: HttpRequest, obj: Evaluation | None = None) -> bool:
        return obj is None or obj.status != "published"

    def has_change_permission(self, request: HttpRequest, obj: Evaluation | None = None) -> bool:
        return obj is None or obj.status != "published"


@admin.register(Audit)
class AuditAdmin(admin.ModelAdmin[Audit]):
    list_display = ("title", "project", "auditor", "breach_count", "published_at")

    def has_delete_permission(self, request: HttpRequest, obj: Audit | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Audit | None = None) -> bool:
        return False


admin.site.register(
    PanelCall, list_display=("title", "project", "opened_by", "status", "target_size")
)
admin.site.register(Experiment, list_display=("slug", "project", "status", "required_per_arm"))
admin.site.register(AlgorithmSheet, list_display=("title", "project", "status", "version"))
admin.site.register(Feedback, list_display=("project", "created_at", "hidden"))
admin.site.register(
    ComplianceCase, list_display=("version", "status", "opened_on", "cure_deadline")
)
