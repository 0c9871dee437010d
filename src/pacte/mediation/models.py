"""Assisted use (P7): what a mediator did for a person without an account, with that person's
recorded consent, and the claim code that lets the person take the contribution back later."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation, User
from pacte.comptoirs.ports import Post
from pacte.data.models import Consent
from pacte.evidence.models import Feedback, Volunteer
from pacte.projects.models import Project


class AssistedAction(models.Model):
    class Kind(models.TextChoices):
        PANEL = "panel_join", _("Rejoindre le panel de testeurs")
        FEEDBACK = "feedback", _("Donner un avis sur un service")
        CONSENT = "data_consent", _("Transmettre ses données à un projet (consentement)")
        POST = "comptoir_post", _("Déposer au comptoir")

    class ConsentMethod(models.TextChoices):
        ORAL = "oral", _("À l'oral, en présence de la personne")
        PAPER = "paper", _("Formulaire papier signé par la personne")
        PHONE = "phone", _("Par téléphone, la personne ayant appelé elle-même")

    class IdentityCheck(models.TextChoices):
        ID_DOCUMENT = "id_document", _("Pièce d'identité présentée au guichet")
        LETTER_AND_ID = (
            "letter_and_id",
            _("Courrier officiel portant l'identifiant, avec une pièce d'identité"),
        )
        KNOWN = "known", _("Personne suivie par la structure, identité déjà vérifiée")

    reference = models.CharField(max_length=24, unique=True)
    kind = models.CharField(_("démarche"), max_length=20, choices=Kind.choices)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    mediator = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    person_label = models.CharField(_("nom ou pseudonyme de la personne"), max_length=120)
    consent_method = models.CharField(
        _("comment la personne a donné son accord"), max_length=10, choices=ConsentMethod.choices
    )
    identity_check = models.CharField(
        _("comment la personne a été identifiée"),
        max_length=20,
        choices=IdentityCheck.choices,
        blank=True,  # only a consent to data sharing needs the person's identity checked
    )
    consent_note = models.TextField(_("précisions sur le consentement"), blank=True)
    attestation = models.TextField(_("attestation du médiateur"))
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # the resulting row, which reads back as `row.assisted` (the link lives here so that the
    # lower domains do not depend on this one)
    volunteer = models.OneToOneField(
        Volunteer, null=True, blank=True, on_delete=models.SET_NULL, related_name="assisted"
    )
    feedback = models.OneToOneField(
        Feedback, null=True, blank=True, on_delete=models.SET_NULL, related_name="assisted"
    )
    consent = models.OneToOneField(
        Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="assisted"
    )
    post = models.OneToOneField(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="assisted"
    )
    claim_code_sha256 = models.CharField(max_length=64, unique=True)
    claimed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("action accompagnée")

    def __str__(self) -> str:
        return self.reference

    @property
    def claimed(self) -> bool:
        return self.claimed_at is not None
