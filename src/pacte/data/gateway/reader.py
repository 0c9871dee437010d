"""The typed gateway read other domains use, through ``pacte.data.ports.GATEWAY`` (see its docstring):
a grant as other domains may see it, its purpose and state checked, pseudonymous outcomes read in
the platform (never written, never logged here: the caller logs its own ``data.query``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.utils.translation import gettext as _

from pacte.data.errors import GrantForbidden
from pacte.data.gateway.access import check_usable
from pacte.data.gateway.extracts import tier2_view
from pacte.data.models import Grant
from pacte.data.selectors import get_grant
from pacte.errors import DomainError, PermissionDenied, ValidationFailed

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class GatewayColumn:
    name: str
    type: str
    classification: str


@dataclass(frozen=True)
class GatewayGrant:
    """A grant as other domains may see it: no token, no pseudonym key."""

    reference: str
    project_id: int
    project_slug: str
    tier: int
    granted: tuple[str, ...]
    dataset_slug: str
    dataset_version: str
    dataset_label: str
    person_column: str
    columns: tuple[GatewayColumn, ...]

    def column(self, name: str) -> GatewayColumn | None:
        return next((c for c in self.columns if c.name == name), None)

    def __str__(self) -> str:
        return self.reference


@dataclass(frozen=True)
class KReport:
    k: int
    rows_in: int
    rows_out: int
    rows_suppressed: int
    levels: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OutcomeRead:
    frame: pl.DataFrame
    mode: Literal["tier2_view", "in_platform"]
    report: KReport


def _view(g: Grant) -> GatewayGrant:
    dv = g.dataset_version
    return GatewayGrant(
        reference=g.reference,
        project_id=g.project_id,
        project_slug=g.project.slug,
        tier=g.tier,
        granted=tuple(g.columns),
        dataset_slug=dv.dataset.slug,
        dataset_version=dv.version,
        dataset_label=str(dv),
        person_column=dv.person_column or "",
        columns=tuple(
            GatewayColumn(str(c["name"]), str(c["type"]), str(c["classification"]))
            for c in dv.columns
        ),
    )


def _grant(reference: str) -> Grant:
    return Grant.objects.select_related("project", "dataset_version__dataset").get(
        reference=reference
    )


def grant(reference: str) -> GatewayGrant:
    return _view(get_grant(reference))


def require_usable_for(view: GatewayGrant, project_id: int, tier: int) -> None:
    if view.project_id != project_id:
        raise PermissionDenied(
            _(
                "L'accès %(grant)s a été accordé à un autre projet : il ne peut pas servir à évaluer "
                "cette expérimentation (limitation de finalité)."
            )
            % {"grant": view.reference}
        )
    g = _grant(view.reference)
    try:
        check_usable(g)
    except GrantForbidden:
        raise
    except DomainError as exc:  # expired: a 401 makes no sense for a signed-in person
        raise GrantForbidden(exc.message) from exc
    if g.tier != tier:
        raise ValidationFailed(
            _(
                "L'accès %(grant)s est de niveau %(tier)s ; la jointure pseudonyme des résultats demande un accès de "
                "niveau %(required)s (extrait pseudonymisé)."
            )
            % {"grant": g.reference, "tier": g.tier, "required": tier},
            field_errors={"grant": [_("Niveau %(required)s requis.") % {"required": tier}]},
        )


def read_outcomes(view: GatewayGrant, person: str, outcome: GatewayColumn) -> OutcomeRead:
    import polars as pl

    from pacte.engines import pseudonymise

    g = _grant(view.reference)
    dv = g.dataset_version
    if outcome.classification == "quasi_identifier":
        mode: str = "in_platform"
        result = pseudonymise.pseudonymised_extract(
            list(dv.paths),
            pseudonymise.ExtractSpec(pseudonymised=[person], kept=[outcome.name]),
            bytes(g.pseudonym_key),
            k=1,
        )
    else:
        mode = "tier2_view"
        result = tier2_view(g, [person, outcome.name])
    frame = result.frame.select(
        pl.col(person).alias("pseudonym"), pl.col(outcome.name).cast(pl.Float64).alias("y")
    ).collect()
    r = result.report
    report = KReport(
        k=r.k,
        rows_in=r.rows_in,
        rows_out=r.rows_out,
        rows_suppressed=r.rows_suppressed,
        levels=dict(r.levels),
    )
    return OutcomeRead(frame, "in_platform" if mode == "in_platform" else "tier2_view", report)


def pseudonyms(view: GatewayGrant, values: Sequence[str]) -> list[str]:
    from pacte.engines.pseudonymise import pseudonym

    key = bytes(_grant(view.reference).pseudonym_key)
    return [pseudonym(key, v) for v in values]


class _Reader:
    """The implementation of ``pacte.data.ports.GatewayReader``."""

    def grant(self, reference: str) -> GatewayGrant:
        return grant(reference)

    def require_usable_for(self, grant: GatewayGrant, project_id: int, tier: int) -> None:
        require_usable_for(grant, project_id, tier)

    def read_outcomes(
        self, grant: GatewayGrant, person: str, outcome: GatewayColumn
    ) -> OutcomeRead:
        return read_outcomes(grant, person, outcome)

    def pseudonyms(self, grant: GatewayGrant, values: Sequence[str]) -> list[str]:
        return pseudonyms(grant, values)


READER = _Reader()
