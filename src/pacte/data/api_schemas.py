"""Response bodies of the data API (catalogue, requests, grants, gateway), as in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class DatasetOut(Schema):
    slug: str
    title: str
    description: str
    licence: str
    publisher: str
    sensitivity: int
    certified: bool
    keywords: list[str]
    current_version: str | None
    row_count: int | None


class DatasetPage(Schema):
    count: int
    items: list[DatasetOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class DatasetVersionOut(Schema):
    version: str
    is_current: bool
    row_count: int
    sha256: str
    byte_size: int
    schema_: dict[str, Any] = Field(alias="schema")
    person_column: str
    enterprise_column: str
    rows_per_person: int
    privacy_unit: str
    rho_cap: float
    rho_spent: float
    created_at: datetime


class GrantOut(Schema):
    reference: str
    name: str
    project: str
    carrier: str
    dataset: str
    dataset_version: str
    tier: int
    tier_label: str
    columns: list[str]
    purpose: str
    state: str
    rho_grant: float
    rho_query: float
    rho_spent: float
    rho_remaining: float
    rule_id: str
    rules_version: str
    issued_at: datetime
    expires_at: datetime
    last_reason: str
    releases: int


class GrantPage(Schema):
    count: int
    items: list[GrantOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class DatasetDetail(DatasetOut):
    versions: list[DatasetVersionOut]
    grants: list[GrantOut]


class ReleaseOut(Schema):
    release_id: str
    grant: str
    project: str
    dataset: str
    dataset_version: str
    fingerprint: str
    query: dict[str, Any]
    rho: float
    privacy_unit: Any = Field(
        description="Unité de confidentialité de la publication (objet), ou null."
    )
    cells: list[Any]
    aggregates: list[dict[str, Any]]
    output_sha256: str
    served: int
    created_at: datetime


class ReleasePage(Schema):
    count: int
    items: list[ReleaseOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class GrantDetail(GrantOut):
    release_list: list[ReleaseOut]
    decision: dict[str, Any]


class ProportionalityRuleOut(Schema):
    rules_version: str
    id: str
    sensitivity: int
    sensitivity_label: str
    strength: str
    benefit: str
    highest_tier: int
    highest_tier_label: str
    allowed_tiers: list[int]
    review: str
    max_duration_months: int
    rho_grant: float
    rho_query: float


class ProportionalityOut(Schema):
    rules_version: str
    rows: list[ProportionalityRuleOut]
    required_approvals: dict[str, int]
    dp_limits: dict[str, float]


class DiffLineOut(Schema):
    kind: str
    text: str


class ReviewOut(Schema):
    decision: str
    organisation: str
    reason: str
    rule_id: str
    submission: int
    at: datetime


class RequestClockOut(Schema):
    days_in_state: int
    ball: str
    days_since_first_submission: int | None
    first_submission: Any = Field(description="Date de la première soumission (ISO 8601), ou null.")


class RequestOut(Schema):
    reference: str
    status: str
    dataset: str
    dataset_version: str
    pact: str
    pact_version: int
    project: str
    purpose: str
    purpose_limitation: str
    tier: int
    columns: list[str]
    aggregates: str
    legal_basis: str
    retention_months: int
    retention_justification: str
    recipients: str
    dpo_contact: str
    volumetry: str
    submissions: int
    decision: dict[str, Any]
    strength: dict[str, Any]
    last_reason: str
    clock: RequestClockOut
    diff: list[DiffLineOut]
    reviews: list[ReviewOut]
    grant: str | None


class ApprovalOut(RequestOut):
    approvals: int
    required: int


class GrantTokenOut(Schema):
    grant: str
    token: str
    dataset: str
    tier: int
    note: str


class AggregatesOut(Schema):
    release_id: str
    fingerprint: str
    dataset: str
    dataset_version: str
    query: dict[str, Any]
    cells: list[Any]
    aggregates: list[dict[str, Any]]
    noise_scale: dict[str, float | None] = Field(
        description="Écart type du bruit par agrégat (null pour une moyenne)."
    )
    margin_95: dict[str, float | None] = Field(
        description="Marge à 95 % par agrégat (null pour une moyenne)."
    )
    rho: float
    privacy_unit: Any = Field(
        description="Unité de confidentialité de la publication (objet), ou null."
    )
    rho_spent: float
    rho_remaining: float
    cached: bool
    output_sha256: str
    created_at: datetime


class SuppressionOut(Schema):
    groups: int
    rows: int
    rows_suppressed: int
    cells_suppressed: int
    reasons: dict[str, int]
    rules: str


class SecureRoomOut(Schema):
    columns: list[str]
    rows: list[list[Any]]
    sql: str
    fingerprint: str
    output_sha256: str
    suppression: SuppressionOut
    perturbation: dict[str, Any]
    limits: dict[str, Any]
    rows_read: int
