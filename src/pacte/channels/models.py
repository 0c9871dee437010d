"""Distribution channels (S4), their listings, and takeovers after incubation (P4)."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation, User
from pacte.engines.channel_rules import RULES_VERSION
from pacte.pacts.models import Commitment, Pact
from pacte.projects.models import Project


class Channel(models.Model):
    """A distribution channel an institution owns, with its published eligibility condition."""

    class Kind(models.TextChoices):
        COUNTERS = "counters", _("Guichets d'accueil")
        TOOLBOX = "toolbox", _("Boîte à outils des conseillers")
        DIRECTORY = "directory", _("Annuaire des services publics")
        WEBSITE = "website", _("Site web")

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="channels")
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type de canal"), max_length=12, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    territories = models.JSONField(
        default=list, blank=True, help_text="normalised territories; empty = the whole country"
    )
    needs = models.JSONField(default=list, blank=True, help_text="normalised needs; empty = any")
    rules_version = models.CharField(max_length=20, default=RULES_VERSION)
    clauses = models.JSONField(default=list, help_text="chosen clause codes (engine)")
    min_lower_bound = models.FloatField(default=0.0)
    listing_delay_days = models.PositiveSmallIntegerField(
        _("délai d'inscription (jours)"), default=0
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("canal de diffusion")

    def __str__(self) -> str:
        return self.name


class ServiceCoverage(models.Model):
    """What a service declares for channels: the territories it serves and the needs it meets."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="channel_coverage"
    )
    territories = models.JSONField(default=list, blank=True)
    needs = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.project} ({', '.join(self.territories)})"


class ChannelListing(models.Model):
    """One spell of one service (a project under a pact) in one channel.

    Opened *pending* the day the service meets the channel's condition, then *listed* (at once
    when the channel's delay is 0, else by the institution within the delay); *removed* the day a
    listed service stops meeting it, *lapsed* when it stops before being listed. A service listed
    again later gets a new row: the history stays.

    The clock is not kept here: opening the spell adds a State-side commitment to the pact
    ("listed within N days once the condition is met", through ``pacts.ports``), which the
    compliance engine marks missed then breached like a late payment, and which listing settles.
    ``due_on`` and ``late`` are read from that commitment.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("En attente d'inscription")
        LISTED = "listed", _("Inscrit")
        REMOVED = "removed", _("Retiré")
        LAPSED = "lapsed", _("Condition perdue avant inscription")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="listings")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="channel_listings")
    pact = models.ForeignKey(Pact, on_delete=models.PROTECT, related_name="channel_listings")
    status = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    eligible_on = models.DateField()
    commitment = models.ForeignKey(
        Commitment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the pact's State-side commitment to list the service by its due date",
    )
    listed_on = models.DateField(null=True, blank=True)
    removed_on = models.DateField(null=True, blank=True)
    failing_clause = models.CharField(max_length=40, blank=True)
    failing_code = models.CharField(max_length=40, blank=True)
    last_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel", "-eligible_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "pact"],
                condition=Q(status__in=("pending", "listed")),
                name="uniq_open_channel_listing",
            )
        ]
        verbose_name = _("inscription dans un canal")

    def __str__(self) -> str:
        return f"{self.channel.slug}:{self.project_id} ({self.status})"

    @property
    def due_on(self) -> date | None:
        """The due date of the pact's commitment (None once a commitment never late is withdrawn,
        when the service lost the condition before its due date)."""
        return self.commitment.due_date if self.commitment is not None else None

    @property
    def late(self) -> bool:
        """Listed after the due date, or not listed by it (a State-side breach)."""
        due = self.due_on
        if due is None:
            return False
        return (self.listed_on or self.removed_on or timezone.localdate()) > due

    @property
    def failing_clause_label(self) -> str:
        from pacte.channels.texts import clause_label

        return clause_label(self.failing_clause) if self.failing_clause else ""


class Takeover(models.Model):
    """The institution named to take a project over after incubation (P4): its confirmation in a
    pact, with a date, is a State commitment; without it three months before the last phase ends,
    a public alert shows."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="takeover")
    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    pact = models.ForeignKey(
        Pact, null=True, blank=True, on_delete=models.PROTECT, related_name="takeovers"
    )
    takeover_on = models.DateField(_("date de reprise"), null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    terms = models.TextField(_("modalités de la reprise"), blank=True)
    alert_raised_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("reprise du service")

    def __str__(self) -> str:
        return f"{self.project} → {self.institution}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None
