"""Thin views: the mediator's form and receipts, the person's claim."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.comptoirs.ports import POST_FORMS, PostIn, post_in
from pacte.errors import (
    DomainError,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from pacte.evidence.models import AGE_BANDS, SITUATIONS
from pacte.mediation import assistance, selectors
from pacte.mediation.models import AssistedAction

SESSION_CODES = "mediation_claim_codes"
POST_KINDS = {
    "probleme": gettext_lazy("Signaler un problème"),
    "projet": gettext_lazy("Proposer un projet"),
    "contribution": gettext_lazy("Proposer de contribuer à un projet"),
}


def _acting(request: HttpRequest) -> Any:
    acting = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez la structure pour laquelle vous accompagnez.")
        )
    return acting


def _form_data(request: HttpRequest, post_in: PostIn | None = None) -> assistance.AssistedIn:
    post = request.POST
    project = None
    if post.get("project"):
        project = selectors.projects().filter(slug=post["project"]).first()
    rating = post.get("rating", "")
    return assistance.AssistedIn(
        kind=AssistedAction.Kind.POST if post_in is not None else post.get("kind", ""),
        post=post_in,
        person_label=post.get("person_label", ""),
        consent_method=post.get("consent_method", ""),
        consent_note=post.get("consent_note", ""),
        attested=post.get("attested") == "on",
        project=project,
        body=post.get("body", ""),
        rating=int(rating) if rating.isdigit() else None,
        age_band=post.get("age_band", ""),
        territory=post.get("territory", ""),
        situation=post.get("situation", ""),
        email=post.get("email", "").strip(),
        dataset=selectors.dataset(post["dataset"]) if post.get("dataset") else None,
        person_id=post.get("person_id", ""),
        purpose=post.get("purpose", ""),
        identity_check=post.get("identity_check", ""),
    )


def assist(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    policy.require(acting, Action.ASSISTED_ACT, acting.organisation)
    errors: dict[str, list[str]] = {}
    message = ""
    status = 200
    if request.method == "POST":
        try:
            recorded = assistance.record_assisted(acting, _form_data(request))
        except DomainError as exc:
            message, errors, status = exc.message, exc.field_errors, exc.status
        else:
            _remember_code(request, recorded)
            messages.success(request, _("Démarche enregistrée : remettez le reçu à la personne."))
            return redirect("mediation:receipt", reference=recorded.action.reference)
    return render(
        request,
        "mediation/assist.html",
        {
            "kinds": [k for k in AssistedAction.Kind.choices if k[0] != AssistedAction.Kind.POST],
            "post_kinds": POST_KINDS.items(),
            "methods": AssistedAction.ConsentMethod.choices,
            "identity_checks": AssistedAction.IdentityCheck.choices,
            "datasets": selectors.datasets(),
            "projects": selectors.projects(),
            "age_bands": AGE_BANDS.items(),
            "situations": SITUATIONS.items(),
            "attestation": assistance.ATTESTATION,
            "recent": selectors.recent_actions(acting),
            "values": request.POST,
            "errors": errors,
            "message": message,
        },
        status=status,
    )


def _remember_code(request: HttpRequest, recorded: assistance.Recorded) -> None:
    codes = request.session.get(SESSION_CODES, {})
    codes[recorded.action.reference] = recorded.claim_code
    request.session[SESSION_CODES] = codes


def assist_post(request: HttpRequest, kind: str) -> HttpResponse:
    """A comptoir post made for a person: the comptoir's own form for the kind, plus the person
    and their consent."""
    acting = _acting(request)
    policy.require(acting, Action.ASSISTED_ACT, acting.organisation)
    if kind not in POST_KINDS:
        raise NotFound(_("Cette nature de dépôt n'existe pas."))
    extra: dict[str, Any] = (
        {"projects": [(p.slug, p.name) for p in selectors.projects()]}
        if kind == "contribution"
        else {}
    )
    form = POST_FORMS[kind](request.POST or None, **extra)
    errors: dict[str, list[str]] = {}
    message = ""
    status = 200
    if request.method == "POST":
        valid = form.is_valid()
        try:
            if not valid:  # the person's part is checked too, so that all errors show at once
                assistance.check(replace(_form_data(request), kind=AssistedAction.Kind.POST))
                raise ValidationFailed(_("Le dépôt est incomplet."))
            recorded = assistance.record_assisted(
                acting, _form_data(request, post_in(kind, form.cleaned_data))
            )
        except DomainError as exc:
            message, status = exc.message, exc.status
            for name, msgs in exc.field_errors.items():
                if name in form.fields:
                    for msg in msgs:
                        form.add_error(name, msg)
                else:
                    errors[name] = msgs
        else:
            _remember_code(request, recorded)
            messages.success(request, _("Dépôt enregistré : remettez le reçu à la personne."))
            return redirect("mediation:receipt", reference=recorded.action.reference)
    return render(
        request,
        "mediation/assist_post.html",
        {
            "form": form,
            "title": POST_KINDS[kind],
            "methods": AssistedAction.ConsentMethod.choices,
            "attestation": assistance.ATTESTATION,
            "values": request.POST,
            "errors": errors,
            "message": message,
        },
        status=status,
    )


def receipt(request: HttpRequest, reference: str) -> HttpResponse:
    action = selectors.get_action(_acting(request), reference)
    code = request.session.get(SESSION_CODES, {}).get(reference, "")
    return render(
        request,
        "mediation/receipt.html",
        {"action": action, "code": code, "methods": AssistedAction.ConsentMethod.choices},
    )


@require_POST
def withdraw_on_request(request: HttpRequest, reference: str) -> HttpResponse:
    """A mediator withdraws an assisted consent because the person asked."""
    try:
        assistance.withdraw_on_request(
            _acting(request), reference, request.POST.get("request_method", "")
        )
    except (ValidationFailed, InvalidTransition) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Consentement retiré : le projet ne reçoit plus ces données."))
    return redirect("mediation:receipt", reference=reference)


def withdraw(request: HttpRequest) -> HttpResponse:
    """The person withdraws a consent given with a mediator, with the code of the receipt; no
    account needed."""
    message = ""
    status = 200
    if request.method == "POST":
        try:
            action = assistance.withdraw_with_code(request.POST.get("code", ""))
        except DomainError as exc:
            message, status = exc.message, exc.status
        else:
            messages.success(
                request,
                _(
                    "C'est fait : votre consentement (reçu %(reference)s) est retiré, le projet "
                    "ne reçoit plus vos données par Pacte."
                )
                % {"reference": action.reference},
            )
            return redirect("mediation:withdraw")
    return render(request, "mediation/withdraw.html", {"message": message}, status=status)


def claim(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("Connectez-vous pour reprendre une démarche faite pour vous."))
    message = ""
    status = 200
    if request.method == "POST":
        try:
            action = assistance.claim(request.user, request.POST.get("code", ""))
        except DomainError as exc:
            message, status = exc.message, exc.status
        else:
            messages.success(
                request,
                _("C'est fait : la démarche %(reference)s est maintenant dans votre compte.")
                % {"reference": action.reference},
            )
            return redirect("mediation:claim")
    return render(request, "mediation/claim.html", {"message": message}, status=status)
