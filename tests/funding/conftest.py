from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from pacte.accounts.models import Role
from pacte.accounts.services import Acting
from pacte.evidence.models import Audit, Evaluation
from pacte.funding import contracts, programmes
from pacte.funding.models import OutcomeContract, Programme
from tests.conftest import _acting


@dataclass
class Fund:
    officer: Acting
    officer2: Acting
    approver: Acting
    evaluator: Acting
    programme: Programme


@pytest.fixture
def fund(world) -> Fund:  # type: ignore[no-untyped-def]
    officer = _acting(world.institution, [Role.FINANCE_OFFICER])
    programme = programmes.open_programme(officer, programme_in())
    return Fund(
        officer=officer,
        officer2=_acting(world.institution, [Role.FINANCE_OFFICER]),
        approver=_acting(world.institution, [Role.PAYMENT_APPROVER]),
        evaluator=_acting(world.evaluator_org, [Role.EVALUATOR]),
        programme=programme,
    )


def programme_in(budget: str = "1000000.00", **kw: Any) -> programmes.ProgrammeIn:
    values: dict[str, Any] = dict(
        title="Emploi durable 2026",
        budget_eur=Decimal(budget),
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
        eligible_problems=["non-recours", "emploi"],
        territories=["Val-de-Loire"],
        phase_grants=[
            programmes.PhaseGrantIn("investigation", Decimal("50000"), 3),
            programmes.PhaseGrantIn("construction", Decimal("200000"), 6),
        ],
        prices=[programmes.PriceIn("Retour à l'emploi durable", Decimal("1500"))],
    )
    values.update(kw)
    return programmes.ProgrammeIn(**values)


def contract_in(cap: str = "300000", **kw: Any) -> contracts.ContractIn:
    values: dict[str, Any] = dict(
        outcome="Retour à l'emploi durable à 6 mois",
        price_eur=Decimal("1500"),
        base_fee_eur=Decimal("20000"),
        cap_eur=Decimal(cap),
        windows=[(date(2026, 1, 1), date(2026, 6, 30)), (date(2026, 7, 1), date(2026, 12, 31))],
        equity_bonus=Decimal("0.10"),
    )
    values.update(kw)
    return contracts.ContractIn(**values)


def published_evaluation(
    project,
    evaluator: Acting,
    *,
    ci_low: float = 0.0175,
    ci_high: float = 0.0247,  # type: ignore[no-untyped-def]
    estimate: float = 0.0211,
    n: int = 10_000,
    pact=None,
) -> Evaluation:
    return Evaluation.objects.create(
        project=project,
        pact=pact,
        evaluator=evaluator.organisation,
        title="Évaluation de la fenêtre",
        outcome="Retour à l'emploi",
        window="6 mois",
        estimand="intention de traiter (ITT)",
        method="proportions",
        data_sha256="ab" * 32,
        n_treatment=n,
        n_control=n,
        estimate=estimate,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=0.001 if ci_low > 0 else 0.4,
        scale=100,
        unit="points",
        conclusive=ci_low > 0,
        sentence="…",
        status=Evaluation.State.PUBLISHED,
        published_at=timezone.now(),
        published_on=date.today(),
    )


def published_audit(
    project, evaluator: Acting, *, breaches: int = 0, in_need_ratios: list[float] | None = None
):  # type: ignore[no-untyped-def]
    rows = [
        {"group": f"g{i}", "metric": "coverage_in_need", "ratio": r, "status": "ok"}
        for i, r in enumerate(in_need_ratios or [])
    ]
    return Audit.objects.create(
        project=project,
        auditor=evaluator.organisation,
        title="Audit",
        decision="Orientation",
        band_low=0.8,
        band_high=1.25,
        band_source="règle des 80 %",
        min_group_size=30,
        reference_group="g0",
        n_rows=1000,
        data_sha256="cd" * 32,
        rows=rows,
        breach_count=breaches,
        published_at=timezone.now(),
        published_on=date.today(),
    )


@pytest.fixture
def contract(fund: Fund, active) -> OutcomeContract:  # type: ignore[no-untyped-def]
    return contracts.attach_contract(fund.officer, fund.programme, active, contract_in())
