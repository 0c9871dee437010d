"""Thin views for evidence pages (public) and the evaluator's / volunteer's forms."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.services import Acting
from pacte.errors import DomainError, NotAuthenticated, NotFound
from pacte.evidence import evaluations, feedback, gateway_evaluations, panels, selectors, sheets
from pacte.evidence.models import (
    AGE_BANDS,
    SITUATIONS,
    AlgorithmSheet,
    Evaluation,
    Feedback,
    Question,
    Volunteer,
)
from pacte.journal.selectors import events_for_subject
from pacte.projects.models import Project
from pacte.projects.selectors import get_project


def _acting(request: HttpRequest) -> Acting:
    acting: Acting | None = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


# ------------------------------------------------------------------ evaluations


def evaluation_list(request: HttpRequest) -> HttpResponse:
    project = request.GET.get("projet", "").strip()
    page = Paginator(selectors.evaluations(None, project=project), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "evidence/evaluation_list.html", {"page": page, "project": project})


def evaluation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    acting = getattr(request, "acting", None)
    ev = selectors.get_evaluation(acting, pk)
    return render(
        request,
        "evidence/evaluation_detail.html",
        {
            "ev": ev,
            "chart": selectors.evaluation_chart([ev]),
            "events": events_for_subject("evaluation", ev.pk),
            "can_publish": acting is not None
            and ev.status == Evaluation.State.DRAFT
            and ev.evaluator_id == acting.organisation.pk,
        },
    )


@login_required
@require_POST
def evaluation_publish(request: HttpRequest, pk: int) -> HttpResponse:
    acting = _acting(request)
    ev = selectors.get_evaluation(acting, pk)
    if request.POST.get("confirm") != "1":  # publishing cannot be undone: confirm first
        return render(
            request,
            "confirm.html",
            {
                "title": _("Publier l'évaluation « %(title)s »") % {"title": ev.title},
                "consequence": _(
                    "Le résultat devient public, avec ses chiffres et son intervalle de confiance, "
                    "et il est inscrit au journal. Une évaluation publiée ne peut plus être "
                    "modifiée ni retirée."
                ),
                "action_url": reverse("evidence:evaluation_publish", args=[pk]),
                "button": _("Oui, publier"),
                "cancel_url": reverse("evidence:evaluation", args=[pk]),
            },
        )
    evaluations.publish_evaluation(acting, ev)
    messages.success(
        request,
        _(
            "Évaluation publiée : elle est désormais publique et définitive, sur la page du projet "
            "et dans la liste des évaluations."
        ),
    )
    return redirect("evidence:evaluation", pk=pk)


@login_required
def evaluation_new(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    errors: dict[str, list[str]] = {}
    message = ""
    data = request.POST if request.method == "POST" else {}
    status = 200
    if request.method == "POST":
        try:
            if data.get("grant"):
                from pacte.data.ports import GATEWAY

                ev = gateway_evaluations.evaluate_from_gateway(
                    acting,
                    selectors.get_experiment(data.get("experiment", "")),
                    GATEWAY.grant(data["grant"].strip()),
                    data.get("outcome_column", "").strip(),
                    title=data.get("title", ""),
                    outcome=data.get("outcome", ""),
                    window_months=None,  # the pre-registered window
                    publish=False,
                )
                messages.success(
                    request,
                    _("Résultats calculés depuis la passerelle. Relisez-les, puis publiez."),
                )
                return redirect("evidence:evaluation", pk=ev.pk)
            project = get_project(data.get("project", ""))
            upload = request.FILES.get("file")
            counts = None
            if upload is None:
                counts = {
                    k: data.get(k, "")
                    for k in (
                        "n_treatment",
                        "successes_treatment",
                        "n_control",
                        "successes_control",
                    )
                }
            ev = evaluations.create_evaluation(
                acting,
                project,
                title=data.get("title", ""),
                outcome=data.get("outcome", ""),
                window_months=int(data.get("window_months") or 6),
                counts=counts,  # type: ignore[arg-type]  # the service parses these strings; its `dict[str, int]` is too narrow (evidence/services.py, being split)
                csv_data=upload.read() if upload is not None else None,
            )
        except DomainError as exc:
            message, errors, status = exc.message, exc.field_errors, exc.status
        except ValueError:
            message, status = _("La fenêtre doit être un nombre de mois."), 422
        else:
            messages.success(request, _("Résultats calculés. Relisez-les, puis publiez."))
            return redirect("evidence:evaluation", pk=ev.pk)
    return render(
        request,
        "evidence/evaluation_form.html",
        {
            "projects": Project.objects.order_by("name"),
            "data": data,
            "errors": errors,
            "message": message,
        },
        status=status,
    )


# ------------------------------------------------------------------ audits, panels, experiments, sheets


def audit_list(request: HttpRequest) -> HttpResponse:
    """Every published bias audit, newest first, by project and by verdict (issue 14)."""
    project = request.GET.get("projet", "").strip()
    verdict = request.GET.get("verdict", "").strip()
    if verdict not in selectors.AUDIT_VERDICTS:
        verdict = ""
    qs = selectors.public_audits(project=project, verdict=verdict)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in (("projet", project), ("verdict", verdict)) if v})
    return render(
        request,
        "evidence/audit_list.html",
        {
            "page": page,
            "project": project,
            "verdict": verdict,
            "projects": selectors.audited_projects(),
            "verdicts": [
                ("ecart", _("Écart(s) hors de la bande acceptée")),
                ("conforme", _("Conforme : aucun écart")),
                ("insuffisant", _("Aucun écart, mais des données insuffisantes")),
            ],
            "query": query,
        },
    )


def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    a = selectors.get_audit(pk)
    return render(
        request,
        "evidence/audit_detail.html",
        {
            "audit": a,
            "charts": selectors.audit_charts(a),
            "events": events_for_subject("audit", a.pk),
        },
    )


def panel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    p = selectors.get_panel(pk)
    return render(
        request,
        "evidence/panel_detail.html",
        {
            "panel": p,
            "chart": selectors.panel_chart(p),
            "events": events_for_subject("panel", p.pk),
            "counts": selectors.volunteer_counts(),
            "may_draw": p.status == p.State.OPEN
            and policy.may(getattr(request, "acting", None), policy.Action.PANEL_DRAW, p),
        },
    )


def experiment_detail(request: HttpRequest, slug: str) -> HttpResponse:
    e = selectors.get_experiment(slug)
    return render(
        request,
        "evidence/experiment_detail.html",
        {
            "exp": e,
            "events": events_for_subject("experiment", e.slug),
            "counts": {arm: e.assignments.filter(arm=arm).count() for arm in e.arms},
            "may_run": e.status != e.State.ASSIGNED
            and policy.may(getattr(request, "acting", None), policy.Action.EXPERIMENT_RUN, e),
        },
    )


def sheet_detail(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.get_sheet(getattr(request, "acting", None), pk)
    explanation = None
    errors: dict[str, list[str]] = {}
    if request.GET.get("explain"):
        situation = {p["key"]: request.GET.get(p["key"], "") for p in s.parameters}
        try:
            explanation = sheets.explain(s, {k: v for k, v in situation.items() if v != ""})
        except DomainError as exc:
            errors = exc.field_errors
    return render(
        request,
        "evidence/sheet_detail.html",
        {
            "sheet": s,
            "explanation": explanation,
            "errors": errors,
            "values": request.GET,
            "may_publish": s.status == AlgorithmSheet.State.DRAFT
            and policy.may(
                getattr(request, "acting", None), policy.Action.PROJECT_CARRIER_WORK, s.project
            ),
        },
    )


def sheet_atrs(request: HttpRequest, pk: int) -> HttpResponse:
    s = selectors.get_sheet(None, pk)
    body = json.dumps(sheets.atrs_export(s), ensure_ascii=False, indent=2)
    return HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")


# ------------------------------------------------------------------ volunteers and feedback


def volunteer_view(request: HttpRequest) -> HttpResponse:
    me = None
    if request.user.is_authenticated:
        me = Volunteer.objects.filter(user=request.user, left_at__isnull=True).first()
    errors: dict[str, list[str]] = {}
    message = ""
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            raise NotAuthenticated(_("Connectez-vous pour rejoindre le panel de testeurs."))
        if request.POST.get("action") == "leave":
            panels.leave_panel(request.user)
            messages.success(
                request, _("Vous avez quitté le panel : vos données personnelles ont été effacées.")
            )
            return redirect("evidence:volunteer")
        try:
            panels.volunteer(
                request.user,
                consent=request.POST.get("consent") == "on",
                contact_preference=request.POST.get("contact_preference", "email"),
                contact_value=request.POST.get("contact_value", ""),
                age_band=request.POST.get("age_band", ""),
                territory=request.POST.get("territory", ""),
                situation=request.POST.get("situation", ""),
            )
        except DomainError as exc:
            message, errors, status = exc.message, exc.field_errors, exc.status
        else:
            messages.success(request, _("Merci ! Vous faites partie du vivier de testeurs."))
            return redirect("evidence:volunteer")
    return render(
        request,
        "evidence/volunteer.html",
        {
            "me": me,
            "age_bands": AGE_BANDS.items(),
            "situations": SITUATIONS.items(),
            "errors": errors,
            "message": message,
            "contacts": Volunteer.Contact.choices,
            "counts": selectors.volunteer_counts(),
        },
        status=status,
    )


def feedback_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project(slug)
    acting = getattr(request, "acting", None)
    errors: dict[str, list[str]] = {}
    message = ""
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            raise NotAuthenticated(_("Connectez-vous pour donner votre avis."))
        question = None
        if request.POST.get("question"):
            question = Question.objects.filter(pk=request.POST["question"], project=project).first()
        rating = request.POST.get("rating") or None
        try:
            feedback.give_feedback(
                request.user,
                project,
                body=request.POST.get("body", ""),
                rating=int(rating) if rating else None,
                question=question,
            )
        except DomainError as exc:
            message, errors, status = exc.message, exc.field_errors, exc.status
        else:
            messages.success(request, _("Merci pour votre avis."))
            return redirect("evidence:feedback", slug=slug)
    return render(
        request,
        "evidence/feedback.html",
        {
            "project": project,
            "items": selectors.public_feedback(project)[:100],
            "questions": project.questions.all(),
            "hidden": project.feedback.filter(hidden=True),
            "errors": errors,
            "message": message,
            "can_moderate": acting is not None
            and (
                acting.organisation.pk == project.carrier_id
                or project.pacts.filter(institution=acting.organisation).exists()
            ),
            "can_reply": acting is not None and acting.organisation.pk == project.carrier_id,
        },
        status=status,
    )


@login_required
@require_POST
def feedback_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    acting = _acting(request)
    f = Feedback.objects.select_related("project").filter(pk=pk).first()
    if f is None:
        raise NotFound(_("Ce commentaire n'existe pas."))
    try:
        if action == "repondre":
            feedback.reply_feedback(acting, f, request.POST.get("text", ""))
            messages.success(request, _("Réponse publiée."))
        elif action == "masquer":
            feedback.hide_feedback(acting, f, request.POST.get("text", ""))
            messages.success(request, _("Commentaire masqué ; le motif est public."))
        else:
            raise NotFound(_("Action inconnue."))
    except DomainError as exc:
        if exc.status not in (409, 422):
            raise
        messages.error(request, exc.message)
    return redirect("evidence:feedback", slug=f.project.slug)
