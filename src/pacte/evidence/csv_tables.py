"""The CSV tables evaluators upload: outcomes (``unit_id,arm,outcome[,period]``) and audited decisions
(``group,y_true,y_pred[,in_need]``).

Parsing is pure (bytes in, a table out) but stays in the evidence domain rather than in ``engines/``:
its whole point is the person-facing report of what is wrong with a file — translated messages,
line numbers, the form field they belong to — which are Django gettext and ``ValidationFailed``.
Every problem is reported with its line, at most ``MAX_REPORTED_ERRORS`` of them, and nothing is
kept when there is one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from pacte.errors import ValidationFailed

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_REPORTED_ERRORS = 10

ARM_ALIASES = {
    "treatment": "treatment",
    "traitement": "treatment",
    "traite": "treatment",
    "traité": "treatment",
    "t": "treatment",
    "1": "treatment",
    "control": "control",
    "controle": "control",
    "contrôle": "control",
    "temoin": "control",
    "témoin": "control",
    "c": "control",
    "0": "control",
}
PERIOD_ALIASES = {"pre": 0, "avant": 0, "0": 0, "post": 1, "apres": 1, "après": 1, "1": 1}


@dataclass
class OutcomeTable:
    unit_ids: list[str]
    arms: list[str]  # "treatment" | "control"
    outcomes: list[float]
    periods: list[int] | None
    sha256: str

    @property
    def binary(self) -> bool:
        return all(o in (0.0, 1.0) for o in self.outcomes)


@dataclass
class AuditTable:
    groups: list[str]
    y_true: list[int]
    y_pred: list[int]
    in_need: list[int] | None
    sha256: str


class LineErrors:
    """Errors found line by line: all counted, the first few kept for the person to read."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.total = 0

    def add(self, line: int, message: str) -> None:
        self.total += 1
        if len(self.messages) < MAX_REPORTED_ERRORS:
            self.messages.append(
                _("Ligne %(line)s : %(message)s") % {"line": line, "message": message}
            )

    def raise_if_any(self) -> None:
        if self.total:
            fail(self.messages, self.total)


def fail(errors: list[str], total: int) -> None:
    """Refuse the whole file, listing the first errors and how many more there are."""
    more = (
        _(" (et %(count)s autre(s))") % {"count": total - len(errors)}
        if total > len(errors)
        else ""
    )
    raise ValidationFailed(
        _("Le fichier contient %(total)s erreur(s)%(more)s ; rien n'a été enregistré.")
        % {"total": total, "more": more},
        field_errors={"fichier": errors},
    )


def read_csv(
    data: bytes, required: tuple[str, ...], optional: tuple[str, ...]
) -> tuple[list[str], list[list[str]]]:
    """Header (lower-cased) and rows of a UTF-8 CSV, comma or semicolon separated."""
    if not data:
        raise ValidationFailed(
            _("Le fichier est vide."), field_errors={"fichier": [_("Fichier vide.")]}
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            _("Le fichier dépasse 200 Mo."), field_errors={"fichier": [_("Fichier trop gros.")]}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            _("Le fichier doit être un CSV encodé en UTF-8."),
            field_errors={"fichier": [_("Encodage non UTF-8.")]},
        ) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(
                _("colonne(s) manquante(s) : %(columns)s") % {"columns": ", ".join(missing)}
            )
        if unknown:
            parts.append(
                _("colonne(s) inconnue(s) : %(columns)s") % {"columns": ", ".join(unknown)}
            )
        expected = ", ".join(required) + (f" [, {', '.join(optional)}]" if optional else "")
        raise ValidationFailed(
            _("En-tête invalide (%(problems)s). Colonnes attendues : %(expected)s.")
            % {"problems": " ; ".join(parts), "expected": expected},
            field_errors={"fichier": [_("En-tête invalide.")]},
        )
    return header, list(reader)


def _no_data() -> ValidationFailed:
    return ValidationFailed(
        _("Le fichier ne contient aucune ligne de données."),
        field_errors={"fichier": [_("Aucune donnée.")]},
    )


def _outcome_value(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_outcomes_csv(data: bytes) -> OutcomeTable:
    """CSV `unit_id,arm,outcome[,period]`; every problem reported with its line, nothing kept on error."""
    header, rows = read_csv(data, ("unit_id", "arm", "outcome"), ("period",))
    idx = {h: i for i, h in enumerate(header)}
    has_period = "period" in idx
    errors = LineErrors()
    ids: list[str] = []
    arms: list[str] = []
    outcomes: list[float] = []
    periods: list[int] = []
    seen: set[tuple[str, int]] = set()
    for n, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            errors.add(
                n,
                _("%(found)s valeur(s) au lieu de %(expected)s.")
                % {"found": len(row), "expected": len(header)},
            )
            continue
        unit = row[idx["unit_id"]].strip()
        arm = ARM_ALIASES.get(row[idx["arm"]].strip().lower())
        raw = row[idx["outcome"]].strip().replace(",", ".")
        value = _outcome_value(raw)
        period = PERIOD_ALIASES.get(row[idx["period"]].strip().lower()) if has_period else 0
        if not unit:
            errors.add(n, _("identifiant d'unité vide."))
        elif arm is None:
            errors.add(
                n,
                _("bras « %(arm)s » inconnu (attendu : treatment ou control).")
                % {"arm": row[idx["arm"]].strip()},
            )
        elif value is None:
            errors.add(n, _("résultat « %(value)s » n'est pas un nombre.") % {"value": raw})
        elif period is None:
            errors.add(
                n,
                _("période « %(period)s » inconnue (attendu : pre ou post).")
                % {"period": row[idx["period"]].strip()},
            )
        elif (unit, period) in seen:
            errors.add(
                n,
                (
                    _("unité « %(unit)s » en double pour cette période.")
                    if has_period
                    else _("unité « %(unit)s » en double.")
                )
                % {"unit": unit},
            )
        else:
            seen.add((unit, period))
            ids.append(unit)
            arms.append(arm)
            outcomes.append(value)
            periods.append(period)
    errors.raise_if_any()
    if not ids:
        raise _no_data()
    for a, label in (("treatment", _("traitement")), ("control", _("témoin"))):
        if a not in arms:
            raise ValidationFailed(
                _("Aucune unité dans le bras %(arm)s.") % {"arm": label},
                field_errors={"fichier": [_("Bras %(arm)s vide.") % {"arm": label}]},
            )
    return OutcomeTable(
        ids, arms, outcomes, periods if has_period else None, hashlib.sha256(data).hexdigest()
    )


def parse_audit_csv(data: bytes) -> AuditTable:
    """CSV `group,y_true,y_pred[,in_need]` of 0/1 decisions per person, for a bias audit."""
    header, rows = read_csv(data, ("group", "y_true", "y_pred"), ("in_need",))
    idx = {h: i for i, h in enumerate(header)}
    has_need = "in_need" in idx
    groups: list[str] = []
    yt: list[int] = []
    yp: list[int] = []
    need: list[int] = []
    errors = LineErrors()
    for n, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            errors.add(
                n,
                _("%(found)s valeur(s) au lieu de %(expected)s.")
                % {"found": len(row), "expected": len(header)},
            )
            continue
        values = {k: row[i].strip() for k, i in idx.items()}
        bad = [
            k
            for k in ("y_true", "y_pred", "in_need")
            if k in values and values[k] not in ("0", "1")
        ]
        if not values["group"]:
            errors.add(n, _("groupe vide."))
        elif bad:
            errors.add(n, _("%(columns)s doit valoir 0 ou 1.") % {"columns": ", ".join(bad)})
        else:
            groups.append(values["group"])
            yt.append(int(values["y_true"]))
            yp.append(int(values["y_pred"]))
            if has_need:
                need.append(int(values["in_need"]))
    errors.raise_if_any()
    if not groups:
        raise _no_data()
    return AuditTable(groups, yt, yp, need if has_need else None, hashlib.sha256(data).hexdigest())
