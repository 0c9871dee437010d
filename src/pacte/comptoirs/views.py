"""Thin views of the comptoir (public list, search, post pages, the contact's and the
moderator's forms). Experts: views_experts.py; challenges: views_challenges.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.models import Organisation, User
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.comptoirs import posts, selectors
from pacte.comptoirs.forms import (
    AnswerForm,
    BecomeProjectForm,
    ContributionForm,
    ProblemForm,
    ProposalForm,
    ReasonForm,
    RedirectForm,
)
from pacte.comptoirs.lifecycles import POST
from pacte.comptoirs.models import Post
from pacte.errors import DomainError, NotAuthenticated
from pacte.journal.selectors import events_for_subject
from pacte.projects.models import Project

PAGE_SIZE = 10
KINDS = {
    "probleme": (ProblemForm, gettext_lazy("Signaler un problème")),
    "projet": (ProposalForm, gettext_lazy("Proposer un projet")),
    "contribution": (ContributionForm, gettext_lazy("Proposer de contribuer à un projet")),
}


def acting_of(request: HttpRequest) -> Acting:
    acting = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting  # type: ignore[no-any-return]


def run_form(form: forms.Form, action: Callable[[dict[str, Any]], Any]) -> Any:
    """Run a use case with a valid form's data; a domain error goes back onto the form
    (its message on top, its field errors beside their fields). Returns None on failure."""
    if not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except DomainError as exc:
        form.add_error(None, exc.message)
        for name, errors in exc.field_errors.items():
            if name in form.fields:
                for error in errors:
                    form.add_error(name, error)
    return None


def post_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    kind = request.GET.get("nature", "")
    kind = kind if kind in Post.Kind.values else ""
    page = Paginator(selectors.posts(query=query, kind=kind), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "comptoirs/post_list.html",
        {"page": page, "q": query, "kind": kind, "kinds": Post.Kind.choices, "now": timezone.now()},
    )


def post_new(request: HttpRequest) -> HttpResponse:
    return render(request, "comptoirs/post_new.html", {"kinds": KINDS})


def _projects() -> list[tuple[str, str]]:
    return [(p.slug, p.name) for p in Project.objects.order_by("name")]


@login_required
def post_form(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in KINDS:
        return redirect("comptoirs:post_new")
    form_class, title = KINDS[kind]
    extra = {"projects": _projects()} if kind == "contribution" else {}
    form = form_class(request.POST or None, initial=request.GET.dict(), **extra)
    if request.method == "POST":
        who: Acting | User = getattr(request, "acting", None) or request.user  # type: ignore[assignment]

        def submit(d: dict[str, Any]) -> Post:
            return posts.submit_post(who, posts.post_in(kind, d))

        post = run_form(form, submit)
        if post is not None:
            messages.success(
                request,
                _("Dépôt reçu : %(org)s doit vous répondre avant le %(due)s.")
                % {"org": post.organisation.name, "due": post.due_at.strftime("%d/%m/%Y")},
            )
            return redirect("comptoirs:post", pk=post.pk)
    return render(
        request,
        "comptoirs/form.html",
        {"form": form, "title": title, "back": "comptoirs:posts"},
        status=400 if request.method == "POST" else 200,
    )


def _institutions(post: Post) -> list[tuple[str, str]]:
    return [
        (o.slug, o.name)
        for o in Organisation.objects.filter(kind=Organisation.Kind.INSTITUTION)
        .exclude(pk=post.organisation_id)
        .order_by("name")
    ]


def post_detail(
    request: HttpRequest, pk: int, forms_in: dict[str, Any] | None = None
) -> HttpResponse:
    post = selectors.get_post(pk)
    acting = getattr(request, "acting", None)
    moves = {m.action for m in POST.available(acting, post)}
    bound = forms_in or {}
    can_adopt = (
        acting is not None
        and post.kind != Post.Kind.CONTRIBUTION
        and not post.hidden
        and post.became_project_id is None
        and policy.may(acting, Action.PROJECT_CREATE, acting.organisation)
    )
    context = {
        "post": post,
        "moves": moves,
        "now": timezone.now(),
        "assignments": post.assignments.select_related("organisation"),
        "events": events_for_subject("comptoir_post", pk),
        "answer_form": bound.get("answer") or AnswerForm(auto_id="answer_%s"),
        "redirect_form": bound.get("redirect")
        or RedirectForm(institutions=_institutions(post), auto_id="redirect_%s"),
        "close_form": bound.get("close") or ReasonForm(auto_id="close_%s"),
        "moderate_form": bound.get("moderate") or ReasonForm(auto_id="moderate_%s"),
        "project_form": bound.get("project") or BecomeProjectForm(auto_id="project_%s"),
        "can_moderate": not post.hidden and policy.may(acting, Action.COMPTOIR_MODERATE, post),
        "can_adopt": can_adopt,
        "refusals": [e for form in bound.values() for e in form.non_field_errors()],
    }
    return render(request, "comptoirs/post_detail.html", context, status=400 if forms_in else 200)


@login_required
@require_POST
def post_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    acting = acting_of(request)
    post = selectors.get_post(pk)
    done = {
        "review": _("Dépôt mis en examen."),
        "answer": _("Réponse publiée : l'auteur est prévenu."),
        "redirect": _("Dépôt réorienté : l'autre institution est prévenue."),
        "close": _("Dépôt clos."),
        "moderate": _("Dépôt masqué ; le motif est public."),
        "project": _("Le projet est créé et lié à ce dépôt."),
    }
    if action not in done:
        messages.error(request, _("Action inconnue."))
        return redirect("comptoirs:post", pk=pk)
    if action == "review":
        try:
            posts.review(acting, post)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("comptoirs:post", pk=pk)
        messages.success(request, done[action])
        return redirect("comptoirs:post", pk=pk)
    form: forms.Form
    result: Any
    if action == "answer":
        form = AnswerForm(request.POST, auto_id="answer_%s")
        result = run_form(form, lambda d: posts.answer(acting, post, d["answer"]))
    elif action == "redirect":
        form = RedirectForm(request.POST, institutions=_institutions(post), auto_id="redirect_%s")
        result = run_form(
            form,
            lambda d: posts.redirect(
                acting, post, Organisation.objects.get(slug=d["institution"]), d["reason"]
            ),
        )
    elif action in ("close", "moderate"):
        form = ReasonForm(request.POST, auto_id=f"{action}_%s")
        use_case = posts.close if action == "close" else posts.moderate
        result = run_form(form, lambda d: use_case(acting, post, d["reason"]))
    else:
        form = BecomeProjectForm(request.POST, auto_id="project_%s")
        result = run_form(
            form, lambda d: posts.turn_into_project(acting, post, name=d["name"], pitch=d["pitch"])
        )
    if result is None:
        return post_detail(request, pk, {action: form})
    messages.success(request, done[action])
    return redirect("comptoirs:post", pk=pk)
