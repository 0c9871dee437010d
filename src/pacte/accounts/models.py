"""People, organisations, memberships with roles, API tokens, signing keys."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from pacte.links import web_link_validator


class User(AbstractUser):
    """A person. Identity comes from a password or an OpenID Connect provider (FranceConnect,
    ProConnect) through django-allauth. A deleted account stays as an anonymous tombstone
    (``deleted_at`` set, every personal field erased) so that its contributions keep an author."""

    display_name = models.CharField(_("nom affiché"), max_length=120, blank=True)
    deleted_at = models.DateTimeField(_("supprimé le"), null=True, blank=True)

    def __str__(self) -> str:
        if self.deleted_at is not None:
            return str(_("Compte supprimé"))
        return self.display_name or self.get_full_name() or self.username


class Organisation(models.Model):
    class Kind(models.TextChoices):
        CARRIER = "carrier", _("Porteur de projet")
        INSTITUTION = "institution", _("Institution publique")
        EVALUATOR = "evaluator", _("Évaluateur indépendant")

    class LegalForm(models.TextChoices):
        ASSOCIATION = "association", _("Association")
        COOPERATIVE = "cooperative", _("Coopérative (SCIC, SCOP)")
        FOUNDATION = "foundation", _("Fondation")
        COLLECTIVE = "collective", _("Collectif informel")
        AGENTS_TEAM = "agents_team", _("Équipe d'agents publics")
        MINISTRY = "ministry", _("Ministère")
        LOCAL_AUTHORITY = "local_authority", _("Collectivité territoriale")
        OPERATOR = "operator", _("Opérateur public")
        EVALUATION_BODY = "evaluation_body", _("Organisme d'évaluation")

    CARRIER_FORMS = {"association", "cooperative", "foundation", "collective", "agents_team"}
    INSTITUTION_FORMS = {"ministry", "local_authority", "operator"}

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    legal_form = models.CharField(_("forme juridique"), max_length=30, choices=LegalForm.choices)
    territory = models.CharField(_("territoire"), max_length=120, blank=True)
    website = models.URLField(_("site web"), blank=True, validators=[web_link_validator])
    contact_email = models.EmailField(_("courriel de contact"), blank=True)
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        blank=True,
        db_index=True,
        help_text=_("Pour reconnaître les agents qui se connectent avec ProConnect."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")

    def __str__(self) -> str:
        return self.name

    @property
    def is_institution(self) -> bool:
        return self.kind == self.Kind.INSTITUTION

    @property
    def is_carrier(self) -> bool:
        return self.kind == self.Kind.CARRIER


class Role(models.TextChoices):
    CARRIER_MEMBER = "carrier_member", _("Membre du porteur")
    CARRIER_ADMIN = "carrier_admin", _("Administrateur du porteur")
    REVIEWER = "reviewer", _("Instructeur")
    SIGNATORY = "signatory", _("Signataire de l'institution")
    DATA_STEWARD = "data_steward", _("Responsable des données")
    EVALUATOR = "evaluator", _("Évaluateur indépendant")
    AUDITOR = "auditor", _("Auditeur")
    PLATFORM_ADMIN = "platform_admin", _("Administrateur de la plateforme")
    FINANCE_OFFICER = "finance_officer", _("Agent financier de l'institution")
    PAYMENT_APPROVER = "payment_approver", _("Approbateur des paiements")
    MEDIATOR = (
        "mediator",
        _("Médiateur (accueil, travail social) : agit pour une personne sans compte"),
    )


ROLES_BY_KIND = {
    Organisation.Kind.CARRIER: {Role.CARRIER_MEMBER, Role.CARRIER_ADMIN},
    Organisation.Kind.INSTITUTION: {
        Role.REVIEWER,
        Role.SIGNATORY,
        Role.DATA_STEWARD,
        Role.AUDITOR,
        Role.PLATFORM_ADMIN,
        Role.FINANCE_OFFICER,
        Role.PAYMENT_APPROVER,
        Role.MEDIATOR,  # issue 13 part 7: counter agents (France services…) act for a person
    },
    Organisation.Kind.EVALUATOR: {Role.EVALUATOR, Role.AUDITOR},
}


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    roles = models.JSONField(default=list, help_text="List of Role values")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="uniq_membership")
        ]
        verbose_name = _("adhésion")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({', '.join(self.roles)})"

    def has(self, role: str) -> bool:
        return role in self.roles


class ApiToken(models.Model):
    """Bearer token for the API: shown once, stored as SHA-256, bound to a user acting for an organisation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SigningKey(models.Model):
    """A person's Ed25519 key used to sign pact versions.

    The public key is published. The private key is held encrypted by the platform
    (custodial signing); a person may instead register a public key and sign offline.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="signing_key")
    public_key = models.CharField(max_length=64, help_text="hex of the 32-byte Ed25519 public key")
    encrypted_private_key = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"clé de {self.user}"
