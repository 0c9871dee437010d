"""The jury's form keeps what was typed when it is refused (issue 12): the decisions ticked and
the reasons written stay, each error shows beside its application, in French; nothing is half
published."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from pacte.comptoirs import challenges
from pacte.comptoirs.models import Application
from tests.comptoirs.test_challenges import challenge, challenge_in, dataset, team  # noqa: F401

pytestmark = pytest.mark.django_db


def _login(acting) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(acting.user)
    session = c.session
    session["acting_organisation_id"] = acting.organisation.pk
    session.save()
    return c


def test_a_refused_jury_form_shows_what_was_typed_with_the_errors(world, challenge):  # type: ignore[no-untyped-def]  # noqa: F811
    a = challenges.apply(world.carrier_admin, challenge, proposal="Un simulateur.", team="3 devs")
    b = challenges.apply(
        team(world, "autres"), challenge, proposal="Une campagne.", team="2 personnes"
    )
    desk = _login(world.reviewer)
    r = desk.post(
        f"/defis/{challenge.slug}/selection/",
        {
            f"decision_{a.pk}": "select",
            f"reason_{a.pk}": "Impact mesurable et code ouvert.",
            f"decision_{b.pk}": "reject",
            f"reason_{b.pk}": "Trop tôt",  # under ten characters
        },
    )
    html = r.content.decode()
    assert r.status_code == 400
    assert "Le jury décide de chaque candidature, avec un motif." in html
    # the ticked decisions and the typed reasons are still there
    assert re.search(rf'id="decision_{a.pk}_select"[^>]*checked', html)
    assert re.search(rf'id="decision_{b.pk}_reject"[^>]*checked', html)
    assert not re.search(rf'id="decision_{a.pk}_reject"[^>]*checked', html)
    assert "Impact mesurable et code ouvert.</textarea>" in html
    assert "Trop tôt</textarea>" in html
    # the error beside the application it concerns, and only there
    assert f'id="jury_error_{b.pk}"' in html and f'id="jury_error_{a.pk}"' not in html
    assert "Motif obligatoire (10 caractères au moins)." in html
    assert Application.objects.filter(status="submitted").count() == 2  # nothing published

    # a decision left out: its error shows, the other entry stays
    r = desk.post(
        f"/defis/{challenge.slug}/selection/",
        {f"decision_{a.pk}": "select", f"reason_{a.pk}": "Impact mesurable et code ouvert."},
    )
    html = r.content.decode()
    assert r.status_code == 400 and f'id="jury_error_{b.pk}"' in html
    assert "Décision et motif obligatoires." in html
    assert re.search(rf'id="decision_{a.pk}_select"[^>]*checked', html)

    r = desk.post(
        f"/defis/{challenge.slug}/selection/",
        {
            f"decision_{a.pk}": "select",
            f"reason_{a.pk}": "Impact mesurable et code ouvert.",
            f"decision_{b.pk}": "reject",
            f"reason_{b.pk}": "Pas de mesure d'impact prévue.",
        },
    )
    assert r.status_code == 302
    assert Application.objects.get(pk=b.pk).status == "not_selected"
