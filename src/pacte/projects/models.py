"""The citizen service itself and its phases (P1), and who carries it afterwards (P4)."""

from __future__ import annotations

import unicodedata

from django.db import models
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation
from pacte.links import web_link_validator

DEFAULT_PHASE_BUDGET_EUR = 200_000
DEFAULT_PHASE_MONTHS = 6


class PhaseKind(models.TextChoices):
    INVESTIGATION = "investigation", _("Investigation")
    CONSTRUCTION = "construction", _("Construction")
    ACCELERATION = "acceleration", _("Accélération")
    CONSOLIDATION = "consolidation", _("Consolidation")
    OPERATED = "operated", _("Opéré durablement")
    TRANSFERRED = "transferred", _("Transféré")
    ABANDONED = "abandoned", _("Abandonné")


PHASE_ORDER = [
    PhaseKind.INVESTIGATION,
    PhaseKind.CONSTRUCTION,
    PhaseKind.ACCELERATION,
    PhaseKind.CONSOLIDATION,
]
TERMINAL_PHASES = {PhaseKind.OPERATED, PhaseKind.TRANSFERRED, PhaseKind.ABANDONED}


def folded(text: str) -> str:
    """Text as the search compares it: accents removed, case folded ("Mobilité" → "mobilite"), the
    same on PostgreSQL and SQLite (no database extension needed)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class Project(models.Model):
    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    pitch = models.CharField(_("en une phrase"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("site web"), blank=True, validators=[web_link_validator])
    repository = models.URLField(_("dépôt de code"), blank=True, validators=[web_link_validator])
    licence = models.CharField(_("licence (SPDX)"), max_length=60, blank=True)
    target_users = models.CharField(_("publics visés"), max_length=300, blank=True)
    territory = models.CharField(_("territoire"), max_length=120, blank=True)
    carrier = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="projects", verbose_name=_("porteur")
    )
    takeover_institution = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="projects_taken_over",
        verbose_name=_("institution qui reprendra le service"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # name, pitch, territory and carrier folded (see ``folded``), kept up to date by save()
    search_text = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("projet")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_text = self.searchable_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def searchable_text(self) -> str:
        carrier = self.carrier.name if self.carrier_id else ""
        return folded(" ".join([self.name, self.pitch, self.territory, carrier]))

    @property
    def current_phase(self) -> Phase | None:
        phases = list(self.phases.all())  # uses a prefetch when there is one
        return max(phases, key=lambda p: (p.started_on, p.id)) if phases else None


class Phase(models.Model):
    class Decision(models.TextChoices):
        CONTINUE = "continue", _("Continuer")
        STOP = "stop", _("Arrêter")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField(_("phase"), max_length=20, choices=PhaseKind.choices)
    budget_eur = models.PositiveIntegerField(_("budget (€)"), default=DEFAULT_PHASE_BUDGET_EUR)
    planned_months = models.PositiveSmallIntegerField(
        _("durée prévue (mois)"), default=DEFAULT_PHASE_MONTHS
    )
    started_on = models.DateField(_("début"))
    ended_on = models.DateField(_("fin"), null=True, blank=True)
    decision = models.CharField(_("décision"), max_length=10, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("motif de la décision"), blank=True)

    class Meta:
        ordering = ["started_on", "id"]
        verbose_name = _("phase")

    def __str__(self) -> str:
        return f"{self.project} — {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.ended_on is None and self.kind not in TERMINAL_PHASES
