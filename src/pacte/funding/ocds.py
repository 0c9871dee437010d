"""Open Contracting Data Standard (OCDS 1.1) release package of the funding domain: one release
per outcome contract (its programme as the planning/tender, the contract with its milestones —
the evaluation windows — and its payments as implementation transactions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from pacte.funding.models import OutcomeContract, PaymentOrder, Programme

OCID_PREFIX = (
    "ocds-pacte"  # LEAD: register an official prefix with the OCDS helpdesk before publishing
)
PUBLISHER = {"name": "Pacte — Service Public Citoyen"}


def _amount(value: Any) -> dict[str, Any]:
    return {"amount": float(value), "currency": "EUR"}


def _party(org: Any, role: str) -> dict[str, Any]:
    return {"id": org.slug, "name": org.name, "roles": [role]}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def release(contract: OutcomeContract) -> dict[str, Any]:
    programme: Programme = contract.programme
    pact = contract.version.pact
    carrier = pact.project.carrier
    payments = list(contract.payments.order_by("created_at"))
    paid = [p for p in payments if p.status == PaymentOrder.State.PAID]
    milestones = [
        {
            "id": f"window-{w.number}",
            "title": f"Fenêtre d'évaluation {w.number}",
            "type": "assessment",
            "dueDate": f"{w.closes_on.isoformat()}T00:00:00Z",
            "status": "met" if w.evaluation_id else "scheduled",
        }
        for w in contract.windows.all()
    ]
    last = max([contract.created_at, *[p.created_at for p in payments]])
    return {
        "ocid": f"{OCID_PREFIX}-{contract.reference}",
        "id": f"{contract.reference}-{_iso(last)}",
        "date": _iso(last),
        "tag": ["contract", "implementation"] if paid else ["contract"],
        "initiationType": "tender",
        "language": "fr",
        "parties": [_party(programme.institution, "buyer"), _party(carrier, "supplier")],
        "buyer": {"id": programme.institution.slug, "name": programme.institution.name},
        "planning": {
            "budget": {
                "id": programme.slug,
                "description": programme.title,
                "amount": _amount(programme.budget_eur),
            }
        },
        "tender": {
            "id": programme.slug,
            "title": programme.title,
            "status": "active",
            "value": _amount(programme.budget_eur),
            "tenderPeriod": {
                "startDate": f"{programme.starts_on.isoformat()}T00:00:00Z",
                "endDate": f"{programme.ends_on.isoformat()}T00:00:00Z",
            },
        },
        "awards": [
            {
                "id": f"{contract.reference}-award",
                "status": "active",
                "value": _amount(contract.cap_eur),
                "suppliers": [{"id": carrier.slug, "name": carrier.name}],
            }
        ],
        "contracts": [
            {
                "id": contract.reference,
                "awardID": f"{contract.reference}-award",
                "title": contract.outcome,
                "status": "cancelled" if contract.status == "cancelled" else "active",
                "value": _amount(contract.cap_eur),
                "dateSigned": _iso(contract.created_at),
                "milestones": milestones,
                "implementation": {
                    "transactions": [
                        {
                            "id": p.reference,
                            "date": f"{p.paid_on.isoformat()}T00:00:00Z"
                            if p.paid_on
                            else _iso(p.created_at),
                            "value": _amount(p.amount_eur),
                            "payer": {
                                "id": programme.institution.slug,
                                "name": programme.institution.name,
                            },
                            "payee": {"id": carrier.slug, "name": carrier.name},
                        }
                        for p in paid
                    ]
                },
            }
        ],
    }


def release_package(contracts: list[OutcomeContract], uri: str) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": "1.1",
        "publishedDate": _iso(timezone.now()),
        "publisher": PUBLISHER,
        "license": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        "releases": [release(c) for c in contracts],
    }
