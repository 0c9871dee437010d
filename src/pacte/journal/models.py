"""The public event journal: one typed, canonical entry per governance event.

Entries are append-only; their `index` is their position in the transparency log.
"""

from __future__ import annotations

from django.db import models


class LogState(models.Model):
    """Singleton row holding the log size; locked (SELECT … FOR UPDATE) by every append."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "état du journal"


class Event(models.Model):
    index = models.BigIntegerField(unique=True)
    type = models.CharField(max_length=64, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    organisation_slug = models.CharField(max_length=80, blank=True, db_index=True)
    subject_type = models.CharField(max_length=40)
    subject_id = models.CharField(max_length=80)
    project_slug = models.CharField(max_length=120, blank=True, db_index=True)
    entry = models.TextField(help_text="Canonical JSON text: its UTF-8 bytes are the leaf input.")
    entry_hash = models.CharField(max_length=64, unique=True)
    leaf_hash = models.BinaryField(max_length=32)
    prev = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["index"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "index"])]
        verbose_name = "événement"

    def __str__(self) -> str:
        return f"#{self.index} {self.type} {self.subject_type}:{self.subject_id}"
