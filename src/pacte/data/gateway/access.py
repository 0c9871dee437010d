"""Gateway access: authenticate a grant's token, check a call against the grant, log the call."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.data import events
from pacte.data.errors import GrantForbidden
from pacte.data.models import Grant, GrantState
from pacte.engines import canonical, proportionality
from pacte.errors import DomainError, NotAuthenticated

logger = logging.getLogger("pacte.data")


def authenticate_grant(raw: str) -> Grant:
    digest = hashlib.sha256((raw or "").encode()).hexdigest()
    grant = (
        Grant.objects.select_related("dataset_version__dataset", "project__carrier", "pact")
        .filter(token_hash=digest)
        .first()
    )
    if grant is None:
        raise NotAuthenticated(_("Jeton d'accès aux données inconnu ou remplacé."))
    check_usable(grant)
    return grant


def check_usable(grant: Grant) -> None:
    reason = grant.last_reason or _("sans motif publié")
    if grant.state == GrantState.REVOKED:
        raise GrantForbidden(
            _("Accès %(grant)s révoqué : %(reason)s.")
            % {"grant": grant.reference, "reason": reason}
        )
    if grant.state == GrantState.SUSPENDED:
        raise GrantForbidden(
            _("Accès %(grant)s suspendu : %(reason)s.")
            % {"grant": grant.reference, "reason": reason}
        )
    if grant.state == GrantState.EXPIRED or grant.expires_at <= timezone.now():
        raise NotAuthenticated(
            _("Accès %(grant)s expiré le %(date)s : demandez son renouvellement.")
            % {"grant": grant.reference, "date": f"{timezone.localtime(grant.expires_at):%d/%m/%Y}"}
        )


def check_call(grant: Grant, dataset_slug: str, tier: int) -> None:
    granted = grant.dataset_version.dataset.slug
    if granted != dataset_slug:
        raise GrantForbidden(
            _("Ce jeton donne accès à « %(granted)s », pas à « %(asked)s ».")
            % {"granted": granted, "asked": dataset_slug}
        )
    if grant.tier != tier:
        raise GrantForbidden(
            _(
                "Ce jeton est un accès de niveau %(granted)s ; cet appel est de niveau %(tier)s "
                "(%(label)s)."
            )
            % {"granted": grant.tier, "tier": tier, "label": proportionality.Tier(tier).label}
        )


def log_call(
    grant: Grant,
    *,
    tier: int,
    fingerprint: str,
    rows_read: int,
    rho_spent: float,
    output_sha256: str,
    outcome: str = "served",
    **data: Any,
) -> None:
    events.gateway_call(
        grant,
        tier=tier,
        fingerprint=fingerprint,
        rows_read=rows_read,
        rho_spent=rho_spent,
        output_sha256=output_sha256,
        outcome=outcome,
        **data,
    )


def log_refusal(grant: Grant, tier: int, fingerprint: str, error: DomainError) -> None:
    try:
        with transaction.atomic():
            log_call(
                grant,
                tier=tier,
                fingerprint=fingerprint,
                rows_read=0,
                rho_spent=0.0,
                output_sha256="",
                outcome="refused",
                error=error.code,
                message=error.message,
            )
    except Exception:  # pragma: no cover - logging a refusal must never hide it
        logger.exception("could not log a refused gateway call")


def canonical_sha(payload: Any) -> str:
    return canonical.sha256_hex(payload)  # RFC 8785
