"""The funding JSON API under /api/v1/funding/ (thin: parse, call a use case or a selector, shape)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import WithJsonSchema

from pacte.accounts.api_auth import TokenAuth
from pacte.api_contract import WRITE, Cursor, Limit, Offset, binary_response, paginate, responses
from pacte.engines import outcome_payments as formula
from pacte.errors import NotFound, ValidationFailed
from pacte.funding import contracts as contract_cases
from pacte.funding import exports, ledger, ocds, payments, programmes, selectors
from pacte.funding.models import OutcomeContract, PaymentOrder, Programme
from pacte.input_limits import BigInt, Identifier, Label, Paragraph, Sentence, Title
from pacte.pacts.selectors import get_version

router = Router(tags=["financement"])
auth = TokenAuth()


# Decimals are given as text in the documented form: the pattern also bounds the value, so that
# every value the document allows is accepted; they are read exactly, as Decimal.
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$",
            "maxLength": 15,
            "description": "Montant en euros, au centime (ex. 1500.00).",
        }
    ),
]
Share = Annotated[
    Decimal,
    Field(ge=-1, le=1),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$",
            "maxLength": 9,
            "description": "Part entre -1 et 1 (0.0175 = 1,75 point).",
        }
    ),
]
Equity = Annotated[
    Decimal,
    Field(ge=1, le=2),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(1(\.[0-9]{1,4})?|2(\.0{1,4})?)$",
            "maxLength": 6,
            "description": "Facteur d'équité entre 1 et 2.",
        }
    ),
]
Bonus = Annotated[
    Decimal,
    Field(ge=0, le=1, decimal_places=4),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$",
            "maxLength": 6,
            "description": "Bonus d'équité entre 0 et 1 (0.10 = +10 %).",
        }
    ),
]


class PhaseGrantOut(Schema):
    phase: str
    amount_eur: Decimal
    duration_months: int


class PriceOut(Schema):
    outcome: str
    unit: str
    price_eur: Decimal


class ProgrammeOut(Schema):
    slug: str
    title: str
    institution: str
    budget_eur: Decimal
    committed_eur: Decimal
    paid_eur: Decimal
    available_eur: Decimal
    starts_on: date
    ends_on: date
    eligible_problems: list[str]
    territories: list[str]
    status: str
    phase_grants: list[PhaseGrantOut]
    prices: list[PriceOut]


class ProgrammePage(Schema):
    count: int
    items: list[ProgrammeOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class WindowOut(Schema):
    number: int
    opens_on: date
    closes_on: date
    evaluation_id: int | None
    payment_due_on: date | None


class ContractOut(Schema):
    reference: str
    programme: str
    pact: str
    version: int
    project: str
    outcome: str
    price_eur: Decimal
    base_fee_eur: Decimal
    cap_eur: Decimal
    advance_eur: Decimal
    equity_bonus: Decimal
    paid_eur: Decimal
    status: str
    windows: list[WindowOut]


class ContractPage(Schema):
    count: int
    items: list[ContractOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class PaymentOut(Schema):
    reference: str
    contract: str
    kind: str
    window: int | None
    amount_eur: Decimal
    status: str
    formula_version: str
    formula: str
    inputs: dict[str, Any]
    due_on: date | None
    paid_on: date | None
    late: bool


class PaymentPage(Schema):
    count: int
    items: list[PaymentOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class TotalsOut(Schema):
    available: Decimal
    committed: Decimal
    payable: Decimal
    withheld: Decimal
    paid: Decimal
    receivable: Decimal
    appropriated: Decimal


class GroupTotalsOut(TotalsOut):
    key: str
    label: str


class GroupTotalsPage(Schema):
    count: int
    items: list[GroupTotalsOut]


class LedgerEntryOut(Schema):
    account: str
    account_name: str
    kind: str
    amount_eur: Decimal


class LedgerTransactionOut(Schema):
    id: int
    kind: str
    at: str
    year: int
    programme: str
    contract: str | None
    payment: str | None
    memo: str
    entries: list[LedgerEntryOut]


class LedgerPage(Schema):
    count: int
    items: list[LedgerTransactionOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


LedgerGroup = Literal["programme", "institution", "project", "year"]
Slug = Annotated[str, Field(default="", max_length=120, pattern=r"^[-a-zA-Z0-9_]*$")]
Year = Annotated[int, Field(default=0, ge=0, le=2100)]


class SimulationOut(Schema):
    outcome_eur: Decimal
    payment_eur: Decimal
    capped: bool
    formula_version: str
    formula: str


class PhaseGrantIn(Schema):
    phase: Identifier
    amount_eur: Money
    duration_months: Annotated[int, Field(ge=1, le=120)]


class PriceIn(Schema):
    outcome: Sentence
    price_eur: Money
    unit: Label = "personne"


class ProgrammeIn(Schema):
    title: Title
    budget_eur: Money
    starts_on: date
    ends_on: date
    description: Paragraph = ""
    eligible_problems: list[Label] = []
    territories: list[Label] = []
    phase_grants: list[PhaseGrantIn] = []
    prices: list[PriceIn] = []
    approvers: list[Identifier] = []


class WindowIn(Schema):
    opens_on: date
    closes_on: date


class ContractIn(Schema):
    pact: Identifier
    version: BigInt
    outcome: Sentence
    price_eur: Money
    base_fee_eur: Money
    cap_eur: Money
    windows: Annotated[list[WindowIn], Field(min_length=1, max_length=24)]
    advance_eur: Money = Decimal("0")
    equity_bonus: Bonus = Decimal("0")
    payment_days: Annotated[int, Field(ge=1, le=365)] = 30
    commitment_key: Identifier = ""
    experiment: Identifier = ""


class ValidateIn(Schema):
    evaluation: BigInt


class ReasonIn(Schema):
    reason: Paragraph = ""


# ------------------------------------------------------------------ shaping


def programme_out(p: Programme) -> dict[str, Any]:
    return {
        "slug": p.slug,
        "title": p.title,
        "institution": p.institution.slug,
        "budget_eur": p.budget_eur,
        "committed_eur": p.committed_eur,
        "paid_eur": p.paid_eur,
        "available_eur": p.available_eur,
        "starts_on": p.starts_on,
        "ends_on": p.ends_on,
        "eligible_problems": p.eligible_problems,
        "territories": p.territories,
        "status": p.status,
        "phase_grants": [
            {"phase": g.phase, "amount_eur": g.amount_eur, "duration_months": g.duration_months}
            for g in p.phase_grants.all()
        ],
        "prices": [
            {"outcome": x.outcome, "unit": x.unit, "price_eur": x.price_eur} for x in p.prices.all()
        ],
    }


def contract_out(c: OutcomeContract) -> dict[str, Any]:
    return {
        "reference": c.reference,
        "programme": c.programme.slug,
        "pact": c.version.pact.reference,
        "version": c.version.number,
        "project": c.version.pact.project.slug,
        "outcome": c.outcome,
        "price_eur": c.price_eur,
        "base_fee_eur": c.base_fee_eur,
        "cap_eur": c.cap_eur,
        "advance_eur": c.advance_eur,
        "equity_bonus": c.equity_bonus,
        "paid_eur": c.paid_eur,
        "status": c.status,
        "windows": [
            {
                "number": w.number,
                "opens_on": w.opens_on,
                "closes_on": w.closes_on,
                "evaluation_id": w.evaluation_id,
                "payment_due_on": w.payment_due_on,
            }
            for w in c.windows.all()
        ],
    }


def payment_out(p: PaymentOrder) -> dict[str, Any]:
    return {
        "reference": p.reference,
        "contract": p.contract.reference,
        "kind": p.kind,
        "window": p.window.number if p.window else None,
        "amount_eur": p.amount_eur,
        "status": p.status,
        "formula_version": p.formula_version,
        "formula": p.formula_text,
        "inputs": p.inputs,
        "due_on": p.due_on,
        "paid_on": p.paid_on,
        "late": p.late,
    }


# ------------------------------------------------------------------ public reads


@router.get(
    "/programmes",
    response=responses({200: ProgrammePage}),
    summary="Programmes de financement (budget, engagé, payé)",
)
def list_programmes(
    request: HttpRequest, limit: Limit = 20, offset: Offset = 0, after: Cursor = ""
) -> dict[str, Any]:
    qs = selectors.programmes().prefetch_related("phase_grants", "prices")
    return paginate(
        qs,
        limit,
        offset,
        lambda page: [programme_out(p) for p in page],
        after=after,
        by_keyset=True,
    )


@router.get("/programmes/{slug}", response=responses({200: ProgrammeOut}), summary="Un programme")
def programme_detail(request: HttpRequest, slug: Identifier) -> dict[str, Any]:
    return programme_out(selectors.get_programme(slug))


@router.get(
    "/programmes/{slug}/totals",
    response=responses({200: TotalsOut}),
    summary="Totaux du grand livre d'un programme",
)
def programme_totals(request: HttpRequest, slug: Identifier, year: BigInt = 0) -> dict[str, Any]:
    programme = selectors.get_programme(slug)
    return ledger.totals(programme=programme, **({"year": year} if year else {}))


@router.get(
    "/totals",
    response=responses({200: TotalsOut}),
    summary="Totaux du grand livre (filtrés par programme, institution, projet, année)",
)
def ledger_totals(
    request: HttpRequest,
    programme: Slug = "",
    institution: Slug = "",
    project: Slug = "",
    year: Year = 0,
) -> dict[str, Any]:
    filters = selectors.ledger_filters(
        programme=programme, institution=institution, project=project, year=year
    )
    return ledger.totals(**filters)


@router.get(
    "/totals/{group}",
    response=responses({200: GroupTotalsPage}),
    summary="Totaux du grand livre par programme, institution, projet ou année",
)
def ledger_totals_by(request: HttpRequest, group: LedgerGroup) -> dict[str, Any]:
    items = [
        {**row, "key": str(row["key"]), "label": str(row["label"])}
        for row in selectors.totals_by(group)
    ]
    return {"count": len(items), "items": items}


@router.get(
    "/ledger",
    response=responses({200: LedgerPage}),
    summary="Le grand livre : mouvements équilibrés, du plus récent au plus ancien",
)
def ledger_list(
    request: HttpRequest,
    programme: Slug = "",
    institution: Slug = "",
    project: Slug = "",
    year: Year = 0,
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.ledger_transactions(
        programme=programme, institution=institution, project=project, year=year
    ).prefetch_related("entries__account")

    def render(page: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "id": t.pk,
                "kind": t.kind,
                "at": t.at.isoformat(),
                "year": t.year,
                "programme": t.programme.slug,
                "contract": t.contract.reference if t.contract else None,
                "payment": t.payment.reference if t.payment else None,
                "memo": t.memo,
                "entries": [
                    {
                        "account": e.account.code,
                        "account_name": e.account.name,
                        "kind": e.account.kind,
                        "amount_eur": e.amount_eur,
                    }
                    for e in t.entries.all()
                ],
            }
            for t in page
        ]

    return paginate(qs, limit, offset, render, after=after, by_keyset=True)


@router.get("/contracts", response=responses({200: ContractPage}), summary="Contrats à impact")
def list_contracts(
    request: HttpRequest,
    programme: Identifier = "",
    pact: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.contracts(programme=programme, pact=pact).prefetch_related("windows")
    return paginate(
        qs, limit, offset, lambda page: [contract_out(c) for c in page], after=after, by_keyset=True
    )


@router.get(
    "/contracts/{reference}", response=responses({200: ContractOut}), summary="Un contrat à impact"
)
def contract_detail(request: HttpRequest, reference: Identifier) -> dict[str, Any]:
    return contract_out(selectors.get_contract(reference))


@router.get(
    "/payments",
    response=responses({200: PaymentPage}),
    summary="Paiements (avec leur formule et ses entrées)",
)
def list_payments(
    request: HttpRequest,
    contract: Identifier = "",
    status: Identifier = "",
    programme: Identifier = "",
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    qs = selectors.payments(contract=contract, status=status, programme=programme)
    return paginate(
        qs, limit, offset, lambda page: [payment_out(p) for p in page], after=after, by_keyset=True
    )


@router.get("/payments/{reference}", response=responses({200: PaymentOut}), summary="Un paiement")
def payment_detail(request: HttpRequest, reference: Identifier) -> dict[str, Any]:
    return payment_out(selectors.get_payment(reference))


@router.get(
    "/simulate",
    response=responses({200: SimulationOut}, (400, 503)),
    summary="Simulateur : que paierait un effet d'IC [a, b] ?",
)
def simulate(
    request: HttpRequest,
    price_eur: Money,
    n: Annotated[int, Field(ge=0, le=10**9)],
    ci_low: Share,
    base_fee_eur: Money,
    cap_eur: Money,
    paid_eur: Money = Decimal("0"),
    equity: Equity = Decimal("1"),
    bias_breach: bool = False,
) -> dict[str, Any]:
    r = formula.simulate(price_eur, n, ci_low, base_fee_eur, cap_eur, paid_eur, equity, bias_breach)
    return {
        "outcome_eur": r.outcome,
        "payment_eur": r.payment,
        "capped": r.capped,
        "formula_version": r.formula_version,
        "formula": r.substituted(),
    }


@router.get(
    "/ocds.json",
    response=responses({200: None}, (400, 503)),
    summary="Paquet de publications OCDS 1.1 (programmes, contrats, jalons, paiements)",
    openapi_extra=binary_response(
        {"application/json": "Paquet de publications OCDS 1.1 (release package)."},
        schema={
            "type": "object",
            "required": ["uri", "version", "publishedDate", "publisher", "releases"],
        },
    ),
)
def ocds_package(request: HttpRequest) -> HttpResponse:
    items = list(selectors.contracts().prefetch_related("windows", "payments"))
    package = ocds.release_package(items, request.build_absolute_uri())
    return JsonResponse(package, json_dumps_params={"ensure_ascii": False})


def _csv_response(text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/contracts.csv",
    response=responses({200: None}, (400, 503)),
    summary="Contrats à impact (CSV)",
    openapi_extra=binary_response({"text/csv": "Contrats à impact (CSV, UTF-8)."}),
)
def contracts_csv(request: HttpRequest) -> HttpResponse:
    return _csv_response(exports.contracts_csv(selectors.contracts()), "contrats-a-impact.csv")


@router.get(
    "/payments.csv",
    response=responses({200: None}, (400, 503)),
    summary="Paiements (CSV)",
    openapi_extra=binary_response({"text/csv": "Paiements (CSV, UTF-8)."}),
)
def payments_csv(request: HttpRequest) -> HttpResponse:
    return _csv_response(exports.payments_csv(selectors.payments()), "paiements.csv")


# ------------------------------------------------------------------ writes (token)


@router.post(
    "/programmes",
    response=responses({201: ProgrammeOut}, WRITE),
    auth=auth,
    summary="Ouvrir un programme (agent financier)",
)
def open_programme(request: HttpRequest, payload: ProgrammeIn) -> Status[dict[str, Any]]:
    data = programmes.ProgrammeIn(
        title=payload.title,
        budget_eur=payload.budget_eur,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        description=payload.description,
        eligible_problems=list(payload.eligible_problems),
        territories=list(payload.territories),
        phase_grants=[
            programmes.PhaseGrantIn(g.phase, g.amount_eur, g.duration_months)
            for g in payload.phase_grants
        ],
        prices=[programmes.PriceIn(x.outcome, x.price_eur, x.unit) for x in payload.prices],
        approver_usernames=list(payload.approvers),
    )
    return Status(201, programme_out(programmes.open_programme(request.auth, data)))  # type: ignore[attr-defined]


@router.post(
    "/programmes/{slug}/contracts",
    response=responses({201: ContractOut}, WRITE),
    auth=auth,
    summary="Attacher un contrat à impact à une version de pacte (agent financier)",
)
def attach_contract(
    request: HttpRequest, slug: Identifier, payload: ContractIn
) -> Status[dict[str, Any]]:
    programme = selectors.get_programme(slug)
    version = get_version(request.auth, payload.pact, payload.version)  # type: ignore[attr-defined]
    data = contract_cases.ContractIn(
        outcome=payload.outcome,
        price_eur=payload.price_eur,
        base_fee_eur=payload.base_fee_eur,
        cap_eur=payload.cap_eur,
        windows=[(w.opens_on, w.closes_on) for w in payload.windows],
        equity_bonus=payload.equity_bonus,
        advance_eur=payload.advance_eur,
        payment_days=payload.payment_days,
        commitment_key=payload.commitment_key,
        experiment_slug=payload.experiment,
    )
    contract = contract_cases.attach_contract(request.auth, programme, version, data)  # type: ignore[attr-defined]
    return Status(201, contract_out(contract))


def _window(reference: str, number: int) -> Any:
    window = selectors.get_contract(reference).windows.filter(number=number).first()
    if window is None:
        raise NotFound(_("Fenêtre d'évaluation inconnue."))
    return window


@router.post(
    "/contracts/{reference}/windows/{number}/validate",
    response=responses({200: ContractOut}, WRITE),
    auth=auth,
    summary="Valider une fenêtre avec une évaluation publiée (évaluateur indépendant)",
)
def validate_window(
    request: HttpRequest, reference: Identifier, number: BigInt, payload: ValidateIn
) -> dict[str, Any]:
    contract_cases.validate_window(request.auth, _window(reference, number), payload.evaluation)  # type: ignore[attr-defined]
    return contract_out(selectors.get_contract(reference))


@router.post(
    "/contracts/{reference}/windows/{number}/payment",
    response=responses({201: PaymentOut}, WRITE),
    auth=auth,
    summary="Préparer le paiement d'une fenêtre validée (agent financier)",
)
def prepare_payment(
    request: HttpRequest, reference: Identifier, number: BigInt
) -> Status[dict[str, Any]]:
    order = payments.prepare_window_payment(request.auth, _window(reference, number))  # type: ignore[attr-defined]
    return Status(201, payment_out(selectors.get_payment(order.reference)))


@router.post(
    "/contracts/{reference}/advance",
    response=responses({201: PaymentOut}, WRITE),
    auth=auth,
    summary="Préparer l'avance du contrat (agent financier)",
)
def prepare_advance(request: HttpRequest, reference: Identifier) -> Status[dict[str, Any]]:
    order = payments.prepare_advance(request.auth, selectors.get_contract(reference))  # type: ignore[attr-defined]
    return Status(201, payment_out(selectors.get_payment(order.reference)))


PAYMENT_ACTIONS = ("approve", "pay", "cancel")


@router.post(
    "/payments/{reference}/{action}",
    response=responses({200: PaymentOut}, WRITE),
    auth=auth,
    summary="Approuver (une autre personne que celle qui a préparé), payer, annuler un ordre",
)
def payment_action(
    request: HttpRequest, reference: Identifier, action: Identifier, payload: ReasonIn
) -> dict[str, Any]:
    order = selectors.get_payment(reference)
    if action == "approve":
        payments.approve(request.auth, order)  # type: ignore[attr-defined]
    elif action == "pay":
        payments.pay(request.auth, order)  # type: ignore[attr-defined]
    elif action == "cancel":
        payments.cancel(request.auth, order, payload.reason)  # type: ignore[attr-defined]
    else:
        raise ValidationFailed(
            _("Action inconnue : %(action)s. Actions possibles : %(known)s.")
            % {"action": action, "known": ", ".join(PAYMENT_ACTIONS)}
        )
    return payment_out(selectors.get_payment(reference))
