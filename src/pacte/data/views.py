"""Pages: public catalogue, rule table, accountability (grants, releases), the request
workflow for carriers and reviewers, and citizen consent (session auth)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.request_types import SignedInRequest
from pacte.accounts.services import Acting
from pacte.data import selectors
from pacte.data.consent import give_consent, withdraw_consent
from pacte.data.gateway import secure_room
from pacte.data.grants import (
    issue_token,
    reactivate_grant,
    renew_grant,
    revoke_grant,
    suspend_grant,
)
from pacte.data.models import Consent, Dataset, Grant, GrantState, PersonLink, RequestStatus
from pacte.data.requests import (
    REQUIRED_APPROVALS,
    approve_request,
    create_request,
    refuse_request,
    request_changes,
    submit_request,
    withdraw_request,
)
from pacte.engines import privacy, proportionality
from pacte.errors import DomainError, NotAuthenticated, NotFound, ValidationFailed
from pacte.input_limits import DOCUMENT, PARAGRAPH
from pacte.pacts.models import Status
from pacte.pacts.selectors import get_pact
from pacte.projects.models import Project


def _acting(request: HttpRequest) -> Acting:
    acting: Acting | None = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


TIER_CHOICES = [(int(t), f"{int(t)} — {t.label}") for t in proportionality.Tier]


# ---------------------------------------------------------------- public


def catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "data/catalogue.html", {"datasets": selectors.datasets()})


def dataset_detail(request: HttpRequest, slug: str) -> HttpResponse:
    ds = selectors.get_dataset(slug)
    return render(
        request,
        "data/dataset.html",
        {
            "ds": ds,
            "versions": ds.versions.all(),
            "current": ds.current_version,
            "grants": selectors.grants_of_dataset(ds),
            "releases": selectors.releases_of_dataset(ds)[:100],
            "can_request": getattr(request, "acting", None) is not None,
        },
    )


def rules(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "data/rules.html",
        {
            "rows": proportionality.table_as_rows(),
            "version": proportionality.RULES_VERSION,
            "tiers": [(int(t), t.label) for t in proportionality.EXPOSURE_ORDER],
            "approvals": REQUIRED_APPROVALS,
            **secure_room.rules_context(),
            "dp_limits": privacy.published_limits(),
        },
    )


def grant_detail(request: HttpRequest, reference: str) -> HttpResponse:
    g = selectors.get_grant(reference)
    acting = getattr(request, "acting", None)
    is_carrier = acting is not None and acting.organisation.pk == g.project.carrier_id
    is_reviewer = (
        acting is not None and acting.organisation.pk == g.dataset_version.dataset.publisher_id
    )
    return render(
        request,
        "data/grant.html",
        {
            "g": g,
            "releases": g.releases.all()[:200],
            "tier_label": proportionality.Tier(g.tier).label,
            "is_carrier": is_carrier,
            "is_reviewer": is_reviewer,
            "may_rotate": policy.may(acting, policy.Action.GRANT_ROTATE_TOKEN, g),
            "may_use": policy.may(acting, policy.Action.GRANT_USE, g),
            "usable": g.state in (GrantState.ACTIVE, GrantState.RENEWAL_DUE),
        },
    )


def release_detail(request: HttpRequest, release_id: str) -> HttpResponse:
    r = selectors.get_release(release_id)
    return render(request, "data/release.html", {"r": r})


# ---------------------------------------------------------------- requests


class RequestForm(forms.Form):
    dataset = forms.ModelChoiceField(
        label="Jeu de données", queryset=Dataset.objects.all(), to_field_name="slug"
    )
    purpose = forms.CharField(
        max_length=DOCUMENT,
        label="Finalité",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Expliquez comment cet accès sert la mission du pacte.",
    )
    tier = forms.TypedChoiceField(label="Niveau d'accès demandé", choices=TIER_CHOICES, coerce=int)
    columns = forms.CharField(
        max_length=PARAGRAPH,
        label="Colonnes souhaitées",
        required=False,
        help_text="Noms séparés par des virgules ; vide = toutes les colonnes.",
    )
    aggregates = forms.CharField(
        max_length=PARAGRAPH,
        label="Agrégats souhaités",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    legal_basis = forms.CharField(label="Base légale", max_length=300)
    retention_months = forms.IntegerField(
        label="Durée de conservation (mois)", min_value=1, max_value=120, initial=12
    )
    retention_justification = forms.CharField(
        max_length=PARAGRAPH,
        label="Justification (au-delà de 36 mois)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    recipients = forms.CharField(label="Destinataires", max_length=500)
    dpo_contact = forms.CharField(label="Contact protection des données", max_length=200)
    volumetry = forms.CharField(label="Volumétrie", max_length=200, required=False)


def _apply_errors(form: forms.Form, error: DomainError) -> None:
    for field, errs in error.field_errors.items():
        for e in errs:
            form.add_error(field if field in form.fields else None, e)
    if not error.field_errors:
        form.add_error(None, error.message)


@login_required
def request_new(request: HttpRequest, reference: str) -> HttpResponse:
    acting = _acting(request)
    pact = get_pact(reference)
    version = selectors.active_version(pact)
    initial = {"dataset": request.GET.get("dataset", "")}
    form = RequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        ds = data.pop("dataset")
        try:
            req = create_request(acting, pact, ds, **data)
        except DomainError as e:
            _apply_errors(form, e)
        else:
            messages.success(
                request,
                _("Demande %(reference)s enregistrée en brouillon.") % {"reference": req.reference},
            )
            return redirect("data:request", req.reference)
    return render(
        request, "data/request_form.html", {"form": form, "pact": pact, "version": version}
    )


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    return render(request, "data/requests.html", {"queue": selectors.request_queue(acting)})


@login_required
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    acting = _acting(request)
    req = selectors.get_request(acting, reference)
    is_carrier = acting.organisation.pk == req.carrier_id
    is_reviewer = acting.organisation.pk == req.dataset.publisher_id
    rule = None
    if req.decision.get("rule_id"):
        rule = next(
            (r for r in proportionality.table_as_rows() if r["id"] == req.decision["rule_id"]), None
        )
    return render(
        request,
        "data/request.html",
        {
            "req": req,
            "clock": selectors.clock(req),
            "diff": selectors.submission_diff(req),
            "reviews": req.reviews.select_related("organisation", "reviewer"),
            "is_carrier": is_carrier,
            "is_reviewer": is_reviewer,
            "rule": rule,
            "grant": getattr(req, "grant", None) if hasattr(req, "grant") else None,
            "tier_label": proportionality.Tier(req.tier).label,
            "mission": (req.pact_version.content.get("mission") or {}),
            "open": req.status in (RequestStatus.DRAFT, RequestStatus.CHANGES_REQUESTED),
            "submitted": req.status == RequestStatus.SUBMITTED,
        },
    )


@login_required
@require_POST
def request_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    acting = _acting(request)
    req = selectors.get_request(acting, reference)
    reason = request.POST.get("reason", "")
    try:
        if action == "submit":
            submit_request(acting, req)
            messages.success(request, _("Demande soumise à l'instruction."))
        elif action == "withdraw":
            withdraw_request(acting, req, reason)
        elif action == "request_changes":
            request_changes(acting, req, reason)
        elif action == "refuse":
            refuse_request(acting, req, reason)
        elif action == "approve":
            try:
                population, severity = (
                    int(request.POST.get("population", "")),
                    int(request.POST.get("severity", "")),
                )
            except ValueError:
                raise ValidationFailed(
                    _("Indiquez la population concernée et la gravité (1 à 3).")
                ) from None
            outcome = approve_request(
                acting, req, population=population, severity=severity, note=reason
            )
            if outcome.grant:
                messages.success(
                    request,
                    _("Demande approuvée : accès %(grant)s délivré.")
                    % {"grant": outcome.grant.reference},
                )
            elif outcome.request.status == RequestStatus.REFUSED:
                messages.error(
                    request, _("Niveau demandé au-delà du plafond de la règle : demande refusée.")
                )
            else:
                messages.success(
                    request,
                    _("Avis favorable enregistré (%(approvals)s/%(required)s).")
                    % {"approvals": outcome.approvals, "required": outcome.required},
                )
        else:
            raise NotFound(_("Action inconnue."))
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("data:request", reference)


@login_required
@require_POST
def grant_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    acting = _acting(request)
    g = selectors.get_grant(reference)
    reason = request.POST.get("reason", "")
    try:
        if action == "token":
            raw = issue_token(acting, g)
            return render(request, "data/token.html", {"g": g, "token": raw})
        handlers: dict[str, Callable[..., Grant]] = {
            "renew": renew_grant,
            "suspend": suspend_grant,
            "revoke": revoke_grant,
            "reinstate": reactivate_grant,
        }
        if action not in handlers:
            raise NotFound(_("Action inconnue."))
        if action == "revoke" and request.POST.get("confirm") != "1":  # cannot be undone
            return render(
                request,
                "confirm.html",
                {
                    "title": _("Révoquer l'accès %(reference)s") % {"reference": g.reference},
                    "consequence": _(
                        "L'accès aux données prend fin tout de suite : les clés d'accès cessent de "
                        "fonctionner et la révocation est inscrite au journal avec son motif. Un "
                        "accès révoqué ne peut pas être rétabli ; il faudra une nouvelle demande."
                    ),
                    "action_url": reverse("data:grant_action", args=[g.reference, "revoke"]),
                    "button": _("Oui, révoquer"),
                    "danger": True,
                    "cancel_url": reverse("data:grant", args=[g.reference]),
                    "reason_label": _("Motif de révocation (obligatoire, publié)"),
                    "reason": reason,
                },
            )
        handlers[action](acting, g, reason)
        messages.success(
            request,
            {
                "renew": _("Accès renouvelé : il court jusqu'à sa nouvelle échéance."),
                "suspend": _(
                    "Accès suspendu : les clés ne fonctionnent plus jusqu'au rétablissement."
                ),
                "revoke": _("Accès révoqué : il a pris fin et ne pourra pas être rétabli."),
                "reinstate": _("Accès rétabli : les clés d'accès fonctionnent de nouveau."),
            }[action],
        )
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("data:grant", reference)


# ---------------------------------------------------------------- citizen consent (tier 5)


class ConsentForm(forms.Form):
    dataset = forms.ModelChoiceField(
        label="Vos données", queryset=Dataset.objects.none(), to_field_name="slug"
    )
    project = forms.ModelChoiceField(
        label="Projet destinataire", queryset=Project.objects.none(), to_field_name="slug"
    )
    purpose = forms.CharField(
        max_length=DOCUMENT,
        label="Finalité de la transmission",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            "forms.ModelChoiceField[Dataset]", self.fields["dataset"]
        ).queryset = Dataset.objects.filter(person_links__user=user)
        cast(
            "forms.ModelChoiceField[Project]", self.fields["project"]
        ).queryset = Project.objects.filter(pacts__versions__status=Status.ACTIVE).distinct()


@login_required
def consent_new(request: SignedInRequest) -> HttpResponse:
    form = ConsentForm(request.user, request.POST or None)
    links = PersonLink.objects.filter(user=request.user).select_related("dataset")
    if request.method == "POST" and form.is_valid():
        try:
            consent = give_consent(
                request.user,
                form.cleaned_data["dataset"],
                form.cleaned_data["project"],
                form.cleaned_data["purpose"],
            )
        except DomainError as e:
            _apply_errors(form, e)
        else:
            messages.success(
                request, _("Vos données ont été transmises. Voici votre reçu de consentement.")
            )
            return redirect("data:consent", consent.receipt_id)
    return render(
        request,
        "data/consent_form.html",
        {"form": form, "links": links, "consents": selectors.consents_of(request.user)},
    )


def _own_consent(request: HttpRequest, receipt_id: str) -> Consent:
    consent = (
        Consent.objects.select_related("project", "dataset_version__dataset")
        .filter(receipt_id=receipt_id, user=request.user)
        .first()
        if request.user.is_authenticated
        else None
    )
    if consent is None:
        raise NotFound(_("Reçu introuvable."))
    return consent


def receipt(consent: Consent) -> dict[str, Any]:
    return {
        "receipt_id": str(consent.receipt_id),
        "state": consent.state,
        "dataset": consent.dataset_version.dataset.slug,
        "dataset_version": consent.dataset_version.version,
        "project": consent.project.slug,
        "purpose": consent.purpose,
        "record_sha256": consent.record_sha256,
        "given_at": consent.given_at.isoformat(),
        "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
        "record": consent.record,
    }


@login_required
def consent_detail(request: HttpRequest, receipt_id: str) -> HttpResponse:
    consent = _own_consent(request, receipt_id)
    return render(request, "data/consent.html", {"c": consent, "receipt": receipt(consent)})


@login_required
def consent_json(request: HttpRequest, receipt_id: str) -> HttpResponse:
    return JsonResponse(
        receipt(_own_consent(request, receipt_id)), json_dumps_params={"ensure_ascii": False}
    )


@login_required
@require_POST
def consent_withdraw(request: SignedInRequest, receipt_id: str) -> HttpResponse:
    consent = _own_consent(request, receipt_id)
    try:
        withdraw_consent(request.user, consent)
        messages.success(
            request, _("Consentement retiré : le projet ne dispose plus de vos données via Pacte.")
        )
    except DomainError as e:
        messages.error(request, e.message)
    return redirect(reverse("data:consent", args=[receipt_id]))
