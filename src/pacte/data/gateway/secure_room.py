"""Gateway, tier 4: the secure room (restricted aggregate SQL with disclosure control).

Every published value is backed by at least 11 persons (and, for datasets with an enterprise
column, 3 enterprises, none above 85 % of a magnitude) among the rows that actually
contribute to it, and is perturbed with the cell-key method (``pacte.engines.cell_key``);
each dataset version holds its own secret record-key seed, drawn at ingestion, which never
leaves the platform. The limits and the perturbation table are published on the rules page
and in every answer.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from pacte.data import events
from pacte.data.errors import QueryRefused, QueryTooCostly
from pacte.data.gateway import engines
from pacte.data.gateway.access import check_call, log_refusal
from pacte.data.models import Classification, DatasetVersion, Grant
from pacte.engines import cell_key
from pacte.engines import secure_room as engine
from pacte.engines.secure_room_spark import SparkScan, SparkUnavailable
from pacte.errors import DomainError

__all__ = [
    "QueryTooCostly",
    "secure_room_query",
    "secure_room_profile",
    "published_rules",
    "rules_context",
    "new_cell_key_secret",
    "cell_key_secret",
    "SECURE_ROOM_TABLE",
    "CELL_KEY_FIELD",
]

SECURE_ROOM_TABLE = "donnees"
MIN_PERSONS = 11
MIN_ENTERPRISES = 3
DOMINANCE = 0.85
CELL_KEY_FIELD = "cell_key_secret"
#: The published cost limits (rules page, every answer).
LIMITS = engine.LIMITS


def new_cell_key_secret() -> int:
    """The secret record-key seed of a new dataset version (63 random bits)."""
    return secrets.randbits(63)


def cell_key_secret(dv: DatasetVersion) -> int:
    """The version's secret; versions ingested before cell keys get theirs once, here."""
    value = (dv.profile or {}).get(CELL_KEY_FIELD)
    if isinstance(value, int):
        return value
    with transaction.atomic():
        locked = DatasetVersion.objects.select_for_update().get(pk=dv.pk)
        profile = dict(locked.profile or {})
        if not isinstance(profile.get(CELL_KEY_FIELD), int):
            profile[CELL_KEY_FIELD] = new_cell_key_secret()
            locked.profile = profile
            locked.save(update_fields=["profile"])
        dv.profile = profile
        return int(profile[CELL_KEY_FIELD])


def published_rules() -> dict[str, Any]:
    """What the rules page and every answer publish about the secure room."""
    return {
        "min_persons_per_value": MIN_PERSONS,
        "min_enterprises_per_value": MIN_ENTERPRISES,
        "dominance": DOMINANCE,
        "contributors": "personnes dont les lignes modifient la valeur publiée : COUNT(*) toutes, "
        "COUNT(x) x non nul, SUM(x)/AVG(x) x non nul et non zéro, FILTER inclus",
        "perturbation": cell_key.describe(),
        "limits": LIMITS.describe(),
    }


def secure_room_profile(dv: DatasetVersion) -> Any:
    """Rebuild the stored ``secure_room.DatasetProfile`` (None if absent or for other columns)."""
    p = dv.profile or {}
    if (
        not p
        or p.get("person_column") != dv.person_column
        or (p.get("enterprise_column") or "") != (dv.enterprise_column or "")
    ):
        return None
    return engine.DatasetProfile(
        fingerprint=p["fingerprint"],
        rows=int(p["rows"]),
        person_column=p["person_column"],
        person_null_rows=int(p["person_null_rows"]),
        person_top_rows=tuple(int(x) for x in p["person_top_rows"]),
        enterprise_column=p.get("enterprise_column"),
        enterprise_null_rows=int(p.get("enterprise_null_rows", 0)),
        enterprise_top_rows=tuple(int(x) for x in p.get("enterprise_top_rows", ())),
    )


def secure_room_query(grant: Grant, dataset_slug: str, sql: Any) -> dict[str, Any]:
    fp = ""
    try:
        check_call(grant, dataset_slug, 4)
        if not isinstance(sql, str):
            raise QueryRefused(_("sql : une requête SQL (texte) est attendue."))
        dv = grant.dataset_version
        allowed = [
            c["name"]
            for c in dv.columns
            if c["name"] in set(grant.columns)
            and c["classification"] != Classification.DIRECT_IDENTIFIER
        ]
        if not dv.person_column:
            raise QueryRefused(
                _(
                    "Ce jeu de données ne déclare pas de colonne personne : salle sécurisée indisponible."
                )
            )
        try:
            restricted = engine.restrict(sql, SECURE_ROOM_TABLE, allowed, limits=LIMITS)
            fp = restricted.fingerprint
            arguments: dict[str, Any] = {
                "profile": secure_room_profile(dv),
                "cell_key_secret": cell_key_secret(dv),
                "timeout_s": LIMITS.timeout_s,
                "memory_limit": LIMITS.memory_limit,
                "max_rows": LIMITS.max_groups,
                "max_cells": LIMITS.max_cells,
            }
            rules = (
                list(dv.paths),
                dv.person_column,
                dv.enterprise_column or None,
                MIN_PERSONS,
                MIN_ENTERPRISES,
                DOMINANCE,
            )
            result = None
            if engines.selected_name() == "spark":
                try:
                    scan = SparkScan(engines.SparkEngine().session())
                    result = engine.run(restricted, *rules, **arguments, scan=scan)
                except SparkUnavailable:  # ingested before the integer ids: DuckDB reads it
                    result = None
            if result is None:
                result = engine.run(restricted, *rules, **arguments)
        except engine.SqlRefused as e:
            if e.reason in ("timeout", "memory", "too_many_rows", "too_long", "too_complex"):
                raise QueryTooCostly(
                    _("Requête refusée (limite publiée) : %(reason)s") % {"reason": e.french}
                ) from None
            raise QueryRefused(_("Requête refusée : %(reason)s") % {"reason": e.french}) from None
    except DomainError as e:
        log_refusal(grant, 4, fp, e)
        raise
    r = result.report
    sha = r.output_sha256 or engine.canonical_sha256(result.columns, result.rows)
    with transaction.atomic():
        events.gateway_call(
            grant,
            tier=4,
            fingerprint=fp,
            rows_read=r.rows_read,
            rho_spent=0.0,
            output_sha256=sha,
            suppressed_rows=r.rows_suppressed,
            suppressed_cells=r.cells_suppressed,
        )
    return {
        "columns": list(result.columns),
        "rows": [list(row) for row in result.rows],
        "sql": restricted.sql,
        "fingerprint": fp,
        "output_sha256": sha,
        "suppression": {
            "groups": r.groups,
            "rows": r.rows,
            "rows_suppressed": r.rows_suppressed,
            "cells_suppressed": r.cells_suppressed,
            "reasons": dict(r.reasons),
            "rules": "≥ 11 personnes contributrices par valeur publiée ; ≥ 3 entreprises et "
            "aucune au-delà de 85 %",
        },
        "perturbation": cell_key.describe(),
        "limits": LIMITS.describe(),
        "rows_read": r.rows_read,
    }


def rules_context() -> dict[str, Any]:
    """Template context of the secure-room section of the rules page."""
    perturbations = list(range(-cell_key.MAX_PERTURBATION, cell_key.MAX_PERTURBATION + 1))
    ptable = [
        ("≥ 3" if count == 3 else str(count), [dict(row).get(p, 0) for p in perturbations])
        for count, row in cell_key.PTABLE.items()
    ]
    return {
        "secure_room": published_rules(),
        "secure_room_perturbations": perturbations,
        "secure_room_ptable": ptable,
    }
