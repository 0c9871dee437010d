"""Thin views of the State's experts: the public directory, an expert's page (where a carrier
with a pact in force asks for an exchange), a request's page (the institution's answer, then the
summary both sides confirm)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.comptoirs import experts, selectors
from pacte.comptoirs.forms import (
    AskForm,
    ExpertForm,
    ExpertRedirectForm,
    ExpertWithdrawForm,
    ReasonForm,
    SlotsForm,
    SummaryForm,
)
from pacte.comptoirs.lifecycles import EXPERT_REQUEST
from pacte.comptoirs.models import Expert, ExpertRequest
from pacte.comptoirs.views import acting_of, run_form
from pacte.errors import DomainError
from pacte.journal.selectors import events_for_subject
from pacte.projects.models import Project


def expert_list(request: HttpRequest) -> HttpResponse:
    acting = getattr(request, "acting", None)
    institution = request.GET.get("institution", "")[:80]
    return render(
        request,
        "comptoirs/expert_list.html",
        {
            "experts": selectors.experts(
                query=request.GET.get("q", "")[:200], institution=institution
            ),
            "q": request.GET.get("q", ""),
            "can_publish": acting is not None
            and policy.may(acting, Action.EXPERT_PUBLISH, acting.organisation),
        },
    )


@login_required
def expert_new(request: HttpRequest) -> HttpResponse:
    acting = acting_of(request)
    form = ExpertForm(request.POST or None)
    if request.method == "POST":
        expert = run_form(
            form,
            lambda d: experts.publish_expert(
                acting,
                experts.ExpertIn(
                    name=d["name"],
                    domain=d["domain"],
                    organisation_label=d["organisation_label"],
                    availability=d["availability"],
                    languages=d["languages"].split(","),
                    bio=d["bio"],
                ),
            ),
        )
        if expert is not None:
            messages.success(request, _("Expert publié."))
            return redirect("comptoirs:expert", pk=expert.pk)
    return render(
        request,
        "comptoirs/form.html",
        {"form": form, "title": _("Publier un expert"), "back": "comptoirs:experts"},
        status=400 if request.method == "POST" else 200,
    )


def _expert_in(d: dict[str, Any]) -> experts.ExpertIn:
    return experts.ExpertIn(
        name=d["name"],
        domain=d["domain"],
        organisation_label=d["organisation_label"],
        availability=d["availability"],
        languages=d["languages"].split(","),
        bio=d["bio"],
    )


@login_required
def expert_edit(request: HttpRequest, pk: int) -> HttpResponse:
    acting = acting_of(request)
    expert = selectors.get_expert(pk)
    policy.require(acting, Action.EXPERT_PUBLISH, expert)
    initial = {
        "name": expert.name,
        "domain": expert.domain,
        "organisation_label": expert.organisation_label,
        "availability": expert.availability,
        "languages": ", ".join(expert.languages),
        "bio": expert.bio,
    }
    form = ExpertForm(request.POST or None, initial=initial)
    if request.method == "POST":
        done = run_form(form, lambda d: experts.edit_expert(acting, expert, _expert_in(d)))
        if done is not None:
            messages.success(request, _("Fiche de l'expert mise à jour."))
            return redirect("comptoirs:expert", pk=expert.pk)
    return render(
        request,
        "comptoirs/form.html",
        {
            "form": form,
            "title": _("Modifier la fiche de %(name)s") % {"name": expert.name},
            "back": "comptoirs:experts",
        },
        status=400 if request.method == "POST" else 200,
    )


def _replacements(expert: Expert) -> list[tuple[str, str]]:
    return [
        (str(e.pk), f"{e.name} — {e.domain} ({e.institution.name})")
        for e in selectors.experts().exclude(pk=expert.pk)
    ]


@login_required
def expert_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    acting = acting_of(request)
    expert = selectors.get_expert(pk)
    policy.require(acting, Action.EXPERT_PUBLISH, expert)
    form = ExpertWithdrawForm(request.POST or None, experts=_replacements(expert))
    if request.method == "POST":
        done = run_form(
            form,
            lambda d: experts.withdraw_expert(
                acting,
                expert,
                d["reason"],
                redirect_to=Expert.objects.get(pk=int(d["redirect_to"]))
                if d["redirect_to"]
                else None,
            ),
        )
        if done is not None:
            messages.success(
                request,
                _("Expert retiré ; %(n)s demande(s) en attente traitée(s).") % {"n": len(done)},
            )
            return redirect("comptoirs:expert", pk=expert.pk)
    waiting = selectors.expert_requests(expert=expert.pk).filter(
        status=ExpertRequest.State.REQUESTED
    )
    return render(
        request,
        "comptoirs/form.html",
        {
            "form": form,
            "title": _("Retirer %(name)s") % {"name": expert.name},
            "intro": _(
                "%(n)s demande(s) attendent une réponse de cet expert : elles seront réorientées "
                "vers l'expert choisi, ou déclinées avec votre motif. Aucune n'est perdue."
            )
            % {"n": waiting.count()},
            "back": "comptoirs:experts",
        },
        status=400 if request.method == "POST" else 200,
    )


def _askable_projects(acting: Any) -> list[tuple[str, str]]:
    if acting is None:
        return []
    candidates = Project.objects.filter(carrier=acting.organisation).order_by("name")
    return [(p.slug, p.name) for p in candidates if policy.may(acting, Action.EXPERT_ASK, p)]


def expert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    expert = selectors.get_expert(pk)
    acting = getattr(request, "acting", None)
    projects = _askable_projects(acting)
    form = AskForm(request.POST or None, projects=projects)
    status = 200
    if request.method == "POST" and projects:
        ask_as = acting_of(request)
        created = run_form(
            form,
            lambda d: experts.ask(
                ask_as, expert, Project.objects.get(slug=d["project"]), d["topic"], d["question"]
            ),
        )
        if created is not None:
            messages.success(
                request,
                _("Demande envoyée : réponse attendue avant le %(due)s.")
                % {"due": created.due_at.strftime("%d/%m/%Y")},
            )
            return redirect("comptoirs:expert_request", pk=created.pk)
        status = 400
    return render(
        request,
        "comptoirs/expert_detail.html",
        {
            "expert": expert,
            "form": form if projects and expert.active else None,
            "can_manage": expert.active and policy.may(acting, Action.EXPERT_PUBLISH, expert),
            "requests": selectors.expert_requests(expert=expert.pk),
            "now": timezone.now(),
        },
        status=status,
    )


def _other_experts(req: ExpertRequest) -> list[tuple[str, str]]:
    return [
        (str(e.pk), f"{e.name} — {e.domain} ({e.institution.name})")
        for e in selectors.experts().exclude(pk=req.expert_id)
    ]


def request_detail(
    request: HttpRequest, pk: int, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    req = selectors.get_expert_request(pk)
    acting = getattr(request, "acting", None)
    moves = {m.action for m in EXPERT_REQUEST.available(acting, req)}
    bound = bound or {}
    side = experts.side_of(acting, req) if acting is not None and "confirm" in moves else ""
    own_confirmed = (side == "carrier" and req.carrier_confirmed) or (
        side == "institution" and req.institution_confirmed
    )
    context = {
        "req": req,
        "moves": moves,
        "side": side,
        "own_confirmed": own_confirmed,
        "notes_visible": selectors.notes_visible(acting, req),
        "events": events_for_subject("expert_request", pk),
        "accept_form": bound.get("accept") or SlotsForm(auto_id="accept_%s"),
        "redirect_form": bound.get("redirect")
        or ExpertRedirectForm(experts=_other_experts(req), auto_id="redirect_%s"),
        "decline_form": bound.get("decline") or ReasonForm(auto_id="decline_%s"),
        "summary_form": bound.get("summary")
        or SummaryForm(initial={"public_summary": req.public_summary}, auto_id="summary_%s"),
        "refusals": [e for form in bound.values() for e in form.non_field_errors()],
    }
    return render(request, "comptoirs/expert_request.html", context, status=400 if bound else 200)


@login_required
@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    acting = acting_of(request)
    req = selectors.get_expert_request(pk)
    form: forms.Form
    if action == "confirm":
        try:
            experts.confirm_summary(acting, req)
            messages.success(request, _("Synthèse confirmée."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("comptoirs:expert_request", pk=pk)
    if action == "accept":
        form = SlotsForm(request.POST, auto_id="accept_%s")
        result = run_form(form, lambda d: experts.accept(acting, req, d["slots"].splitlines()))
        done = _("Échange accepté : le porteur reçoit vos créneaux.")
    elif action == "redirect":
        form = ExpertRedirectForm(request.POST, experts=_other_experts(req), auto_id="redirect_%s")
        result = run_form(
            form,
            lambda d: experts.redirect(
                acting, req, Expert.objects.get(pk=int(d["expert"])), d["reason"]
            ),
        )
        done = _("Demande réorientée vers l'autre expert.")
    elif action == "decline":
        form = ReasonForm(request.POST, auto_id="decline_%s")
        result = run_form(form, lambda d: experts.decline(acting, req, d["reason"]))
        done = _("Demande déclinée ; le motif est public.")
    elif action == "summary":
        form = SummaryForm(request.POST, auto_id="summary_%s")
        result = run_form(
            form, lambda d: experts.record_summary(acting, req, d["notes"], d["public_summary"])
        )
        done = _("Synthèse enregistrée : l'autre partie doit la confirmer.")
    else:
        messages.error(request, _("Action inconnue."))
        return redirect("comptoirs:expert_request", pk=pk)
    if result is None:
        return request_detail(request, pk, {action: form})
    messages.success(request, done)
    return redirect("comptoirs:expert_request", pk=pk)
