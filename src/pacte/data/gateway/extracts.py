"""Gateway, tiers 1 and 2: open extracts and pseudonymised extracts (k ≥ 11 persons), written then
streamed, every call logged."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from pacte.data import events
from pacte.data.errors import QueryRefused
from pacte.data.gateway import engines
from pacte.data.gateway.access import canonical_sha, check_call, log_refusal
from pacte.data.ingestion import file_sha256
from pacte.data.models import Classification, Grant
from pacte.errors import DomainError


@dataclass(frozen=True)
class Extract:
    path: Path
    filename: str
    content_type: str
    rows: int
    sha256: str
    report: dict[str, Any]

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        try:
            with open(self.path, "rb") as f:
                yield from iter(lambda: f.read(size), b"")
        finally:
            shutil.rmtree(self.path.parent, ignore_errors=True)


def _hierarchy(col: Mapping[str, Any]) -> Any:
    from pacte.data import demo_data
    from pacte.engines import pseudonymise

    kind = col.get("hierarchy") or (
        "date" if col["type"] == "date" else "numeric:5,10" if col["type"] == "int" else "suppress"
    )
    if kind == "age":
        return pseudonymise.age_hierarchy()
    if kind == "date":
        return pseudonymise.date_hierarchy()
    if kind.startswith("numeric:"):
        return pseudonymise.numeric_hierarchy([int(w) for w in kind.split(":", 1)[1].split(",")])
    if kind == "departement":
        return pseudonymise.mapping_hierarchy(
            ["région"], [{k: v[1] for k, v in demo_data.DEPARTEMENTS.items()}]
        )
    return pseudonymise.suppress_only()


def _check_extract(grant: Grant, dataset_slug: str, fmt: str) -> None:
    tier = grant.tier
    try:
        if tier not in (1, 2):
            check_call(grant, dataset_slug, 1)
        check_call(grant, dataset_slug, tier)
        if fmt not in ("csv", "parquet"):
            raise QueryRefused(_("format : « csv » ou « parquet »."))
    except DomainError as e:
        log_refusal(grant, tier, "", e)
        raise


def _k_report(report: Any) -> dict[str, Any]:
    r = report
    return {
        "k": r.k,
        "unit": r.unit,
        "rows_in": r.rows_in,
        "rows_out": r.rows_out,
        "rows_suppressed": r.rows_suppressed,
        "suppression_rate": r.suppression_rate,
        "min_class_size": r.min_class_size,
        "min_class_rows": r.min_class_rows,
        "levels": r.levels,
    }


def extract(grant: Grant, dataset_slug: str, fmt: str = "csv") -> Extract:
    """Tier 1 (open) or tier 2 (pseudonymised, k ≥ 11) extract, written then streamed."""
    import polars as pl

    _check_extract(grant, dataset_slug, fmt)
    tier = grant.tier
    dv = grant.dataset_version
    cols = [c for c in dv.columns if c["name"] in set(grant.columns)]
    fp = canonical_sha(
        {"tier": tier, "dataset": str(dv), "columns": [c["name"] for c in cols], "format": fmt}
    )
    workdir = Path(tempfile.mkdtemp(prefix="pacte-extract-"))
    out = workdir / f"{dv.dataset.slug}-{dv.version}.{fmt}"
    report: dict[str, Any] = {}
    try:
        if tier == 1:
            lf = pl.scan_parquet(list(dv.paths)).select([c["name"] for c in cols])
            rows = dv.row_count
        else:
            result = tier2_view(grant, [c["name"] for c in cols])
            lf = result.frame
            rows = result.report.rows_out
            report = _k_report(result.report)
        if fmt == "csv":
            lf.sink_csv(out)
        else:
            lf.sink_parquet(out, compression="zstd")
        sha = file_sha256(out)
    except Exception:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    k_fields: dict[str, Any] = (
        {"k_anonymity": report.get("min_class_size"), "k_unit": report.get("unit")}
        if report
        else {}
    )
    with transaction.atomic():
        events.gateway_call(
            grant,
            tier=tier,
            fingerprint=fp,
            rows_read=dv.row_count,
            rho_spent=0.0,
            output_sha256=sha,
            rows_out=rows,
            format=fmt,
            **k_fields,
        )
    return Extract(
        out,
        out.name,
        "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet",
        rows,
        sha,
        report,
    )


def tier2_view(grant: Grant, columns: list[str]) -> Any:
    """Read-only: the grant's tier-2 pseudonymised view restricted to ``columns`` (those the grant
    covers), built with the same column rules, per-grant key and k as :func:`extract` — lazy, neither
    written nor logged: the in-platform caller (e.g. an impact evaluation) logs its own ``data.query``.
    k counts distinct persons (the version's person column, read even when not granted), never rows.
    Returns ``pseudonymise.ExtractResult`` (frame + k-anonymity report)."""
    from pacte.engines import pseudonymise

    dv = grant.dataset_version
    wanted = set(columns) & set(grant.columns)
    cols = [c for c in dv.columns if c["name"] in wanted]
    ids = {dv.person_column, dv.enterprise_column} - {""}
    spec = pseudonymise.ExtractSpec(
        direct_identifiers=[
            c["name"]
            for c in cols
            if c["classification"] == Classification.DIRECT_IDENTIFIER and c["name"] not in ids
        ],
        pseudonymised=[c["name"] for c in cols if c["name"] in ids],
        quasi_identifiers={
            c["name"]: _hierarchy(c)
            for c in cols
            if c["classification"] == Classification.QUASI_IDENTIFIER
        },
        kept=[
            c["name"]
            for c in cols
            if c["classification"]
            not in (Classification.DIRECT_IDENTIFIER, Classification.QUASI_IDENTIFIER)
        ],
        person_column=dv.person_column or None,
    )
    if engines.selected_name() == "spark":  # same rows, order and report (issue 15)
        from pacte.engines.pseudonymise_spark import spark_pseudonymised_extract

        return spark_pseudonymised_extract(
            engines.SparkEngine().session(), list(dv.paths), spec, bytes(grant.pseudonym_key), k=11
        )
    return pseudonymise.pseudonymised_extract(
        list(dv.paths), spec, bytes(grant.pseudonym_key), k=11
    )
