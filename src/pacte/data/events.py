"""The data domain's journal events, written in one place (always inside the caller's transaction)."""

from __future__ import annotations

from typing import Any

from pacte.data.models import DataRequest, Grant
from pacte.journal.services import Actor, record_event


def record(
    type: str, actor: Actor, subject_type: str, subject_id: str, project_slug: str = "", **data: Any
) -> None:
    record_event(
        type,
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id,
        project_slug=project_slug,
        data=data,
    )


def request_event(req: DataRequest, type: str, actor: Actor, **data: Any) -> None:
    record(
        type,
        actor,
        "data_request",
        req.reference,
        req.project.slug,
        dataset=req.dataset.slug,
        status=req.status,
        tier=req.tier,
        **data,
    )


def grant_event(grant: Grant, type: str, actor: Actor, **data: Any) -> None:
    record(
        type,
        actor,
        "grant",
        grant.reference,
        grant.project.slug,
        dataset=grant.dataset_version.dataset.slug,
        version=grant.dataset_version.version,
        tier=grant.tier,
        state=grant.state,
        **data,
    )


def gateway_call(
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
    """One gateway call (``data.query``), served, cached, refused or failed."""
    record(
        "data.query",
        Actor(organisation_slug=grant.project.carrier.slug, role="grant"),
        "grant",
        grant.reference,
        grant.project.slug,
        tier=tier,
        dataset=grant.dataset_version.dataset.slug,
        version=grant.dataset_version.version,
        fingerprint=fingerprint,
        rows_read=rows_read,
        rho_spent=rho_spent,
        output_sha256=output_sha256,
        outcome=outcome,
        **data,
    )
