"""Writes for pacts: creation, drafting, the whole life cycle, signatures, commitments.

Every use case is one transaction that also appends its event to the public journal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pacte.accounts.models import Organisation, Role
from pacte.accounts.selectors import is_member
from pacte.accounts.services import Acting
from pacte.accounts.signing_keys import sign_digest
from pacte.engines.canonical import PACT_FORMAT, canonical_bytes
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.services import SYSTEM, Actor, record_event
from pacte.links import clean_web_link
from pacte.pacts import notifications
from pacte.pacts.models import Commitment, Pact, PactVersion, Review, Signature, Status
from pacte.pacts.schema import PactContent, completeness_errors, parse_content
from pacte.projects.models import Project
from pacte.projects.services import actor_of
from pacte.writes.references import next_reference
from pacte.writes.retry import retry_on_conflict

NEGATIVE_MIN_REASON = 10


# ---------------------------------------------------------------- permissions

def _is_carrier(acting: Acting, pact: Pact) -> bool:
    return acting.organisation.pk == pact.project.carrier_id and (
        acting.has(Role.CARRIER_MEMBER) or acting.has(Role.CARRIER_ADMIN)
    )


def require_carrier(acting: Acting, pact: Pact) -> None:
    if not _is_carrier(acting, pact):
        raise PermissionDenied("Seuls les membres du porteur du projet peuvent faire cela.")


def require_reviewer(acting: Acting, pact: Pact) -> None:
    if acting.organisation.pk != pact.institution_id or not acting.has(Role.REVIEWER):
        raise PermissionDenied("Seul un instructeur de l'institution signataire peut faire cela.")
    if is_member(acting.user, pact.project.carrier_id):
        raise PermissionDenied(
            "Vous êtes membre de l'organisation porteuse : vous devez vous déporter de l'instruction de ce pacte."
        )


def require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < NEGATIVE_MIN_REASON:
        raise ValidationFailed(
            "Un motif écrit est obligatoire pour cette décision (10 caractères au moins).",
            field_errors={"reason": ["Motif obligatoire."]},
        )
    return reason


# ---------------------------------------------------------------- canonical text

def canonical_document(version: PactVersion) -> dict[str, Any]:
    """What signatories sign: SHA-256 of its RFC 8785 bytes (``format`` names the layout)."""
    pact = version.pact
    return {
        "format": PACT_FORMAT,
        "pact": pact.reference,
        "version": version.number,
        "project": pact.project.slug,
        "carrier": pact.project.carrier.slug,
        "institution": pact.institution.slug,
        "content": version.content,
    }


def canonical_digest(version: PactVersion) -> bytes:
    return hashlib.sha256(canonical_bytes(canonical_document(version))).digest()


def verify_signature(signature: Signature) -> bool:
    """Anyone can redo this: Ed25519 over SHA-256(canonical JSON of the version)."""
    digest = canonical_digest(signature.version)
    if digest.hex() != signature.digest_sha256:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(signature.public_key)).verify(
            bytes.fromhex(signature.signature), digest
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# ---------------------------------------------------------------- helpers

def _event(version: PactVersion, type: str, actor: Actor, **data: Any) -> None:
    record_event(
        type,
        actor=actor,
        subject_type="pact",
        subject_id=version.pact.reference,
        project_slug=version.pact.project.slug,
        data={"version": version.number, "status": version.status, **data},
    )


def _set_status(version: PactVersion, status: str, reason: str = "") -> None:
    version.status = status
    version.status_changed_at = timezone.now()
    if reason:
        version.last_reason = reason
    version.save()


def _set_current(version: PactVersion) -> None:
    PactVersion.objects.filter(pact=version.pact).exclude(pk=version.pk).update(is_current=False)
    version.is_current = True


def _lock(version: PactVersion) -> PactVersion:
    return PactVersion.objects.select_for_update(of=("self",), no_key=True).select_related(
        "pact__project__carrier", "pact__institution"
    ).get(pk=version.pk)


def _principles_index(content: PactContent) -> str:
    return "," + ",".join(content.principles) + "," if content.principles else ""


def _next_reference() -> str:
    """PACTE-{year}-{n:04d} from the locked counter of the year (two drafts never collide)."""
    return next_reference(Pact, "PACTE")


# ---------------------------------------------------------------- drafting

@retry_on_conflict
@transaction.atomic
def create_pact(acting: Acting, project: Project, institution: Organisation, content: dict[str, Any]) -> PactVersion:
    if acting.organisation.pk != project.carrier_id or not (
        acting.has(Role.CARRIER_MEMBER) or acting.has(Role.CARRIER_ADMIN)
    ):
        raise PermissionDenied("Seuls les membres du porteur du projet peuvent rédiger un pacte.")
    if not institution.is_institution:
        raise ValidationFailed("La contrepartie d'un pacte doit être une institution publique.")
    parsed = parse_content(content, new_input=True)
    pact = Pact.objects.create(reference=_next_reference(), project=project, institution=institution)
    version = PactVersion.objects.create(
        pact=pact,
        number=1,
        content=parsed.model_dump(mode="json"),
        principles_index=_principles_index(parsed),
        created_by=acting.user,
        status_changed_at=timezone.now(),
    )
    _event(version, "pact.drafted", actor_of(acting), institution=institution.slug)
    return version


@retry_on_conflict
@transaction.atomic
def update_draft(acting: Acting, version: PactVersion, content: dict[str, Any]) -> PactVersion:
    version = _lock(version)
    require_carrier(acting, version.pact)
    if not version.is_editable:
        raise InvalidTransition(
            "Cette version n'est plus modifiable : une version soumise est figée. Créez une nouvelle version."
        )
    parsed = parse_content(content, new_input=True)
    version.content = parsed.model_dump(mode="json")
    version.principles_index = _principles_index(parsed)
    version.save()
    return version


@retry_on_conflict
@transaction.atomic
def new_version(acting: Acting, pact: Pact, *, reason: str = "") -> PactVersion:
    """Revise after changes were requested, or amend an active pact: a new draft version."""
    require_carrier(acting, pact)
    latest = PactVersion.objects.select_for_update(no_key=True).filter(pact=pact).order_by("-number").first()
    assert latest is not None
    if latest.status == Status.DRAFT:
        raise InvalidTransition("Une version brouillon existe déjà : modifiez-la.")
    allowed = {Status.CHANGES_REQUESTED: "pact.revised", Status.ACTIVE: "pact.amendment_started"}
    base = latest
    if latest.status not in allowed:
        active = pact.versions.filter(status=Status.ACTIVE).first()
        if active is None or latest.status not in (Status.WITHDRAWN, Status.CHANGES_REQUESTED):
            raise InvalidTransition(
                "Une nouvelle version n'est possible qu'après une demande de modifications ou pour amender un pacte en vigueur."
            )
        base = active
    version = PactVersion.objects.create(
        pact=pact,
        number=latest.number + 1,
        parent=base,
        content=base.content,
        principles_index=base.principles_index,
        created_by=acting.user,
        status_changed_at=timezone.now(),
        is_current=not pact.versions.filter(status=Status.ACTIVE).exists(),
    )
    if version.is_current:
        _set_current(version)
    _event(version, allowed.get(Status(base.status), "pact.revised"), actor_of(acting), parent=base.number)
    return version


# ---------------------------------------------------------------- life cycle

@retry_on_conflict
@transaction.atomic
def submit(acting: Acting, version: PactVersion) -> PactVersion:
    version = _lock(version)
    require_carrier(acting, version.pact)
    if version.status != Status.DRAFT:
        raise InvalidTransition("Seul un brouillon peut être soumis.")
    content = parse_content(version.content)
    errors = completeness_errors(content)
    if errors:
        raise ValidationFailed("Le pacte n'est pas complet : corrigez les points signalés.", field_errors=errors)
    version.requires_second_review = (
        content.state.asks_restricted_data or content.state.total_funding_eur > settings.PACT_SECOND_REVIEW_EUROS
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
    if version.pact.versions.filter(status=Status.ACTIVE).exists():
        pass  # an amendment: the active version stays current until this one is signed
    else:
        _set_current(version)
    _set_status(version, Status.SUBMITTED)
    _event(version, "pact.submitted", actor_of(acting), sha256=version.canonical_sha256,
           second_review=version.requires_second_review)
    notifications.notify(version, "submitted")
    return version


@retry_on_conflict
@transaction.atomic
def withdraw(acting: Acting, version: PactVersion, reason: str) -> PactVersion:
    version = _lock(version)
    require_carrier(acting, version.pact)
    reason = require_reason(reason)
    if version.status not in (Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED):
        raise InvalidTransition("Seul un pacte en brouillon ou en instruction peut être retiré.")
    _set_status(version, Status.WITHDRAWN, reason)
    _event(version, "pact.withdrawn", actor_of(acting), reason=reason)
    return version


@retry_on_conflict
@transaction.atomic
def request_changes(acting: Acting, version: PactVersion, reason: str) -> PactVersion:
    version = _lock(version)
    require_reviewer(acting, version.pact)
    reason = require_reason(reason)
    if version.status != Status.SUBMITTED:
        raise InvalidTransition("On ne peut demander des modifications que sur un pacte soumis.")
    Review.objects.create(version=version, reviewer=acting.user, organisation=acting.organisation,
                          decision=Review.Decision.REQUEST_CHANGES, reason=reason)
    _set_status(version, Status.CHANGES_REQUESTED, reason)
    _event(version, "pact.changes_requested", actor_of(acting), reason=reason)
    notifications.notify(version, "changes_requested")
    return version


@retry_on_conflict
@transaction.atomic
def approve(acting: Acting, version: PactVersion, note: str = "") -> PactVersion:
    version = _lock(version)
    require_reviewer(acting, version.pact)
    if version.status != Status.SUBMITTED:
        raise InvalidTransition("Seul un pacte soumis peut être approuvé.")
    if version.reviews.filter(reviewer=acting.user, decision=Review.Decision.APPROVE).exists():
        raise InvalidTransition("Vous avez déjà approuvé cette version : un second instructeur est requis.")
    Review.objects.create(version=version, reviewer=acting.user, organisation=acting.organisation,
                          decision=Review.Decision.APPROVE, reason=note.strip())
    approvals = version.reviews.filter(decision=Review.Decision.APPROVE).count()
    required = 2 if version.requires_second_review else 1
    if approvals < required:
        version.save()
        _event(version, "pact.review_recorded", actor_of(acting), approvals=approvals, required=required)
        return version
    _set_status(version, Status.APPROVED)
    _event(version, "pact.approved", actor_of(acting), approvals=approvals, required=required)
    notifications.notify(version, "approved")
    return version


def _require_one_side_per_person(acting: Acting, pact: Pact, side: str) -> None:
    """A person signs for at most one side of a pact, and never for the institution while a
    member of the carrier (the same recusal as for approval)."""
    if side == Signature.Side.INSTITUTION and is_member(acting.user, pact.project.carrier_id):
        raise PermissionDenied(
            "Vous êtes membre de l'organisation porteuse : vous ne pouvez pas signer ce pacte pour l'institution."
        )
    if Signature.objects.filter(version__pact=pact, signer=acting.user).exclude(side=side).exists():
        raise PermissionDenied(
            "Vous avez déjà signé ce pacte pour l'autre partie : une même personne ne signe que pour un côté."
        )


@retry_on_conflict
@transaction.atomic
def sign(acting: Acting, version: PactVersion) -> Signature:
    version = _lock(version)
    pact = version.pact
    if acting.organisation.pk == pact.project.carrier_id and acting.has(Role.CARRIER_ADMIN):
        side = Signature.Side.CARRIER
    elif acting.organisation.pk == pact.institution_id and acting.has(Role.SIGNATORY):
        side = Signature.Side.INSTITUTION
    else:
        raise PermissionDenied(
            "Seuls l'administrateur du porteur et le signataire de l'institution peuvent signer ce pacte."
        )
    _require_one_side_per_person(acting, pact, side)
    if version.status not in (Status.APPROVED, Status.SIGNING):
        raise InvalidTransition("Le pacte doit être approuvé avant d'être signé.")
    if version.signatures.filter(side=side).exists():
        raise InvalidTransition("Ce côté a déjà signé cette version.")
    digest = canonical_digest(version)
    if digest.hex() != version.canonical_sha256:
        raise InvalidTransition("Le texte ne correspond plus à celui qui a été soumis : signature refusée.")
    public_key, signature_hex = sign_digest(acting.user, digest)
    signature = Signature.objects.create(
        version=version, side=side, signer=acting.user, organisation=acting.organisation,
        digest_sha256=digest.hex(), public_key=public_key, signature=signature_hex,
    )
    _event(version, "pact.signed", actor_of(acting), side=side, sha256=digest.hex(),
           public_key=public_key, signature=signature_hex)
    if version.signatures.count() == 2:
        for old in pact.versions.filter(status=Status.ACTIVE).exclude(pk=version.pk):
            _carry_over_commitments(old, version)
            _set_status(old, Status.SUPERSEDED, f"Remplacé par la version {version.number}.")
            _event(old, "pact.superseded", SYSTEM, by_version=version.number)
        _set_current(version)
        _set_status(version, Status.ACTIVE)
        _event(version, "pact.activated", actor_of(acting), sha256=digest.hex())
        notifications.notify(version, "active")
    else:
        _set_status(version, Status.SIGNING)
    return signature


def _carry_over_commitments(old: PactVersion, new: PactVersion) -> None:
    previous = {c.key: c for c in old.commitments.all()}
    for c in new.commitments.all():
        if c.key in previous:
            p = previous[c.key]
            c.status, c.progress, c.evidence_note, c.evidence_url = p.status, p.progress, p.evidence_note, p.evidence_url
            c.save()


@dataclass(frozen=True)
class _Move:
    sources: tuple[str, ...]
    target: str
    event: str
    negative: bool


MOVES: dict[str, _Move] = {
    "notify_breach": _Move((Status.ACTIVE,), Status.BREACH_NOTIFIED, "pact.breach_notified", True),
    "cure": _Move((Status.BREACH_NOTIFIED,), Status.ACTIVE, "pact.cured", False),
    "suspend": _Move((Status.BREACH_NOTIFIED,), Status.SUSPENDED, "sanction.applied", True),
    "reinstate": _Move((Status.SUSPENDED,), Status.ACTIVE, "pact.reinstated", False),
    "break": _Move((Status.SUSPENDED,), Status.BROKEN, "pact.broken", True),
    "complete": _Move((Status.ACTIVE,), Status.COMPLETED, "pact.completed", False),
}

# Hooks other domains register to apply sanctions (data grants suspended, payments withheld).
SANCTION_HOOKS: list[Callable[[PactVersion, str], None]] = []
# Their lock step: called with the locked pact version BEFORE any event of the move is written,
# each locks the rows its SANCTION_HOOK will change (e.g. the pact's data grants), so that the
# log's lock is still taken last (lock order: pacte.journal.services).
SANCTION_LOCKS: list[Callable[[PactVersion], None]] = []
SANCTIONING = ("suspend", "break", "reinstate")


def _institution_move(action: str, acting: Acting | None, version: PactVersion, reason: str,
                      cure_days: int | None = None, today: date | None = None) -> PactVersion:
    move = MOVES[action]
    version = _lock(version)
    if acting is not None:
        require_reviewer(acting, version.pact)
    if move.negative:
        reason = require_reason(reason)
    if version.status not in move.sources:
        raise InvalidTransition(
            f"Transition impossible depuis l'état « {Status(version.status).label} »."
        )
    extra: dict[str, Any] = {"reason": reason} if reason else {}
    if action == "notify_breach":
        days = cure_days or parse_content(version.content).cure_days or settings.PACT_DEFAULT_CURE_DAYS
        version.cure_deadline = (today or date.today()) + timedelta(days=days)
        extra["cure_deadline"] = version.cure_deadline.isoformat()
    if action in ("cure", "reinstate"):
        version.cure_deadline = None
    if action in SANCTIONING:
        for lock in SANCTION_LOCKS:
            lock(version)
    _set_status(version, move.target, reason)
    actor = actor_of(acting) if acting else SYSTEM
    if action == "suspend":
        sanctions = [s["measure"] for s in version.content.get("sanctions", [])]
        extra["sanctions"] = sanctions
        _event(version, "pact.suspended", actor, reason=reason)
        _event(version, "sanction.applied", actor, **extra)
    elif action == "break":
        _event(version, "pact.broken", actor, **extra)
        _event(version, "sanction.applied", actor, reason=reason, sanctions=["rupture", "révocation des accès"])
    else:
        _event(version, move.event, actor, **extra)
    if action in SANCTIONING:
        for hook in SANCTION_HOOKS:
            hook(version, action)
    notifications.notify(version, action)
    return version


@retry_on_conflict
@transaction.atomic
def notify_breach(acting: Acting | None, version: PactVersion, reason: str, cure_days: int | None = None,
                  today: date | None = None) -> PactVersion:
    """`today` lets the compliance engine run on a simulated clock; people leave it out."""
    return _institution_move("notify_breach", acting, version, reason, cure_days, today)


@retry_on_conflict
@transaction.atomic
def cure(acting: Acting | None, version: PactVersion, reason: str = "") -> PactVersion:
    return _institution_move("cure", acting, version, reason)


@retry_on_conflict
@transaction.atomic
def suspend(acting: Acting | None, version: PactVersion, reason: str) -> PactVersion:
    return _institution_move("suspend", acting, version, reason)


@retry_on_conflict
@transaction.atomic
def reinstate(acting: Acting | None, version: PactVersion, reason: str = "") -> PactVersion:
    return _institution_move("reinstate", acting, version, reason)


@retry_on_conflict
@transaction.atomic
def break_pact(acting: Acting | None, version: PactVersion, reason: str) -> PactVersion:
    return _institution_move("break", acting, version, reason)


@retry_on_conflict
@transaction.atomic
def complete(acting: Acting | None, version: PactVersion, reason: str = "") -> PactVersion:
    return _institution_move("complete", acting, version, reason)


ACTIONS: dict[str, Callable[..., Any]] = {
    "submit": lambda a, v, reason="": submit(a, v),
    "withdraw": lambda a, v, reason="": withdraw(a, v, reason),
    "request_changes": lambda a, v, reason="": request_changes(a, v, reason),
    "approve": lambda a, v, reason="": approve(a, v, reason),
    "sign": lambda a, v, reason="": sign(a, v),
    "notify_breach": lambda a, v, reason="": notify_breach(a, v, reason),
    "cure": lambda a, v, reason="": cure(a, v, reason),
    "suspend": lambda a, v, reason="": suspend(a, v, reason),
    "reinstate": lambda a, v, reason="": reinstate(a, v, reason),
    "break": lambda a, v, reason="": break_pact(a, v, reason),
    "complete": lambda a, v, reason="": complete(a, v, reason),
}


# ---------------------------------------------------------------- commitments

@retry_on_conflict
@transaction.atomic
def record_evidence(acting: Acting, commitment: Commitment, *, progress: int, note: str, url: str = "",
                    met: bool = False) -> Commitment:
    commitment = Commitment.objects.select_for_update(of=("self",), no_key=True).select_related(
        "version__pact__project", "version__pact__institution").get(pk=commitment.pk)
    pact = commitment.version.pact
    owner_org = pact.project.carrier_id if commitment.owner == Commitment.Owner.CARRIER else pact.institution_id
    if acting.organisation.pk != owner_org:
        raise PermissionDenied("Seule la partie qui porte l'engagement peut déposer sa preuve.")
    if commitment.version.status not in (Status.ACTIVE, Status.BREACH_NOTIFIED, Status.SUSPENDED):
        raise InvalidTransition("Les preuves se déposent sur un pacte en vigueur.")
    if not 0 <= progress <= 100:
        raise ValidationFailed("La progression est un pourcentage entre 0 et 100.")
    if len(note.strip()) < 5:
        raise ValidationFailed("Décrivez la preuve déposée.")
    url = clean_web_link(url, "url")
    commitment.progress = 100 if met else progress
    commitment.evidence_note = note.strip()
    commitment.evidence_url = url
    if met:
        commitment.status = Commitment.State.MET
        commitment.status_changed_at = timezone.now()
    commitment.save()
    _event(commitment.version, "commitment.evidence", actor_of(acting), commitment=commitment.key,
           owner=commitment.owner, progress=commitment.progress, commitment_status=commitment.status,
           evidence_sha256=hashlib.sha256(note.encode()).hexdigest())
    return commitment


@retry_on_conflict
@transaction.atomic
def refresh_commitment_statuses(today: date | None = None) -> dict[str, int]:
    """Due-date engine: mark commitments due soon or missed on pacts in force."""
    today = today or date.today()
    soon = today + timedelta(days=settings.COMMITMENT_DUE_SOON_DAYS)
    counts = {"due_soon": 0, "missed": 0}
    live = Commitment.objects.select_for_update(of=("self",), no_key=True).select_related("version__pact__project").filter(
        version__status__in=(Status.ACTIVE, Status.BREACH_NOTIFIED, Status.SUSPENDED),
        due_date__isnull=False,
        status__in=(Commitment.State.ON_TRACK, Commitment.State.DUE_SOON),
    )
    for c in live:
        assert c.due_date is not None
        new = None
        if c.due_date < today:
            new = Commitment.State.MISSED
        elif c.due_date <= soon and c.status != Commitment.State.DUE_SOON:
            new = Commitment.State.DUE_SOON
        if new is None:
            continue
        c.status = new
        c.status_changed_at = timezone.now()
        c.save(update_fields=["status", "status_changed_at"])
        counts[new] += 1
        _event(c.version, f"commitment.{new}", SYSTEM, commitment=c.key, owner=c.owner,
               due_date=c.due_date.isoformat())
    return counts
