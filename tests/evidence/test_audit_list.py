"""Issue 14: the public list of bias audits (/audits/): newest first, paginated, filtered by project
and verdict, published audits only, reachable from the header in two clicks, a constant number of
queries whatever the number of audits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pacte.evidence import selectors
from pacte.evidence.models import Audit

pytestmark = pytest.mark.django_db


def _audit(project, auditor, n: int, *, breach: int = 0, insufficient: int = 0, **kw):  # type: ignore[no-untyped-def]
    at = timezone.now() - timedelta(days=100 - n)
    values = dict(
        project=project,
        auditor=auditor,
        title=f"Audit numéro {n:02d}",
        decision="Orientation vers un accompagnement",
        band_low=0.8,
        band_high=1.25,
        band_source="règle des 80 %",
        min_group_size=30,
        reference_group="Diplômés",
        n_rows=1000,
        data_sha256="0" * 64,
        breach_count=breach,
        insufficient_count=insufficient,
        published_at=at,
        published_on=at.date(),
    )
    values.update(kw)
    return Audit.objects.create(**values)


@pytest.fixture
def two_projects(world):  # type: ignore[no-untyped-def]
    return world.project(name="Coach emploi"), world.project(name="Mobilité solidaire")


def _titles(html: str) -> list[str]:
    return re.findall(r">(Audit numéro \d+)</a></h2>", html)


def test_newest_first_paginated_with_links(client, world, two_projects):  # type: ignore[no-untyped-def]
    coach, _mobility = two_projects
    for n in range(1, 26):
        _audit(coach, world.evaluator_org, n)
    html = client.get("/audits/").content.decode()
    titles = _titles(html)
    assert len(titles) == 20 and titles[0] == "Audit numéro 25" and titles[-1] == "Audit numéro 06"
    assert "25 audits publiés." in html and "Page 1 / 2" in html
    newest = Audit.objects.get(title="Audit numéro 25")
    assert f'href="/audits/{newest.pk}/"' in html and f'href="/projets/{coach.slug}/"' in html
    page2 = client.get("/audits/?page=2").content.decode()
    assert _titles(page2) == [f"Audit numéro {n:02d}" for n in range(5, 0, -1)]


def test_filters_by_project_and_verdict(client, world, two_projects):  # type: ignore[no-untyped-def]
    coach, mobility = two_projects
    _audit(coach, world.evaluator_org, 1, breach=2)
    _audit(coach, world.evaluator_org, 2)
    _audit(mobility, world.evaluator_org, 3, insufficient=1)
    _audit(mobility, world.evaluator_org, 4, breach=1)
    assert _titles(client.get(f"/audits/?projet={coach.slug}").content.decode()) == [
        "Audit numéro 02",
        "Audit numéro 01",
    ]
    breach = client.get("/audits/?verdict=ecart").content.decode()
    assert _titles(breach) == ["Audit numéro 04", "Audit numéro 01"]
    assert "2 écarts hors de la bande acceptée" in breach
    assert _titles(client.get("/audits/?verdict=conforme").content.decode()) == ["Audit numéro 02"]
    both = client.get(f"/audits/?projet={mobility.slug}&verdict=insuffisant").content.decode()
    assert _titles(both) == ["Audit numéro 03"]
    assert "Aucun écart ; 1 mesure en données insuffisantes" in both
    # the filters keep their choice, an unknown verdict is ignored, a filter without result says so
    assert f'<option value="{mobility.slug}" selected>' in both
    assert len(_titles(client.get("/audits/?verdict=n-importe").content.decode())) == 4
    empty = client.get(f"/audits/?projet={coach.slug}&verdict=insuffisant").content.decode()
    assert "Aucun audit publié ne correspond à ces filtres." in empty


def test_filters_stay_in_the_pagination_links(client, world, two_projects):  # type: ignore[no-untyped-def]
    coach, _mobility = two_projects
    for n in range(1, 23):
        _audit(coach, world.evaluator_org, n, breach=1)
    html = client.get(f"/audits/?projet={coach.slug}&verdict=ecart").content.decode()
    assert f'href="?projet={coach.slug}&amp;verdict=ecart&amp;page=2"' in html


def test_only_published_audits_are_listed(client, world, two_projects):  # type: ignore[no-untyped-def]
    coach, _mobility = two_projects
    _audit(coach, world.evaluator_org, 1)
    _audit(coach, world.evaluator_org, 2, status="draft", title="Audit en préparation")
    html = client.get("/audits/").content.decode()
    assert _titles(html) == ["Audit numéro 01"] and "Audit en préparation" not in html
    assert "1 audit publié." in html
    # a project whose only audit is a draft is not offered as a filter
    assert [p.slug for p in selectors.audited_projects()] == [coach.slug]


def test_empty_state(client, db):  # type: ignore[no-untyped-def]
    html = client.get("/audits/").content.decode()
    assert "Aucun audit de biais n'est encore publié." in html


def test_reachable_from_the_header_in_two_clicks(client, db):  # type: ignore[no-untyped-def]
    home = client.get("/").content.decode()
    assert 'href="/evaluations/"' in home  # the header's "Évaluations et audits"
    evaluations = client.get("/evaluations/").content.decode()
    assert 'href="/audits/"' in evaluations and "Audits de biais" in evaluations
    audits = client.get("/audits/").content.decode()
    assert 'href="/audits/" aria-current="page"' in audits
    # the header's section link says where the reader is, on the audits as on the evaluations
    assert 'href="/evaluations/" aria-current="page"' in audits


def test_the_number_of_queries_does_not_grow_with_the_audits(client, world, two_projects):  # type: ignore[no-untyped-def]
    coach, mobility = two_projects
    for n in range(1, 4):
        _audit(coach, world.evaluator_org, n)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/audits/").status_code == 200
        return len(queries)

    few = count()
    for n in range(4, 30):
        _audit(mobility if n % 2 else coach, world.evaluator_org, n, breach=n % 3)
    assert count() == few
