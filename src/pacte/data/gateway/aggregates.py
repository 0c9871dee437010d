"""Gateway, tier 3: differentially private aggregates (OpenDP).

The privacy budget is reserved (row locks on the grant and on the dataset version) *before* any
noise is drawn; a failed computation gives the reservation back in a new transaction, with a logged
reason; a reservation orphaned by a dead request is given back by the sweep.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.data import events
from pacte.data.errors import BudgetExhausted, ComputationFailed, QueryRefused
from pacte.data.gateway import engines
from pacte.data.gateway.access import canonical_sha, check_call, check_usable, log_refusal
from pacte.data.models import Classification, DatasetVersion, Grant, Release, Reservation
from pacte.engines import privacy
from pacte.errors import DomainError
from pacte.writes.retry import is_retryable, retry_on_conflict

logger = logging.getLogger("pacte.data")

EPS = 1e-12

ROLE_OF = {
    Classification.DIRECT_IDENTIFIER: privacy.ColumnRole.DIRECT_IDENTIFIER,
    Classification.QUASI_IDENTIFIER: privacy.ColumnRole.QUASI_IDENTIFIER,
    Classification.SENSITIVE: privacy.ColumnRole.SENSITIVE,
    Classification.MEASURE: privacy.ColumnRole.MEASURE,
    Classification.PUBLIC_KEY: privacy.ColumnRole.PUBLIC_KEY,
    Classification.KEY: privacy.ColumnRole.PUBLIC_KEY,
}


def dataset_spec(dv: DatasetVersion, columns: list[str] | None = None) -> privacy.DatasetSpec:
    allowed = set(columns) if columns is not None else None
    cols = [c for c in dv.columns if allowed is None or c["name"] in allowed]
    return privacy.DatasetSpec(
        paths=tuple(dv.paths),
        version_id=f"{dv.dataset.slug}@{dv.version}",
        columns={c["name"]: ROLE_OF[Classification(c["classification"])] for c in cols},
        bounds={
            c["name"]: (int(c["bounds"][0]), int(c["bounds"][1])) for c in cols if c.get("bounds")
        },
        key_sets={c["name"]: list(c["keys"]) for c in cols if c.get("keys")},
        max_rows=max(1, dv.row_count),
        rows_public=True,
        max_contributions=dv.max_contributions,
        person_column=dv.person_column or None,
        dp_paths=(dv.dp_view["path"],) if dv.person_column and dv.dp_view.get("path") else (),
    )


def _precheck(spec: privacy.DatasetSpec, q: privacy.Query) -> None:
    def allowed(col: str, where: str) -> None:
        if col not in spec.columns:
            raise QueryRefused(
                _("%(where)s : la colonne « %(column)s » n'est pas couverte par cet accès.")
                % {"where": where, "column": col}
            )

    for col in q.group_by:
        allowed(col, "group_by")
        if col not in spec.key_sets:
            raise QueryRefused(
                _(
                    "group_by : la colonne « %(column)s » n'a pas de jeu de clés enregistré "
                    "(nomenclature publique)."
                )
                % {"column": col}
            )
    for a in q.aggregates:
        if a.column is not None:
            allowed(a.column, f"aggregates.{a.op}")
            if (
                spec.columns[a.column] is not privacy.ColumnRole.MEASURE
                or a.column not in spec.bounds
            ):
                raise QueryRefused(
                    _("aggregates.%(op)s : « %(column)s » n'est pas une mesure à bornes publiques.")
                    % {"op": a.op, "column": a.column}
                )
    for f in q.filters:
        allowed(f.column, "filters")
        if spec.columns[f.column] is privacy.ColumnRole.DIRECT_IDENTIFIER:
            raise QueryRefused(
                _("filters : impossible de filtrer sur l'identifiant « %(column)s ».")
                % {"column": f.column}
            )
        keys = spec.key_sets.get(f.column)
        if keys is not None:
            bad = [v for v in f.values if v not in set(keys)]
            if bad:
                raise QueryRefused(
                    _("filters : valeur(s) %(values)r absente(s) du jeu de clés de « %(column)s ».")
                    % {"values": bad, "column": f.column}
                )


def release_payload(
    rel: Release, grant: Grant, *, rho_spent: float, cached: bool
) -> dict[str, Any]:
    return {
        "release_id": str(rel.release_id),
        "fingerprint": rel.fingerprint,
        "dataset": rel.dataset_version.dataset.slug,
        "dataset_version": rel.dataset_version.version,
        "query": rel.query,
        "cells": rel.cells,
        "aggregates": rel.aggregates,
        "noise_scale": {a["name"]: a["noise_scale"] for a in rel.aggregates},
        "margin_95": {a["name"]: a["margin_95"] for a in rel.aggregates},
        "rho": rel.rho,
        "privacy_unit": rel.privacy_unit or None,
        "rho_spent": rho_spent,
        "rho_remaining": grant.rho_remaining,
        "cached": cached,
        "output_sha256": rel.output_sha256,
        "created_at": rel.created_at.isoformat(),
    }


def _lock_grant(pk: int) -> Grant:
    # FOR NO KEY UPDATE: a concurrent insert referencing the grant (a release) or, below, the
    # dataset version (a new grant) only needs FOR KEY SHARE, which this lock does not block
    return (
        Grant.objects.select_for_update(of=("self",), no_key=True)
        .select_related("project__carrier", "dataset_version__dataset")
        .get(pk=pk)
    )


_MUTABLE = ("state", "last_reason", "expires_at", "rho_grant", "rho_query", "rho_spent")


def _lock_grant_state(grant: Grant) -> Grant:
    """Lock the grant's row (as :func:`_lock_grant`) and refresh, on ``grant`` itself, the fields
    another request or a steward may have changed since authentication; its relations (project,
    carrier, pact, dataset version), loaded with the token, never change. One plain query, where
    re-reading the grant with its joined rows cost as much again (issue 15, dp2)."""
    row = Grant.objects.select_for_update(no_key=True).filter(pk=grant.pk).values(*_MUTABLE).get()
    for name, value in row.items():
        setattr(grant, name, value)
    return grant


def _parse(grant: Grant, body: Any) -> tuple[privacy.Query, float]:
    try:
        q = privacy.parse_query(body)
        rho = privacy.rho_cost(q, q.rho if q.rho is not None else grant.rho_query)
    except privacy.QueryError as e:
        raise QueryRefused(str(e)) from None
    if rho > grant.rho_query + EPS:
        raise QueryRefused(
            _(
                "rho = %(rho)s dépasse le plafond par requête de cet accès (ρ = %(cap)s, règle %(rule)s)."
            )
            % {"rho": f"{rho:g}", "cap": f"{grant.rho_query:g}", "rule": grant.rule_id}
        )
    return q, rho


def _reserve(grant: Grant, dv: DatasetVersion, fp: str, rho: float) -> Reservation | dict[str, Any]:
    """One transaction: serve the cached release of an identical query, or reserve ρ on the grant and
    on the version (both rows locked) — or refuse, leaving both as they were."""
    with transaction.atomic():
        g = _lock_grant_state(grant)
        check_usable(g)
        cached = Release.objects.filter(dataset_version_id=dv.pk, fingerprint=fp).first()
        if cached is not None:
            cached.dataset_version = dv  # the grant's version, its dataset already loaded
            Release.objects.filter(pk=cached.pk).update(served=F("served") + 1)
            events.gateway_call(
                g,
                tier=3,
                fingerprint=fp,
                rows_read=0,
                rho_spent=0.0,
                output_sha256=cached.output_sha256,
                outcome="cached",
                release_id=str(cached.release_id),
            )
            return release_payload(cached, g, rho_spent=0.0, cached=True)
        if g.rho_spent + rho > g.rho_grant + EPS:
            raise BudgetExhausted(
                _(
                    "Budget de confidentialité de l'accès %(grant)s épuisé : ρ dépensé %(spent)s sur %(total)s ; "
                    "cette requête demande ρ = %(rho)s, il reste %(left)s."
                )
                % {
                    "grant": g.reference,
                    "spent": f"{g.rho_spent:g}",
                    "total": f"{g.rho_grant:g}",
                    "rho": f"{rho:g}",
                    "left": f"{g.rho_remaining:g}",
                }
            )
        v = (
            DatasetVersion.objects.select_for_update(no_key=True)
            .only("id", "version", "dataset_id", "rho_cap", "rho_spent")
            .get(pk=dv.pk)
        )
        if v.rho_spent + rho > v.rho_cap + EPS:
            raise BudgetExhausted(
                _(
                    "Plafond global de confidentialité de la version %(version)s atteint : ρ dépensé %(spent)s sur "
                    "%(total)s pour tous les accès ; cette requête demande ρ = %(rho)s."
                )
                % {
                    "version": dv,
                    "spent": f"{v.rho_spent:g}",
                    "total": f"{v.rho_cap:g}",
                    "rho": f"{rho:g}",
                }
            )
        g.rho_spent += rho
        v.rho_spent += rho
        g.save(update_fields=["rho_spent"])
        v.save(update_fields=["rho_spent"])
        return Reservation.objects.create(grant=g, rho=rho, fingerprint=fp)


def compute_release(spec: Any, q: Any, rho: float, engine: engines.QueryEngine) -> privacy.Release:
    """The DP computation, the same on every engine (issue 15): the engine (embedded DuckDB by
    default, or Spark) computes the exact aggregate of the person-truncated view, clipped to the
    public bounds, and OpenDP adds its discrete Gaussian noise at the closed-form scale its privacy
    map checks (:func:`pacte.engines.privacy.run_query_on`, whose docstring says why the guarantee
    is the one OpenDP's Polars plan gives). Without a truncated view, OpenDP's plan truncates
    itself (:func:`pacte.engines.privacy.run_query`)."""
    return privacy.run_query_on(spec, q, rho, engine.query, engine.name)


def dp_aggregates(grant: Grant, dataset_slug: str, body: Any) -> dict[str, Any]:
    """Tier 3: reserve the budget atomically, then compute (:func:`compute_release`), then
    publish."""
    dv = grant.dataset_version
    spec = dataset_spec(dv, grant.columns)
    fp = ""
    try:
        engine = engines.engine()  # PACTE_GATEWAY_ENGINE: the exact aggregate's engine
        check_call(grant, dataset_slug, 3)
        q, rho = _parse(grant, body)
        _precheck(spec, q)
        fp = privacy.fingerprint(q, spec.version_id, rho)
        reservation = _reserve(grant, dv, fp, rho)
    except DomainError as e:
        log_refusal(grant, 3, fp, e)
        raise
    if isinstance(reservation, dict):  # served from the cache
        return reservation

    # From here on the reservation exists: every way out either marks it spent (in the
    # publishing transaction) or gives it back (in the transaction that records the failure).
    try:
        release = compute_release(spec, q, rho, engine)
        return _publish_release(grant, dv, fp, rho, reservation, release)
    except BaseException as e:  # noqa: BLE001 - whatever happened, the reservation is settled
        if is_retryable(e) and transaction.get_connection().in_atomic_block:
            raise  # one request-wide transaction (Idempotency-Key) holds the reservation: run again whole
        _give_back(reservation, _failure_reason(e))
        if isinstance(e, privacy.QueryError):
            raise QueryRefused(str(e)) from None
        if isinstance(e, DomainError) or not isinstance(e, Exception):
            raise
        logger.exception("DP computation failed for grant %s", grant.reference)
        raise ComputationFailed(
            _(
                "Le calcul n'a pas pu être mené ; le budget réservé a été rendu. Réessayez plus tard."
            )
        ) from None


def _failure_reason(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _serve_identical(
    g: Grant, dv: DatasetVersion, fp: str, rho: float, reservation: Reservation
) -> dict[str, Any]:
    """An identical query finished first: serve its release, give this budget back (caller's transaction)."""
    v = DatasetVersion.objects.select_for_update(no_key=True).get(pk=dv.pk)
    g.rho_spent = max(0.0, g.rho_spent - rho)
    v.rho_spent = max(0.0, v.rho_spent - rho)
    g.save(update_fields=["rho_spent"])
    v.save(update_fields=["rho_spent"])
    Reservation.objects.filter(pk=reservation.pk).update(
        state=Reservation.State.RELEASED, reason="requête identique publiée entre-temps"
    )
    rel = Release.objects.select_related("dataset_version__dataset").get(
        dataset_version_id=dv.pk, fingerprint=fp
    )
    events.gateway_call(
        g,
        tier=3,
        fingerprint=fp,
        rows_read=0,
        rho_spent=0.0,
        output_sha256=rel.output_sha256,
        outcome="cached",
        release_id=str(rel.release_id),
    )
    return release_payload(rel, g, rho_spent=0.0, cached=True)


@retry_on_conflict  # alone (no Idempotency-Key): the publishing transaction is run again
def _publish_release(
    grant: Grant,
    dv: DatasetVersion,
    fp: str,
    rho: float,
    reservation: Reservation,
    release: privacy.Release,
) -> dict[str, Any]:
    """One transaction: the release, the reservation marked spent, the journal entry."""
    data = release.as_dict()
    output_sha = canonical_sha({"cells": data["cells"], "aggregates": data["aggregates"]})
    with transaction.atomic():
        g = _lock_grant_state(grant)
        spent = rho
        try:
            with transaction.atomic():
                rel = Release.objects.create(
                    grant=g,
                    dataset_version=dv,
                    fingerprint=fp,
                    query=data["query"] | {"rho": rho},
                    rho=rho,
                    cells=data["cells"],
                    aggregates=data["aggregates"],
                    output_sha256=output_sha,
                    privacy_unit=data["privacy_unit"] or {},
                )
        except IntegrityError:
            return _serve_identical(g, dv, fp, rho, reservation)
        Reservation.objects.filter(pk=reservation.pk).update(state=Reservation.State.SPENT)
        events.gateway_call(
            g,
            tier=3,
            fingerprint=fp,
            rows_read=release.rows_considered,
            rho_spent=spent,
            output_sha256=output_sha,
            release_id=str(rel.release_id),
        )
    rel.dataset_version = dv
    return release_payload(rel, g, rho_spent=spent, cached=False)


def _give_back(reservation: Reservation, reason: str) -> bool:
    """Give a reservation's ρ back to the grant and the version, and record why, in ONE
    transaction. Idempotent: a reservation already spent or released is left alone (returns
    False). If the database itself is unreachable, the reservation stays ``reserved`` and
    :func:`release_stale_reservations` settles it later."""
    try:
        with transaction.atomic():
            res = (
                Reservation.objects.select_for_update()
                .filter(pk=reservation.pk, state=Reservation.State.RESERVED)
                .first()
            )
            if res is None:
                return False
            g = _lock_grant(res.grant_id)
            v = DatasetVersion.objects.select_for_update().get(pk=g.dataset_version_id)
            g.rho_spent = max(0.0, g.rho_spent - res.rho)
            v.rho_spent = max(0.0, v.rho_spent - res.rho)
            g.save(update_fields=["rho_spent"])
            v.save(update_fields=["rho_spent"])
            res.state, res.reason = Reservation.State.RELEASED, reason[:500]
            res.save(update_fields=["state", "reason"])
            events.gateway_call(
                g,
                tier=3,
                fingerprint=res.fingerprint,
                rows_read=0,
                rho_spent=0.0,
                output_sha256="",
                outcome="failed",
                budget_released=res.rho,
                reason=reason[:300],
            )
    except Exception:
        logger.exception(
            "could not give back privacy budget reservation %s (left to the sweep)", reservation.pk
        )
        return False
    logger.warning("privacy budget reservation %s released: %s", reservation.pk, reason)
    return True


STALE_RESERVATION_MINUTES = 10
"""A reservation still ``reserved`` after this long belongs to a request that died (killed
process, lost database connection): :func:`release_stale_reservations` gives it back. A DP query
takes seconds; ten minutes leaves a wide margin."""


def release_stale_reservations(
    older_than: timedelta | None = None, now: datetime | None = None
) -> int:
    """Give back every reservation left ``reserved`` for longer than ``older_than`` (logged one by
    one, each in its own transaction). Returns how many were released."""
    now = now or timezone.now()
    cutoff = now - (
        timedelta(minutes=STALE_RESERVATION_MINUTES) if older_than is None else older_than
    )
    released = 0
    for res in Reservation.objects.filter(
        state=Reservation.State.RESERVED, at__lte=cutoff
    ).order_by("pk"):
        minutes = max(0, int((now - res.at).total_seconds() // 60))
        if _give_back(
            res,
            f"réservation orpheline depuis {minutes} min (requête interrompue) : rendue par le balayage",
        ):
            released += 1
    return released
