"""The reuse registry: declared by anyone signed in, shown on dataset and project pages and in the
API (paginated), moderated like comments."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from pacte.data.models import Dataset
from pacte.errors import NotFound, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from pacte.participation import reuses
from pacte.participation.models import Reuse
from tests.project_page import project_page

pytestmark = pytest.mark.django_db


def reuse_in(**kw):  # type: ignore[no-untyped-def]
    values = dict(
        kind="dataset",
        title="Carte des offres d'emploi",
        description="Une carte interactive des offres, par commune.",
        reuser="Collectif Données Ouvertes",
        place="Tours",
        url="https://exemple.org/carte",
    )
    values.update(kw)
    return reuses.ReuseIn(**values)


@pytest.fixture
def dataset(world):  # type: ignore[no-untyped-def]
    return Dataset.objects.create(
        publisher=world.institution, slug="offres-emploi", title="Offres d'emploi"
    )


def test_a_citizen_declares_a_reuse_of_a_dataset_and_of_a_projects_code(world, citizens, dataset):
    r = reuses.declare_reuse(citizens.alice_p, reuse_in(dataset=dataset.slug))
    assert r.dataset == dataset and r.author == citizens.alice
    project = world.project()
    code = reuses.declare_reuse(
        citizens.bob_p, reuse_in(kind="code", project=project.slug, url="https://forge.example/x")
    )
    assert code.project == project
    entry = json.loads(
        Event.objects.get(type="participation.reuse_declared", subject_id=str(r.pk)).entry
    )
    assert entry["data"]["dataset"] == dataset.slug and entry["actor"]["role"] == "person"


def test_bad_reuses_are_refused_clearly(citizens, dataset):
    with pytest.raises(NotFound):
        reuses.declare_reuse(citizens.alice_p, reuse_in(dataset="inconnu"))
    with pytest.raises(NotFound):
        reuses.declare_reuse(citizens.alice_p, reuse_in(kind="code", dataset=dataset.slug))
    with pytest.raises(ValidationFailed):
        reuses.declare_reuse(
            citizens.alice_p, reuse_in(dataset=dataset.slug, url="javascript:alert(1)")
        )
    with pytest.raises(ValidationFailed):
        reuses.declare_reuse(citizens.alice_p, reuse_in(dataset=dataset.slug, title=" "))
    assert not Reuse.objects.exists()


def test_reuses_are_moderated_like_comments(world, citizens, dataset):
    r = reuses.declare_reuse(citizens.alice_p, reuse_in(dataset=dataset.slug))
    reuses.flag_reuse(citizens.bob_p, r, "Lien vers un site commercial")
    with pytest.raises(PermissionDenied):  # the carrier is not in charge of this dataset
        reuses.moderate_reuse(world.carrier_admin, r, "hide", "Lien publicitaire trompeur")
    reuses.moderate_reuse(world.data_steward, r, "hide", "Lien publicitaire trompeur")
    r.refresh_from_db()
    assert r.state == Reuse.State.HIDDEN
    entry = json.loads(Event.objects.get(type="participation.reuse_hidden").entry)
    assert entry["data"]["reason"] == "Lien publicitaire trompeur"


def test_the_dataset_page_and_the_project_page_show_reuses(client, world, citizens, dataset):
    reuses.declare_reuse(citizens.alice_p, reuse_in(dataset=dataset.slug))
    project = world.project()
    reuses.declare_reuse(
        citizens.bob_p, reuse_in(kind="code", project=project.slug, title="Fork pour la Bretagne")
    )
    page = client.get(reverse("data:dataset", args=[dataset.slug])).content.decode()
    assert "Carte des offres d&#x27;emploi" in page and "Déclarer une réutilisation" in page
    page = project_page(client, project.slug)
    assert "Fork pour la Bretagne" in page and "Suivre et réutiliser" in page


def test_the_api_lists_reuses_paginated_and_a_signed_in_person_declares_one(
    client, citizens, dataset
):
    for i in range(3):
        reuses.declare_reuse(
            citizens.alice_p, reuse_in(dataset=dataset.slug, title=f"Réutilisation {i}")
        )
    body = client.get("/api/v1/reuses", {"limit": 2, "dataset": dataset.slug}).json()
    assert body["count"] == 3 and len(body["items"]) == 2
    assert set(body["items"][0]) >= {"id", "kind", "dataset", "title", "reuser", "url", "place"}
    assert client.post("/api/v1/reuses", {}, content_type="application/json").status_code == 401
    client.force_login(citizens.bob)
    response = client.post(
        "/api/v1/reuses",
        {
            "kind": "api",
            "title": "Bot d'alertes",
            "description": "Alerte quand une offre paraît.",
            "reuser": "Bob",
            "url": "https://bot.example",
            "dataset": dataset.slug,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "api"
    assert client.get("/api/v1/reuses").json()["count"] == 4
    bad = client.post(
        "/api/v1/reuses",
        {
            "kind": "api",
            "title": "x",
            "description": "y",
            "reuser": "z",
            "url": "https://a.example",
            "dataset": "nope",
        },
        content_type="application/json",
    )
    assert bad.status_code == 404 and bad.json()["error"] == "not_found"


def test_the_reuse_form_works_for_a_citizen(client, citizens, dataset):
    client.force_login(citizens.alice)
    url = reverse("participation:reuse_new") + f"?dataset={dataset.slug}"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kind": "dataset",
            "title": "Atlas",
            "description": "Un atlas.",
            "reuser": "Alice",
            "url": "https://atlas.example",
            "dataset": dataset.slug,
        },
    )
    assert response.status_code == 302
    assert Reuse.objects.get().title == "Atlas"
    invalid = client.post(url, {"kind": "dataset", "title": "", "dataset": dataset.slug})
    assert invalid.status_code == 422
