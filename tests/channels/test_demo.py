"""The channels demo: two channels with services in and out and why, a late listing (State-side
breach), a removal with its failing clause, a confirmed takeover and a public alert."""

from __future__ import annotations

import pytest
from django.test import Client

from pacte.channels import selectors
from pacte.channels.models import ChannelListing, Takeover
from pacte.projects.models import Project

pytestmark = pytest.mark.django_db

L = ChannelListing.State


def test_channels_demo(demo_data) -> None:  # type: ignore[no-untyped-def]
    national = selectors.get_channel("annuaire-national-emploi")
    regional = selectors.get_channel("guichets-val-de-loire")
    assert [s.project.slug for s in selectors.listed_services(national)] == [
        "la-bonne-boite-citoyenne"
    ]
    assert [s.project.slug for s in selectors.listed_services(regional)] == ["covoiturage-emploi"]
    permis = ChannelListing.objects.get(project__slug="permis-solidaire")
    assert (permis.status, permis.late, permis.failing_clause) == (
        L.REMOVED,
        True,
        "bias_within_band",
    )
    covoiturage = ChannelListing.objects.get(project__slug="covoiturage-emploi")
    assert not covoiturage.late
    # out, and why: the carrier of Atelier CV sees the clause it does not meet yet
    atelier = Project.objects.get(slug="atelier-cv-solidaire")
    [standing] = [s for s in selectors.standings_for_project(atelier) if s.channel == national]
    assert not standing.met
    assert [line.code for line in standing.clauses if not line.met] == [
        "positive_effect",
        "algorithm_sheet",
    ]
    # takeovers
    assert Takeover.objects.get(project__slug="la-bonne-boite-citoyenne").confirmed
    assert Takeover.objects.get(project__slug="mes-droits").alert_raised_on is not None
    client = Client()
    html = client.get("/organisations/dinum-fictive/").content.decode()
    assert "Alerte : reprises non confirmées" in html and "Mes Droits" in html
    html = client.get("/organisations/region-val-de-loire/").content.decode()
    assert "Inscription des services dans les canaux de diffusion" in html
    record = client.get("/api/v1/institutions/region-val-de-loire/record").json()
    channel_promise = next(p for p in record["promises"] if p["name"] == "channel_listings")
    assert channel_promise["answered"] == 2 and channel_promise["share_on_time"] == 0.5
