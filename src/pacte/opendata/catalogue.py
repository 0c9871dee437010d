"""The open-data dump as a DCAT-AP 3 dataset with its distribution (the latest ZIP)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from pacte.data.ports import dcat
from pacte.opendata.selectors import latest_dump


def dump_dataset(base: str) -> list[dict[str, Any]]:
    """JSON-LD nodes: the dataset first, then its distribution (none before the first dump)."""
    dump = latest_dump()
    if dump is None:
        return []
    page = f"{base}{reverse('opendata:dump')}"
    ds_id = f"{page}#jeu"
    dist_id = f"{page}#{dump.filename}"
    url = f"{base}{reverse('opendata:dump_file', args=[dump.filename])}"
    return [
        {
            "@id": ds_id,
            "@type": "dcat:Dataset",
            "dct:identifier": "pacte-donnees-ouvertes",
            "dct:title": dcat.literal("Données publiques de Pacte (export quotidien)"),
            "dct:description": dcat.literal(
                "Projets, pactes et versions, engagements, accès aux données et requêtes "
                "publiées, évaluations, audits, paiements et journal public : tout ce qui est "
                "public, en CSV et JSON, avec un dictionnaire des données."
            ),
            "dct:publisher": {"@id": dcat.platform_publisher(base)["@id"]},
            "dcat:landingPage": {"@id": page, "@type": "foaf:Document"},
            "dct:accessRights": dcat.access_rights(0),
            "dct:license": dcat.licence("etalab-2.0"),
            "dcat:keyword": [dcat.literal("données ouvertes"), dcat.literal("pactes")],
            "dct:modified": dcat.typed(dump.day.isoformat(), "xsd:date"),
            "dcat:distribution": [{"@id": dist_id}],
        },
        {
            "@id": dist_id,
            "@type": "dcat:Distribution",
            "dct:title": dcat.literal(dump.filename),
            "dcat:accessURL": {"@id": page},
            "dcat:downloadURL": {"@id": url},
            "dct:format": dcat.file_type(dcat.ZIP),
            "dcat:mediaType": dcat.media_type(dcat.ZIP),
            "dcat:byteSize": dcat.typed(dump.byte_size, "xsd:nonNegativeInteger"),
            "dct:issued": dcat.typed(dump.created_at.isoformat(), "xsd:dateTime"),
            "dct:license": dcat.licence("etalab-2.0"),
            "spdx:checksum": dcat.checksum_sha256(dump.sha256),
            "adms:status": dcat.distribution_status(True),
        },
    ]
