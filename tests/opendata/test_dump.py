"""The nightly open-data dump: same rows as the API, a valid ZIP, a complete data dictionary."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from pacte.accounts import policy
from pacte.errors import PermissionDenied
from pacte.journal.models import Event
from pacte.opendata import dump as dump_module
from pacte.opendata.dump import publish_dump
from pacte.opendata.tables import TABLES
from tests.conftest import _acting
from tests.data.conftest import call
from tests.funding.conftest import published_audit, published_evaluation

pytestmark = pytest.mark.django_db

API = Client()


def _get(path: str, **params: Any) -> Any:
    r = API.get(path, params)
    assert r.status_code == 200, r.content
    return r.json()


def _all(path: str) -> tuple[int, list[dict[str, Any]]]:
    first = _get(path, limit=1)
    items: list[dict[str, Any]] = []
    while len(items) < first["count"]:
        items += _get(path, limit=50, offset=len(items))["items"]
    return first["count"], items


def _same(a: Any, b: Any) -> bool:
    """Equal, reading ISO datetimes and decimals the same way on both sides."""
    if isinstance(a, str) and isinstance(b, str) and a != b:
        for parse in (datetime.fromisoformat, date.fromisoformat):
            try:
                return parse(a.replace("Z", "+00:00")) == parse(b.replace("Z", "+00:00"))
            except ValueError:
                continue
        try:
            return float(a) == float(b)
        except ValueError:
            return False
    return a == b


def _assert_row_matches(dump_row: dict[str, Any], api_row: dict[str, Any]) -> None:
    shared = set(dump_row) & set(api_row)
    assert len(shared) >= 4, (dump_row, api_row)
    for key in shared:
        assert _same(dump_row[key], api_row[key]), (key, dump_row[key], api_row[key])


@pytest.fixture
def public_world(world, active, dp_grant):  # type: ignore[no-untyped-def]
    from pacte.accounts.models import Role

    evaluator = _acting(world.evaluator_org, [Role.EVALUATOR])
    published_evaluation(active.pact.project, evaluator, pact=active.pact)
    published_evaluation(active.pact.project, evaluator, ci_low=-0.01, estimate=0.002)
    published_audit(active.pact.project, evaluator, in_need_ratios=[1.0, 0.9])
    grant, token = dp_grant
    r = call(token, "/api/v1/data/embauches/aggregates", {"group_by": ["region"]})
    assert r.status_code == 200, r.content
    return world


def _read(zf: zipfile.ZipFile, table: str) -> list[dict[str, Any]]:
    return json.loads(zf.read(f"{table}.json"))


def test_the_dump_holds_what_the_api_returns(public_world):
    api: dict[str, tuple[int, list[dict[str, Any]]]] = {
        "projets": _all("/api/v1/projects"),
        "pactes": _all("/api/v1/pacts"),
        "engagements": _all("/api/v1/pacts/commitments"),
        "acces_aux_donnees": _all("/api/v1/grants"),
        "evaluations": _all("/api/v1/evaluations"),
        "audits": _all("/api/v1/audits"),
        "journal": _all("/api/v1/events"),
    }
    versions = [
        v for p in api["pactes"][1] for v in _get(f"/api/v1/pacts/{p['reference']}/versions")
    ]
    grant_detail = _get(f"/api/v1/grants/{api['acces_aux_donnees'][1][0]['reference']}")
    project_detail = _get(f"/api/v1/projects/{api['projets'][1][0]['slug']}")

    dump = publish_dump(policy.SYSTEM)

    with zipfile.ZipFile(dump_path(dump)) as zf:
        for table, (count, items) in api.items():
            rows = _read(zf, table)
            assert len(rows) == count == dump.tables[table] and count > 0, table
            _assert_row_matches(rows[0], items[0])
            _assert_row_matches(rows[-1], items[-1])
        assert len(_read(zf, "versions_de_pactes")) == len(versions) > 0
        by_key = {(v["pact"], v["number"]): v for v in _read(zf, "versions_de_pactes")}
        for v in versions:
            _assert_row_matches(by_key[(v["pact"], v["number"])], v)
        releases = _read(zf, "requetes_publiees")
        assert len(releases) == len(grant_detail["release_list"]) == 1
        _assert_row_matches(releases[0], grant_detail["release_list"][0])
        _assert_row_matches(_read(zf, "projets")[0], project_detail)
        # a draft is private: never in the dump (the API hides it too)
        assert all(v["status"] != "draft" for v in _read(zf, "versions_de_pactes"))


def dump_path(dump):  # type: ignore[no-untyped-def]
    from pacte.opendata.dump import dump_dir

    return dump_dir() / dump.filename


def test_the_zip_is_valid_and_the_dictionary_describes_every_column(public_world):
    dump = publish_dump(policy.SYSTEM)
    data = dump_path(dump).read_bytes()
    assert hashlib.sha256(data).hexdigest() == dump.sha256 and len(data) == dump.byte_size
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
        assert {"LICENCE.txt", "dictionnaire.csv", "dictionnaire.json"} <= names
        licence = zf.read("LICENCE.txt").decode()
        assert "Licence Ouverte" in licence and "etalab-2.0" in licence
        # the full official texts, French and English, as vendored from Etalab's repository
        official = Path(dump_module.__file__).parent / "data"
        for name in ("licence-ouverte-2.0.fr.md", "licence-ouverte-2.0.en.md"):
            assert (official / name).read_text(encoding="utf-8").strip() in licence
        assert "un droit non exclusif et gratuit de libre" in licence  # French, article 1
        assert "Cette licence est une version 2.0 de la Licence Ouverte." in licence
        assert 'The "Grantor" grants the "Reuser" the free, non-exclusive right' in licence
        assert "github.com/etalab/licence-ouverte" in licence
        described = {
            (r["table"], r["column"])
            for r in csv.DictReader(io.StringIO(zf.read("dictionnaire.csv").decode()))
        }
        assert all(
            r["description"]
            for r in csv.DictReader(io.StringIO(zf.read("dictionnaire.csv").decode()))
        )
        seen = set()
        for t in TABLES:
            header = next(csv.reader(io.StringIO(zf.read(f"{t.name}.csv").decode())))
            csv_rows = list(csv.reader(io.StringIO(zf.read(f"{t.name}.csv").decode())))[1:]
            json_rows = _read(zf, t.name)
            assert len(csv_rows) == len(json_rows) == dump.tables[t.name]
            for row in json_rows:
                assert list(row) == header  # the JSON rows have exactly the CSV's columns
            seen |= {(t.name, c) for c in header}
        assert seen == described
        meta = json.loads(zf.read("dictionnaire.json"))
        assert meta["licence"]["spdx"] == "etalab-2.0"
        assert {t["name"]: t["rows"] for t in meta["tables"]} == dump.tables
    event = Event.objects.filter(type="opendata.dump_published").get()
    assert event.subject_id == dump.filename and dump.sha256 in event.entry


def test_only_the_platform_publishes_the_dump(world):
    with pytest.raises(PermissionDenied):
        publish_dump(world.reviewer)
    assert not Event.objects.filter(type="opendata.dump_published").exists()


def test_the_nightly_job_is_on_the_schedule_and_runs(world):
    from pacte.engines.cadence import Daily
    from pacte.opendata.tasks import publish_dump_task
    from pacte.scheduling.jobs import JOBS

    job = next(j for j in JOBS if j.name == "opendata.dump")
    assert isinstance(job.cadence, Daily)
    assert job.task == "pacte.opendata.tasks.publish_dump_task"
    result = publish_dump_task.call()
    assert result["file"] == f"pacte-{date.today().isoformat()}.zip"


def test_the_page_shows_the_latest_dump_and_serves_it(public_world, client):
    assert "Aucun export" in client.get("/donnees-ouvertes/").content.decode()
    dump = publish_dump(policy.SYSTEM)
    page = client.get("/donnees-ouvertes/").content.decode()
    assert dump.sha256 in page and dump.filename in page and str(dump.byte_size) in page
    r = client.get(f"/donnees-ouvertes/{dump.filename}")
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    body = b"".join(r.streaming_content)
    assert hashlib.sha256(body).hexdigest() == dump.sha256
    assert client.get("/donnees-ouvertes/pacte-1999-01-01.zip").status_code == 404


def test_the_catalogue_lists_the_dump_and_still_validates(public_world):
    import pyshacl
    import rdflib

    from tests.data.test_dcat_shacl import SHAPES

    dump = publish_dump(policy.SYSTEM)
    r = Client().get("/api/v1/catalog.jsonld")
    g = rdflib.Graph().parse(data=r.content.decode(), format="json-ld")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    urls = {str(u) for u in g.objects(None, dcat.downloadURL)}
    assert f"http://testserver/donnees-ouvertes/{dump.filename}" in urls
    shapes = rdflib.Graph().parse(SHAPES, format="turtle")
    conforms, _, report = pyshacl.validate(g, shacl_graph=shapes, inference="none")
    assert conforms, report
