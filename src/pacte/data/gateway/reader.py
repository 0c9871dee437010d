"""STAND-IN written on branch evidence-shape so that branch runs on its own: the implementation of
``pacte.data.ports.GATEWAY`` over today's ``pacte.data.services``. Branch data-shape owns this
module; at merge, take data-shape's version of this file (same API: see ``pacte.data.ports``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from django.utils.translation import gettext as _

from pacte.data.models import Grant
from pacte.data.ports import GatewayColumn, GatewayGrant, KReport, OutcomeRead
from pacte.errors import DomainError, NotFound, PermissionDenied, ValidationFailed


def _row(reference: str) -> Grant:
    g = Grant.objects.select_related("project", "dataset_version__dataset").filter(reference=reference).first()
    if g is None:
        raise NotFound(_("Accès « %(reference)s » introuvable.") % {"reference": reference})
    return g


def grant(reference: str) -> GatewayGrant:
    g = _row(reference)
    dv = g.dataset_version
    return GatewayGrant(
        reference=g.reference, project_id=g.project_id, project_slug=g.project.slug, tier=g.tier,
        granted=tuple(g.columns), dataset_slug=dv.dataset.slug, dataset_version=dv.version, dataset_label=str(dv),
        person_column=dv.person_column or "",
        columns=tuple(GatewayColumn(c["name"], c["type"], c["classification"]) for c in dv.columns))


def require_usable_for(view: GatewayGrant, project_id: int, tier: int) -> None:
    from pacte.data.services import GrantForbidden, check_usable

    g = _row(view.reference)
    if g.project_id != project_id:
        raise PermissionDenied(_("L'accès %(reference)s a été accordé à un autre projet : il ne peut pas servir à "
                                 "évaluer cette expérimentation (limitation de finalité).") % {"reference": g.reference})
    try:
        check_usable(g)
    except GrantForbidden:
        raise
    except DomainError as exc:  # expired: a 401 makes no sense for a signed-in evaluator
        raise GrantForbidden(exc.message) from exc
    if g.tier != tier:
        raise ValidationFailed(
            _("L'accès %(reference)s est de niveau %(tier)s ; la jointure pseudonyme des résultats demande un accès "
              "de niveau 2 (extrait pseudonymisé).") % {"reference": g.reference, "tier": g.tier},
            field_errors={"grant": [_("Niveau 2 requis.")]})


def read_outcomes(view: GatewayGrant, person: str, outcome: GatewayColumn) -> OutcomeRead:
    import polars as pl

    from pacte.data.services import tier2_view
    from pacte.engines import pseudonymise

    g = _row(view.reference)
    dv = g.dataset_version
    mode: Literal["tier2_view", "in_platform"]
    if outcome.classification == "quasi_identifier":
        mode = "in_platform"
        result = pseudonymise.pseudonymised_extract(
            list(dv.paths), pseudonymise.ExtractSpec(pseudonymised=[person], kept=[outcome.name]),
            bytes(g.pseudonym_key), k=1)
    else:
        mode = "tier2_view"
        result = tier2_view(g, [person, outcome.name])
    frame = result.frame.select(pl.col(person).alias("pseudonym"),
                                pl.col(outcome.name).cast(pl.Float64).alias("y")).collect()
    r = result.report
    return OutcomeRead(frame, mode, KReport(r.k, r.rows_in, r.rows_out, r.rows_suppressed, dict(r.levels)))


def pseudonyms(view: GatewayGrant, values: Sequence[str]) -> list[str]:
    from pacte.engines.pseudonymise import pseudonym

    key = bytes(_row(view.reference).pseudonym_key)
    return [pseudonym(key, v) for v in values]
