"""One row per (job, period): the proof that a periodic job was enqueued for that period."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledRun(models.Model):
    """A periodic job enqueued for one occurrence of its cadence.

    The unique constraint on (job, due_at) is what makes two schedulers safe: the second
    one to insert the same period gets an IntegrityError and enqueues nothing.
    """

    job = models.CharField(_("tâche"), max_length=100)
    due_at = models.DateTimeField(_("échéance"))
    enqueued_at = models.DateTimeField(_("mise en file"))
    task_result_id = models.CharField(_("exécution"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("exécution planifiée")
        verbose_name_plural = _("exécutions planifiées")
        ordering = ["-due_at", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "due_at"], name="scheduled_run_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.job} @ {self.due_at:%Y-%m-%d %H:%M}"
