"""The published open-data dumps (one a day; the file lives in settings.OPEN_DATA_DIR)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Dump(models.Model):
    day = models.DateField(_("date"), unique=True)
    filename = models.CharField(max_length=80)
    byte_size = models.BigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    tables = models.JSONField(default=dict, help_text="rows per table")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("export de données ouvertes")

    def __str__(self) -> str:
        return self.filename
