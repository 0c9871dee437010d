"""Citizen consent (tier 5): a person sends their own record to a project under a pact in force,
and may withdraw it; both are logged with personal commitments, never in clear."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts.models import User
from pacte.accounts.ports import FormerIdentity
from pacte.data import events
from pacte.data.gateway.access import canonical_sha
from pacte.data.models import Consent, Dataset, DatasetVersion, PersonLink
from pacte.errors import (
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from pacte.journal.services import Actor, personal_commitment
from pacte.pacts.models import PactVersion, Status
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def own_record(link: PersonLink) -> tuple[DatasetVersion, list[dict[str, Any]]]:
    return record_of(link.dataset, link.person_id)


def record_of(dataset: Dataset, person_id: str) -> tuple[DatasetVersion, list[dict[str, Any]]]:
    """The rows of ``person_id`` in the dataset's current version (declared columns only)."""
    import polars as pl

    dv = dataset.current_version
    if dv is None or not dv.person_column:
        raise ValidationFailed(_("Ce jeu de données ne permet pas de retrouver une personne."))
    frame = (
        pl.scan_parquet(list(dv.paths))
        .filter(pl.col(dv.person_column) == person_id)
        .select([c["name"] for c in dv.columns])
        .collect()
    )  # declared columns only, never record keys
    return dv, [{k: _jsonable(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def check_destination(project: Project, purpose: str) -> str:
    """The project may receive data (a pact in force) and the purpose is stated: the purpose,
    stripped."""
    if not PactVersion.objects.filter(pact__project=project, status=Status.ACTIVE).exists():
        raise InvalidTransition(
            _("Ce projet n'a pas de pacte en vigueur : il ne peut pas recevoir de données.")
        )
    purpose = (purpose or "").strip()
    if len(purpose) < 10:
        raise ValidationFailed(
            _(
                "Indiquez la finalité pour laquelle vous transmettez vos données (10 caractères au "
                "moins)."
            ),
            field_errors={"purpose": [_("Finalité obligatoire.")]},
        )
    return purpose


@retry_on_conflict
@transaction.atomic
def give_consent(user: User, dataset: Dataset, project: Project, purpose: str) -> Consent:
    if user is None or not user.is_authenticated:
        raise NotAuthenticated(_("Connectez-vous pour transmettre vos propres données."))
    link = PersonLink.objects.filter(user=user, dataset=dataset).select_related("dataset").first()
    if link is None:
        raise PermissionDenied(
            _("Aucun lien vérifié entre votre compte et une fiche de ce jeu de données.")
        )
    purpose = check_destination(project, purpose)
    dv, record = own_record(link)
    if not record:
        raise NotFound(_("Aucune fiche ne correspond à votre identifiant dans ce jeu de données."))
    consent = Consent.objects.create(
        user=user,
        dataset_version=dv,
        project=project,
        purpose=purpose,
        record=record,
        record_sha256=canonical_sha(record),
    )
    events.record(
        "consent.given",
        Actor(role="citizen", person_id=user.pk),
        "consent",
        str(consent.receipt_id),
        project.slug,
        dataset=dataset.slug,
        version=dv.version,
        tier=5,
        person=personal_commitment(f"person:{dataset.slug}:{link.person_id}"),
        purpose=personal_commitment(f"purpose:{consent.receipt_id}:{purpose}"),
        record_sha256=consent.record_sha256,
        rows=len(record),
    )
    return consent


@retry_on_conflict
@transaction.atomic
def withdraw_consent(user: User, consent: Consent) -> Consent:
    consent = (
        Consent.objects.select_for_update(of=("self",))
        .select_related("project", "dataset_version__dataset")
        .get(pk=consent.pk)
    )
    # an assisted consent (no user yet) is withdrawn through the mediation domain
    # (pacte.data.assisted), never here: None must not match an anonymous caller
    if consent.user_id is None or consent.user_id != getattr(user, "pk", None):
        raise PermissionDenied(_("Seule la personne concernée peut retirer son consentement."))
    if consent.state == Consent.State.WITHDRAWN:
        raise InvalidTransition(_("Ce consentement est déjà retiré."))
    consent.state, consent.withdrawn_at, consent.record = (
        Consent.State.WITHDRAWN,
        timezone.now(),
        [],
    )
    consent.save()
    events.record(
        "consent.withdrawn",
        Actor(role="citizen", person_id=user.pk),
        "consent",
        str(consent.receipt_id),
        consent.project.slug,
        dataset=consent.dataset_version.dataset.slug,
        tier=5,
    )
    return consent


def erase_personal_data(user: User, former: FormerIdentity) -> None:
    """Account deletion (pacte.accounts.ports): every consent still given is withdrawn (its
    record erased, the withdrawal logged), and the person's identity links are deleted."""
    for consent in Consent.objects.filter(user=user, state=Consent.State.GIVEN):
        withdraw_consent(user, consent)
    PersonLink.objects.filter(user=user).delete()
