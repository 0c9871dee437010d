"""Public pages of the verifiable log (French)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from pacte.engines import merkle, note
from pacte.journal import services
from pacte.journal.keys import verifier_key
from pacte.journal.models import Event
from pacte.journal.selectors import recent_events


def explorer(request: HttpRequest) -> HttpResponse:
    cp = services.latest_checkpoint()
    type_prefix = request.GET.get("type", "").strip()
    project = request.GET.get("project", "").strip()
    qs = recent_events(type_prefix=type_prefix, project=project).filter(index__lt=cp.size)
    page = Paginator(
        qs.only(
            "index",
            "type",
            "occurred_at",
            "subject_type",
            "subject_id",
            "project_slug",
            "entry_hash",
        ),
        25,
    ).get_page(request.GET.get("page"))
    origin, size, root = note.parse_checkpoint(note.note_text(cp.note))
    return render(
        request,
        "journal/explorer.html",
        {
            "checkpoint": cp,
            "origin": origin,
            "root_hex": root.hex(),
            "signed_note": services.checkpoint_with_cosignatures(cp),
            "cosignatures": cp.cosignatures.filter(witness__active=True).select_related("witness"),
            "key": verifier_key(),
            "page": page,
            "type": type_prefix,
            "project": project,
            "query": "&".join(
                f"{k}={v}" for k, v in (("type", type_prefix), ("project", project)) if v
            ),
        },
    )


def entry(request: HttpRequest, index: int) -> HttpResponse:
    event = Event.objects.filter(index=index).first()
    if event is None:
        raise Http404(_("Entrée inconnue"))
    cp = services.latest_checkpoint()
    proof = None
    verified = False
    if index < cp.size:
        proof = services.inclusion(index=index, size=cp.size)
        try:
            merkle.verify_inclusion(
                bytes(event.leaf_hash),
                index,
                cp.size,
                [bytes.fromhex(h) for h in proof["proof"]],
                bytes(cp.root),
            )
            verified = True
        except merkle.ProofError:
            verified = False
    return render(
        request,
        "journal/entry.html",
        {
            "event": event,
            "checkpoint": cp,
            "proof": proof,
            "verified": verified,
            "leaf_hex": bytes(event.leaf_hash).hex(),
            "root_hex": bytes(cp.root).hex(),
            "key": verifier_key(),
            "api_base": request.build_absolute_uri("/api/v1/log"),
            "site": request.build_absolute_uri("/").rstrip("/"),
        },
    )
