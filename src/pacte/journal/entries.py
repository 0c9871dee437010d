"""A log entry: who acted (:class:`Actor`), what is appended (:class:`NewEvent`), and how a
batch of entries is assembled (RFC 8785 canonical JSON, per-subject ``prev`` chain) and
inserted. The leaf hash written beside each entry IS node ``(0, index)`` of the Merkle tree
(:mod:`pacte.journal.store` reads level 0 from the entries).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from pacte.engines import merkle
from pacte.engines.canonical import LOG_ENTRY_FORMAT, canonical_json, canonical_json_plain
from pacte.errors import ValidationFailed
from pacte.journal.models import Event, LogState
from pacte.writes.rows import SqlValue, bulk_insert

# Entry bundles (c2sp.org/tlog-tiles) prefix each entry with a 16-bit length.
MAX_ENTRY_BYTES = 0xFFFF

# Test hook: called with a stage name at the points where a crash test kills the process.
crash_hook: Callable[[str], None] | None = None


def _stage(name: str) -> None:
    if crash_hook is not None:
        crash_hook(name)


@dataclass(frozen=True)
class Actor:
    """Who acted: an organisation and a role; the person only as a salted commitment."""

    organisation_slug: str = ""
    role: str = ""
    person_id: int | None = None

    def as_entry(self) -> dict[str, Any]:
        return {
            "org": self.organisation_slug or None,
            "role": self.role or None,
            "person": personal_commitment(f"user:{self.person_id}") if self.person_id else None,
        }


SYSTEM = Actor(organisation_slug="", role="system")


def personal_commitment(value: str) -> str:
    """Salted commitment to personal data: publishable, erasable (forget the salt)."""
    salt = settings.COMMITMENT_SALT.encode("utf-8")
    return hmac.new(salt, value.encode("utf-8"), hashlib.sha256).hexdigest()


def leaf_hash(entry: bytes) -> bytes:
    return merkle.leaf_hash(entry)


@dataclass(frozen=True)
class NewEvent:
    """One event for :func:`record_events`."""

    type: str
    actor: Actor
    subject_type: str
    subject_id: str | int
    data: dict[str, Any] | None = None
    project_slug: str = ""


class EntryTooLarge(ValidationFailed):
    """A log entry larger than an entry bundle can carry (64 KiB)."""

    code = "log_entry_too_large"


@dataclass(frozen=True)
class Appended:
    index: int
    entry_hash: str
    entry: str


def _heads(subjects: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """entry_hash of the latest stored entry of each subject, each subject answered by one
    index seek on (subject_type, subject_id, index): one query per type on PostgreSQL (the
    subjects as one array), per 500 subjects of a type elsewhere."""
    out: dict[tuple[str, str], str] = {}
    by_type: dict[str, list[str]] = {}
    for st, sid in subjects:
        by_type.setdefault(st, []).append(sid)
    q = connection.ops.quote_name
    table = q(Event._meta.db_table)
    pg = connection.vendor == "postgresql"
    if pg:  # every subject of a type in ONE array parameter: one short statement, one round trip
        with connection.cursor() as cur:
            for st, ids in by_type.items():
                cur.execute(
                    f"SELECT v.s, (SELECT e.{q('entry_hash')} FROM {table} e WHERE e.{q('subject_type')} = %s "
                    f"AND e.{q('subject_id')} = v.s ORDER BY e.{q('index')} DESC LIMIT 1) "
                    "FROM unnest(%s::text[]) AS v(s)",
                    [st, ids],
                )
                for sid, h in cur.fetchall():
                    if h is not None:
                        out[(st, sid)] = h
        return out
    cast, alias = "%s", "v"  # SQLite names the VALUES column column1
    with connection.cursor() as cur:
        for st, ids in by_type.items():
            for lo in range(0, len(ids), 500):
                part = ids[lo : lo + 500]
                values = ", ".join([f"({cast})"] * len(part))
                sql = (
                    f"SELECT v.column1, (SELECT e.{q('entry_hash')} FROM {table} e WHERE e.{q('subject_type')} = %s "
                    f"AND e.{q('subject_id')} = v.column1 ORDER BY e.{q('index')} DESC LIMIT 1) "
                    f"FROM (VALUES {values}) AS {alias}"
                )
                cur.execute(sql, [st, *part])
                for sid, h in cur.fetchall():
                    if h is not None:
                        out[(st, sid)] = h
    return out


# A JSON string exactly as RFC 8785 writes it: the C encoder escapes the same characters the
# same way (tests/engines/test_canonical.py checks every code point); a lone surrogate, which
# JCS refuses, fails the UTF-8 encoding of the entry below.
_str = json.encoder.encode_basestring
_FORMAT = _str(LOG_ENTRY_FORMAT)
EVENT_COLUMNS = (
    "index",
    "type",
    "occurred_at",
    "organisation_slug",
    "subject_type",
    "subject_id",
    "project_slug",
    "entry",
    "entry_hash",
    "leaf_hash",
    "prev",
)


def _append(
    state: LogState, events: Sequence[NewEvent], now: datetime
) -> tuple[list[Appended], list[bytes]]:
    """Insert the entries of a batch; every entry text is byte-identical to
    ``canonical_json`` (RFC 8785) of the entry dict (keys in sorted order, assembled directly; the
    actor, the timestamp and repeated strings are encoded once per batch)."""
    heads = _heads({(e.subject_type, str(e.subject_id)) for e in events})
    ts_json = _str(now.isoformat().replace("+00:00", "Z"))
    enc: dict[str, str] = {}  # JSON-encoded strings seen in this batch
    actors: dict[Actor, str] = {}
    occurred = connection.ops.adapt_datetimefield_value(now)
    rows: list[tuple[SqlValue, ...]] = []
    out: list[Appended] = []
    leaves: list[bytes] = []
    sha = hashlib.sha256
    index = state.size
    for e in events:
        sid = str(e.subject_id)
        st, typ, project = e.subject_type, e.type, e.project_slug
        key = (st, sid)
        previous = heads.get(key)
        actor = actors.get(e.actor)
        if actor is None:
            actor = actors[e.actor] = canonical_json(e.actor.as_entry())
        t_st = enc.get(st) or enc.setdefault(st, _str(st))
        t_typ = enc.get(typ) or enc.setdefault(typ, _str(typ))
        t_project = (
            (enc.get(project) or enc.setdefault(project, _str(project))) if project else "null"
        )
        data = e.data
        t_data = (canonical_json_plain(data) or canonical_json(data)) if data else "{}"
        text = (
            f'{{"actor":{actor},"data":{t_data},"format":{_FORMAT},'
            f'"prev":{_str(previous) if previous else "null"},"project":{t_project},'
            f'"subject":{{"id":{_str(sid)},"type":{t_st}}},"ts":{ts_json},"type":{t_typ}}}'
        )
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: canonical_json names it in the data
            if data:
                canonical_json(data)
            raise
        if len(raw) > MAX_ENTRY_BYTES:
            raise EntryTooLarge(
                _(
                    "L'événement « %(type)s » ferait une entrée de journal de %(size)s octets ; le journal "
                    "n'accepte que %(max)s octets par entrée (paquets d'entrées C2SP, longueur sur 16 bits). "
                    "Réduisez les données publiées avec l'événement."
                )
                % {"type": typ, "size": len(raw), "max": MAX_ENTRY_BYTES}
            )
        ehash = sha(raw).hexdigest()
        lh = sha(b"\x00" + raw).digest()
        heads[key] = ehash
        rows.append(
            (
                index,
                typ,
                occurred,
                e.actor.organisation_slug,
                st,
                sid,
                project,
                text,
                ehash,
                lh,
                previous or "",
            )
        )
        out.append(Appended(index, ehash, text))
        leaves.append(lh)
        index += 1
    bulk_insert(Event._meta.db_table, EVENT_COLUMNS, rows)
    _stage("entries-inserted")
    return out, leaves
