"""The carrier writes a pact: create, edit the draft, submit, withdraw, start a new version.

Every use case is one transaction that also appends its event to the public journal.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Organisation
from pacte.accounts.policy import Action, Principal, actor_of
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.pacts import notifications
from pacte.pacts.documents import canonical_digest
from pacte.pacts.events import lock_version, pact_event, set_current
from pacte.pacts.lifecycles import PACT
from pacte.pacts.models import Commitment, Pact, PactVersion, Status
from pacte.pacts.schema import PactContent, completeness_errors, parse_content
from pacte.projects.models import Project
from pacte.writes.references import next_reference
from pacte.writes.retry import retry_on_conflict


def _principles_index(content: PactContent) -> str:
    return "," + ",".join(content.principles) + "," if content.principles else ""


def _next_reference() -> str:
    """PACTE-{year}-{n:04d} from the locked counter of the year (two drafts never collide)."""
    return next_reference(Pact, "PACTE")


def _user_of(principal: Principal) -> Any:
    if isinstance(principal, policy.PlatformPrincipal):
        return None
    return principal.user


@retry_on_conflict
@transaction.atomic
def create_pact(
    acting: Principal, project: Project, institution: Organisation, content: dict[str, Any]
) -> PactVersion:
    policy.require(acting, Action.PACT_WRITE, project)
    if not institution.is_institution:
        raise ValidationFailed(_("La contrepartie d'un pacte doit être une institution publique."))
    parsed = parse_content(content, new_input=True)
    pact = Pact.objects.create(
        reference=_next_reference(), project=project, institution=institution
    )
    version = PactVersion.objects.create(
        pact=pact,
        number=1,
        content=parsed.model_dump(mode="json"),
        principles_index=_principles_index(parsed),
        created_by=_user_of(acting),
        status_changed_at=timezone.now(),
    )
    pact_event(version, "pact.drafted", actor_of(acting), institution=institution.slug)
    return version


@retry_on_conflict
@transaction.atomic
def update_draft(acting: Principal, version: PactVersion, content: dict[str, Any]) -> PactVersion:
    version = lock_version(version)
    policy.require(acting, Action.PACT_WRITE, version.pact)
    if not version.is_editable:
        raise InvalidTransition(
            _(
                "Cette version n'est plus modifiable : une version soumise est figée. Créez une nouvelle version."
            )
        )
    parsed = parse_content(content, new_input=True)
    version.content = parsed.model_dump(mode="json")
    version.principles_index = _principles_index(parsed)
    version.save()
    return version


@retry_on_conflict
@transaction.atomic
def new_version(acting: Principal, pact: Pact, *, reason: str = "") -> PactVersion:
    """Revise after changes were requested, or amend an active pact: a new draft version."""
    policy.require(acting, Action.PACT_WRITE, pact)
    latest = (
        PactVersion.objects.select_for_update(no_key=True)
        .filter(pact=pact)
        .order_by("-number")
        .first()
    )
    assert latest is not None
    if latest.status == Status.DRAFT:
        raise InvalidTransition(_("Une version brouillon existe déjà : modifiez-la."))
    allowed = {Status.CHANGES_REQUESTED: "pact.revised", Status.ACTIVE: "pact.amendment_started"}
    base = latest
    if latest.status not in allowed:
        active = pact.versions.filter(status=Status.ACTIVE).first()
        if active is None or latest.status not in (Status.WITHDRAWN, Status.CHANGES_REQUESTED):
            raise InvalidTransition(
                _(
                    "Une nouvelle version n'est possible qu'après une demande de modifications ou pour amender "
                    "un pacte en vigueur."
                )
            )
        base = active
    version = PactVersion.objects.create(
        pact=pact,
        number=latest.number + 1,
        parent=base,
        content=base.content,
        principles_index=base.principles_index,
        created_by=_user_of(acting),
        status_changed_at=timezone.now(),
        is_current=not pact.versions.filter(status=Status.ACTIVE).exists(),
    )
    if version.is_current:
        set_current(version)
    pact_event(
        version,
        allowed.get(Status(base.status), "pact.revised"),
        actor_of(acting),
        parent=base.number,
    )
    return version


@retry_on_conflict
@transaction.atomic
def submit(acting: Principal, version: PactVersion) -> PactVersion:
    version = lock_version(version)
    move, _reason = PACT.check(acting, "submit", version)
    content = parse_content(version.content)
    errors = completeness_errors(content)
    if errors:
        raise ValidationFailed(
            _("Le pacte n'est pas complet : corrigez les points signalés."), field_errors=errors
        )
    version.requires_second_review = (
        content.state.asks_restricted_data
        or content.state.total_funding_eur > settings.PACT_SECOND_REVIEW_EUROS
    )
    version.canonical_sha256 = canonical_digest(version).hex()
    version.submitted_at = timezone.now()
    Commitment.objects.filter(version=version).delete()
    Commitment.objects.bulk_create(
        Commitment(
            version=version,
            key=c.key,
            owner=c.owner,
            principle=c.principle,
            text=c.text,
            indicator=c.indicator,
            threshold=c.threshold,
            due_date=c.due_date,
            recurrence=c.recurrence,
            evidence_kind=c.evidence,
        )
        for c in content.commitments
    )
    if not version.pact.versions.filter(status=Status.ACTIVE).exists():
        set_current(
            version
        )  # (an amendment: the active version stays current until this one is signed)
    PACT.enter(
        acting,
        move,
        version,
        sha256=version.canonical_sha256,
        second_review=version.requires_second_review,
    )
    notifications.notify(version, "submitted")
    return version


@retry_on_conflict
@transaction.atomic
def withdraw(acting: Principal, version: PactVersion, reason: str) -> PactVersion:
    version = lock_version(version)
    PACT.apply(acting, "withdraw", version, reason)
    return version
