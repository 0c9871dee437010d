"""Writes for data access: catalogue, requests and decisions, grants, the gateway, consents.

Every decision and every gateway call appends its event to the public journal in the same
transaction. The privacy budget is reserved (row locks on the grant and on the dataset
version) *before* any noise is drawn; a failed computation gives the reservation back in a
new transaction, with a logged reason.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from pacte.accounts.models import Organisation, Role, User
from pacte.accounts.selectors import is_member
from pacte.accounts.services import Acting
from pacte.data.models import (
    USABLE_STATES,
    Classification,
    Consent,
    DataRequest,
    Dataset,
    DatasetVersion,
    Grant,
    GrantState,
    PersonLink,
    Release,
    RequestReview,
    RequestStatus,
    Reservation,
)
from pacte.engines import canonical, privacy, proportionality
from pacte.errors import (
    DomainError,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from pacte.journal.services import SYSTEM, Actor, personal_commitment, record_event
from pacte.notifications.notifier import notify
from pacte.pacts.models import Commitment, Pact, PactVersion, Status
from pacte.pacts.services import require_reason  # negative decisions carry a written reason
from pacte.projects.models import Project
from pacte.projects.services import actor_of
from pacte.writes.references import next_reference
from pacte.writes.retry import is_retryable, retry_on_conflict

logger = logging.getLogger("pacte.data")

RETENTION_FREE_MONTHS = 36
RENEWAL_NOTICE_DAYS = 30
EPS = 1e-12
TOKEN_PREFIX = "pgr_"


# ---------------------------------------------------------------- errors

class BudgetExhausted(DomainError):
    status = 429
    code = "budget_exhausted"


class QueryRefused(DomainError):
    status = 400
    code = "query_refused"


class GrantForbidden(DomainError):
    status = 403
    code = "grant_unusable"


class ComputationFailed(DomainError):
    status = 503
    code = "computation_failed"


# ---------------------------------------------------------------- helpers

def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _year_reference(model: Any, prefix: str) -> str:
    """{prefix}-{year}-{n:04d} from the locked counter of the year (no duplicate under load)."""
    return next_reference(model, prefix)


def _is_steward(acting: Acting, publisher_id: int) -> bool:
    return acting.organisation.pk == publisher_id and acting.has(Role.DATA_STEWARD)


def require_steward(acting: Acting | None, publisher: Organisation) -> None:
    if acting is not None and not _is_steward(acting, publisher.pk):
        raise PermissionDenied("Seul un responsable des données de l'institution éditrice peut faire cela.")


def require_data_reviewer(acting: Acting, request: DataRequest) -> None:
    publisher_id = request.dataset.publisher_id
    if acting.organisation.pk != publisher_id or not (
        acting.has(Role.REVIEWER) or acting.has(Role.DATA_STEWARD)
    ):
        raise PermissionDenied(
            "Seul un instructeur ou un responsable des données de l'institution éditrice peut instruire cette demande."
        )
    if is_member(acting.user, request.carrier_id):
        raise PermissionDenied(
            "Vous êtes membre de l'organisation porteuse : vous devez vous déporter de cette instruction."
        )


def require_requester(acting: Acting, request: DataRequest) -> None:
    if acting.organisation.pk != request.carrier_id or not (
        acting.has(Role.CARRIER_MEMBER) or acting.has(Role.CARRIER_ADMIN)
    ):
        raise PermissionDenied("Seuls les membres du porteur du projet peuvent faire cela.")


def _event(type: str, actor: Actor, subject_type: str, subject_id: str, project_slug: str = "",
           **data: Any) -> None:
    record_event(type, actor=actor, subject_type=subject_type, subject_id=subject_id,
                 project_slug=project_slug, data=data)


def _request_event(req: DataRequest, type: str, actor: Actor, **data: Any) -> None:
    _event(type, actor, "data_request", req.reference, req.project.slug,
           dataset=req.dataset.slug, status=req.status, tier=req.tier, **data)


def _grant_event(grant: Grant, type: str, actor: Actor, **data: Any) -> None:
    _event(type, actor, "grant", grant.reference, grant.project.slug,
           dataset=grant.dataset_version.dataset.slug, version=grant.dataset_version.version,
           tier=grant.tier, state=grant.state, **data)


# ---------------------------------------------------------------- catalogue

COLUMN_TYPES = ("string", "int", "float", "date", "bool")


def validate_schema(schema: Mapping[str, Any], person_column: str = "", enterprise_column: str = "") -> dict[str, Any]:
    cols = schema.get("columns") if isinstance(schema, Mapping) else None
    if not isinstance(cols, list) or not cols:
        raise ValidationFailed("Le schéma doit déclarer au moins une colonne.")
    names: set[str] = set()
    out = []
    for c in cols:
        if not isinstance(c, Mapping) or not isinstance(c.get("name"), str) or not c["name"]:
            raise ValidationFailed(f"Colonne de schéma invalide : {c!r}.")
        name = c["name"]
        if name in names:
            raise ValidationFailed(f"La colonne « {name} » est déclarée deux fois.")
        names.add(name)
        if c.get("type") not in COLUMN_TYPES:
            raise ValidationFailed(f"Colonne « {name} » : type {c.get('type')!r} inconnu ({', '.join(COLUMN_TYPES)}).")
        if c.get("classification") not in Classification.values:
            raise ValidationFailed(f"Colonne « {name} » : classification {c.get('classification')!r} inconnue.")
        if c["classification"] == Classification.MEASURE:
            b = c.get("bounds")
            if b is not None and (not isinstance(b, list | tuple) or len(b) != 2
                                  or not all(isinstance(x, int) for x in b) or b[0] > b[1]):
                raise ValidationFailed(f"Colonne « {name} » : bornes publiques invalides {b!r}.")
        keys = c.get("keys")
        if keys is not None and (not isinstance(keys, list) or not keys or len(set(map(str, keys))) != len(keys)):
            raise ValidationFailed(f"Colonne « {name} » : jeu de clés vide ou dupliqué.")
        out.append(dict(c))
    for col, what in ((person_column, "personne"), (enterprise_column, "entreprise")):
        if col and col not in names:
            raise ValidationFailed(f"La colonne {what} « {col} » n'existe pas dans le schéma.")
    return {"columns": out}


@retry_on_conflict
@transaction.atomic
def publish_dataset(acting: Acting | None, *, publisher: Organisation, slug: str, title: str,
                    description: str = "", licence: str = "etalab-2.0", sensitivity: int = 2,
                    certified: bool = False, keywords: list[str] | None = None) -> Dataset:
    require_steward(acting, publisher)
    if not publisher.is_institution:
        raise ValidationFailed("Seule une institution publique publie des jeux de données.")
    if sensitivity not in (0, 1, 2, 3):
        raise ValidationFailed("La sensibilité est 0, 1, 2 ou 3.")
    if Dataset.objects.filter(slug=slug).exists():
        raise ValidationFailed(f"Le jeu de données « {slug} » existe déjà.")
    ds = Dataset.objects.create(
        publisher=publisher, slug=slug, title=title, description=description, licence=licence,
        sensitivity=sensitivity, certified=certified, certified_at=timezone.now() if certified else None,
        keywords=keywords or [],
    )
    actor = actor_of(acting) if acting else Actor(organisation_slug=publisher.slug, role="system")
    _event("dataset.published", actor, "dataset", slug, sensitivity=sensitivity, licence=licence,
           certified=certified, publisher=publisher.slug)
    return ds


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[:100] or "v"


def version_artifacts(dataset_slug: str, version: str, paths: list[str], schema: Mapping[str, Any],
                      person_column: str, enterprise_column: str, k: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ingestion-time work for one version (a few seconds at 10 M rows, never per query):

    * the DP view: at most ``k`` rows per person, direct identifiers dropped
      (``privacy.truncate_per_person``) — the privacy unit of tier 3 is one person;
    * the secure-room profile (``secure_room.dataset_profile``), stored field by field, with the
      version's secret cell-key seed (``data.secure_room``; never published).
    Parquet only; a version without person column gets neither (row unit, no secure room).
    """
    from pacte.engines import secure_room

    if not person_column or not paths or not all(str(p).endswith(".parquet") for p in paths):
        return {}, {}
    direct = [c["name"] for c in schema.get("columns", [])
              if c.get("classification") == Classification.DIRECT_IDENTIFIER]
    target = datasets_dir() / _safe_name(dataset_slug) / f"{_safe_name(version)}.dp-person-k{k}.parquet"
    view = privacy.truncate_per_person(paths, person_column, k, target, drop=direct)
    prof = secure_room.dataset_profile(paths, person_column, enterprise_column or None)
    from pacte.data.secure_room import CELL_KEY_FIELD, RECORD_KEYS_FIELD, new_cell_key_secret

    secret = new_cell_key_secret()
    keys = secure_room.write_record_keys(
        paths, person_column, secret,
        [target.with_name(f"{_safe_name(version)}.record-keys-{i}.parquet") for i in range(len(paths))])
    profile = {
        CELL_KEY_FIELD: secret, RECORD_KEYS_FIELD: keys,  # cell-key method; never published
        "fingerprint": prof.fingerprint, "rows": prof.rows, "person_column": prof.person_column,
        "person_null_rows": prof.person_null_rows, "person_top_rows": list(prof.person_top_rows),
        "enterprise_column": prof.enterprise_column, "enterprise_null_rows": prof.enterprise_null_rows,
        "enterprise_top_rows": list(prof.enterprise_top_rows),
    }
    return view.as_dict(), profile


def secure_room_profile(dv: DatasetVersion) -> Any:
    """Rebuild the stored ``secure_room.DatasetProfile`` (None if absent or for other columns)."""
    from pacte.engines import secure_room

    p = dv.profile or {}
    if not p or p.get("person_column") != dv.person_column \
            or (p.get("enterprise_column") or "") != (dv.enterprise_column or ""):
        return None
    return secure_room.DatasetProfile(
        fingerprint=p["fingerprint"], rows=int(p["rows"]), person_column=p["person_column"],
        person_null_rows=int(p["person_null_rows"]), person_top_rows=tuple(int(x) for x in p["person_top_rows"]),
        enterprise_column=p.get("enterprise_column"), enterprise_null_rows=int(p.get("enterprise_null_rows", 0)),
        enterprise_top_rows=tuple(int(x) for x in p.get("enterprise_top_rows", ())),
    )


@retry_on_conflict
@transaction.atomic
def add_version(acting: Acting | None, dataset: Dataset, *, version: str, paths: list[str],
                schema: Mapping[str, Any], row_count: int, person_column: str = "",
                enterprise_column: str = "", sha256: str = "", byte_size: int = 0,
                rho_cap: float = 1.0, max_contributions: int = 1, file_format: str = "parquet") -> DatasetVersion:
    """``max_contributions`` is k, the rows kept per person for DP aggregates (public, 1 to 20)."""
    require_steward(acting, dataset.publisher)
    clean = validate_schema(schema, person_column, enterprise_column)
    if not 1 <= int(max_contributions) <= 20:
        raise ValidationFailed("Lignes retenues par personne (k) : entre 1 et 20.")
    if DatasetVersion.objects.filter(dataset=dataset, version=version).exists():
        raise ValidationFailed(f"La version « {version} » de « {dataset.slug} » existe déjà.")
    dp_view, profile = version_artifacts(dataset.slug, version, list(paths), clean, person_column,
                                         enterprise_column, int(max_contributions))
    DatasetVersion.objects.filter(dataset=dataset).update(is_current=False)
    dv = DatasetVersion.objects.create(
        dataset=dataset, version=version, paths=list(paths), schema=clean, row_count=row_count,
        person_column=person_column, enterprise_column=enterprise_column, sha256=sha256,
        byte_size=byte_size, rho_cap=rho_cap, max_contributions=max_contributions, file_format=file_format,
        dp_view=dp_view, profile=profile,
    )
    actor = actor_of(acting) if acting else Actor(organisation_slug=dataset.publisher.slug, role="system")
    _event("dataset.version_added", actor, "dataset", dataset.slug, version=version, rows=row_count,
           sha256=sha256, columns=[(c["name"], c["classification"]) for c in clean["columns"]],
           privacy_unit={"unit": "person" if person_column else "row", "person_column": person_column,
                         "rows_per_person": int(max_contributions)})
    return dv


def datasets_dir() -> Path:
    return Path(settings.VAR_DIR) / "datasets"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _type_ok(declared: str, arrow_type: Any) -> bool:
    import pyarrow as pa

    t = pa.types
    return {
        "string": t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_dictionary(arrow_type),
        "int": t.is_integer(arrow_type),
        "float": t.is_floating(arrow_type) or t.is_integer(arrow_type),
        "date": t.is_date(arrow_type) or t.is_timestamp(arrow_type),
        "bool": t.is_boolean(arrow_type),
    }[declared]


def _normal_type(arrow_type: Any) -> Any:
    """OpenDP 0.16 infers no domain for Int8/Int16/UInt columns: store them as Int32/Int64."""
    import pyarrow as pa

    t = pa.types
    if t.is_int8(arrow_type) or t.is_int16(arrow_type) or t.is_uint8(arrow_type) or t.is_uint16(arrow_type):
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

    return {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "date": pa.date32(),
            "bool": pa.bool_()}[declared]


def import_file(source: str | Path, dataset_slug: str, version: str | None = None, *,
                schema: Mapping[str, Any] | None = None, person_column: str | None = None,
                enterprise_column: str | None = None, max_contributions: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> DatasetVersion:
    """Validate a Parquet or CSV file against the declared schema, store it, add a version.

    Refuses a bad file with a clear message (ValidationFailed) and leaves the catalogue unchanged.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    dataset = Dataset.objects.filter(slug=dataset_slug).first()
    if dataset is None:
        raise NotFound(f"Jeu de données « {dataset_slug} » introuvable dans le catalogue.")
    current = dataset.current_version
    if schema is None:
        if current is None:
            raise ValidationFailed(f"« {dataset_slug} » n'a pas encore de schéma déclaré : fournissez-en un.")
        schema = current.schema
    person = person_column if person_column is not None else (current.person_column if current else "")
    enterprise = enterprise_column if enterprise_column is not None else (current.enterprise_column if current else "")
    clean = validate_schema(schema, person, enterprise)
    version = version or timezone.now().strftime("%Y%m%d-%H%M%S")
    if DatasetVersion.objects.filter(dataset=dataset, version=version).exists():
        raise ValidationFailed(f"La version « {version} » existe déjà : choisissez un autre nom.")
    src = Path(source)
    if not src.is_file():
        raise ValidationFailed(f"Fichier introuvable : {src}.")
    suffix = src.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ValidationFailed("Format non pris en charge : fournissez un fichier .parquet ou .csv.")
    declared = {c["name"]: c for c in clean["columns"]}

    def batches() -> tuple[int, Iterator[pa.RecordBatch], pa.Schema]:
        if suffix == ".parquet":
            try:
                pf = pq.ParquetFile(src)
            except (pa.ArrowInvalid, OSError) as e:
                raise ValidationFailed(f"Fichier Parquet illisible : {e}.") from None
            return pf.metadata.num_rows, pf.iter_batches(batch_size=250_000), pf.schema_arrow
        types = {n: _arrow_type(c["type"]) for n, c in declared.items()}
        try:
            reader = pacsv.open_csv(src, convert_options=pacsv.ConvertOptions(column_types=types))
        except (pa.ArrowInvalid, OSError) as e:
            raise ValidationFailed(f"Fichier CSV illisible : {e}.") from None
        total = max(1, src.stat().st_size)
        return total, iter(reader), reader.schema

    total, it, arrow_schema = batches()
    missing = [n for n in declared if n not in arrow_schema.names]
    extra = [n for n in arrow_schema.names if n not in declared]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"colonnes manquantes : {', '.join(missing)}")
        if extra:
            parts.append(f"colonnes non déclarées : {', '.join(extra)}")
        raise ValidationFailed("Le fichier ne correspond pas au schéma déclaré (" + " ; ".join(parts) + ").")
    for name, col in declared.items():
        field = arrow_schema.field(name)
        if not _type_ok(col["type"], field.type):
            raise ValidationFailed(f"Colonne « {name} » : type {field.type} dans le fichier, {col['type']} attendu.")

    target_dir = datasets_dir() / dataset.slug
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{version}.parquet"
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, suffix=".parquet.tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    rows = 0
    done = 0
    keysets = {n: pa.array([str(k) for k in c["keys"]]) for n, c in declared.items() if c.get("keys")}
    out_schema = pa.schema([pa.field(n, _normal_type(arrow_schema.field(n).type)) for n in declared])
    try:
        with pq.ParquetWriter(tmp, out_schema, compression="zstd") as writer:
            for batch in it:
                batch = batch.select(list(declared))
                for name, keys in keysets.items():
                    column = batch.column(name).cast(pa.string())
                    bad = pc.and_(pc.invert(pc.is_in(column, value_set=keys)), pc.is_valid(column))
                    if pc.any(bad).as_py():
                        sample = pc.filter(column, bad)[0].as_py()
                        raise ValidationFailed(
                            f"Colonne « {name} » : la valeur {sample!r} (ligne ≈ {rows + 1}) n'appartient pas "
                            "à la nomenclature enregistrée.")
                if person and batch.column(person).null_count:
                    raise ValidationFailed(f"Colonne personne « {person} » : valeurs manquantes.")
                writer.write_table(pa.Table.from_batches([batch]).cast(out_schema))
                rows += batch.num_rows
                done = min(total, done + (batch.num_rows if suffix == ".parquet" else batch.nbytes))
                if progress:
                    progress(done, total)
        if rows == 0:
            raise ValidationFailed("Le fichier ne contient aucune ligne.")
        os.replace(tmp, target)
        if progress:
            progress(total, total)
        try:
            return add_version(None, dataset, version=version, paths=[str(target)], schema=clean,
                               row_count=rows, person_column=person, enterprise_column=enterprise,
                               sha256=file_sha256(target), byte_size=target.stat().st_size,
                               rho_cap=current.rho_cap if current else 1.0,
                               max_contributions=max_contributions or (current.max_contributions if current else 1))
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    except pa.ArrowInvalid as e:
        raise ValidationFailed(f"Fichier refusé : {str(e).splitlines()[0]}") from None
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- proportionality

def pact_facts(version: PactVersion) -> proportionality.PactFacts:
    c = version.content or {}
    commitments = c.get("commitments") or []
    measurable = {
        x.get("principle") for x in commitments
        if x.get("owner") == "carrier" and x.get("principle") and x.get("indicator") and x.get("threshold")
    }
    plan = c.get("impact_plan") or {}
    commons = c.get("commons") or {}
    attestations = sum(bool(commons.get(k)) for k in ("no_private_shareholding", "code_licence", "data_licence"))
    carrier_id = version.pact.project.carrier_id
    breaches = Commitment.objects.filter(
        version__pact__project__carrier_id=carrier_id,
        status__in=(Commitment.State.BREACHED, Commitment.State.MISSED),
    ).count() + PactVersion.objects.filter(pact__project__carrier_id=carrier_id, status=Status.BROKEN).count()
    return proportionality.PactFacts(
        measurable_principles=len(measurable),
        bias_audit_commitment=bool(c.get("bias_correction_promise")) and bool(c.get("bias_risks")),
        preregistered_impact_plan=bool(plan.get("outcome") and plan.get("method")),
        commons_attestations=attestations,
        security_homologation=bool((c.get("security") or {}).get("homologation")),
        breaches=breaches,
    )


REQUIRED_APPROVALS = {"one_reviewer": 1, "two_reviewers": 2, "committee": 3}


# ---------------------------------------------------------------- requests

REQUEST_FIELDS = ("purpose", "columns", "aggregates", "tier", "legal_basis", "retention_months",
                  "retention_justification", "recipients", "dpo_contact", "volumetry")


def _clean_request(dv: DatasetVersion, fields: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    purpose = str(fields.get("purpose") or "").strip()
    if len(purpose) < 20:
        errors["purpose"] = ["Décrivez la finalité (20 caractères au moins) et comment elle sert la mission du pacte."]
    out["purpose"] = purpose
    try:
        tier = int(fields.get("tier") or 0)
    except (TypeError, ValueError):
        tier = 0
    if tier not in (1, 2, 3, 4, 5):
        errors["tier"] = ["Niveau d'accès inconnu (1 à 5)."]
    out["tier"] = tier
    cols = fields.get("columns") or []
    if isinstance(cols, str):
        cols = [c.strip() for c in cols.replace("\n", ",").split(",") if c.strip()]
    known = {c["name"] for c in dv.columns}
    unknown = [c for c in cols if c not in known]
    if unknown:
        errors["columns"] = [f"Colonne(s) inconnue(s) : {', '.join(map(str, unknown))}."]
    out["columns"] = list(dict.fromkeys(cols))
    out["aggregates"] = str(fields.get("aggregates") or "").strip()
    for name, label in (("legal_basis", "la base légale"), ("recipients", "les destinataires"),
                        ("dpo_contact", "le contact protection des données")):
        value = str(fields.get(name) or "").strip()
        if len(value) < 3:
            errors[name] = [f"Indiquez {label}."]
        out[name] = value
    try:
        retention = int(fields.get("retention_months") or 0)
    except (TypeError, ValueError):
        retention = 0
    if not 1 <= retention <= 120:
        errors["retention_months"] = ["Durée de conservation entre 1 et 120 mois."]
    justification = str(fields.get("retention_justification") or "").strip()
    if retention > RETENTION_FREE_MONTHS and len(justification) < 20:
        errors["retention_justification"] = [
            f"Au-delà de {RETENTION_FREE_MONTHS} mois, une justification est obligatoire (20 caractères au moins)."]
    out["retention_months"], out["retention_justification"] = retention, justification
    out["volumetry"] = str(fields.get("volumetry") or "").strip()
    if errors:
        raise ValidationFailed("La demande est incomplète : corrigez les points signalés.", field_errors=errors)
    return out


def active_version(pact: Pact) -> PactVersion | None:
    return pact.versions.filter(status=Status.ACTIVE).first()


@retry_on_conflict
@transaction.atomic
def create_request(acting: Acting, pact: Pact, dataset: Dataset, **fields: Any) -> DataRequest:
    project = pact.project
    if acting.organisation.pk != project.carrier_id or not (
        acting.has(Role.CARRIER_MEMBER) or acting.has(Role.CARRIER_ADMIN)
    ):
        raise PermissionDenied("Seuls les membres du porteur du projet peuvent demander un accès aux données.")
    version = active_version(pact)
    if version is None:
        raise InvalidTransition("Une demande d'accès aux données se fait depuis un pacte en vigueur.")
    dv = dataset.current_version
    if dv is None:
        raise ValidationFailed("Ce jeu de données n'a pas encore de version publiée.")
    clean = _clean_request(dv, fields)
    req = DataRequest.objects.create(
        reference=_year_reference(DataRequest, "DEM"), dataset=dataset, dataset_version=dv, pact=pact,
        pact_version=version, project=project, carrier=project.carrier, requested_by=acting.user,
        purpose_limitation=(version.content.get("mission") or {}).get("purpose_limitation", ""),
        status_changed_at=timezone.now(), **clean,
    )
    _request_event(req, "request.drafted", actor_of(acting), pact=pact.reference, pact_version=version.number)
    return req


def _lock_request(req: DataRequest) -> DataRequest:
    return DataRequest.objects.select_for_update(of=("self",)).select_related(
        "dataset__publisher", "dataset_version", "project__carrier", "pact", "pact_version").get(pk=req.pk)


@retry_on_conflict
@transaction.atomic
def update_request(acting: Acting, req: DataRequest, **fields: Any) -> DataRequest:
    req = _lock_request(req)
    require_requester(acting, req)
    if req.status not in (RequestStatus.DRAFT, RequestStatus.CHANGES_REQUESTED):
        raise InvalidTransition("La demande n'est modifiable qu'en brouillon ou après une demande de modifications.")
    merged = {f: getattr(req, f) for f in REQUEST_FIELDS} | {k: v for k, v in fields.items() if k in REQUEST_FIELDS}
    for k, v in _clean_request(req.dataset_version, merged).items():
        setattr(req, k, v)
    req.save()
    return req


def snapshot(req: DataRequest) -> dict[str, Any]:
    return {f: getattr(req, f) for f in REQUEST_FIELDS} | {"dataset_version": req.dataset_version.version}


@retry_on_conflict
@transaction.atomic
def submit_request(acting: Acting, req: DataRequest) -> DataRequest:
    req = _lock_request(req)
    require_requester(acting, req)
    if req.status not in (RequestStatus.DRAFT, RequestStatus.CHANGES_REQUESTED):
        raise InvalidTransition("Seule une demande en brouillon ou à modifier peut être soumise.")
    if active_version(req.pact) is None:
        raise InvalidTransition("Le pacte n'est plus en vigueur : la demande ne peut pas être soumise.")
    _clean_request(req.dataset_version, {f: getattr(req, f) for f in REQUEST_FIELDS})
    req.submissions = [*req.submissions, {"at": timezone.now().isoformat(), **snapshot(req)}]
    req.status = RequestStatus.SUBMITTED
    req.submitted_at = req.status_changed_at = timezone.now()
    req.save()
    _request_event(req, "request.submitted", actor_of(acting), submission=len(req.submissions))
    return req


@retry_on_conflict
@transaction.atomic
def withdraw_request(acting: Acting, req: DataRequest, reason: str) -> DataRequest:
    req = _lock_request(req)
    require_requester(acting, req)
    reason = require_reason(reason)
    if req.status not in (RequestStatus.DRAFT, RequestStatus.SUBMITTED, RequestStatus.CHANGES_REQUESTED):
        raise InvalidTransition("Seule une demande en cours peut être retirée.")
    req.status, req.last_reason, req.status_changed_at = RequestStatus.WITHDRAWN, reason, timezone.now()
    req.save()
    _request_event(req, "request.withdrawn", actor_of(acting), reason=reason)
    return req


def _review(acting: Acting, req: DataRequest, decision: str, reason: str, rule_id: str = "") -> None:
    RequestReview.objects.create(request=req, submission=len(req.submissions), reviewer=acting.user,
                                 organisation=acting.organisation, decision=decision, reason=reason,
                                 rule_id=rule_id)


@retry_on_conflict
@transaction.atomic
def request_changes(acting: Acting, req: DataRequest, reason: str) -> DataRequest:
    req = _lock_request(req)
    require_data_reviewer(acting, req)
    reason = require_reason(reason)
    if req.status != RequestStatus.SUBMITTED:
        raise InvalidTransition("On ne peut demander des modifications que sur une demande soumise.")
    _review(acting, req, RequestReview.Decision.REQUEST_CHANGES, reason)
    req.status, req.last_reason, req.status_changed_at = RequestStatus.CHANGES_REQUESTED, reason, timezone.now()
    req.save()
    _request_event(req, "request.changes_requested", actor_of(acting), reason=reason)
    return req


@retry_on_conflict
@transaction.atomic
def refuse_request(acting: Acting, req: DataRequest, reason: str) -> DataRequest:
    req = _lock_request(req)
    require_data_reviewer(acting, req)
    reason = require_reason(reason)
    if req.status != RequestStatus.SUBMITTED:
        raise InvalidTransition("Seule une demande soumise peut être refusée.")
    _review(acting, req, RequestReview.Decision.REFUSE, reason)
    req.status, req.last_reason, req.status_changed_at = RequestStatus.REFUSED, reason, timezone.now()
    req.save()
    _request_event(req, "request.refused", actor_of(acting), reason=reason)
    return req


def assess(req: DataRequest, population: int, severity: int) -> tuple[proportionality.Decision,
                                                                      proportionality.StrengthAssessment]:
    try:
        strength = proportionality.commitment_strength(pact_facts(req.pact_version))
        benefit = proportionality.benefit_band(int(population), int(severity))
        decision = proportionality.decide(req.dataset.sensitivity, strength, benefit)
    except (ValueError, TypeError) as e:
        raise ValidationFailed(f"Évaluation impossible : {e}") from None
    return decision, strength


@dataclass(frozen=True)
class ApprovalOutcome:
    request: DataRequest
    grant: Grant | None
    approvals: int
    required: int


@retry_on_conflict
@transaction.atomic
def approve_request(acting: Acting, req: DataRequest, *, population: int, severity: int,
                    note: str = "") -> ApprovalOutcome:
    """Record one favourable review; the rules decide the ceiling, the path and the terms.

    A tier above the rule's ceiling is refused, citing the rule row.
    """
    req = _lock_request(req)
    require_data_reviewer(acting, req)
    if req.status != RequestStatus.SUBMITTED:
        raise InvalidTransition("Seule une demande soumise peut être approuvée.")
    decision, strength = assess(req, population, severity)
    req.benefit_population, req.benefit_severity = int(population), int(severity)
    req.decision, req.strength = decision.as_dict(), strength.as_dict()
    tier = proportionality.Tier(req.tier)
    if not decision.allows(tier):
        reason = (
            f"Niveau demandé {int(tier)} ({tier.label}) au-delà du plafond de la règle {decision.rule_id} "
            f"(version {decision.rules_version}) : niveau le plus exposant autorisé "
            f"{int(decision.highest_tier)} ({decision.highest_tier.label}). {decision.explanation}"
        )
        _review(acting, req, RequestReview.Decision.REFUSE, reason, decision.rule_id)
        req.status, req.last_reason, req.status_changed_at = RequestStatus.REFUSED, reason, timezone.now()
        req.save()
        _request_event(req, "request.refused", actor_of(acting), reason=reason, rule_id=decision.rule_id,
                       rules_version=decision.rules_version, highest_tier=int(decision.highest_tier))
        return ApprovalOutcome(req, None, 0, 0)
    submission = len(req.submissions)
    if req.reviews.filter(submission=submission, reviewer=acting.user,
                          decision=RequestReview.Decision.APPROVE).exists():
        raise InvalidTransition("Vous avez déjà donné un avis favorable : un autre instructeur est requis.")
    _review(acting, req, RequestReview.Decision.APPROVE, note.strip(), decision.rule_id)
    approvals = req.reviews.filter(submission=submission, decision=RequestReview.Decision.APPROVE) \
        .values("reviewer").distinct().count()
    required = REQUIRED_APPROVALS[decision.review.value]
    if approvals < required:
        req.save()
        _request_event(req, "request.review_recorded", actor_of(acting), approvals=approvals,
                       required=required, rule_id=decision.rule_id)
        return ApprovalOutcome(req, None, approvals, required)
    # lock order: the commitment the grant issuance marks met, before the log's lock
    Commitment.objects.select_for_update(of=("self",)).filter(
        version=req.pact_version, key="state-data-access", owner=Commitment.Owner.INSTITUTION).first()
    req.status, req.status_changed_at = RequestStatus.APPROVED, timezone.now()
    req.save()
    _request_event(req, "request.approved", actor_of(acting), approvals=approvals, required=required,
                   rule_id=decision.rule_id, rules_version=decision.rules_version,
                   strength=strength.score, benefit=decision.benefit.value)
    grant = _issue_grant(acting, req, decision)
    return ApprovalOutcome(req, grant, approvals, required)


# ---------------------------------------------------------------- grants

def _new_token() -> tuple[str, str, str]:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, raw[:12], hashlib.sha256(raw.encode()).hexdigest()


def _issue_grant(acting: Acting, req: DataRequest, decision: proportionality.Decision) -> Grant:
    dv = req.dataset_version
    columns = req.columns or [c["name"] for c in dv.columns]
    _raw, prefix, digest = _new_token()  # the carrier obtains its own token (shown once)
    now = timezone.now()
    dp = req.tier == proportionality.Tier.DP_AGGREGATES
    grant = Grant.objects.create(
        reference=_year_reference(Grant, "ACC"),
        name=f"{req.project.name} — {req.dataset.title} (niveau {req.tier})",
        request=req, dataset_version=dv, project=req.project, pact=req.pact, tier=req.tier,
        columns=columns, purpose=req.purpose,
        rho_grant=decision.rho_grant if dp else 0.0, rho_query=decision.rho_query if dp else 0.0,
        rule_id=decision.rule_id, rules_version=decision.rules_version, decision=decision.as_dict(),
        expires_at=add_months(now, decision.max_duration_months), state_changed_at=now,
        token_prefix=prefix, token_hash=digest, pseudonym_key=secrets.token_bytes(32),
    )
    _grant_event(grant, "grant.issued", actor_of(acting), request=req.reference, columns=columns,
                 rho_grant=grant.rho_grant, rho_query=grant.rho_query, rule_id=grant.rule_id,
                 expires_at=grant.expires_at.isoformat())
    commitment = Commitment.objects.filter(
        version=req.pact_version, key="state-data-access", owner=Commitment.Owner.INSTITUTION).first()
    if commitment is not None and commitment.status != Commitment.State.MET:
        commitment.status, commitment.progress = Commitment.State.MET, 100
        commitment.evidence_note = f"Accès {grant.reference} accordé ({req.dataset.title}, niveau {req.tier})."
        commitment.status_changed_at = now
        commitment.save()
        record_event("commitment.evidence", actor=actor_of(acting), subject_type="pact",
                     subject_id=req.pact.reference, project_slug=req.project.slug,
                     data={"version": req.pact_version.number, "status": req.pact_version.status,
                           "commitment": commitment.key, "owner": commitment.owner, "progress": 100,
                           "commitment_status": commitment.status, "grant": grant.reference,
                           "evidence_sha256": hashlib.sha256(commitment.evidence_note.encode()).hexdigest()})
    return grant


def may_rotate_token(acting: Acting | None, grant: Grant) -> bool:
    """Only the carrier's admin (or a platform admin) may (re)issue a grant's token: a new
    token kills the previous one at once, cutting the whole team off."""
    if acting is None:
        return False
    if acting.has(Role.PLATFORM_ADMIN):
        return True
    return acting.organisation.pk == grant.project.carrier_id and acting.has(Role.CARRIER_ADMIN)


@retry_on_conflict
@transaction.atomic
def issue_token(acting: Acting, grant: Grant) -> str:
    """(Re)issue the grant's bearer token; the raw value is shown once and replaces the previous
    one. Carrier admin or platform admin only; logged (same transaction) and notified to the team."""
    grant = Grant.objects.select_for_update(of=("self",)).select_related(
        "project__carrier", "dataset_version__dataset").get(pk=grant.pk)
    if not may_rotate_token(acting, grant):
        raise PermissionDenied(
            "Seul un administrateur du porteur bénéficiaire (ou de la plateforme) peut émettre le jeton de cet "
            "accès : un nouveau jeton remplace aussitôt le précédent pour toute l'équipe.")
    if grant.state not in USABLE_STATES:
        raise InvalidTransition(f"Accès {grant.get_state_display().lower()} : aucun jeton ne peut être délivré.")
    previous = grant.token_prefix
    raw, grant.token_prefix, grant.token_hash = _new_token()
    grant.save(update_fields=["token_prefix", "token_hash"])
    _grant_event(grant, "grant.token_rotated", actor_of(acting), token_prefix=grant.token_prefix,
                 previous_token_prefix=previous)
    _notify_token_rotation(grant, acting, previous)
    return raw


def _notify_token_rotation(grant: Grant, acting: Acting, previous_prefix: str) -> None:
    """Tell the carrier's team (admins and members) that the grant's token changed, after commit."""
    emails = sorted({
        m.user.email for m in grant.project.carrier.memberships.select_related("user")
        if m.user.email and (Role.CARRIER_ADMIN in m.roles or Role.CARRIER_MEMBER in m.roles)
    })
    if not emails:
        return
    subject = f"[Pacte] Accès {grant.reference} : nouveau jeton"
    body = (f"Le jeton de l'accès « {grant.name} » a été remplacé par {acting.user} "
            f"({acting.organisation.name}). L'ancien jeton ({previous_prefix}…) ne fonctionne plus ; "
            f"le nouveau commence par {grant.token_prefix}. Demandez-le à l'administrateur du porteur.")
    notify(emails, subject, body, event="grant.token_rotated")


def _set_grant_state(grant: Grant, state: str, actor: Actor, event: str, reason: str = "", **data: Any) -> None:
    grant.state, grant.state_changed_at = state, timezone.now()
    if reason:
        grant.last_reason = reason
    grant.save(update_fields=["state", "state_changed_at", "last_reason"])
    _grant_event(grant, event, actor, **({"reason": reason} if reason else {}), **data)


def _require_grant_reviewer(acting: Acting, grant: Grant) -> None:
    require_data_reviewer(acting, grant.request)


@retry_on_conflict
@transaction.atomic
def suspend_grant(acting: Acting | None, grant: Grant, reason: str) -> Grant:
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if acting is not None:
        _require_grant_reviewer(acting, grant)
    reason = require_reason(reason)
    if grant.state not in USABLE_STATES:
        raise InvalidTransition("Seul un accès actif peut être suspendu.")
    _set_grant_state(grant, GrantState.SUSPENDED, actor_of(acting) if acting else SYSTEM, "grant.suspended", reason)
    return grant


@retry_on_conflict
@transaction.atomic
def revoke_grant(acting: Acting | None, grant: Grant, reason: str) -> Grant:
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if acting is not None:
        _require_grant_reviewer(acting, grant)
    reason = require_reason(reason)
    if grant.state == GrantState.REVOKED:
        raise InvalidTransition("Cet accès est déjà révoqué.")
    _set_grant_state(grant, GrantState.REVOKED, actor_of(acting) if acting else SYSTEM, "grant.revoked", reason)
    return grant


def _state_for_expiry(grant: Grant, now: datetime) -> str:
    if grant.expires_at <= now:
        return GrantState.EXPIRED
    if grant.expires_at - timedelta(days=RENEWAL_NOTICE_DAYS) <= now:
        return GrantState.RENEWAL_DUE
    return GrantState.ACTIVE


@retry_on_conflict
@transaction.atomic
def reactivate_grant(acting: Acting | None, grant: Grant, reason: str = "") -> Grant:
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if acting is not None:
        _require_grant_reviewer(acting, grant)
    if grant.state != GrantState.SUSPENDED:
        raise InvalidTransition("Seul un accès suspendu peut être rétabli.")
    if active_version(grant.pact) is None:
        raise InvalidTransition("Le pacte n'est pas en vigueur : l'accès ne peut pas être rétabli.")
    state = _state_for_expiry(grant, timezone.now())
    _set_grant_state(grant, state, actor_of(acting) if acting else SYSTEM,
                     "grant.expired" if state == GrantState.EXPIRED else "grant.reinstated", reason)
    return grant


@retry_on_conflict
@transaction.atomic
def renew_grant(acting: Acting, grant: Grant, note: str = "") -> Grant:
    grant = Grant.objects.select_for_update(of=("self",)).select_related("request__dataset", "pact").get(pk=grant.pk)
    _require_grant_reviewer(acting, grant)
    if grant.state not in (GrantState.ACTIVE, GrantState.RENEWAL_DUE, GrantState.EXPIRED):
        raise InvalidTransition("Un accès suspendu ou révoqué ne se renouvelle pas.")
    if active_version(grant.pact) is None:
        raise InvalidTransition("Le pacte n'est plus en vigueur : l'accès ne peut pas être renouvelé.")
    months = int(grant.decision.get("max_duration_months") or 12)
    grant.expires_at = add_months(timezone.now(), months)
    grant.renewals += 1
    grant.reminded_at = None
    grant.save(update_fields=["expires_at", "renewals", "reminded_at"])
    _set_grant_state(grant, GrantState.ACTIVE, actor_of(acting), "grant.renewed", note.strip(),
                     expires_at=grant.expires_at.isoformat(), renewals=grant.renewals)
    return grant


def refresh_grants(now: datetime | None = None) -> dict[str, int]:
    """Move active → renewal_due (30 days before expiry, with a reminder) and → expired after."""
    now = now or timezone.now()
    counts = {"renewal_due": 0, "expired": 0}
    with transaction.atomic():
        for grant in Grant.objects.select_for_update(of=("self",)).select_related("project__carrier", "dataset_version__dataset") \
                .filter(state__in=USABLE_STATES):
            target = _state_for_expiry(grant, now)
            if target == grant.state or target == GrantState.ACTIVE:
                continue
            if target == GrantState.RENEWAL_DUE:
                grant.reminded_at = now
                grant.save(update_fields=["reminded_at"])
                _set_grant_state(grant, target, SYSTEM, "grant.renewal_due", expires_at=grant.expires_at.isoformat())
                _remind(grant)
            else:
                _set_grant_state(grant, target, SYSTEM, "grant.expired", expires_at=grant.expires_at.isoformat())
            counts[target] += 1
    return counts


def _remind(grant: Grant) -> None:
    emails = [
        m.user.email for m in grant.project.carrier.memberships.select_related("user") if m.user.email
    ]
    notify(emails, f"[Pacte] Accès {grant.reference} : renouvellement à prévoir",
           f"L'accès « {grant.name} » expire le {grant.expires_at:%d/%m/%Y}. "
           "Demandez son renouvellement à l'institution éditrice.", event="grant.renewal_reminder")


def on_pact_sanction(version: PactVersion, action: str) -> None:
    """SANCTION_HOOKS: a suspended pact suspends its grants, a broken one revokes them."""
    grants = Grant.objects.select_for_update().filter(pact_id=version.pact_id)
    reason = version.last_reason or f"Sanction du pacte {version.pact.reference}"
    if action == "suspend":
        for g in grants.filter(state__in=USABLE_STATES):
            _set_grant_state(g, GrantState.SUSPENDED, SYSTEM, "grant.suspended",
                             f"Pacte suspendu : {reason}", pact=version.pact.reference)
    elif action == "break":
        for g in grants.exclude(state=GrantState.REVOKED):
            _set_grant_state(g, GrantState.REVOKED, SYSTEM, "grant.revoked",
                             f"Pacte rompu : {reason}", pact=version.pact.reference)
    elif action == "reinstate":
        now = timezone.now()
        for g in grants.filter(state=GrantState.SUSPENDED):
            state = _state_for_expiry(g, now)
            _set_grant_state(g, state, SYSTEM, "grant.expired" if state == GrantState.EXPIRED else "grant.reinstated",
                             "Pacte rétabli.", pact=version.pact.reference)


# ---------------------------------------------------------------- gateway: authentication

def authenticate_grant(raw: str) -> Grant:
    digest = hashlib.sha256((raw or "").encode()).hexdigest()
    grant = Grant.objects.select_related("dataset_version__dataset", "project__carrier", "pact") \
        .filter(token_hash=digest).first()
    if grant is None:
        raise NotAuthenticated("Jeton d'accès aux données inconnu ou remplacé.")
    check_usable(grant)
    return grant


def check_usable(grant: Grant) -> None:
    if grant.state == GrantState.REVOKED:
        raise GrantForbidden(f"Accès {grant.reference} révoqué : {grant.last_reason or 'sans motif publié'}.")
    if grant.state == GrantState.SUSPENDED:
        raise GrantForbidden(f"Accès {grant.reference} suspendu : {grant.last_reason or 'sans motif publié'}.")
    if grant.state == GrantState.EXPIRED or grant.expires_at <= timezone.now():
        raise NotAuthenticated(
            f"Accès {grant.reference} expiré le {timezone.localtime(grant.expires_at):%d/%m/%Y} : demandez son renouvellement.")


def check_call(grant: Grant, dataset_slug: str, tier: int) -> None:
    if grant.dataset_version.dataset.slug != dataset_slug:
        raise GrantForbidden(
            f"Ce jeton donne accès à « {grant.dataset_version.dataset.slug} », pas à « {dataset_slug} ».")
    if grant.tier != tier:
        label = proportionality.Tier(tier).label
        raise GrantForbidden(
            f"Ce jeton est un accès de niveau {grant.tier} ; cet appel est de niveau {tier} ({label}).")


def _log_call(grant: Grant, *, tier: int, fingerprint: str, rows_read: int, rho_spent: float,
              output_sha256: str, outcome: str = "served", **data: Any) -> None:
    _event("data.query", Actor(organisation_slug=grant.project.carrier.slug, role="grant"), "grant",
           grant.reference, grant.project.slug, tier=tier, dataset=grant.dataset_version.dataset.slug,
           version=grant.dataset_version.version, fingerprint=fingerprint, rows_read=rows_read,
           rho_spent=rho_spent, output_sha256=output_sha256, outcome=outcome, **data)


def _log_refusal(grant: Grant, tier: int, fingerprint: str, error: DomainError) -> None:
    try:
        with transaction.atomic():
            _log_call(grant, tier=tier, fingerprint=fingerprint, rows_read=0, rho_spent=0.0,
                      output_sha256="", outcome="refused", error=error.code, message=error.message)
    except Exception:  # pragma: no cover - logging a refusal must never hide it
        logger.exception("could not log a refused gateway call")


def _canonical_sha(payload: Any) -> str:
    return canonical.sha256_hex(payload)  # RFC 8785


# ---------------------------------------------------------------- gateway: DP aggregates (tier 3)

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
        bounds={c["name"]: (int(c["bounds"][0]), int(c["bounds"][1])) for c in cols if c.get("bounds")},
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
            raise QueryRefused(f"{where} : la colonne « {col} » n'est pas couverte par cet accès.")

    for col in q.group_by:
        allowed(col, "group_by")
        if col not in spec.key_sets:
            raise QueryRefused(
                f"group_by : la colonne « {col} » n'a pas de jeu de clés enregistré (nomenclature publique).")
    for a in q.aggregates:
        if a.column is not None:
            allowed(a.column, f"aggregates.{a.op}")
            if spec.columns[a.column] is not privacy.ColumnRole.MEASURE or a.column not in spec.bounds:
                raise QueryRefused(f"aggregates.{a.op} : « {a.column} » n'est pas une mesure à bornes publiques.")
    for f in q.filters:
        allowed(f.column, "filters")
        if spec.columns[f.column] is privacy.ColumnRole.DIRECT_IDENTIFIER:
            raise QueryRefused(f"filters : impossible de filtrer sur l'identifiant « {f.column} ».")
        keys = spec.key_sets.get(f.column)
        if keys is not None:
            bad = [v for v in f.values if v not in set(keys)]
            if bad:
                raise QueryRefused(f"filters : valeur(s) {bad!r} absente(s) du jeu de clés de « {f.column} ».")


def release_payload(rel: Release, grant: Grant, *, rho_spent: float, cached: bool) -> dict[str, Any]:
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


def dp_aggregates(grant: Grant, dataset_slug: str, body: Any) -> dict[str, Any]:
    """Tier 3: reserve the budget atomically, then compute with OpenDP, then publish."""
    dv = grant.dataset_version
    spec = dataset_spec(dv, grant.columns)
    fp = ""
    try:
        check_call(grant, dataset_slug, 3)
        try:
            q = privacy.parse_query(body)
            rho = privacy.rho_cost(q, q.rho if q.rho is not None else grant.rho_query)
        except privacy.QueryError as e:
            raise QueryRefused(str(e)) from None
        if rho > grant.rho_query + EPS:
            raise QueryRefused(
                f"rho = {rho:g} dépasse le plafond par requête de cet accès (ρ = {grant.rho_query:g}, règle {grant.rule_id}).")
        _precheck(spec, q)
        fp = privacy.fingerprint(q, spec.version_id, rho)
        with transaction.atomic():
            # FOR NO KEY UPDATE: a concurrent insert referencing the grant or the version (a new
            # grant, a release) only needs FOR KEY SHARE, which this lock does not block
            g = Grant.objects.select_for_update(of=("self",), no_key=True) \
                .select_related("project__carrier", "dataset_version__dataset").get(pk=grant.pk)
            check_usable(g)
            cached = Release.objects.select_related("dataset_version__dataset") \
                .filter(dataset_version_id=dv.pk, fingerprint=fp).first()
            if cached is not None:
                Release.objects.filter(pk=cached.pk).update(served=F("served") + 1)
                _log_call(g, tier=3, fingerprint=fp, rows_read=0, rho_spent=0.0,
                          output_sha256=cached.output_sha256, outcome="cached", release_id=str(cached.release_id))
                return release_payload(cached, g, rho_spent=0.0, cached=True)
            if g.rho_spent + rho > g.rho_grant + EPS:
                raise BudgetExhausted(
                    f"Budget de confidentialité de l'accès {g.reference} épuisé : ρ dépensé {g.rho_spent:g} sur "
                    f"{g.rho_grant:g} ; cette requête demande ρ = {rho:g}, il reste {g.rho_remaining:g}.")
            v = DatasetVersion.objects.select_for_update(no_key=True).get(pk=dv.pk)
            if v.rho_spent + rho > v.rho_cap + EPS:
                raise BudgetExhausted(
                    f"Plafond global de confidentialité de la version {v} atteint : ρ dépensé {v.rho_spent:g} sur "
                    f"{v.rho_cap:g} pour tous les accès ; cette requête demande ρ = {rho:g}.")
            g.rho_spent += rho
            v.rho_spent += rho
            g.save(update_fields=["rho_spent"])
            v.save(update_fields=["rho_spent"])
            reservation = Reservation.objects.create(grant=g, rho=rho, fingerprint=fp)
    except DomainError as e:
        _log_refusal(grant, 3, fp, e)
        raise

    # From here on the reservation exists: every way out either marks it spent (in the
    # publishing transaction) or gives it back (in the transaction that records the failure).
    try:
        release = privacy.run_query(spec, q, rho)
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
            "Le calcul n'a pas pu être mené ; le budget réservé a été rendu. Réessayez plus tard.") from None


def _failure_reason(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@retry_on_conflict  # alone (no Idempotency-Key): the publishing transaction is run again
def _publish_release(grant: Grant, dv: DatasetVersion, fp: str, rho: float, reservation: Reservation,
                     release: privacy.Release) -> dict[str, Any]:
    """One transaction: the release, the reservation marked spent, the journal entry."""
    data = release.as_dict()
    output_sha = _canonical_sha({"cells": data["cells"], "aggregates": data["aggregates"]})
    with transaction.atomic():
        g = Grant.objects.select_for_update(of=("self",), no_key=True) \
            .select_related("project__carrier", "dataset_version__dataset").get(pk=grant.pk)
        spent = rho
        try:
            with transaction.atomic():
                rel = Release.objects.create(
                    grant=g, dataset_version=dv, fingerprint=fp, query=data["query"] | {"rho": rho},
                    rho=rho, cells=data["cells"], aggregates=data["aggregates"], output_sha256=output_sha,
                    privacy_unit=data["privacy_unit"] or {})
        except IntegrityError:
            # An identical query finished first: serve its release, give this budget back.
            v = DatasetVersion.objects.select_for_update(no_key=True).get(pk=dv.pk)
            g.rho_spent = max(0.0, g.rho_spent - rho)
            v.rho_spent = max(0.0, v.rho_spent - rho)
            g.save(update_fields=["rho_spent"])
            v.save(update_fields=["rho_spent"])
            Reservation.objects.filter(pk=reservation.pk).update(
                state=Reservation.State.RELEASED, reason="requête identique publiée entre-temps")
            rel = Release.objects.select_related("dataset_version__dataset").get(dataset_version_id=dv.pk, fingerprint=fp)
            _log_call(g, tier=3, fingerprint=fp, rows_read=0, rho_spent=0.0, output_sha256=rel.output_sha256,
                      outcome="cached", release_id=str(rel.release_id))
            return release_payload(rel, g, rho_spent=0.0, cached=True)
        Reservation.objects.filter(pk=reservation.pk).update(state=Reservation.State.SPENT)
        _log_call(g, tier=3, fingerprint=fp, rows_read=release.rows_considered, rho_spent=spent,
                  output_sha256=output_sha, release_id=str(rel.release_id))
    rel.dataset_version = dv
    return release_payload(rel, g, rho_spent=spent, cached=False)


def _give_back(reservation: Reservation, reason: str) -> bool:
    """Give a reservation's ρ back to the grant and the version, and record why, in ONE
    transaction. Idempotent: a reservation already spent or released is left alone (returns
    False). If the database itself is unreachable, the reservation stays ``reserved`` and
    :func:`release_stale_reservations` settles it later."""
    try:
        with transaction.atomic():
            res = Reservation.objects.select_for_update().filter(
                pk=reservation.pk, state=Reservation.State.RESERVED).first()
            if res is None:
                return False
            g = Grant.objects.select_for_update(of=("self",)).select_related("project__carrier", "dataset_version__dataset") \
                .get(pk=res.grant_id)
            v = DatasetVersion.objects.select_for_update().get(pk=g.dataset_version_id)
            g.rho_spent = max(0.0, g.rho_spent - res.rho)
            v.rho_spent = max(0.0, v.rho_spent - res.rho)
            g.save(update_fields=["rho_spent"])
            v.save(update_fields=["rho_spent"])
            res.state, res.reason = Reservation.State.RELEASED, reason[:500]
            res.save(update_fields=["state", "reason"])
            _log_call(g, tier=3, fingerprint=res.fingerprint, rows_read=0, rho_spent=0.0, output_sha256="",
                      outcome="failed", budget_released=res.rho, reason=reason[:300])
    except Exception:
        logger.exception("could not give back privacy budget reservation %s (left to the sweep)", reservation.pk)
        return False
    logger.warning("privacy budget reservation %s released: %s", reservation.pk, reason)
    return True


STALE_RESERVATION_MINUTES = 10
"""A reservation still ``reserved`` after this long belongs to a request that died (killed
process, lost database connection): :func:`release_stale_reservations` gives it back. A DP query
takes seconds; ten minutes leaves a wide margin."""


def release_stale_reservations(older_than: timedelta | None = None, now: datetime | None = None) -> int:
    """Give back every reservation left ``reserved`` for longer than ``older_than`` (logged one by
    one, each in its own transaction). Returns how many were released."""
    now = now or timezone.now()
    cutoff = now - (timedelta(minutes=STALE_RESERVATION_MINUTES) if older_than is None else older_than)
    released = 0
    for res in Reservation.objects.filter(state=Reservation.State.RESERVED, at__lte=cutoff).order_by("pk"):
        minutes = max(0, int((now - res.at).total_seconds() // 60))
        if _give_back(res, f"réservation orpheline depuis {minutes} min (requête interrompue) : rendue par le balayage"):
            released += 1
    return released


# ---------------------------------------------------------------- gateway: extracts (tiers 1, 2)

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
    from pacte.engines import demo_data, pseudonymise

    kind = col.get("hierarchy") or ("date" if col["type"] == "date" else "numeric:5,10" if col["type"] == "int"
                                    else "suppress")
    if kind == "age":
        return pseudonymise.age_hierarchy()
    if kind == "date":
        return pseudonymise.date_hierarchy()
    if kind.startswith("numeric:"):
        return pseudonymise.numeric_hierarchy([int(w) for w in kind.split(":", 1)[1].split(",")])
    if kind == "departement":
        return pseudonymise.mapping_hierarchy(["région"], [{k: v[1] for k, v in demo_data.DEPARTEMENTS.items()}])
    return pseudonymise.suppress_only()


def extract(grant: Grant, dataset_slug: str, fmt: str = "csv") -> Extract:
    """Tier 1 (open) or tier 2 (pseudonymised, k ≥ 11) extract, written then streamed."""
    import polars as pl


    tier = grant.tier
    try:
        if tier not in (1, 2):
            check_call(grant, dataset_slug, 1)
        check_call(grant, dataset_slug, tier)
        if fmt not in ("csv", "parquet"):
            raise QueryRefused("format : « csv » ou « parquet ».")
    except DomainError as e:
        _log_refusal(grant, tier, "", e)
        raise
    dv = grant.dataset_version
    cols = [c for c in dv.columns if c["name"] in set(grant.columns)]
    fp = _canonical_sha({"tier": tier, "dataset": str(dv), "columns": [c["name"] for c in cols], "format": fmt})
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
            r = result.report
            report = {"k": r.k, "unit": r.unit, "rows_in": r.rows_in, "rows_out": r.rows_out,
                      "rows_suppressed": r.rows_suppressed, "suppression_rate": r.suppression_rate,
                      "min_class_size": r.min_class_size, "min_class_rows": r.min_class_rows,
                      "levels": r.levels}
        if fmt == "csv":
            lf.sink_csv(out)
        else:
            lf.sink_parquet(out, compression="zstd")
        sha = file_sha256(out)
    except Exception:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    with transaction.atomic():
        _log_call(grant, tier=tier, fingerprint=fp, rows_read=dv.row_count, rho_spent=0.0, output_sha256=sha,
                  rows_out=rows, format=fmt,
                  **({"k_anonymity": report.get("min_class_size"), "k_unit": report.get("unit")} if report else {}))
    return Extract(out, out.name, "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet",
                   rows, sha, report)


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
        direct_identifiers=[c["name"] for c in cols
                            if c["classification"] == Classification.DIRECT_IDENTIFIER and c["name"] not in ids],
        pseudonymised=[c["name"] for c in cols if c["name"] in ids],
        quasi_identifiers={c["name"]: _hierarchy(c) for c in cols
                           if c["classification"] == Classification.QUASI_IDENTIFIER},
        kept=[c["name"] for c in cols if c["classification"] not in
              (Classification.DIRECT_IDENTIFIER, Classification.QUASI_IDENTIFIER)],
        person_column=dv.person_column or None,
    )
    return pseudonymise.pseudonymised_extract(list(dv.paths), spec, bytes(grant.pseudonym_key), k=11)


# ---------------------------------------------------------------- gateway: secure room (tier 4)
# in pacte.data.secure_room (imported at the end of this module)


# ---------------------------------------------------------------- citizen consent (tier 5)

def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def own_record(link: PersonLink) -> tuple[DatasetVersion, list[dict[str, Any]]]:
    import polars as pl

    dv = link.dataset.current_version
    if dv is None or not dv.person_column:
        raise ValidationFailed("Ce jeu de données ne permet pas de retrouver une personne.")
    frame = pl.scan_parquet(list(dv.paths)).filter(pl.col(dv.person_column) == link.person_id).collect()
    return dv, [{k: _jsonable(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


@retry_on_conflict
@transaction.atomic
def give_consent(user: User, dataset: Dataset, project: Project, purpose: str) -> Consent:
    if user is None or not user.is_authenticated:
        raise NotAuthenticated("Connectez-vous pour transmettre vos propres données.")
    link = PersonLink.objects.filter(user=user, dataset=dataset).select_related("dataset").first()
    if link is None:
        raise PermissionDenied("Aucun lien vérifié entre votre compte et une fiche de ce jeu de données.")
    if not PactVersion.objects.filter(pact__project=project, status=Status.ACTIVE).exists():
        raise InvalidTransition("Ce projet n'a pas de pacte en vigueur : il ne peut pas recevoir de données.")
    purpose = (purpose or "").strip()
    if len(purpose) < 10:
        raise ValidationFailed("Indiquez la finalité pour laquelle vous transmettez vos données (10 caractères au moins).",
                               field_errors={"purpose": ["Finalité obligatoire."]})
    dv, record = own_record(link)
    if not record:
        raise NotFound("Aucune fiche ne correspond à votre identifiant dans ce jeu de données.")
    consent = Consent.objects.create(user=user, dataset_version=dv, project=project, purpose=purpose,
                                     record=record, record_sha256=_canonical_sha(record))
    _event("consent.given", Actor(role="citizen", person_id=user.pk), "consent", str(consent.receipt_id),
           project.slug, dataset=dataset.slug, version=dv.version, tier=5,
           person=personal_commitment(f"person:{dataset.slug}:{link.person_id}"),
           purpose=personal_commitment(f"purpose:{consent.receipt_id}:{purpose}"),
           record_sha256=consent.record_sha256, rows=len(record))
    return consent


@retry_on_conflict
@transaction.atomic
def withdraw_consent(user: User, consent: Consent) -> Consent:
    consent = Consent.objects.select_for_update(of=("self",)).select_related("project", "dataset_version__dataset").get(pk=consent.pk)
    if consent.user_id != getattr(user, "pk", None):
        raise PermissionDenied("Seule la personne concernée peut retirer son consentement.")
    if consent.state == Consent.State.WITHDRAWN:
        raise InvalidTransition("Ce consentement est déjà retiré.")
    consent.state, consent.withdrawn_at, consent.record = Consent.State.WITHDRAWN, timezone.now(), []
    consent.save()
    _event("consent.withdrawn", Actor(role="citizen", person_id=user.pk), "consent", str(consent.receipt_id),
           consent.project.slug, dataset=consent.dataset_version.dataset.slug, tier=5)
    return consent


from pacte.data.secure_room import SECURE_ROOM_TABLE, secure_room_query  # noqa: E402,F401
