"""Ingestion: a file becomes a version of a dataset (checked against its schema, normalised,
stored), with the version's artefacts (DP view, secure-room profile, record keys) computed once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.data import events
from pacte.data.catalogue import publisher_actor, validate_schema
from pacte.data.models import Classification, Dataset, DatasetVersion
from pacte.engines import privacy
from pacte.errors import NotFound, ValidationFailed
from pacte.writes.retry import retry_on_conflict

if TYPE_CHECKING:
    import pyarrow as pa


def datasets_dir() -> Path:
    return Path(settings.VAR_DIR) / "datasets"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[:100] or "v"


def version_artifacts(
    dataset_slug: str,
    version: str,
    paths: list[str],
    schema: Mapping[str, Any],
    person_column: str,
    enterprise_column: str,
    k: int,
) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """Ingestion-time work for one version (a few seconds at 10 M rows, never per query):

    * the version's own data files, with each row's secret record key as a reserved column
      (:func:`store_with_record_keys`); the returned paths replace ``paths``;
    * the DP view: at most ``k`` rows per person, direct identifiers and record keys dropped
      (``privacy.truncate_per_person``) — the privacy unit of tier 3 is one person;
    * the secure-room profile (``secure_room.dataset_profile``), stored field by field, with the
      version's secret cell-key seed (``data.gateway.secure_room``; never published).
    Parquet only; a version without person column gets none of them (row unit, no secure room).
    """
    from pacte.data.gateway.secure_room import CELL_KEY_FIELD, new_cell_key_secret
    from pacte.engines import secure_room

    if not person_column or not paths or not all(str(p).endswith(".parquet") for p in paths):
        return paths, {}, {}
    secret = new_cell_key_secret()
    paths = store_with_record_keys(
        dataset_slug, version, paths, person_column, secret, enterprise_column or None
    )
    direct = [
        c["name"]
        for c in schema.get("columns", [])
        if c.get("classification") == Classification.DIRECT_IDENTIFIER
    ]
    target = (
        datasets_dir() / _safe_name(dataset_slug) / f"{_safe_name(version)}.dp-person-k{k}.parquet"
    )
    view = privacy.truncate_per_person(
        paths,
        person_column,
        k,
        target,
        drop=[
            *direct,
            secure_room.RECORD_KEY_COLUMN,
            secure_room.PERSON_ID_COLUMN,
            secure_room.PERSON_BITS_COLUMN,
            *(
                [secure_room.ENTERPRISE_ID_COLUMN, secure_room.ENTERPRISE_BITS_COLUMN]
                if enterprise_column
                else []
            ),
        ],
    )
    prof = secure_room.dataset_profile(paths, person_column, enterprise_column or None)
    profile = {
        CELL_KEY_FIELD: secret,  # cell-key method; never published
        "fingerprint": prof.fingerprint,
        "rows": prof.rows,
        "person_column": prof.person_column,
        "person_null_rows": prof.person_null_rows,
        "person_top_rows": list(prof.person_top_rows),
        "enterprise_column": prof.enterprise_column,
        "enterprise_null_rows": prof.enterprise_null_rows,
        "enterprise_top_rows": list(prof.enterprise_top_rows),
    }
    return paths, view.as_dict(), profile


def store_with_record_keys(
    dataset_slug: str,
    version: str,
    paths: list[str],
    person_column: str,
    secret: int,
    enterprise_column: str | None = None,
) -> list[str]:
    """The version's own data files in the platform store, each row with its record key (the
    cell-key method's fixed key per person, from the version's secret) in the reserved column
    ``secure_room.RECORD_KEY_COLUMN``, and its integer person (and enterprise) ids, dense per
    version (``PERSON_ID_COLUMN``, ``ENTERPRISE_ID_COLUMN``), and since data format 2 the per-row
    inputs of the disclosure bounds (``PERSON_BITS_COLUMN``, ``ENTERPRISE_BITS_COLUMN``, one byte
    each): written once here, read by the secure room as ordinary columns (issue 15, part 4).
    Versions stored before format 2 are not rewritten: the secure room computes the same bits
    from their ids per query. Schema, catalogue, extracts and queries never show it. The files given are left as
    they are (``sha256`` and ``byte_size`` of the version describe them, as delivered)."""
    from pacte.engines import secure_room

    folder = datasets_dir() / _safe_name(dataset_slug)
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / f"{_safe_name(version)}.keyed-{i}.parquet" for i in range(len(paths))]
    return secure_room.write_with_record_keys(
        paths, person_column, secret, targets, enterprise_column=enterprise_column
    )


@retry_on_conflict
@transaction.atomic
def add_version(
    principal: policy.Principal,
    dataset: Dataset,
    *,
    version: str,
    paths: list[str],
    schema: Mapping[str, Any],
    row_count: int,
    person_column: str = "",
    enterprise_column: str = "",
    sha256: str = "",
    byte_size: int = 0,
    rho_cap: float = 1.0,
    max_contributions: int = 1,
    file_format: str = "parquet",
) -> DatasetVersion:
    """``max_contributions`` is k, the rows kept per person for DP aggregates (public, 1 to 20)."""
    policy.require(principal, policy.Action.DATASET_PUBLISH, dataset.publisher)
    clean = validate_schema(schema, person_column, enterprise_column)
    if not 1 <= int(max_contributions) <= 20:
        raise ValidationFailed(_("Lignes retenues par personne (k) : entre 1 et 20."))
    if DatasetVersion.objects.filter(dataset=dataset, version=version).exists():
        raise ValidationFailed(
            _("La version « %(version)s » de « %(dataset)s » existe déjà.")
            % {"version": version, "dataset": dataset.slug}
        )
    paths, dp_view, profile = version_artifacts(
        dataset.slug,
        version,
        list(paths),
        clean,
        person_column,
        enterprise_column,
        int(max_contributions),
    )
    DatasetVersion.objects.filter(dataset=dataset).update(is_current=False)
    dv = DatasetVersion.objects.create(
        dataset=dataset,
        version=version,
        paths=list(paths),
        schema=clean,
        row_count=row_count,
        person_column=person_column,
        enterprise_column=enterprise_column,
        sha256=sha256,
        byte_size=byte_size,
        rho_cap=rho_cap,
        max_contributions=max_contributions,
        file_format=file_format,
        dp_view=dp_view,
        profile=profile,
    )
    events.record(
        "dataset.version_added",
        publisher_actor(principal, dataset.publisher),
        "dataset",
        dataset.slug,
        version=version,
        rows=row_count,
        sha256=sha256,
        columns=[(c["name"], c["classification"]) for c in clean["columns"]],
        privacy_unit={
            "unit": "person" if person_column else "row",
            "person_column": person_column,
            "rows_per_person": int(max_contributions),
        },
    )
    return dv


# ---------------------------------------------------------------- file checks and normalisation


def _type_ok(declared: str, arrow_type: Any) -> bool:
    import pyarrow as pa

    t = pa.types
    return bool(
        {
            "string": t.is_string(arrow_type)
            or t.is_large_string(arrow_type)
            or t.is_dictionary(arrow_type),
            "int": t.is_integer(arrow_type),
            "float": t.is_floating(arrow_type) or t.is_integer(arrow_type),
            "date": t.is_date(arrow_type) or t.is_timestamp(arrow_type),
            "bool": t.is_boolean(arrow_type),
        }[declared]
    )


def _normal_type(arrow_type: Any) -> Any:
    """OpenDP 0.16 infers no domain for Int8/Int16/UInt columns: store them as Int32/Int64."""
    import pyarrow as pa

    t = pa.types
    if (
        t.is_int8(arrow_type)
        or t.is_int16(arrow_type)
        or t.is_uint8(arrow_type)
        or t.is_uint16(arrow_type)
    ):
        return pa.int32()
    if t.is_uint32(arrow_type) or t.is_uint64(arrow_type):
        return pa.int64()
    if t.is_dictionary(arrow_type):
        return pa.string()
    return arrow_type


def normalise_parquet(path: Path) -> None:
    """Rewrite a Parquet file in place if some column types need normalising (see _normal_type)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow
    target = pa.schema([pa.field(f.name, _normal_type(f.type)) for f in schema])
    if target.equals(schema):
        return
    tmp = path.with_suffix(".normalising.tmp")
    with pq.ParquetWriter(tmp, target, compression="zstd") as writer:
        for i in range(pf.num_row_groups):
            writer.write_table(pf.read_row_group(i).cast(target))
    os.replace(tmp, path)


def _arrow_type(declared: str) -> Any:
    import pyarrow as pa

    return {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "date": pa.date32(),
        "bool": pa.bool_(),
    }[declared]


# ---------------------------------------------------------------- import_file, step by step


@dataclass(frozen=True)
class _ImportPlan:
    """What a file is checked against: the dataset, its current version, the clean schema."""

    dataset: Dataset
    current: DatasetVersion | None
    schema: dict[str, Any]
    person: str
    enterprise: str
    version: str

    @property
    def declared(self) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.schema["columns"]}


def _plan_import(
    dataset_slug: str,
    version: str | None,
    schema: Mapping[str, Any] | None,
    person_column: str | None,
    enterprise_column: str | None,
) -> _ImportPlan:
    dataset = Dataset.objects.filter(slug=dataset_slug).first()
    if dataset is None:
        raise NotFound(
            _("Jeu de données « %(slug)s » introuvable dans le catalogue.") % {"slug": dataset_slug}
        )
    current = dataset.current_version
    if schema is None:
        if current is None:
            raise ValidationFailed(
                _("« %(slug)s » n'a pas encore de schéma déclaré : fournissez-en un.")
                % {"slug": dataset_slug}
            )
        schema = current.schema
    person = (
        person_column if person_column is not None else (current.person_column if current else "")
    )
    enterprise = (
        enterprise_column
        if enterprise_column is not None
        else (current.enterprise_column if current else "")
    )
    clean = validate_schema(schema, person, enterprise)
    version = version or timezone.now().strftime("%Y%m%d-%H%M%S")
    if DatasetVersion.objects.filter(dataset=dataset, version=version).exists():
        raise ValidationFailed(
            _("La version « %(version)s » existe déjà : choisissez un autre nom.")
            % {"version": version}
        )
    return _ImportPlan(dataset, current, clean, person, enterprise, version)


def _open_source(
    src: Path, declared: Mapping[str, Mapping[str, Any]]
) -> tuple[int, Iterator[pa.RecordBatch], pa.Schema]:
    """(progress total, batches, file schema): rows for Parquet, bytes for CSV (typed as declared)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if not src.is_file():
        raise ValidationFailed(_("Fichier introuvable : %(path)s.") % {"path": src})
    suffix = src.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ValidationFailed(
            _("Format non pris en charge : fournissez un fichier .parquet ou .csv.")
        )
    if suffix == ".parquet":
        try:
            pf = pq.ParquetFile(src)
        except (pa.ArrowInvalid, OSError) as e:
            raise ValidationFailed(
                _("Fichier Parquet illisible : %(error)s.") % {"error": e}
            ) from None
        return pf.metadata.num_rows, pf.iter_batches(batch_size=250_000), pf.schema_arrow
    types = {n: _arrow_type(c["type"]) for n, c in declared.items()}
    try:
        reader = pacsv.open_csv(src, convert_options=pacsv.ConvertOptions(column_types=types))
    except (pa.ArrowInvalid, OSError) as e:
        raise ValidationFailed(_("Fichier CSV illisible : %(error)s.") % {"error": e}) from None
    total = max(1, src.stat().st_size)
    return total, iter(reader), reader.schema


def _check_columns(declared: Mapping[str, Mapping[str, Any]], arrow_schema: pa.Schema) -> None:
    """The file has exactly the declared columns, each of a compatible type."""
    missing = [n for n in declared if n not in arrow_schema.names]
    extra = [n for n in arrow_schema.names if n not in declared]
    if missing or extra:
        parts = []
        if missing:
            parts.append(_("colonnes manquantes : %(columns)s") % {"columns": ", ".join(missing)})
        if extra:
            parts.append(_("colonnes non déclarées : %(columns)s") % {"columns": ", ".join(extra)})
        raise ValidationFailed(
            _("Le fichier ne correspond pas au schéma déclaré (%(problems)s).")
            % {"problems": " ; ".join(parts)}
        )
    for name, col in declared.items():
        field = arrow_schema.field(name)
        if not _type_ok(col["type"], field.type):
            raise ValidationFailed(
                _("Colonne « %(name)s » : type %(found)s dans le fichier, %(expected)s attendu.")
                % {"name": name, "found": field.type, "expected": col["type"]}
            )


def _check_batch(
    batch: pa.RecordBatch, keysets: Mapping[str, pa.Array], person: str, rows_before: int
) -> None:
    """Every coded value belongs to its registered nomenclature; the person column is never empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for name, keys in keysets.items():
        column = batch.column(name).cast(pa.string())
        bad = pc.and_(pc.invert(pc.is_in(column, value_set=keys)), pc.is_valid(column))
        if pc.any(bad).as_py():
            sample = pc.filter(column, bad)[0].as_py()
            raise ValidationFailed(
                _(
                    "Colonne « %(name)s » : la valeur %(value)r (ligne ≈ %(row)s) n'appartient pas à la nomenclature "
                    "enregistrée."
                )
                % {"name": name, "value": sample, "row": rows_before + 1}
            )
    if person and batch.column(person).null_count:
        raise ValidationFailed(
            _("Colonne personne « %(name)s » : valeurs manquantes.") % {"name": person}
        )


def _write_checked(
    batches: Iterator[pa.RecordBatch],
    arrow_schema: pa.Schema,
    plan: _ImportPlan,
    tmp: Path,
    total: int,
    by_rows: bool,
    progress: Callable[[int, int], None] | None,
) -> int:
    """Check every batch and write the declared columns, normalised, to ``tmp``; returns the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    declared = plan.declared
    rows = 0
    done = 0
    keysets = {
        n: pa.array([str(k) for k in c["keys"]]) for n, c in declared.items() if c.get("keys")
    }
    out_schema = pa.schema(
        [pa.field(n, _normal_type(arrow_schema.field(n).type)) for n in declared]
    )
    with pq.ParquetWriter(tmp, out_schema, compression="zstd") as writer:
        for batch in batches:
            batch = batch.select(list(declared))
            _check_batch(batch, keysets, plan.person, rows)
            writer.write_table(pa.Table.from_batches([batch]).cast(out_schema))
            rows += batch.num_rows
            done = min(total, done + (batch.num_rows if by_rows else batch.nbytes))
            if progress:
                progress(done, total)
    if rows == 0:
        raise ValidationFailed(_("Le fichier ne contient aucune ligne."))
    return rows


def _add_imported_version(
    plan: _ImportPlan, target: Path, rows: int, max_contributions: int | None
) -> DatasetVersion:
    """The stored file becomes the dataset's current version (the file is removed if that fails)."""
    current = plan.current
    try:
        dv = add_version(
            policy.SYSTEM,
            plan.dataset,
            version=plan.version,
            paths=[str(target)],
            schema=plan.schema,
            row_count=rows,
            person_column=plan.person,
            enterprise_column=plan.enterprise,
            sha256=file_sha256(target),
            byte_size=target.stat().st_size,
            rho_cap=current.rho_cap if current else 1.0,
            max_contributions=max_contributions or (current.max_contributions if current else 1),
        )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if str(target) not in dv.paths:  # the version keeps its own copy, with record keys
        target.unlink(missing_ok=True)
    return dv


def import_file(
    source: str | Path,
    dataset_slug: str,
    version: str | None = None,
    *,
    schema: Mapping[str, Any] | None = None,
    person_column: str | None = None,
    enterprise_column: str | None = None,
    max_contributions: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetVersion:
    """Validate a Parquet or CSV file against the declared schema, store it, add a version.

    Refuses a bad file with a clear message (ValidationFailed) and leaves the catalogue unchanged.
    """
    import pyarrow as pa

    plan = _plan_import(dataset_slug, version, schema, person_column, enterprise_column)
    src = Path(source)
    total, batches, arrow_schema = _open_source(src, plan.declared)
    _check_columns(plan.declared, arrow_schema)

    target_dir = datasets_dir() / plan.dataset.slug
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{plan.version}.parquet"
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, suffix=".parquet.tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        rows = _write_checked(
            batches, arrow_schema, plan, tmp, total, src.suffix.lower() == ".parquet", progress
        )
        os.replace(tmp, target)
        if progress:
            progress(total, total)
        return _add_imported_version(plan, target, rows, max_contributions)
    except pa.ArrowInvalid as e:
        raise ValidationFailed(
            _("Fichier refusé : %(error)s") % {"error": str(e).splitlines()[0]}
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
