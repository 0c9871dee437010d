"""Response bodies of the evidence API (evaluations, audits, panels, experiments, sheets, compliance)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema


class EvaluationOut(Schema):
    id: int
    project: str
    pact: str | None
    experiment: str | None
    evaluator: str
    title: str
    status: str
    outcome: str
    window: str
    estimand: str
    method: str
    source: str
    n_treatment: int
    n_control: int
    successes_treatment: int | None
    successes_control: int | None
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    scale: float
    unit: str
    conclusive: bool
    sentence: str
    power: float | None
    mde_points: float | None
    risk_ratio: dict[str, Any] | None
    data_sha256: str
    gateway: dict[str, Any] | None
    published_at: datetime | None


class EvaluationPage(Schema):
    count: int
    items: list[EvaluationOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class AuditOut(Schema):
    id: int
    project: str
    pact: str | None
    auditor: str
    title: str
    decision: str
    band: list[float]
    band_source: str
    min_group_size: int
    reference_group: str
    n_rows: int
    breach_count: int
    insufficient_count: int
    remediation_commitment: str
    rows: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    data_sha256: str
    published_at: datetime


class AuditPage(Schema):
    count: int
    items: list[AuditOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class PanelOut(Schema):
    id: int
    project: str
    opened_by: str
    title: str
    description: str
    status: str
    target_size: int
    stratify_by: str
    targets: dict[str, int]
    seed_commitment: str
    seed: str | None
    opened_on: date
    drawn_at: datetime | None
    composition: list[dict[str, Any]]


class PanelPage(Schema):
    count: int
    items: list[PanelOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class ExperimentOut(Schema):
    slug: str
    project: str
    status: str
    hypothesis: str
    outcome: str
    estimand: str
    unit: str
    design: str
    window_months: int
    baseline_rate: float
    mde_points: float
    power: float
    alpha: float
    arms: list[str]
    ratio: list[int]
    required_per_arm: int
    plan_hash: str
    seed_commitment: str
    seed: str | None
    allocation_sha256: str
    counts: dict[str, int]


class ExperimentPage(Schema):
    count: int
    items: list[ExperimentOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class ReplayCheckOut(Schema):
    check: str
    ok: bool


class ReplayOut(Schema):
    experiment: str
    ok: bool
    checks: list[ReplayCheckOut]
    counts: dict[str, int]
    checked_at: str | None = None


class SheetOut(Schema):
    id: int
    project: str
    title: str
    status: str
    version: int
    purpose: str
    contribution_degree: str
    contribution_mode: str
    data_sources: list[dict[str, Any]]
    parameters: list[dict[str, Any]]
    operations: str
    human_oversight: str
    risks: str
    objection_contact: str
    legal_basis: str
    published_at: datetime | None


class SheetPage(Schema):
    count: int
    items: list[SheetOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class ContributionOut(Schema):
    key: str
    label: str
    value: float
    weight: float
    contribution: float
    description: str
    share: float


class ExplanationOut(Schema):
    sheet: int
    version: int
    title: str
    score: float
    parameters: list[ContributionOut]
    contribution_degree: str
    contribution_degree_label: str
    human_oversight: str
    objection_contact: str
    notice: str


class CaseOut(Schema):
    pact: str
    version: int
    status: str
    commitments: list[str]
    reason: str
    opened_on: date
    cure_deadline: date
    suspended_on: date | None
    break_on: date | None
    closed_on: date | None


class CasePage(Schema):
    count: int
    items: list[CaseOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )
