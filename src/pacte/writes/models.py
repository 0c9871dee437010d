"""Counters of public references and stored results of idempotent API requests."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferenceCounter(models.Model):
    """The last number handed out for one scope (``PACTE-2026``, ``DEM-2026`` …).

    Locked (SELECT … FOR UPDATE) by the transaction that creates the object, so two
    concurrent creations never compute the same reference."""

    scope = models.CharField(max_length=40, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compteur de références")

    def __str__(self) -> str:
        return f"{self.scope}: {self.last}"


class IdempotentRequest(models.Model):
    """The first response to a POST carrying an ``Idempotency-Key`` header.

    Written in the same transaction as the change the request made: either both exist or
    neither. A retry with the same key (same principal) gets this response back; kept 24 h."""

    principal = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="writes_one_result_per_key")
        ]
        verbose_name = _("requête idempotente")

    def __str__(self) -> str:
        return f"{self.principal} {self.key} → {self.status}"
