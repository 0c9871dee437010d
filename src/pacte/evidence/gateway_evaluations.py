"""Impact evaluations whose outcomes come from the data gateway (tier 2), joined to the published
assignment through pseudonyms — without the evaluator ever seeing a row.

The data domain is reached through its typed port only (``pacte.data.ports.GATEWAY``): the grant
as other domains may see it, its usability for this project, the (pseudonym, outcome) read, and
pseudonyms under the grant's key. This module chooses the columns, joins, checks the matched
counts, computes with the same engine as the upload path and logs the ``data.query``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts.services import Acting
from pacte.data.ports import GATEWAY, GatewayColumn, GatewayGrant
from pacte.engines import canonical, impact
from pacte.errors import ValidationFailed
from pacte.evidence import events
from pacte.evidence.csv_tables import OutcomeTable
from pacte.evidence.evaluations import (
    compute_from_table,
    evaluation_frame,
    publish_evaluation,
    store_evaluation,
)
from pacte.evidence.models import Evaluation, Experiment
from pacte.writes.retry import retry_on_conflict

if TYPE_CHECKING:
    import polars as pl

GATEWAY_TIER = 2
GATEWAY_MIN_MATCHED_PER_ARM = 11  # the tier-2 k: never publish an arm computed on fewer people
NUMERIC_TYPES = ("int", "float", "bool")


def _outcome_refused(
    message: str, field: str = "outcome_column", detail: str = ""
) -> ValidationFailed:
    return ValidationFailed(message, field_errors={field: [detail or message]})


def gateway_columns(grant: GatewayGrant, outcome_column: str) -> tuple[str, GatewayColumn]:
    """The join key (the version's person column) and the outcome column, both covered by the grant."""
    col = grant.column(outcome_column) if outcome_column else None
    if col is None:
        raise _outcome_refused(
            _(
                "Colonne de résultat « %(column)s » inconnue dans « %(dataset)s ». Colonnes : %(columns)s."
            )
            % {
                "column": outcome_column,
                "dataset": grant.dataset_label,
                "columns": ", ".join(c.name for c in grant.columns),
            },
            detail=_("Colonne inconnue."),
        )
    if outcome_column not in grant.granted:
        raise _outcome_refused(
            _("La colonne « %(column)s » n'est pas couverte par l'accès %(grant)s.")
            % {"column": outcome_column, "grant": grant.reference},
            detail=_("Colonne non couverte par l'accès."),
        )
    if col.type not in NUMERIC_TYPES or col.classification == "direct_identifier":
        raise _outcome_refused(
            _("La colonne « %(column)s » n'est pas un résultat numérique.")
            % {"column": outcome_column},
            detail=_("Résultat numérique attendu."),
        )
    try:
        impact.ensure_social_outcome(outcome_column.replace("_", " "))
    except impact.AudienceMetricRefused as exc:
        raise _outcome_refused(str(exc), detail=_("Mesure d'audience refusée.")) from exc
    person = grant.person_column
    if not person or person == outcome_column:
        raise ValidationFailed(
            _(
                "« %(dataset)s » ne déclare pas de colonne personne : pas de jointure pseudonyme "
                "possible."
            )
            % {"dataset": grant.dataset_label}
        )
    if person not in grant.granted:
        raise _outcome_refused(
            _(
                "L'accès %(grant)s ne couvre pas la colonne personne « %(person)s » : la jointure "
                "pseudonyme est impossible."
            )
            % {"grant": grant.reference, "person": person},
            field="grant",
            detail=_("Sans clé de jointure."),
        )
    return person, col


@dataclass
class GatewayJoin:
    table: OutcomeTable
    counts: dict[str, Any]


def join_assignment(exp: Experiment, grant: GatewayGrant, view: pl.DataFrame) -> GatewayJoin:
    """Join the published assignment to the view. Units are matched as person ids (pseudonymised with
    the grant's key) or, when the assignment already holds pseudonyms under that key, as they are."""
    import polars as pl

    rows = list(exp.assignments.order_by("unit_id").values_list("unit_id", "arm"))
    arm_of = {exp.arms[1]: "treatment", exp.arms[0]: "control"}
    units = pl.DataFrame(
        {"unit_id": [u for u, _arm in rows], "arm": [arm_of.get(a, "") for _unit, a in rows]},
        schema={"unit_id": pl.Utf8, "arm": pl.Utf8},
    )
    hashed = GATEWAY.pseudonyms(grant, [u for u, _arm in rows])
    units = units.with_columns(pl.Series("hashed", hashed, dtype=pl.Utf8))
    v = view.with_columns(pl.lit(True).alias("found"))
    j = units.join(
        v.rename({"y": "y_h", "found": "f_h"}), left_on="hashed", right_on="pseudonym", how="left"
    ).join(
        v.rename({"y": "y_d", "found": "f_d"}), left_on="unit_id", right_on="pseudonym", how="left"
    )
    if j.height != units.height:  # a pseudonym present on several rows multiplied a unit
        raise ValidationFailed(
            _(
                "Le jeu de données compte plusieurs lignes pour une même personne de "
                "l'expérimentation : le résultat n'est pas défini sans règle d'agrégation "
                "pré-enregistrée."
            )
        )
    j = j.with_columns(
        pl.when(pl.col("f_h"))
        .then(pl.lit("person_id"))
        .when(pl.col("f_d"))
        .then(pl.lit("pseudonym"))
        .otherwise(pl.lit(None))
        .alias("via"),
        pl.when(pl.col("f_h")).then(pl.col("y_h")).otherwise(pl.col("y_d")).alias("y"),
    )
    matched = j.filter(pl.col("via").is_not_null() & pl.col("y").is_not_null())
    by_arm: dict[str, dict[str, int]] = {}
    for arm in ("treatment", "control"):
        a = j.filter(pl.col("arm") == arm)
        m = int(matched.filter(pl.col("arm") == arm).height)
        missing = int(a.filter(pl.col("via").is_not_null() & pl.col("y").is_null()).height)
        by_arm[arm] = {
            "assigned": a.height,
            "matched": m,
            "unmatched": a.height - m - missing,
            "missing_outcome": missing,
        }
    counts = {
        "assigned": units.height,
        "matched": matched.height,
        "unmatched": sum(b["unmatched"] for b in by_arm.values()),
        "missing_outcome": sum(b["missing_outcome"] for b in by_arm.values()),
        "by_arm": by_arm,
        "matched_via": {
            k: int(matched.filter(pl.col("via") == k).height) for k in ("person_id", "pseudonym")
        },
    }
    ids, arms, ys = matched["unit_id"].to_list(), matched["arm"].to_list(), matched["y"].to_list()
    # the hash is the one of the CSV the evaluator would have uploaded for the same units
    csv_text = "unit_id,arm,outcome\n" + "".join(
        f"{u},{a},{y:g}\n" for u, a, y in zip(ids, arms, ys, strict=True)
    )
    table = OutcomeTable(ids, arms, ys, None, hashlib.sha256(csv_text.encode()).hexdigest())
    return GatewayJoin(table, counts)


def _require_enough_matched(grant: GatewayGrant, c: dict[str, Any]) -> None:
    for arm, label in (("treatment", _("traitement")), ("control", _("témoin"))):
        b = c["by_arm"][arm]
        if b["matched"] < GATEWAY_MIN_MATCHED_PER_ARM:
            raise ValidationFailed(
                _(
                    "Trop peu d'unités du bras %(arm)s retrouvées dans « %(dataset)s » : %(matched)s appariée(s) sur "
                    "%(assigned)s (%(unmatched)s non appariée(s), %(missing)s sans résultat) ; il en faut au moins "
                    "%(minimum)s par bras. Au total : %(total_matched)s appariée(s), %(total_unmatched)s non "
                    "appariée(s)."
                )
                % {
                    "arm": label,
                    "dataset": grant.dataset_label,
                    "matched": b["matched"],
                    "assigned": b["assigned"],
                    "unmatched": b["unmatched"],
                    "missing": b["missing_outcome"],
                    "minimum": GATEWAY_MIN_MATCHED_PER_ARM,
                    "total_matched": c["matched"],
                    "total_unmatched": c["unmatched"],
                },
                field_errors={"grant": [_("Trop peu d'unités appariées.")]},
            )


@retry_on_conflict
@transaction.atomic
def evaluate_from_gateway(
    acting: Acting,
    experiment: Experiment,
    grant: GatewayGrant,
    outcome_column: str,
    *,
    title: str = "",
    outcome: str = "",
    window_months: int | None = None,
    estimand: str = "",
    mde_points: float | None = None,
    publish: bool = True,
    today: date | None = None,
) -> Evaluation:
    """Outcomes loaded from the data gateway, linked to the published assignment through pseudonyms.

    Same rules as the upload path (independent evaluator, audience outcomes refused, published
    results final) and the same computation (`compute_from_table`). Reads only the join key and the
    outcome of a usable tier-2 grant of the experiment's project (``GATEWAY.read_outcomes``), logs a
    `data.query` event and — by default — publishes, all in this one transaction.
    """
    exp = Experiment.objects.select_related("project").get(pk=experiment.pk)
    project = exp.project
    frame = evaluation_frame(
        acting,
        project,
        title=title
        or _("Évaluation de %(experiment)s (passerelle de données)") % {"experiment": exp.slug},
        outcome=outcome,
        window_months=window_months,
        experiment=exp,
        estimand=estimand,
        mde_points=mde_points,
    )
    if exp.status != Experiment.State.ASSIGNED:
        raise ValidationFailed(_("L'expérimentation n'a pas encore d'affectation publiée."))
    GATEWAY.require_usable_for(grant, exp.project_id, GATEWAY_TIER)
    person, col = gateway_columns(grant, outcome_column)
    read = GATEWAY.read_outcomes(grant, person, col)
    report = read.report.as_dict()
    joined = join_assignment(exp, grant, read.frame)
    c = joined.counts
    _require_enough_matched(grant, c)
    computed = compute_from_table(
        joined.table, estimand=frame.estimand, mde_points=frame.mde_points
    )
    fingerprint = canonical.sha256_hex(
        {
            "tier": GATEWAY_TIER,
            "dataset": grant.dataset_label,
            "columns": [person, col.name],
            "mode": read.mode,
            "experiment": exp.slug,
            "allocation_sha256": exp.allocation_sha256,
        }
    )
    gateway = {
        "grant": grant.reference,
        "dataset": grant.dataset_label,
        "tier": GATEWAY_TIER,
        "outcome_column": col.name,
        "mode": read.mode,
        "fingerprint": fingerprint,
        "rows_read": report["rows_in"],
        "k_report": report,
        **c,
    }
    if window_months and window_months != exp.window_months:
        gateway["preregistered_window_months"] = exp.window_months
    evaluation = store_evaluation(
        acting,
        project,
        frame,
        exp,
        computed,
        source="gateway",
        data_sha=joined.table.sha256,
        extra_details={"gateway": gateway},
    )
    events.record(
        "data.query",
        acting,
        "grant",
        grant.reference,
        project,
        tier=GATEWAY_TIER,
        dataset=grant.dataset_slug,
        version=grant.dataset_version,
        fingerprint=fingerprint,
        rows_read=report["rows_in"],
        rho_spent=0.0,
        output_sha256=joined.table.sha256,
        outcome="served",
        purpose="impact_evaluation",
        mode=read.mode,
        experiment=exp.slug,
        evaluation=evaluation.pk,
        columns=[person, col.name],
        matched=c["matched"],
        unmatched=c["unmatched"],
        missing_outcome=c["missing_outcome"],
    )
    if publish:
        evaluation = publish_evaluation(acting, evaluation, today)
    return evaluation
