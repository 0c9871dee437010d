"""The catalogue as DCAT-AP 3 in JSON-LD, valid against the official SEMIC SHACL shapes.

Controlled vocabularies are the EU Publications Office authority tables (file types, access
rights, distribution status, languages) and the IANA media types, as DCAT-AP 3 asks; every
vocabulary value is typed and labelled inline so that the document validates offline (no
vocabulary is fetched). Other domains add their own datasets (the open-data dump) through
:func:`pacte.data.ports.register_catalogue_dataset`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from pacte.data.models import Dataset

EU = "http://publications.europa.eu/resource/authority"
IANA = "http://www.iana.org/assignments/media-types"

DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "adms": "http://www.w3.org/ns/adms#",
    "pacte": "https://pacte.example/ns#",
}

# sensitivity tier -> EU access-right authority table (PUBLIC / RESTRICTED / NON_PUBLIC)
ACCESS_RIGHTS = {0: "PUBLIC", 1: "RESTRICTED", 2: "NON_PUBLIC", 3: "NON_PUBLIC"}
ACCESS_RIGHT_LABELS = {"PUBLIC": "public", "RESTRICTED": "restreint", "NON_PUBLIC": "non public"}
STATUS_LABELS = {"COMPLETED": "terminée", "DEPRECATED": "obsolète"}


@dataclass(frozen=True)
class FileType:
    """A file format: its EU file-type code and its IANA media type."""

    eu_code: str
    media_type: str


PARQUET = FileType("PARQUET", "application/vnd.apache.parquet")
ZIP = FileType("ZIP", "application/zip")


def literal(value: str, lang: str = "fr") -> dict[str, str]:
    return {"@value": value, "@language": lang}


def typed(value: object, datatype: str) -> dict[str, str]:
    return {"@value": str(value), "@type": datatype}


def file_type(ft: FileType) -> dict[str, Any]:
    """``dct:format`` value: an EU file-type IRI (a dct:MediaTypeOrExtent)."""
    return {"@id": f"{EU}/file-type/{ft.eu_code}", "@type": "dct:MediaTypeOrExtent"}


def media_type(ft: FileType) -> dict[str, Any]:
    """``dcat:mediaType`` value: an IANA media-type IRI (a dct:MediaType)."""
    return {"@id": f"{IANA}/{ft.media_type}", "@type": "dct:MediaType"}


def access_rights(sensitivity: int) -> dict[str, Any]:
    code = ACCESS_RIGHTS.get(sensitivity, "NON_PUBLIC")
    return {
        "@id": f"{EU}/access-right/{code}",
        "@type": ["dct:RightsStatement", "skos:Concept"],
        "skos:prefLabel": literal(ACCESS_RIGHT_LABELS[code]),
        "skos:inScheme": {"@id": f"{EU}/access-right"},
    }


def distribution_status(current: bool) -> dict[str, Any]:
    code = "COMPLETED" if current else "DEPRECATED"
    return {
        "@id": f"{EU}/distribution-status/{code}",
        "@type": "skos:Concept",
        "skos:prefLabel": literal(STATUS_LABELS[code]),
        "skos:inScheme": {"@id": f"{EU}/distribution-status"},
    }


def licence(spdx_id: str) -> dict[str, Any]:
    return {"@id": f"https://spdx.org/licenses/{spdx_id}", "@type": "dct:LicenseDocument"}


def checksum_sha256(hex_digest: str) -> dict[str, Any]:
    return {
        "@type": "spdx:Checksum",
        "spdx:algorithm": {
            "@id": "spdx:checksumAlgorithm_sha256",
            "@type": "spdx:ChecksumAlgorithm",
        },
        "spdx:checksumValue": typed(hex_digest, "xsd:hexBinary"),
    }


def platform_publisher(base: str) -> dict[str, Any]:
    """The service's publisher (settings PACTE_PUBLISHER_*), a foaf:Agent with its name."""
    return {
        "@id": f"{base}/#editeur",
        "@type": "foaf:Agent",
        "foaf:name": literal(settings.PUBLISHER_NAME),
    }


def contact_point(base: str, name: str, email: str) -> dict[str, Any]:
    node: dict[str, Any] = {"@type": ["vcard:Kind", "vcard:Organization"], "vcard:fn": name}
    if email:
        node["vcard:hasEmail"] = {"@id": f"mailto:{email}"}
    else:
        node["vcard:hasURL"] = {"@id": f"{base}/"}
    return node


# (base_url) -> JSON-LD nodes; the first one is the dcat:Dataset added to the catalogue
CatalogueContribution = Callable[[str], list[dict[str, Any]]]
_CONTRIBUTIONS: dict[str, CatalogueContribution] = {}


def register_catalogue_dataset(name: str, contribution: CatalogueContribution) -> None:
    _CONTRIBUTIONS[name] = contribution


def _dataset_nodes(base: str, ds: Dataset) -> Iterable[dict[str, Any]]:
    ds_id = f"{base}{reverse('data:dataset', args=[ds.slug])}"
    publisher_id = f"{base}/organisations/{ds.publisher.slug}/"
    distributions = []
    for v in ds.versions.all():
        dist_id = f"{ds_id}#version-{v.version}"
        distributions.append({"@id": dist_id})
        yield {
            "@id": dist_id,
            "@type": "dcat:Distribution",
            "dct:title": literal(f"{ds.title} — version {v.version}"),
            "dcat:accessURL": {"@id": f"{base}/api/v1/data/{ds.slug}/aggregates"},
            "dct:format": file_type(PARQUET),
            "dcat:mediaType": media_type(PARQUET),
            "dcat:byteSize": typed(v.byte_size, "xsd:nonNegativeInteger"),
            "dct:issued": typed(v.created_at.isoformat(), "xsd:dateTime"),
            "dct:license": licence(ds.licence),
            "dct:rights": {
                "@type": "dct:RightsStatement",
                "rdfs:label": literal(
                    "Accès par la passerelle de données, selon l'autorisation accordée."
                ),
            },
            "spdx:checksum": checksum_sha256(v.sha256) if v.sha256 else None,
            "pacte:rowCount": typed(v.row_count, "xsd:integer"),
            "pacte:columns": [f"{c['name']} ({c['classification']})" for c in v.columns],
            "adms:status": distribution_status(v.is_current),
        }
    yield {
        "@id": ds_id,
        "@type": "dcat:Dataset",
        "dct:identifier": ds.slug,
        "dct:title": literal(ds.title),
        "dct:description": literal(ds.description or ds.title),
        "dct:publisher": {"@id": publisher_id},
        "dcat:contactPoint": contact_point(
            base, ds.publisher.name, getattr(ds.publisher, "contact_email", "")
        ),
        "dcat:landingPage": {"@id": ds_id, "@type": "foaf:Document"},
        "dcat:keyword": [literal(k) for k in ds.keywords],
        "dct:accessRights": access_rights(ds.sensitivity),
        "pacte:certified": typed("true" if ds.certified else "false", "xsd:boolean"),
        "dcat:distribution": distributions,
    }
    yield {
        "@id": publisher_id,
        "@type": "foaf:Agent",
        "foaf:name": literal(ds.publisher.name),
    }


def dcat_catalog(base_url: str, datasets: Iterable[Dataset]) -> dict[str, Any]:
    """The catalogue as DCAT-AP 3 in JSON-LD (inline context: parseable offline)."""
    base = base_url.rstrip("/")
    graph: list[dict[str, Any]] = []
    ds_ids: list[dict[str, str]] = []
    publishers: set[str] = set()
    for ds in datasets:
        for node in _dataset_nodes(base, ds):
            if node["@type"] == "dcat:Dataset":
                ds_ids.append({"@id": node["@id"]})
            if node["@type"] == "foaf:Agent":
                if node["@id"] in publishers:
                    continue
                publishers.add(node["@id"])
            graph.append({k: v for k, v in node.items() if v is not None})
    for contribution in _CONTRIBUTIONS.values():
        nodes = contribution(base)
        if nodes:
            ds_ids.append({"@id": nodes[0]["@id"]})
            graph.extend(nodes)
    publisher = platform_publisher(base)
    catalog = {
        "@id": f"{base}/catalogue/",
        "@type": "dcat:Catalog",
        "dct:title": literal("Catalogue des données de Pacte"),
        "dct:description": literal(
            "Jeux de données ouverts aux usages d'intérêt général, avec leurs accès."
        ),
        "dct:publisher": {"@id": publisher["@id"]},
        "foaf:homepage": {"@id": f"{base}/", "@type": "foaf:Document"},
        "dct:language": {"@id": f"{EU}/language/FRA", "@type": "dct:LinguisticSystem"},
        "dcat:dataset": ds_ids,
    }
    return {"@context": {**DCAT_CONTEXT, **RDFS}, "@graph": [catalog, publisher, *graph]}


RDFS = {"rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
