"""Thin views of the participation pages: consultation and comments, moderation, notices and
follows, one-click unsubscribe, reuses. Citizens act as themselves (``Person``); answers and
moderation are made for an organisation (``request.acting``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.policy import Action, Person
from pacte.accounts.request_types import SignedInRequest
from pacte.accounts.services import Acting
from pacte.errors import DomainError, NotAuthenticated
from pacte.pacts import selectors as pact_selectors
from pacte.participation import comments, consultations, follows, notices, reuses, selectors
from pacte.participation.forms import (
    AnswerForm,
    CommentForm,
    EditCommentForm,
    FlagForm,
    FrequencyForm,
    ModerationForm,
    OpenConsultationForm,
    ReuseForm,
)
from pacte.participation.lifecycles import COMMENT, REUSE
from pacte.participation.models import Comment, Consultation, Section


def _acting(request: HttpRequest) -> Acting:
    acting: Acting | None = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


def _person(request: HttpRequest) -> Person:
    return Person(request.user)


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def _invalid(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# ------------------------------------------------------------------ consultation


def consultation_page(
    request: HttpRequest, pk: int, form: CommentForm | None = None, status: int = 200
) -> HttpResponse:
    consultation = selectors.get_consultation(pk)
    version = pact_selectors.get_version(
        getattr(request, "acting", None), consultation.pact.reference, consultation.version.number
    )
    acting = getattr(request, "acting", None)
    person = Person(request.user) if request.user.is_authenticated else None
    rows: list[dict[str, Any]] = []
    for comment in selectors.comments_of(consultation):
        rows.append(
            {
                "c": comment,
                "can_edit": person is not None
                and comment.state == Comment.State.PUBLISHED
                and policy.may(person, Action.COMMENT_EDIT, comment),
                "can_answer": any(m.action == "answer" for m in COMMENT.available(acting, comment)),
                "can_flag": person is not None
                and comment.is_visible
                and policy.may(person, Action.COMMENT_FLAG, comment),
                "moderation": [
                    m.action for m in COMMENT.available(acting, comment) if m.action != "answer"
                ],
            }
        )
    sections = [
        (value, label, [r for r in rows if r["c"].section == value])
        for value, label in Section.choices
    ]
    return render(
        request,
        "participation/consultation.html",
        {
            "consultation": consultation,
            "version": version,
            "pact": version.pact,
            "c": version.content,
            "summary": selectors.summary(consultation),
            "sections": sections,
            "form": form or CommentForm(),
            "can_comment": person is not None and consultation.accepts_comments(),
            "can_moderate": any(r["moderation"] for r in rows),
            "can_close": consultation.state == Consultation.State.OPEN
            and policy.may(acting, Action.CONSULTATION_CLOSE, version.pact),
            "answer_form": AnswerForm(),
            "flag_form": FlagForm(),
            "edit_form": EditCommentForm(),
            "moderation_form": ModerationForm(),
            "login_url": resolve_url(settings.LOGIN_URL),
        },
        status=status,
    )


@login_required
@require_POST
def consultation_open(request: HttpRequest, reference: str, number: int) -> HttpResponse:
    acting = _acting(request)
    version = pact_selectors.get_version(acting, reference, number)
    form = OpenConsultationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _invalid(form))
        return redirect("web:version", reference=reference, number=number)
    consultation = consultations.open_consultation(acting, version, form.cleaned_data["days"])
    messages.success(request, _("Consultation publique ouverte."))
    return redirect("participation:consultation", pk=consultation.pk)


@login_required
@require_POST
def consultation_close(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = selectors.get_consultation(pk)
    consultations.close_consultation(_acting(request), consultation, request.POST.get("reason", ""))
    messages.success(request, _("Consultation close."))
    return redirect("participation:consultation", pk=pk)


@login_required
@require_POST
def comment_post(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = selectors.get_consultation(pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return consultation_page(request, pk, form=form, status=422)
    try:
        comment = comments.post_comment(
            _person(request), consultation, form.cleaned_data["section"], form.cleaned_data["text"]
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return consultation_page(request, pk, form=form, status=exc.status)
    messages.success(request, _("Commentaire publié."))
    return redirect(reverse("participation:consultation", args=[pk]) + f"#commentaire-{comment.pk}")


def _comment_redirect(comment: Comment) -> HttpResponse:
    return redirect(
        reverse("participation:consultation", args=[comment.consultation_id])
        + f"#commentaire-{comment.pk}"
    )


@login_required
@require_POST
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = selectors.get_comment(pk)
    form = EditCommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _invalid(form))
        return _comment_redirect(comment)
    comments.edit_comment(_person(request), comment, form.cleaned_data["text"])
    messages.success(request, _("Commentaire modifié ; le texte précédent reste visible."))
    return _comment_redirect(comment)


@login_required
@require_POST
def comment_answer(request: HttpRequest, pk: int) -> HttpResponse:
    comment = selectors.get_comment(pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _invalid(form))
        return _comment_redirect(comment)
    comments.answer_comment(_acting(request), comment, form.cleaned_data["answer"])
    messages.success(request, _("Réponse publiée."))
    return _comment_redirect(comment)


@login_required
@require_POST
def comment_flag(request: HttpRequest, pk: int) -> HttpResponse:
    comment = selectors.get_comment(pk)
    form = FlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, _invalid(form))
        return _comment_redirect(comment)
    comments.flag_comment(_person(request), comment, form.cleaned_data["reason"])
    messages.success(request, _("Signalement transmis à la modération."))
    return _comment_redirect(comment)


@login_required
@require_POST
def comment_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    comment = selectors.get_comment(pk)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _invalid(form))
        return _comment_redirect(comment)
    comments.moderate_comment(
        _acting(request), comment, form.cleaned_data["decision"], form.cleaned_data["reason"]
    )
    messages.success(request, _("Décision de modération publiée au journal."))
    return _comment_redirect(comment)


@login_required
def moderation_queue(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    flagged_comments = [c for c in selectors.flagged_comments() if COMMENT.available(acting, c)]
    flagged_reuses = [r for r in selectors.flagged_reuses() if REUSE.available(acting, r)]
    return render(
        request,
        "participation/moderation.html",
        {
            "comments": flagged_comments,
            "reuses": flagged_reuses,
            "moderation_form": ModerationForm(),
        },
    )


# ------------------------------------------------------------------ notices and follows


@login_required
def notice_list(request: SignedInRequest) -> HttpResponse:
    person = _person(request)
    if request.method == "POST":
        if "frequency" in request.POST:
            form = FrequencyForm(request.POST)
            if form.is_valid():
                follows.set_frequency(person, form.cleaned_data["frequency"])
                messages.success(request, _("Préférence enregistrée."))
        else:
            notices.mark_read(request.user)
            messages.success(request, _("Notifications marquées comme lues."))
        return redirect("participation:notices")
    page = Paginator(selectors.notices_of(request.user), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "participation/notices.html",
        {
            "page": page,
            "unread": selectors.unread_count(request.user),
            "follows": selectors.follows_of(request.user),
            "frequency_form": FrequencyForm(
                initial={"frequency": follows.preference_of(request.user).frequency}
            ),
        },
    )


@login_required
@require_POST
def follow_toggle(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    target = request.POST.get("target", "")
    key = request.POST.get("key", "")
    if request.POST.get("stop"):
        follows.unfollow(person, target, key)
        messages.success(request, _("Vous ne suivez plus cette page."))
    else:
        follows.follow(person, target, key)
        messages.success(
            request, _("Vous suivez cette page : ses nouvelles arrivent dans vos notifications.")
        )
    return redirect(_next(request, reverse("participation:notices")))


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" without a session
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button (a link preview must not unsubscribe); POST unsubscribes, no sign-in."""
    if request.method == "POST":
        user = follows.unsubscribe(token)
        return render(request, "participation/unsubscribed.html", {"email": user.email})
    user = follows.user_of_token(token)  # a broken link says so at once (400), before the button
    return render(request, "participation/unsubscribe.html", {"token": token, "email": user.email})


# ------------------------------------------------------------------ reuses


def reuse_list(request: HttpRequest) -> HttpResponse:
    f = {k: request.GET.get(k, "").strip() for k in ("dataset", "project", "kind")}
    page = Paginator(selectors.public_reuses(**f), 20).get_page(request.GET.get("page"))
    return render(request, "participation/reuse_list.html", {"page": page, "filters": f})


@login_required
def reuse_new(request: HttpRequest) -> HttpResponse:
    dataset = request.GET.get("dataset", "") or request.POST.get("dataset", "")
    project = request.GET.get("project", "") or request.POST.get("project", "")
    initial = {"kind": "code" if project else "dataset"}
    form = ReuseForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                reuse = reuses.declare_reuse(
                    _person(request),
                    reuses.ReuseIn(
                        kind=d["kind"],
                        title=d["title"],
                        description=d["description"],
                        reuser=d["reuser"],
                        url=d["url"],
                        place=d["place"],
                        dataset=dataset,
                        project=project,
                    ),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                for field, errors in exc.field_errors.items():
                    if field in form.fields:
                        for e in errors:
                            form.add_error(field, e)
                status = exc.status
            else:
                messages.success(request, _("Réutilisation déclarée, merci."))
                return redirect(reverse("participation:reuses") + f"#reutilisation-{reuse.pk}")
        else:
            status = 422
    return render(
        request,
        "participation/reuse_form.html",
        {"form": form, "dataset": dataset, "project": project},
        status=status,
    )


@login_required
@require_POST
def reuse_flag(request: HttpRequest, pk: int) -> HttpResponse:
    reuse = selectors.get_reuse(pk)
    form = FlagForm(request.POST)
    if form.is_valid():
        reuses.flag_reuse(_person(request), reuse, form.cleaned_data["reason"])
        messages.success(request, _("Signalement transmis à la modération."))
    else:
        messages.error(request, _invalid(form))
    return redirect(_next(request, reverse("participation:reuses")))


@login_required
@require_POST
def reuse_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    reuse = selectors.get_reuse(pk)
    form = ModerationForm(request.POST)
    if form.is_valid():
        reuses.moderate_reuse(
            _acting(request), reuse, form.cleaned_data["decision"], form.cleaned_data["reason"]
        )
        messages.success(request, _("Décision de modération publiée au journal."))
    else:
        messages.error(request, _invalid(form))
    return redirect(_next(request, reverse("participation:reuses")))
