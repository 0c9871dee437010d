"""Pacts, their immutable versions, reviews, signatures and commitments (both sides)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation, User
from pacte.links import web_link_validator
from pacte.projects.models import Project


class Status(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Soumis à l'instruction")
    CHANGES_REQUESTED = "changes_requested", _("Modifications demandées")
    APPROVED = "approved", _("Approuvé, en attente de signature")
    SIGNING = "signing", _("En cours de signature")
    ACTIVE = "active", _("En vigueur")
    BREACH_NOTIFIED = "breach_notified", _("Manquement notifié")
    SUSPENDED = "suspended", _("Suspendu")
    BROKEN = "broken", _("Rompu")
    COMPLETED = "completed", _("Arrivé à terme")
    SUPERSEDED = "superseded", _("Remplacé par un avenant")
    WITHDRAWN = "withdrawn", _("Retiré")


# Who must act next, for the review queue's clock.
BALL = {
    Status.DRAFT: "carrier",
    Status.SUBMITTED: "institution",
    Status.CHANGES_REQUESTED: "carrier",
    Status.APPROVED: "both",
    Status.SIGNING: "both",
    Status.BREACH_NOTIFIED: "carrier",
    Status.SUSPENDED: "institution",
}


class Pact(models.Model):
    reference = models.CharField(max_length=30, unique=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="pacts")
    institution = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="pacts", verbose_name=_("institution")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("pacte")

    def __str__(self) -> str:
        return self.reference

    @property
    def current_version(self) -> PactVersion | None:
        return self.versions.filter(is_current=True).first()


class PactVersion(models.Model):
    pact = models.ForeignKey(Pact, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    is_current = models.BooleanField(
        default=True,
        help_text="The version the public sees for this pact (active one, else the newest).",
    )
    content = models.JSONField(default=dict)
    principles_index = models.CharField(max_length=200, blank=True)
    canonical_sha256 = models.CharField(max_length=64, blank=True)
    requires_second_review = models.BooleanField(default=False)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    last_reason = models.TextField(blank=True)
    cure_deadline = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pact", "number"]
        constraints = [models.UniqueConstraint(fields=["pact", "number"], name="uniq_pact_version")]
        verbose_name = _("version de pacte")

    def __str__(self) -> str:
        return f"{self.pact.reference} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == Status.DRAFT

    @property
    def ball(self) -> str:
        return BALL.get(Status(self.status), "none")


class Review(models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approbation")
        REQUEST_CHANGES = "request_changes", _("Demande de modifications")

    version = models.ForeignKey(PactVersion, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_decision_display()} — {self.version}"


class Signature(models.Model):
    class Side(models.TextChoices):
        CARRIER = "carrier", _("Porteur")
        INSTITUTION = "institution", _("Institution")

    version = models.ForeignKey(PactVersion, on_delete=models.CASCADE, related_name="signatures")
    side = models.CharField(max_length=12, choices=Side.choices)
    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    digest_sha256 = models.CharField(max_length=64)
    public_key = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "side"], name="uniq_signature_side")
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} — {self.version}"


class Commitment(models.Model):
    """An obligation of either side, tracked against its evidence."""

    class Owner(models.TextChoices):
        CARRIER = "carrier", _("Porteur")
        INSTITUTION = "institution", _("Institution")

    class State(models.TextChoices):
        ON_TRACK = "on_track", _("En bonne voie")
        DUE_SOON = "due_soon", _("Échéance proche")
        MET = "met", _("Tenu")
        MISSED = "missed", _("Manqué")
        BREACHED = "breached", _("Rompu")

    version = models.ForeignKey(PactVersion, on_delete=models.CASCADE, related_name="commitments")
    key = models.CharField(max_length=60)
    owner = models.CharField(max_length=12, choices=Owner.choices)
    principle = models.CharField(max_length=30, blank=True)
    text = models.TextField()
    indicator = models.CharField(max_length=300, blank=True)
    threshold = models.CharField(max_length=200, blank=True)
    due_date = models.DateField(null=True, blank=True)
    recurrence = models.CharField(max_length=12, default="none")
    evidence_kind = models.CharField(max_length=20, default="document")
    status = models.CharField(
        max_length=12, choices=State.choices, default=State.ON_TRACK, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0)
    evidence_note = models.TextField(blank=True)
    evidence_url = models.URLField(blank=True, validators=[web_link_validator])
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["owner", "due_date", "key"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="uniq_commitment_key")
        ]
        verbose_name = _("engagement")

    def __str__(self) -> str:
        return f"{self.key} ({self.owner})"
