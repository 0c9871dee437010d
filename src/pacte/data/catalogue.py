"""The catalogue: publish a dataset, validate a declared schema.

Versions (files, artefacts) are added in ``data/ingestion.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Organisation
from pacte.data import events
from pacte.data.models import Classification, Dataset
from pacte.errors import ValidationFailed
from pacte.journal.services import Actor
from pacte.writes.retry import retry_on_conflict

COLUMN_TYPES = ("string", "int", "float", "date", "bool")


#: Column names the platform keeps for itself (the record-key column of the secure room).
RESERVED_COLUMN_PREFIX = "__pacte"


def _validate_column(c: Any, names: set[str]) -> dict[str, Any]:
    if not isinstance(c, Mapping) or not isinstance(c.get("name"), str) or not c["name"]:
        raise ValidationFailed(_("Colonne de schéma invalide : %(column)r.") % {"column": c})
    name = c["name"]
    if name in names:
        raise ValidationFailed(
            _("La colonne « %(name)s » est déclarée deux fois.") % {"name": name}
        )
    if name.lower().startswith(RESERVED_COLUMN_PREFIX):
        raise ValidationFailed(
            _(
                "Colonne « %(name)s » : les noms commençant par « %(prefix)s » sont réservés à la "
                "plateforme."
            )
            % {"name": name, "prefix": RESERVED_COLUMN_PREFIX}
        )
    names.add(name)
    if c.get("type") not in COLUMN_TYPES:
        raise ValidationFailed(
            _("Colonne « %(name)s » : type %(type)r inconnu (%(types)s).")
            % {"name": name, "type": c.get("type"), "types": ", ".join(COLUMN_TYPES)}
        )
    if c.get("classification") not in Classification.values:
        raise ValidationFailed(
            _("Colonne « %(name)s » : classification %(classification)r inconnue.")
            % {"name": name, "classification": c.get("classification")}
        )
    if c["classification"] == Classification.MEASURE:
        b = c.get("bounds")
        if b is not None and (
            not isinstance(b, list | tuple)
            or len(b) != 2
            or not all(isinstance(x, int) for x in b)
            or b[0] > b[1]
        ):
            raise ValidationFailed(
                _("Colonne « %(name)s » : bornes publiques invalides %(bounds)r.")
                % {"name": name, "bounds": b}
            )
    keys = c.get("keys")
    if keys is not None and (
        not isinstance(keys, list) or not keys or len(set(map(str, keys))) != len(keys)
    ):
        raise ValidationFailed(
            _("Colonne « %(name)s » : jeu de clés vide ou dupliqué.") % {"name": name}
        )
    return dict(c)


def validate_schema(
    schema: Mapping[str, Any], person_column: str = "", enterprise_column: str = ""
) -> dict[str, Any]:
    cols = schema.get("columns") if isinstance(schema, Mapping) else None
    if not isinstance(cols, list) or not cols:
        raise ValidationFailed(_("Le schéma doit déclarer au moins une colonne."))
    names: set[str] = set()
    out = [_validate_column(c, names) for c in cols]
    for col, what in ((person_column, _("personne")), (enterprise_column, _("entreprise"))):
        if col and col not in names:
            raise ValidationFailed(
                _("La colonne %(what)s « %(column)s » n'existe pas dans le schéma.")
                % {"what": what, "column": col}
            )
    return {"columns": out}


def publisher_actor(principal: policy.Principal, publisher: Organisation) -> Actor:
    """The journal's actor of a catalogue change: the steward, or the platform on the publisher's behalf."""
    if isinstance(principal, policy.PlatformPrincipal):
        return Actor(organisation_slug=publisher.slug, role="system")
    return policy.actor_of(principal)


@retry_on_conflict
@transaction.atomic
def publish_dataset(
    principal: policy.Principal,
    *,
    publisher: Organisation,
    slug: str,
    title: str,
    description: str = "",
    licence: str = "etalab-2.0",
    sensitivity: int = 2,
    certified: bool = False,
    keywords: list[str] | None = None,
) -> Dataset:
    policy.require(principal, policy.Action.DATASET_PUBLISH, publisher)
    if not publisher.is_institution:
        raise ValidationFailed(_("Seule une institution publique publie des jeux de données."))
    if sensitivity not in (0, 1, 2, 3):
        raise ValidationFailed(_("La sensibilité est 0, 1, 2 ou 3."))
    if Dataset.objects.filter(slug=slug).exists():
        raise ValidationFailed(_("Le jeu de données « %(slug)s » existe déjà.") % {"slug": slug})
    ds = Dataset.objects.create(
        publisher=publisher,
        slug=slug,
        title=title,
        description=description,
        licence=licence,
        sensitivity=sensitivity,
        certified=certified,
        certified_at=timezone.now() if certified else None,
        keywords=keywords or [],
    )
    events.record(
        "dataset.published",
        publisher_actor(principal, publisher),
        "dataset",
        slug,
        sensitivity=sensitivity,
        licence=licence,
        certified=certified,
        publisher=publisher.slug,
    )
    return ds
