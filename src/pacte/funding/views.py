"""Thin views for the funding pages (public, in French) and the finance officer's, approver's and
evaluator's forms."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.models import Membership, Role
from pacte.accounts.policy import Action
from pacte.engines import outcome_payments as formula
from pacte.errors import DomainError, NotAuthenticated
from pacte.funding import contracts, ledger, payments, programmes, selectors
from pacte.funding.forms import ContractForm, LedgerFilterForm, ProgrammeForm
from pacte.funding.lifecycles import PAYMENT
from pacte.funding.models import LedgerTransaction, Programme
from pacte.journal.selectors import events_for_subject


def _acting(request: HttpRequest) -> Any:
    acting = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


def _bars(figures: list[tuple[str, Decimal]], total: Decimal) -> list[dict[str, Any]]:
    """Bar widths (percent of the budget) for the programme chart, and the same numbers for its table."""
    return [
        {"label": label, "amount": amount, "percent": float(amount / total * 100) if total else 0.0}
        for label, amount in figures
    ]


def programme_list(request: HttpRequest) -> HttpResponse:
    acting = getattr(request, "acting", None)
    return render(
        request,
        "funding/programme_list.html",
        {
            "programmes": selectors.programmes(),
            "late": selectors.late_payments()[:20],
            "can_open": acting is not None
            and policy.may(acting, Action.FUNDING_PROGRAMME, acting.organisation),
        },
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _approver_choices(institution_id: int) -> list[tuple[str, str]]:
    people = (
        Membership.objects.filter(organisation_id=institution_id)
        .select_related("user")
        .order_by("user__last_name", "user__username")
    )
    return [
        (m.user.username, m.user.get_full_name() or m.user.username)
        for m in people
        if m.has(Role.PAYMENT_APPROVER)
    ]


def _programme_in(d: dict[str, Any]) -> programmes.ProgrammeIn:
    prices = (
        [programmes.PriceIn(d["outcome"], d["price_eur"])]
        if d["outcome"] and d["price_eur"] is not None
        else []
    )
    grants = [
        programmes.PhaseGrantIn(phase, d[f"{phase}_eur"], d[f"{phase}_months"])
        for phase in ProgrammeForm.PHASES
        if d.get(f"{phase}_eur") is not None and d.get(f"{phase}_months") is not None
    ]
    return programmes.ProgrammeIn(
        title=d["title"],
        budget_eur=d["budget_eur"],
        starts_on=d["starts_on"],
        ends_on=d["ends_on"],
        eligible_problems=_split(d["eligible_problems"]),
        territories=_split(d["territories"]),
        phase_grants=grants,
        prices=prices,
        approver_usernames=list(d.get("approvers") or []),
    )


def _programme_initial(programme: Programme) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "title": programme.title,
        "budget_eur": programme.budget_eur,
        "starts_on": programme.starts_on,
        "ends_on": programme.ends_on,
        "eligible_problems": ", ".join(programme.eligible_problems),
        "territories": ", ".join(programme.territories),
        "approvers": [u.username for u in programme.approvers.all()],
    }
    price = programme.prices.first()
    if price is not None:
        initial.update(outcome=price.outcome, price_eur=price.price_eur)
    for grant in programme.phase_grants.all():
        initial[f"{grant.phase}_eur"] = grant.amount_eur
        initial[f"{grant.phase}_months"] = grant.duration_months
    return initial


def _programme_form(request: HttpRequest, programme: Programme | None) -> HttpResponse:
    """Open a programme (``programme`` None) or amend one: the same form, the same checks."""
    acting = _acting(request)
    institution_id = programme.institution_id if programme else acting.organisation.pk
    if programme is not None:
        policy.require(acting, Action.FUNDING_PROGRAMME, programme)
    form = ProgrammeForm(
        request.POST or None,
        initial=_programme_initial(programme) if programme else None,
        approvers=_approver_choices(institution_id),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                data = _programme_in(form.cleaned_data)
                if programme is None:
                    programme = programmes.open_programme(acting, data)
                    message = _("Programme ouvert : son budget est inscrit au grand livre.")
                else:
                    programme = programmes.amend_programme(acting, programme, data)
                    message = _(
                        "Programme modifié : la modification est inscrite au journal public."
                    )
            except DomainError as exc:
                form.add_error(None, exc.message)
                for field, errs in exc.field_errors.items():
                    if field in form.fields:
                        for err in errs:
                            form.add_error(field, err)
            else:
                _done(request, message)
                return redirect("funding:programme", slug=programme.slug)
        status = 400
    title = (
        _("Modifier le programme — %(title)s") % {"title": programme.title}
        if programme
        else _("Ouvrir un programme de financement")
    )
    return render(request, "funding/form.html", {"form": form, "title": title}, status=status)


@login_required
def programme_new(request: HttpRequest) -> HttpResponse:
    return _programme_form(request, None)


@login_required
def programme_edit(request: HttpRequest, slug: str) -> HttpResponse:
    return _programme_form(request, selectors.get_programme(slug))


@login_required
def contract_new(request: HttpRequest, slug: str) -> HttpResponse:
    acting = _acting(request)
    programme = selectors.get_programme(slug)
    form = ContractForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                from pacte.pacts.selectors import get_version

                version = get_version(acting, d["pact"], d["version"])
                contract = contracts.attach_contract(
                    acting,
                    programme,
                    version,
                    contracts.ContractIn(
                        outcome=d["outcome"],
                        price_eur=d["price_eur"],
                        base_fee_eur=d["base_fee_eur"],
                        cap_eur=d["cap_eur"],
                        equity_bonus=d["equity_bonus"],
                        windows=[(d["opens_on"], d["closes_on"])],
                    ),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                _done(
                    request,
                    _("Contrat attaché : son plafond est engagé sur le budget du programme."),
                )
                return redirect("funding:contract", reference=contract.reference)
        status = 400
    return render(
        request,
        "funding/form.html",
        {
            "form": form,
            "title": _("Attacher un contrat à impact — %(programme)s")
            % {"programme": programme.title},
        },
        status=status,
    )


def programme_detail(request: HttpRequest, slug: str) -> HttpResponse:
    programme = selectors.get_programme(slug)
    totals = ledger.totals(programme=programme)
    bars = _bars(
        [
            (_("Engagé"), programme.committed_eur),
            (_("Payé"), programme.paid_eur),
            (_("Retenu"), totals["withheld"]),
            (_("Disponible"), programme.available_eur),
        ],
        programme.budget_eur,
    )
    transactions = (
        LedgerTransaction.objects.filter(programme=programme, posted=True)
        .prefetch_related("entries__account")
        .order_by("-at", "-pk")[:50]
    )
    acting = getattr(request, "acting", None)
    return render(
        request,
        "funding/programme_detail.html",
        {
            "can_attach": policy.may(acting, Action.FUNDING_CONTRACT, programme),
            "can_edit": policy.may(acting, Action.FUNDING_PROGRAMME, programme),
            "programme": programme,
            "totals": totals,
            "bars": bars,
            "transactions": transactions,
            "contracts": selectors.contracts(programme=programme.slug),
            "events": events_for_subject("programme", slug),
        },
    )


def contract_detail(request: HttpRequest, reference: str) -> HttpResponse:
    acting = getattr(request, "acting", None)
    contract = selectors.get_contract(reference)
    return render(
        request,
        "funding/contract_detail.html",
        {
            "contract": contract,
            "windows": contract.windows.all(),
            "payments": selectors.payments(contract=reference),
            "can_validate": policy.may(acting, Action.FUNDING_WINDOW_VALIDATE, contract),
            "can_prepare": policy.may(acting, Action.PAYMENT_PREPARE, contract),
            "events": events_for_subject("contract", reference),
        },
    )


def payment_detail(request: HttpRequest, reference: str) -> HttpResponse:
    acting = getattr(request, "acting", None)
    order = selectors.get_payment(reference)
    moves = [
        m.action
        for m in PAYMENT.available(acting, order)
        if m.action in ("approve", "pay", "cancel")
    ]
    return render(
        request,
        "funding/payment_detail.html",
        {
            "order": order,
            "moves": moves,
            "events": events_for_subject("payment", reference),
            "lines": order.formula_text.splitlines(),
        },
    )


def simulator(request: HttpRequest) -> HttpResponse:
    """What would an effect with CI [a, b] pay? (GET form: the figures stay in the address)."""
    fields = {
        "price": "1500",
        "n": "10000",
        "ci_low": "1.75",
        "ci_high": "2.47",
        "base": "20000",
        "cap": "300000",
        "equity": "1",
        "breach": "",
    }
    values = {k: request.GET.get(k, v) for k, v in fields.items()}
    result, error = None, ""
    if "price" in request.GET:
        try:
            low = Decimal(values["ci_low"].replace(",", ".")) / 100  # points → share
            high = Decimal(values["ci_high"].replace(",", ".")) / 100
            if low > high:
                raise ValueError
            result = formula.simulate(
                Decimal(values["price"].replace(",", ".")),
                int(values["n"]),
                low,
                Decimal(values["base"].replace(",", ".")),
                Decimal(values["cap"].replace(",", ".")),
                equity=Decimal(values["equity"].replace(",", ".")),
                in_breach=bool(values["breach"]),
            )
        except (InvalidOperation, ValueError, ArithmeticError):
            error = _(
                "Vérifiez les nombres : montants positifs, N entier, borne basse ≤ borne haute, équité entre 1 et 2."
            )
    status = 400 if error else 200
    return render(
        request,
        "funding/simulator.html",
        {"values": values, "result": result, "error": error},
        status=status,
    )


def _done(request: HttpRequest, message: str) -> None:
    messages.success(request, message)


@login_required
@require_POST
def window_validate(request: HttpRequest, reference: str, number: int) -> HttpResponse:
    acting = _acting(request)
    window = selectors.get_contract(reference).windows.filter(number=number).first()
    try:
        evaluation = int(request.POST.get("evaluation", ""))
        if window is None:
            raise ValueError
        contracts.validate_window(acting, window, evaluation)
        _done(request, _("Fenêtre validée avec l'évaluation publiée."))
    except ValueError:
        messages.error(request, _("Indiquez le numéro d'une évaluation publiée."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("funding:contract", reference=reference)


@login_required
@require_POST
def payment_prepare(request: HttpRequest, reference: str, number: int) -> HttpResponse:
    acting = _acting(request)
    window = selectors.get_contract(reference).windows.filter(number=number).first()
    try:
        if window is None:
            raise ValueError
        order = payments.prepare_window_payment(acting, window)
    except ValueError:
        messages.error(request, _("Fenêtre d'évaluation inconnue."))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        _done(request, _("Ordre de paiement préparé : une autre personne doit l'approuver."))
        return redirect("funding:payment", reference=order.reference)
    return redirect("funding:contract", reference=reference)


@login_required
@require_POST
def payment_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    acting = _acting(request)
    order = selectors.get_payment(reference)
    try:
        if action == "approve":
            payments.approve(acting, order)
            _done(request, _("Ordre approuvé : le montant est à payer."))
        elif action == "pay":
            payments.pay(acting, order)
            _done(request, _("Paiement enregistré."))
        elif action == "cancel":
            payments.cancel(acting, order, request.POST.get("reason", ""))
            _done(request, _("Ordre annulé."))
        else:
            messages.error(request, _("Action inconnue."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("funding:payment", reference=reference)


def ledger_page(request: HttpRequest) -> HttpResponse:
    """The public double-entry ledger: totals for the selection, totals per institution,
    programme, project or year, and every movement with its balanced entries (paginated)."""
    form = LedgerFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    group = "institution"
    status = 200
    if form.is_bound:
        if form.is_valid():
            d = form.cleaned_data
            filters = {
                "programme": d["programme"] or "",
                "institution": d["institution"] or "",
                "project": d["project"] or "",
                "year": d["year"] or 0,
            }
            group = d["par"] or group
        else:
            status = 400
    transactions = selectors.ledger_transactions(**filters).prefetch_related("entries__account")
    page = Paginator(transactions, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "funding/ledger.html",
        {
            "form": form,
            "totals": ledger.totals(**selectors.ledger_filters(**filters)),
            "group": group,
            "groups": selectors.totals_by(group),
            "page": page,
            "query": {k: v for k, v in filters.items() if v},
        },
        status=status,
    )
