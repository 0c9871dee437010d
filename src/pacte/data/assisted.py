"""Consents to data sharing that a mediator records for a person without an account (issue 13,
P7), their withdrawal, and their claim into the person's account later.

The consent row has no user: the mediation domain keeps the assisted-person record (how the
person was identified, how they agreed, the mediator, the receipt and the hash of the claim code)
and points to the consent (``consent.assisted``). These functions run in the caller's
transaction (the mediation use case, which also writes its own journal event); each writes the
data domain's own event (``consent.given`` / ``consent.withdrawn``), marked ``assisted``, with
the person only as a salted commitment.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import User
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.data import events
from pacte.data.consent import check_destination, record_of
from pacte.data.gateway.access import canonical_sha
from pacte.data.models import Consent, Dataset, DatasetVersion
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.journal.services import Actor, personal_commitment
from pacte.projects.models import Project

MAX_PERSON_ID = 64
# how the journal names who withdrew an assisted consent
BY_PERSON = "person"  # the person, with the claim code of the receipt
BY_MEDIATOR = "mediator"  # a mediator of the structure, at the person's request
ASSISTED_PERSON = Actor(organisation_slug="", role="assisted_person")


def datasets() -> list[Dataset]:
    """The datasets a person can be found in (a person column in the current version)."""
    versions = (
        DatasetVersion.objects.filter(is_current=True)
        .exclude(person_column="")
        .select_related("dataset")
        .order_by("dataset__title")
    )
    return [v.dataset for v in versions]


def consent_for_person(
    acting: Acting, dataset: Dataset, person_id: str, project: Project, purpose: str
) -> Consent:
    """The person's own record sent to ``project`` on their behalf: the same checks as a
    consent given from an account (a pact in force, a stated purpose, a record found)."""
    policy.require(acting, Action.ASSISTED_ACT, acting.organisation)
    person_id = (person_id or "").strip()
    if not person_id or len(person_id) > MAX_PERSON_ID:
        raise ValidationFailed(
            _("Indiquez l'identifiant de la personne dans ce jeu de données."),
            field_errors={"person_id": [_("Identifiant obligatoire (64 caractères au plus).")]},
        )
    purpose = check_destination(project, purpose)
    dv, record = record_of(dataset, person_id)
    if not record:
        raise ValidationFailed(
            _("Aucune fiche ne correspond à cet identifiant dans ce jeu de données."),
            field_errors={"person_id": [_("Identifiant introuvable dans ce jeu de données.")]},
        )
    consent = Consent.objects.create(
        user=None,
        dataset_version=dv,
        project=project,
        purpose=purpose,
        record=record,
        record_sha256=canonical_sha(record),
    )
    events.record(
        "consent.given",
        policy.actor_of(acting),
        "consent",
        str(consent.receipt_id),
        project.slug,
        dataset=dataset.slug,
        version=dv.version,
        tier=5,
        assisted=True,
        person=personal_commitment(f"person:{dataset.slug}:{person_id}"),
        purpose=personal_commitment(f"purpose:{consent.receipt_id}:{purpose}"),
        record_sha256=consent.record_sha256,
        rows=len(record),
    )
    return consent


def withdraw_for_person(consent: Consent, by: str, acting: Acting | None = None) -> Consent:
    """Withdraw a consent that no account holds yet: ``by`` the person (the caller checked the
    claim code) or ``by`` a mediator (``acting``, checked here) at the person's request."""
    consent = (
        Consent.objects.select_for_update(of=("self",))
        .select_related("project", "dataset_version__dataset")
        .get(pk=consent.pk)
    )
    if by == BY_MEDIATOR:
        if acting is None:
            raise ValueError("a mediator's withdrawal needs the mediator")
        policy.require(acting, Action.ASSISTED_ACT, acting.organisation)
        actor = policy.actor_of(acting)
    elif by == BY_PERSON:
        actor = ASSISTED_PERSON
    else:
        raise ValueError(f"unknown withdrawer {by!r}")
    if consent.user_id is not None:
        raise InvalidTransition(
            _(
                "Ce consentement a été repris dans un compte : la personne le retire depuis son "
                "compte."
            )
        )
    if consent.state == Consent.State.WITHDRAWN:
        raise InvalidTransition(_("Ce consentement est déjà retiré."))
    consent.state, consent.withdrawn_at, consent.record = (
        Consent.State.WITHDRAWN,
        timezone.now(),
        [],
    )
    consent.save(update_fields=["state", "withdrawn_at", "record"])
    events.record(
        "consent.withdrawn",
        actor,
        "consent",
        str(consent.receipt_id),
        consent.project.slug,
        dataset=consent.dataset_version.dataset.slug,
        tier=5,
        assisted=True,
        by=by,
    )
    return consent


def claim_consent(consent: Consent, user: User) -> None:
    """The person, signed in, takes the consent into their account (withdrawable from there)."""
    Consent.objects.filter(pk=consent.pk, user__isnull=True).update(user=user)
