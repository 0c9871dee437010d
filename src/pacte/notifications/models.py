"""The outbox: every mail the platform sends, recorded before it is sent."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message to one or more recipients, written in the transaction that caused it.

    Delivery state: ``attempts`` tries so far, the ``last_error`` of a failed try,
    ``next_attempt_at`` (the earliest next try while pending; pushed forward while a try
    is in flight), ``sent_at`` once the mail backend accepted it. After
    ``NOTIFICATION_MAX_ATTEMPTS`` failed tries the notification is ``failed``.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("en attente")
        SENT = "sent", _("envoyée")
        FAILED = "failed", _("abandonnée")

    event = models.CharField(_("événement"), max_length=80)
    recipients = models.JSONField(_("destinataires"), default=list)
    subject = models.CharField(_("objet"), max_length=255)
    body = models.TextField(_("texte"))
    headers = models.JSONField(_("en-têtes"), default=dict, blank=True)  # e.g. List-Unsubscribe
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.event}: {self.subject}"
