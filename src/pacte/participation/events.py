"""The participation domain's journal events (one place, always in the caller's transaction).

A comment's text, a reuse's description and a person's name never go to the journal: the entry
names the item by its number and the acting person only by the journal's salted commitment."""

from __future__ import annotations

from typing import Any

from pacte.accounts.policy import Principal, actor_of
from pacte.journal.services import record_event
from pacte.participation.models import Comment, Consultation, Reuse


def consultation_event(
    consultation: Consultation, type: str, principal: Principal, **data: Any
) -> None:
    version = consultation.version
    record_event(
        type,
        actor=actor_of(principal),
        subject_type="pact",
        subject_id=version.pact.reference,
        project_slug=version.pact.project.slug,
        data={
            "version": version.number,
            "consultation": consultation.pk,
            "closes_at": consultation.closes_at.isoformat(),
            **data,
        },
    )


def comment_event(comment: Comment, type: str, principal: Principal, **data: Any) -> None:
    consultation = comment.consultation
    consultation_event(
        consultation,
        type,
        principal,
        comment=comment.pk,
        section=comment.section,
        state=comment.state,
        **data,
    )


def reuse_event(reuse: Reuse, type: str, principal: Principal, **data: Any) -> None:
    target = ({"dataset": reuse.dataset.slug} if reuse.dataset is not None else {}) | (
        {"project": reuse.project.slug} if reuse.project is not None else {}
    )
    record_event(
        type,
        actor=actor_of(principal),
        subject_type="reuse",
        subject_id=reuse.pk,
        project_slug=reuse.project.slug if reuse.project is not None else "",
        data={"kind": reuse.kind, "state": reuse.state, "url": reuse.url, **target, **data},
    )
