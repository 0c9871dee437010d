"""Thin views of the challenges: the public list and page, the institution's publication form,
the teams' application form, the jury's selection form, the selected team's pact draft."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.comptoirs import challenges, selectors
from pacte.comptoirs.forms import ApplyForm, ChallengeForm
from pacte.comptoirs.lifecycles import CHALLENGE
from pacte.comptoirs.models import Application, Challenge
from pacte.comptoirs.views import acting_of, run_form
from pacte.data.models import Dataset
from pacte.errors import DomainError
from pacte.funding.models import Programme
from pacte.journal.selectors import events_for_subject
from pacte.projects.models import Project


def challenge_list(request: HttpRequest) -> HttpResponse:
    acting = getattr(request, "acting", None)
    return render(
        request,
        "comptoirs/challenge_list.html",
        {
            "challenges": selectors.challenges(),
            "can_publish": acting is not None
            and policy.may(acting, Action.CHALLENGE_PUBLISH, acting.organisation),
        },
    )


def _challenge_form(data: Any = None) -> ChallengeForm:
    return ChallengeForm(
        data,
        programmes=[(p.slug, p.title) for p in Programme.objects.order_by("title")],
        datasets=[(d.slug, d.title) for d in Dataset.objects.order_by("title")],
    )


@login_required
def challenge_new(request: HttpRequest) -> HttpResponse:
    acting = acting_of(request)
    form = _challenge_form(request.POST or None)
    if request.method == "POST":
        challenge = run_form(
            form,
            lambda d: challenges.publish_challenge(
                acting,
                challenges.ChallengeIn(
                    title=d["title"],
                    problem=d["problem"],
                    theme=d["theme"],
                    criteria=d["criteria"],
                    deadline=d["deadline"],
                    territory=d["territory"],
                    programme_slug=d["programme"],
                    dataset_slugs=list(d["datasets"]),
                ),
            ),
        )
        if challenge is not None:
            messages.success(request, _("Défi publié."))
            return redirect("comptoirs:challenge", slug=challenge.slug)
    return render(
        request,
        "comptoirs/form.html",
        {"form": form, "title": _("Publier un défi"), "back": "comptoirs:challenges"},
        status=400 if request.method == "POST" else 200,
    )


def _apply_form(acting: Any, data: Any = None) -> ApplyForm:
    projects = (
        [(p.slug, p.name) for p in Project.objects.filter(carrier=acting.organisation)]
        if acting is not None
        else []
    )
    return ApplyForm(data, projects=projects)


def challenge_detail(
    request: HttpRequest,
    slug: str,
    apply_form: ApplyForm | None = None,
    jury_errors: dict[str, str] | None = None,
    jury_typed: dict[int, tuple[str, str]] | None = None,
) -> HttpResponse:
    challenge = selectors.get_challenge(slug)
    acting = getattr(request, "acting", None)
    applications = list(selectors.applications(challenge))
    moves = {m.action for m in CHALLENGE.available(acting, challenge)}
    can_apply = (
        challenge.status == Challenge.State.OPEN
        and acting is not None
        and policy.may(acting, Action.CHALLENGE_APPLY, acting.organisation)
        and not any(a.carrier_id == acting.organisation.pk for a in applications)
    )
    jury_errors = jury_errors or {}
    jury_typed = jury_typed or {}
    for a in applications:  # the jury's entries and errors, beside each application
        # display-only attributes for the template (never saved)
        a.jury_choice, a.jury_reason = jury_typed.get(a.pk, ("", ""))  # type: ignore[attr-defined]
        a.jury_error = jury_errors.get(f"application_{a.pk}", "")  # type: ignore[attr-defined]
    own_selected = [
        a
        for a in applications
        if a.status == Application.State.SELECTED
        and a.pact_id is None
        and policy.may(acting, Action.PACT_WRITE, a)
    ]
    return render(
        request,
        "comptoirs/challenge_detail.html",
        {
            "challenge": challenge,
            "applications": applications,
            "datasets": challenge.datasets.order_by("title"),
            "moves": moves,
            "can_apply": can_apply,
            "apply_form": apply_form or _apply_form(acting),
            "jury_open": "decide" in moves
            and any(a.status == Application.State.SUBMITTED for a in applications),
            "jury_message": jury_errors.get("", ""),
            "own_selected": own_selected,
            "events": events_for_subject("challenge", slug),
        },
        status=400 if (apply_form is not None or jury_errors) else 200,
    )


@login_required
@require_POST
def challenge_apply(request: HttpRequest, slug: str) -> HttpResponse:
    acting = acting_of(request)
    challenge = selectors.get_challenge(slug)
    form = _apply_form(acting, request.POST)
    done = run_form(
        form,
        lambda d: challenges.apply(
            acting, challenge, proposal=d["proposal"], team=d["team"], project_slug=d["project"]
        ),
    )
    if done is None:
        return challenge_detail(request, slug, apply_form=form)
    messages.success(request, _("Candidature déposée."))
    return redirect("comptoirs:challenge", slug=slug)


@login_required
@require_POST
def challenge_select(request: HttpRequest, slug: str) -> HttpResponse:
    """The jury's form: for every application, "selected" or "not selected" and a reason."""
    acting = acting_of(request)
    challenge = selectors.get_challenge(slug)
    decisions: dict[int, tuple[bool, str]] = {}
    typed: dict[int, tuple[str, str]] = {}  # what the jury typed, shown again if refused
    for application in selectors.applications(challenge).filter(status=Application.State.SUBMITTED):
        choice = request.POST.get(f"decision_{application.pk}", "")
        reason = request.POST.get(f"reason_{application.pk}", "")[:5000]
        typed[application.pk] = (choice if choice in ("select", "reject") else "", reason)
        if choice in ("select", "reject"):
            decisions[application.pk] = (choice == "select", reason)
    try:
        challenges.publish_selection(acting, challenge, decisions)
    except DomainError as exc:
        errors = {"": exc.message} | {
            name: " ".join(str(e) for e in errs) for name, errs in exc.field_errors.items()
        }
        return challenge_detail(request, slug, jury_errors=errors, jury_typed=typed)
    messages.success(request, _("Sélection publiée avec ses motifs."))
    return redirect("comptoirs:challenge", slug=slug)


@login_required
@require_POST
def challenge_close(request: HttpRequest, slug: str) -> HttpResponse:
    acting = acting_of(request)
    try:
        challenges.close(acting, selectors.get_challenge(slug))
        messages.success(request, _("Candidatures closes."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("comptoirs:challenge", slug=slug)


@login_required
@require_POST
def application_pact(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    acting = acting_of(request)
    application = selectors.applications(selectors.get_challenge(slug)).filter(pk=pk).first()
    if application is None:
        messages.error(request, _("Candidature inconnue."))
        return redirect("comptoirs:challenge", slug=slug)
    try:
        version = challenges.start_pact_draft(acting, application)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("comptoirs:challenge", slug=slug)
    messages.success(request, _("Brouillon de pacte ouvert, prérempli à partir du défi."))
    return redirect("web:version", reference=version.pact.reference, number=version.number)
