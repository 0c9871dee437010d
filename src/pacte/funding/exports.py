"""CSV exports of the funding domain (open formats, one row per programme, contract or payment)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from pacte.funding.models import OutcomeContract, PaymentOrder

CONTRACT_COLUMNS = [
    "reference",
    "programme",
    "institution",
    "pact",
    "project",
    "outcome",
    "price_eur",
    "base_fee_eur",
    "cap_eur",
    "equity_bonus",
    "paid_eur",
    "status",
]
PAYMENT_COLUMNS = [
    "reference",
    "contract",
    "pact",
    "kind",
    "window",
    "amount_eur",
    "status",
    "formula_version",
    "evaluation_id",
    "data_sha256",
    "ci_low",
    "ci_high",
    "n",
    "equity",
    "gate",
    "due_on",
    "paid_on",
    "late",
]


def _csv(header: list[str], rows: Iterable[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def contracts_csv(contracts: Iterable[OutcomeContract]) -> str:
    return _csv(
        CONTRACT_COLUMNS,
        (
            [
                c.reference,
                c.programme.slug,
                c.programme.institution.slug,
                c.version.pact.reference,
                c.version.pact.project.slug,
                c.outcome,
                c.price_eur,
                c.base_fee_eur,
                c.cap_eur,
                c.equity_bonus,
                c.paid_eur,
                c.status,
            ]
            for c in contracts
        ),
    )


def payments_csv(orders: Iterable[PaymentOrder]) -> str:
    def row(p: PaymentOrder) -> list[object]:
        ev = p.inputs.get("evaluation") or {}
        ci = ev.get("ci") or ["", ""]
        return [
            p.reference,
            p.contract.reference,
            p.contract.version.pact.reference,
            p.kind,
            p.window.number if p.window else "",
            p.amount_eur,
            p.status,
            p.formula_version,
            ev.get("id", ""),
            ev.get("data_sha256", ""),
            ci[0],
            ci[1],
            ev.get("n", ""),
            p.inputs.get("equity", ""),
            p.inputs.get("gate", ""),
            p.due_on or "",
            p.paid_on or "",
            int(p.late),
        ]

    return _csv(PAYMENT_COLUMNS, (row(p) for p in orders))
