"""The DCAT-AP catalogue validates against the official DCAT-AP 3.0.1 SHACL shapes (pyshacl)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyshacl
import rdflib
from django.test import Client

SHAPES = Path(__file__).parent / "shacl" / "dcat-ap-3.0.1-SHACL.ttl"
SHAPES_SHA256 = "990d3e42721de6a4be8cc338a7171559f195e62dea89c0b56531356b78cc026f"
EU = "http://publications.europa.eu/resource/authority/"
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
ADMS = rdflib.Namespace("http://www.w3.org/ns/adms#")
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")


def _catalogue() -> rdflib.Graph:
    r = Client().get("/api/v1/catalog.jsonld")
    assert r.status_code == 200
    return rdflib.Graph().parse(data=r.content.decode(), format="json-ld")


def _validate(g: rdflib.Graph) -> tuple[bool, str]:
    shapes = rdflib.Graph().parse(SHAPES, format="turtle")
    conforms, _, text = pyshacl.validate(g, shacl_graph=shapes, inference="none")
    return bool(conforms), str(text)


def test_the_vendored_shapes_are_the_official_file():
    assert hashlib.sha256(SHAPES.read_bytes()).hexdigest() == SHAPES_SHA256


def test_the_catalogue_has_no_shacl_violation(hiring, cohort):
    g = _catalogue()
    conforms, report = _validate(g)
    assert conforms, report
    # the shapes did check something: the catalogue, its datasets and distributions are there
    assert len(set(g.subjects(rdflib.RDF.type, DCAT.Distribution))) >= 2


def test_the_shapes_catch_what_the_catalogue_used_to_get_wrong(hiring):
    g = _catalogue()
    dist = next(g.subjects(rdflib.RDF.type, DCAT.Distribution))
    g.set((dist, DCAT.byteSize, rdflib.Literal("12", datatype=rdflib.XSD.decimal)))
    g.set((dist, DCT["format"], rdflib.Literal("Parquet")))
    catalog = next(g.subjects(rdflib.RDF.type, DCAT.Catalog))
    g.remove((catalog, DCT.publisher, None))
    conforms, report = _validate(g)
    assert not conforms
    assert "byteSize" in report and "format" in report and "publisher" in report


def test_vocabulary_values_are_the_eu_and_iana_iris(hiring, cohort):
    g = _catalogue()
    for dist in g.subjects(rdflib.RDF.type, DCAT.Distribution):
        assert str(g.value(dist, DCT["format"])).startswith(EU + "file-type/")
        assert str(g.value(dist, DCAT.mediaType)).startswith(
            "http://www.iana.org/assignments/media-types/"
        )
        assert str(g.value(dist, ADMS.status)).startswith(EU + "distribution-status/")
        assert g.value(dist, DCAT.byteSize).datatype == rdflib.XSD.nonNegativeInteger
    for ds in g.subjects(rdflib.RDF.type, DCAT.Dataset):
        assert str(g.value(ds, DCT.accessRights)).startswith(EU + "access-right/")
        publisher = g.value(ds, DCT.publisher)
        assert (publisher, rdflib.RDF.type, FOAF.Agent) in g and g.value(publisher, FOAF.name)
