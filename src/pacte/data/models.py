"""Data access: catalogue (datasets, versions), requests, grants, the budget ledger,
public releases and citizen consents (S1, P5, P6)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation, User
from pacte.pacts.models import Pact, PactVersion
from pacte.projects.models import Project


class Classification(models.TextChoices):
    DIRECT_IDENTIFIER = "direct_identifier", _("Identifiant direct")
    QUASI_IDENTIFIER = "quasi_identifier", _("Quasi-identifiant")
    SENSITIVE = "sensitive", _("Attribut sensible")
    MEASURE = "measure", _("Mesure")
    PUBLIC_KEY = "public_key", _("Clé publique")
    KEY = "key", _("Clé de regroupement (nomenclature)")


SENSITIVITY = [
    (0, _("0 — ouverte")),
    (1, _("1 — interne")),
    (2, _("2 — personnelle")),
    (3, _("3 — sensible")),
]


class Dataset(models.Model):
    publisher = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="datasets",
        verbose_name=_("institution éditrice"),
    )
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(_("titre"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    licence = models.CharField(_("licence"), max_length=80, default="etalab-2.0")
    sensitivity = models.PositiveSmallIntegerField(_("sensibilité"), choices=SENSITIVITY, default=2)
    certified = models.BooleanField(_("certifié par l'institution"), default=False)
    certified_at = models.DateTimeField(null=True, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("jeu de données")

    def __str__(self) -> str:
        return self.title

    @property
    def current_version(self) -> DatasetVersion | None:
        return self.versions.filter(is_current=True).first()


class DatasetVersion(models.Model):
    """One immutable version: files, schema with classified columns, public bounds and keys.

    ``schema`` = {"columns": [{"name", "type", "classification", "bounds"?: [lo, hi],
    "keys"?: [...], "hierarchy"?: "age"|"date"|"numeric:5,10"|"suppress"|"departement",
    "label"?}]}.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=40)
    is_current = models.BooleanField(default=True)
    paths = models.JSONField(default=list)
    file_format = models.CharField(max_length=12, default="parquet")
    sha256 = models.CharField(max_length=64, blank=True)
    byte_size = models.BigIntegerField(default=0)
    row_count = models.BigIntegerField(default=0)
    schema = models.JSONField(default=dict)
    person_column = models.CharField(max_length=120, blank=True)
    enterprise_column = models.CharField(max_length=120, blank=True)
    max_contributions = models.PositiveIntegerField(
        _("lignes retenues par personne (k)"),
        default=1,
        help_text="Unité de confidentialité DP : une personne ; au plus k de ses lignes sont retenues (public).",
    )
    dp_view = models.JSONField(
        default=dict,
        blank=True,
        help_text="Vue tronquée à k lignes par personne (privacy.truncate_per_person).",
    )
    profile = models.JSONField(
        default=dict,
        blank=True,
        help_text="Profil de la salle sécurisée (secure_room.dataset_profile), calculé à l'ingestion.",
    )
    rho_cap = models.FloatField(_("plafond global ρ de la version"), default=1.0)
    rho_spent = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version"], name="uniq_dataset_version")
        ]
        verbose_name = _("version de jeu de données")

    def __str__(self) -> str:
        return f"{self.dataset.slug}@{self.version}"

    @property
    def columns(self) -> list[dict[str, Any]]:
        return list(self.schema.get("columns", []))

    def column(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.columns if c["name"] == name), None)

    @property
    def rho_remaining(self) -> float:
        return max(0.0, self.rho_cap - self.rho_spent)

    @property
    def privacy_unit_label(self) -> str:
        if self.person_column:
            return (
                f"une personne (colonne « {self.person_column} ») : au plus {self.max_contributions} "
                f"ligne(s) retenue(s) par personne, choisies par un ordre déterministe indépendant des requêtes"
            )
        return f"une ligne (au plus {self.max_contributions} ligne(s) par unité)"


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Soumise à l'instruction")
    CHANGES_REQUESTED = "changes_requested", _("Modifications demandées")
    APPROVED = "approved", _("Approuvée")
    REFUSED = "refused", _("Refusée")
    WITHDRAWN = "withdrawn", _("Retirée")


REQUEST_BALL = {
    RequestStatus.DRAFT: "porteur",
    RequestStatus.SUBMITTED: "institution",
    RequestStatus.CHANGES_REQUESTED: "porteur",
}


class DataRequest(models.Model):
    reference = models.CharField(max_length=30, unique=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="requests")
    dataset_version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="requests"
    )
    pact = models.ForeignKey(Pact, on_delete=models.PROTECT, related_name="data_requests")
    pact_version = models.ForeignKey(
        PactVersion, on_delete=models.PROTECT, related_name="data_requests"
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="data_requests")
    carrier = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="data_requests"
    )
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.DRAFT, db_index=True
    )
    purpose = models.TextField(_("finalité"))
    purpose_limitation = models.TextField(_("limitation de finalité du pacte"), blank=True)
    columns = models.JSONField(default=list, blank=True)
    aggregates = models.TextField(_("agrégats souhaités"), blank=True)
    tier = models.PositiveSmallIntegerField(_("niveau d'accès demandé"))
    legal_basis = models.CharField(_("base légale"), max_length=300)
    retention_months = models.PositiveSmallIntegerField(
        _("durée de conservation (mois)"), default=12
    )
    retention_justification = models.TextField(blank=True)
    recipients = models.TextField(_("destinataires"))
    dpo_contact = models.CharField(_("contact protection des données"), max_length=200)
    volumetry = models.CharField(_("volumétrie"), max_length=200, blank=True)
    submissions = models.JSONField(
        default=list, blank=True, help_text="Snapshots at each submission (diff)."
    )
    benefit_population = models.PositiveIntegerField(null=True, blank=True)
    benefit_severity = models.PositiveSmallIntegerField(null=True, blank=True)
    decision = models.JSONField(
        default=dict, blank=True, help_text="Proportionality decision (rule row)."
    )
    strength = models.JSONField(default=dict, blank=True)
    last_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("demande d'accès aux données")

    def __str__(self) -> str:
        return self.reference

    @property
    def ball(self) -> str:
        return REQUEST_BALL.get(RequestStatus(self.status), "—")


class RequestReview(models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", _("Avis favorable")
        REQUEST_CHANGES = "request_changes", _("Demande de modifications")
        REFUSE = "refuse", _("Refus")

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="reviews")
    submission = models.PositiveIntegerField(default=1)
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reason = models.TextField(blank=True)
    rule_id = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"revue #{self.pk}"


class GrantState(models.TextChoices):
    ACTIVE = "active", _("Actif")
    RENEWAL_DUE = "renewal_due", _("Renouvellement à prévoir")
    EXPIRED = "expired", _("Expiré")
    SUSPENDED = "suspended", _("Suspendu")
    REVOKED = "revoked", _("Révoqué")


USABLE_STATES = (GrantState.ACTIVE, GrantState.RENEWAL_DUE)


class Grant(models.Model):
    """A frozen snapshot of what was approved; the gateway checks every field on every call."""

    reference = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    request = models.OneToOneField(DataRequest, on_delete=models.PROTECT, related_name="grant")
    dataset_version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="grants"
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="data_grants")
    pact = models.ForeignKey(Pact, on_delete=models.PROTECT, related_name="data_grants")
    tier = models.PositiveSmallIntegerField()
    columns = models.JSONField(default=list)
    purpose = models.TextField()
    rho_grant = models.FloatField(default=0.0)
    rho_query = models.FloatField(default=0.0)
    rho_spent = models.FloatField(default=0.0)
    rule_id = models.CharField(max_length=40)
    rules_version = models.CharField(max_length=20)
    decision = models.JSONField(default=dict)
    state = models.CharField(
        max_length=12, choices=GrantState.choices, default=GrantState.ACTIVE, db_index=True
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    state_changed_at = models.DateTimeField(null=True, blank=True)
    last_reason = models.TextField(blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    token_prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    pseudonym_key = models.BinaryField(max_length=32, editable=False)
    renewals = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("accès accordé")

    def __str__(self) -> str:
        return f"{self.reference} ({self.name})"

    @property
    def rho_remaining(self) -> float:
        return max(0.0, self.rho_grant - self.rho_spent)


class Reservation(models.Model):
    """One reservation of the privacy budget, made before the noise is drawn."""

    class State(models.TextChoices):
        RESERVED = "reserved", _("Réservé")
        SPENT = "spent", _("Dépensé")
        RELEASED = "released", _("Rendu (échec)")

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="reservations")
    rho = models.FloatField()
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RESERVED)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"réservation #{self.pk}"


class Release(models.Model):
    """A public DP release. Identical queries (same fingerprint) are served from here at no cost."""

    release_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="releases")
    dataset_version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="releases"
    )
    fingerprint = models.CharField(max_length=64)
    query = models.JSONField(default=dict)
    rho = models.FloatField()
    cells = models.JSONField(default=list)
    aggregates = models.JSONField(default=list)
    output_sha256 = models.CharField(max_length=64)
    privacy_unit = models.JSONField(default=dict, blank=True)
    served = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset_version", "fingerprint"], name="uniq_release_fingerprint"
            )
        ]

    def __str__(self) -> str:
        return f"publication #{self.pk}"


class PersonLink(models.Model):
    """Demo identity proof: the person record(s) a signed-in user may send (tier 5)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="person_links")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="person_links")
    person_id = models.CharField(max_length=64)
    verified_by = models.CharField(max_length=60, default="démonstration")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "dataset"], name="uniq_person_link")]

    def __str__(self) -> str:
        return f"lien personne #{self.pk}"


class Consent(models.Model):
    class State(models.TextChoices):
        GIVEN = "given", _("Donné")
        WITHDRAWN = "withdrawn", _("Retiré")

    receipt_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # None for a consent a mediator recorded for a person without an account (issue 13: the
    # mediation domain keeps the assisted-person record, ``consent.assisted``); set when the
    # person claims it into their account
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="data_consents"
    )
    dataset_version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="consents"
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="data_consents")
    purpose = models.TextField()
    record = models.JSONField(default=list, blank=True)
    record_sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.GIVEN)
    given_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"consentement #{self.pk}"
