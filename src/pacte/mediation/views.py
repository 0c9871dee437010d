"""Thin views: the mediator's form and receipts, the person's claim."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.errors import DomainError, NotAuthenticated
from pacte.evidence.models import AGE_BANDS, SITUATIONS
from pacte.mediation import assistance, selectors
from pacte.mediation.models import AssistedAction

SESSION_CODES = "mediation_claim_codes"


def _acting(request: HttpRequest) -> Any:
    acting = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez la structure pour laquelle vous accompagnez.")
        )
    return acting


def _form_data(request: HttpRequest) -> assistance.AssistedIn:
    post = request.POST
    project = None
    if post.get("project"):
        project = selectors.projects().filter(slug=post["project"]).first()
    rating = post.get("rating", "")
    return assistance.AssistedIn(
        kind=post.get("kind", ""),
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
            codes = request.session.get(SESSION_CODES, {})
            codes[recorded.action.reference] = recorded.claim_code
            request.session[SESSION_CODES] = codes
            messages.success(request, _("Démarche enregistrée : remettez le reçu à la personne."))
            return redirect("mediation:receipt", reference=recorded.action.reference)
    return render(
        request,
        "mediation/assist.html",
        {
            "kinds": AssistedAction.Kind.choices,
            "methods": AssistedAction.ConsentMethod.choices,
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


def receipt(request: HttpRequest, reference: str) -> HttpResponse:
    action = selectors.get_action(_acting(request), reference)
    code = request.session.get(SESSION_CODES, {}).get(reference, "")
    return render(request, "mediation/receipt.html", {"action": action, "code": code})


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
