"""Grants: issued on approval, then suspended, revoked, reinstated, renewed by the publisher's
reviewers (or by the platform: daily refresh, pact sanctions), and their bearer tokens.

Transitions run through ``lifecycles.GRANT`` on a locked row, in the use case's transaction.
"""

from __future__ import annotations

import calendar
import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Role
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.data import events
from pacte.data.lifecycles import GRANT
from pacte.data.models import USABLE_STATES, DataRequest, Grant, GrantState
from pacte.data.selectors import active_version
from pacte.engines import proportionality
from pacte.errors import InvalidTransition
from pacte.journal.services import record_event
from pacte.notifications.notifier import notify
from pacte.pacts.models import Commitment, PactVersion
from pacte.writes.references import next_reference
from pacte.writes.retry import retry_on_conflict

RENEWAL_NOTICE_DAYS = 30
TOKEN_PREFIX = "pgr_"


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _new_token() -> tuple[str, str, str]:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, raw[:12], hashlib.sha256(raw.encode()).hexdigest()


def _state_for_expiry(grant: Grant, now: datetime) -> str:
    if grant.expires_at <= now:
        return GrantState.EXPIRED
    if grant.expires_at - timedelta(days=RENEWAL_NOTICE_DAYS) <= now:
        return GrantState.RENEWAL_DUE
    return GrantState.ACTIVE


REINSTATE_ACTION = {
    GrantState.ACTIVE: "reinstate",
    GrantState.RENEWAL_DUE: "reinstate_renewal_due",
    GrantState.EXPIRED: "reinstate_expired",
}


def reinstate_action(grant: Grant, now: datetime) -> str:
    """A reinstated grant lands where its expiry date says: active, renewal due or expired."""
    return REINSTATE_ACTION[GrantState(_state_for_expiry(grant, now))]


# ---------------------------------------------------------------- issue (on approval)


def _data_access_evidence(acting: Acting, req: DataRequest, grant: Grant) -> None:
    """The institution's commitment to open data access gets its evidence (same transaction)."""
    commitment = Commitment.objects.filter(
        version=req.pact_version, key="state-data-access", owner=Commitment.Owner.INSTITUTION
    ).first()
    if commitment is None or commitment.status == Commitment.State.MET:
        return
    commitment.status, commitment.progress = Commitment.State.MET, 100
    # stored and journaled (hashed): a record, written in French whatever the reader's language
    commitment.evidence_note = (
        f"Accès {grant.reference} accordé ({req.dataset.title}, niveau {req.tier})."
    )
    commitment.status_changed_at = grant.state_changed_at
    commitment.save()
    record_event(
        "commitment.evidence",
        actor=policy.actor_of(acting),
        subject_type="pact",
        subject_id=req.pact.reference,
        project_slug=req.project.slug,
        data={
            "version": req.pact_version.number,
            "status": req.pact_version.status,
            "commitment": commitment.key,
            "owner": commitment.owner,
            "progress": 100,
            "commitment_status": commitment.status,
            "grant": grant.reference,
            "evidence_sha256": hashlib.sha256(commitment.evidence_note.encode()).hexdigest(),
        },
    )


def issue_grant(acting: Acting, req: DataRequest, decision: proportionality.Decision) -> Grant:
    """The grant of an approved request: a frozen snapshot of the approved terms (inside
    ``requests.approve_request``'s transaction)."""
    dv = req.dataset_version
    columns = req.columns or [c["name"] for c in dv.columns]
    _raw, prefix, digest = _new_token()  # the carrier obtains its own token (shown once)
    now = timezone.now()
    dp = req.tier == proportionality.Tier.DP_AGGREGATES
    grant = Grant.objects.create(
        reference=next_reference(Grant, "ACC"),
        name=f"{req.project.name} — {req.dataset.title} (niveau {req.tier})",  # a stored record, in French
        request=req,
        dataset_version=dv,
        project=req.project,
        pact=req.pact,
        tier=req.tier,
        columns=columns,
        purpose=req.purpose,
        rho_grant=decision.rho_grant if dp else 0.0,
        rho_query=decision.rho_query if dp else 0.0,
        rule_id=decision.rule_id,
        rules_version=decision.rules_version,
        decision=decision.as_dict(),
        expires_at=add_months(now, decision.max_duration_months),
        state_changed_at=now,
        token_prefix=prefix,
        token_hash=digest,
        pseudonym_key=secrets.token_bytes(32),
    )
    events.grant_event(
        grant,
        "grant.issued",
        policy.actor_of(acting),
        request=req.reference,
        columns=columns,
        rho_grant=grant.rho_grant,
        rho_query=grant.rho_query,
        rule_id=grant.rule_id,
        expires_at=grant.expires_at.isoformat(),
    )
    _data_access_evidence(acting, req, grant)
    return grant


# ---------------------------------------------------------------- tokens


@retry_on_conflict
@transaction.atomic
def issue_token(acting: Acting, grant: Grant) -> str:
    """(Re)issue the grant's bearer token; the raw value is shown once and replaces the previous
    one. Carrier admin or platform admin only; logged (same transaction) and notified to the team."""
    grant = (
        Grant.objects.select_for_update(of=("self",))
        .select_related("project__carrier", "dataset_version__dataset")
        .get(pk=grant.pk)
    )
    policy.require(acting, Action.GRANT_ROTATE_TOKEN, grant)
    if grant.state not in USABLE_STATES:
        raise InvalidTransition(
            _("Accès %(state)s : aucun jeton ne peut être délivré.")
            % {"state": grant.get_state_display().lower()}
        )
    previous = grant.token_prefix
    raw, grant.token_prefix, grant.token_hash = _new_token()
    grant.save(update_fields=["token_prefix", "token_hash"])
    events.grant_event(
        grant,
        "grant.token_rotated",
        policy.actor_of(acting),
        token_prefix=grant.token_prefix,
        previous_token_prefix=previous,
    )
    _notify_token_rotation(grant, acting, previous)
    return raw


def _notify_token_rotation(grant: Grant, acting: Acting, previous_prefix: str) -> None:
    """Tell the carrier's team (admins and members) that the grant's token changed, after commit."""
    emails = sorted(
        {
            m.user.email
            for m in grant.project.carrier.memberships.select_related("user")
            if m.user.email and (Role.CARRIER_ADMIN in m.roles or Role.CARRIER_MEMBER in m.roles)
        }
    )
    if not emails:
        return
    subject = _("[Pacte] Accès %(grant)s : nouveau jeton") % {"grant": grant.reference}
    body = _(
        "Le jeton de l'accès « %(name)s » a été remplacé par %(user)s (%(organisation)s). L'ancien jeton "
        "(%(previous)s…) ne fonctionne plus ; le nouveau commence par %(prefix)s. Demandez-le à "
        "l'administrateur du porteur."
    ) % {
        "name": grant.name,
        "user": acting.user,
        "organisation": acting.organisation.name,
        "previous": previous_prefix,
        "prefix": grant.token_prefix,
    }
    notify(emails, subject, body, event="grant.token_rotated")


# ---------------------------------------------------------------- reviewers' decisions


def _lock(grant: Grant) -> Grant:
    return (
        Grant.objects.select_for_update(of=("self",))
        .select_related("project__carrier", "dataset_version__dataset", "request__dataset", "pact")
        .get(pk=grant.pk)
    )


@retry_on_conflict
@transaction.atomic
def suspend_grant(principal: policy.Principal, grant: Grant, reason: str) -> Grant:
    grant = _lock(grant)
    GRANT.apply(principal, "suspend", grant, reason)
    return grant


@retry_on_conflict
@transaction.atomic
def revoke_grant(principal: policy.Principal, grant: Grant, reason: str) -> Grant:
    grant = _lock(grant)
    GRANT.apply(principal, "revoke", grant, reason)
    return grant


@retry_on_conflict
@transaction.atomic
def reactivate_grant(principal: policy.Principal, grant: Grant, reason: str = "") -> Grant:
    grant = _lock(grant)
    action = reinstate_action(grant, timezone.now())
    GRANT.check(principal, action, grant, reason)
    if active_version(grant.pact) is None:
        raise InvalidTransition(
            _("Le pacte n'est pas en vigueur : l'accès ne peut pas être rétabli.")
        )
    GRANT.apply(principal, action, grant, reason)
    return grant


@retry_on_conflict
@transaction.atomic
def renew_grant(principal: policy.Principal, grant: Grant, note: str = "") -> Grant:
    grant = _lock(grant)
    GRANT.check(principal, "renew", grant, note)
    if active_version(grant.pact) is None:
        raise InvalidTransition(
            _("Le pacte n'est plus en vigueur : l'accès ne peut pas être renouvelé.")
        )
    months = int(grant.decision.get("max_duration_months") or 12)
    grant.expires_at = add_months(timezone.now(), months)
    grant.renewals += 1
    grant.reminded_at = None
    grant.save(update_fields=["expires_at", "renewals", "reminded_at"])
    GRANT.apply(
        principal,
        "renew",
        grant,
        note,
        expires_at=grant.expires_at.isoformat(),
        renewals=grant.renewals,
    )
    return grant


# ---------------------------------------------------------------- the platform's moves


def refresh_grants(now: datetime | None = None) -> dict[str, int]:
    """Move active → renewal_due (30 days before expiry, with a reminder) and → expired after."""
    now = now or timezone.now()
    counts = {"renewal_due": 0, "expired": 0}
    with transaction.atomic():
        for grant in (
            Grant.objects.select_for_update(of=("self",))
            .select_related("project__carrier", "dataset_version__dataset")
            .filter(state__in=USABLE_STATES)
        ):
            target = _state_for_expiry(grant, now)
            if target == grant.state or target == GrantState.ACTIVE:
                continue
            if target == GrantState.RENEWAL_DUE:
                grant.reminded_at = now
                grant.save(update_fields=["reminded_at"])
                GRANT.apply(
                    policy.SYSTEM,
                    "mark_renewal_due",
                    grant,
                    expires_at=grant.expires_at.isoformat(),
                )
                _remind(grant)
            else:
                GRANT.apply(policy.SYSTEM, "expire", grant, expires_at=grant.expires_at.isoformat())
            counts[target] += 1
    return counts


def _remind(grant: Grant) -> None:
    emails = [
        m.user.email
        for m in grant.project.carrier.memberships.select_related("user")
        if m.user.email
    ]
    notify(
        emails,
        _("[Pacte] Accès %(grant)s : renouvellement à prévoir") % {"grant": grant.reference},
        _(
            "L'accès « %(name)s » expire le %(date)s. Demandez son renouvellement à l'institution éditrice."
        )
        % {"name": grant.name, "date": f"{grant.expires_at:%d/%m/%Y}"},
        event="grant.renewal_reminder",
    )


def on_pact_sanction(version: PactVersion, action: str) -> None:
    """A suspended pact suspends its grants, a broken one revokes them, a reinstated one reinstates
    them (inside the pact transition's transaction)."""
    grants = Grant.objects.select_for_update(of=("self",), no_key=True).filter(
        pact_id=version.pact_id
    )
    # the reasons are stored and journaled: records, written in French whatever the reader's language
    reason = version.last_reason or f"Sanction du pacte {version.pact.reference}"
    pact = version.pact.reference
    if action == "suspend":
        for g in grants.filter(state__in=USABLE_STATES):
            GRANT.apply(policy.SYSTEM, "suspend", g, f"Pacte suspendu : {reason}", pact=pact)
    elif action == "break":
        for g in grants.exclude(state=GrantState.REVOKED):
            GRANT.apply(policy.SYSTEM, "revoke", g, f"Pacte rompu : {reason}", pact=pact)
    elif action == "reinstate":
        now = timezone.now()
        for g in grants.filter(state=GrantState.SUSPENDED):
            GRANT.apply(policy.SYSTEM, reinstate_action(g, now), g, "Pacte rétabli.", pact=pact)
