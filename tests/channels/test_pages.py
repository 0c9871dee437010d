"""The channel pages in French: list, channel page (condition, services, snippet), the embeddable
page (framing allowed there only) and the script-free fragment, the forms of every step, the
carrier's view on the project page and the State's record on the institution page."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape

from django.test import Client

from pacte.accounts import policy
from pacte.channels import declarations, listings
from pacte.channels.models import Channel, ChannelListing, ServiceCoverage, Takeover
from tests.channels.conftest import channel_in, publish_all_evidence
from tests.project_page import project_page


def _text(response) -> str:  # type: ignore[no-untyped-def]
    """The page as a person reads it (entities decoded)."""
    return unescape(response.content.decode())


def _login(acting) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(acting.user)
    session = c.session
    session["acting_organisation_id"] = acting.organisation.pk
    session.save()
    return c


def test_public_pages_embed_and_fragment(client, world, service, channel) -> None:  # type: ignore[no-untyped-def]
    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, date.today())
    html = _text(client.get("/canaux/"))
    assert channel.name in html and "Règles d'éligibilité publiées (version 2026-12)" in html
    html = _text(client.get(f"/canaux/{channel.slug}/"))
    assert "Pacte en vigueur" in html and "Territoire couvert : val-de-loire" in html
    assert service.project.name in html
    assert (
        f"/canaux/{channel.slug}/integrer/" in html and "<iframe src=" in html
    )  # the snippet, shown as text
    assert client.get(f"/canaux/{channel.slug}/").headers["X-Frame-Options"] == "DENY"

    embed = client.get(f"/canaux/{channel.slug}/integrer/", {"territory": "Val-de-Loire"})
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    body = embed.content.decode()
    assert service.project.name in body and "<script" not in body and 'lang="fr"' in body

    fragment = client.get(f"/canaux/{channel.slug}/fragment.html", {"need": "emploi"})
    text = fragment.content.decode()
    assert service.project.name in text and "<script" not in text and "<html" not in text
    assert fragment.headers["Access-Control-Allow-Origin"] == "*"
    empty = client.get(
        f"/canaux/{channel.slug}/fragment.html", {"need": "logement"}
    ).content.decode()
    assert "Aucun service inscrit pour ces critères." in empty
    assert client.get("/canaux/inconnu/").status_code == 404


def test_institution_declares_and_edits_a_channel_through_the_forms(world) -> None:  # type: ignore[no-untyped-def]
    c = _login(world.signatory)
    assert "Déclarer un canal de diffusion" in _text(c.get("/canaux/"))
    form = {
        "name": "Boîte à outils des conseillers",
        "kind": "toolbox",
        "clauses": ["pact_active", "positive_effect"],
        "min_lower_bound_points": "1",
        "territories": "Val-de-Loire, Centre",
        "needs": "emploi",
        "listing_delay_days": "10",
    }
    bad = c.post("/canaux/nouveau/", {**form, "listing_delay_days": "-3"})
    assert bad.status_code == 400 and Channel.objects.count() == 0
    r = c.post("/canaux/nouveau/", form)
    assert r.status_code == 302
    channel = Channel.objects.get()
    assert (channel.min_lower_bound, channel.territories, channel.listing_delay_days) == (
        0.01,
        ["centre", "val-de-loire"],
        10,
    )
    r = c.post(f"/canaux/{channel.slug}/modifier/", {**form, "listing_delay_days": "5"})
    assert r.status_code == 302
    channel.refresh_from_db()
    assert channel.listing_delay_days == 5
    # a carrier may not, and is told why
    carrier = _login(world.carrier_admin)
    refused = carrier.post("/canaux/nouveau/", {**form, "name": "Autre canal"})
    assert refused.status_code == 403
    assert "Seul un signataire" in _text(refused)
    assert Channel.objects.count() == 1
    assert carrier.get(f"/canaux/{channel.slug}/modifier/").status_code == 403


def test_carrier_sees_what_it_does_not_meet_yet_and_declares_its_coverage(
    world, service, channel
) -> None:  # type: ignore[no-untyped-def]
    c = _login(world.carrier_admin)
    html = unescape(project_page(c, service.project.slug))
    assert "Aucune évaluation d'impact n'est encore publiée." in html and "pas encore" in html
    assert f"/services/{service.project.slug}/couverture/" in html
    r = c.post(
        f"/services/{service.project.slug}/couverture/",
        {"territories": "Val-de-Loire, Centre", "needs": "emploi, mobilité"},
    )
    assert r.status_code == 302
    assert ServiceCoverage.objects.get(project=service.project).territories == [
        "centre",
        "val-de-loire",
    ]
    assert (
        _login(world.signatory).get(f"/services/{service.project.slug}/couverture/").status_code
        == 403
    )


def test_institution_lists_a_pending_service_from_the_channel_page(world, service) -> None:  # type: ignore[no-untyped-def]
    channel = declarations.declare_channel(
        world.signatory,
        world.institution,
        channel_in(name="Guichets", kind="counters", listing_delay_days=3),
    )
    publish_all_evidence(world, service)
    listings.run_channels(policy.SYSTEM, date.today() - timedelta(days=5))
    listings.run_channels(policy.SYSTEM, date.today() - timedelta(days=1))  # late by now
    c = _login(world.signatory)
    html = _text(c.get(f"/canaux/{channel.slug}/"))
    assert "en retard (manquement de l'État)" in html
    listing = ChannelListing.objects.get()
    r = c.post(f"/canaux/{channel.slug}/inscriptions/{listing.pk}/inscrire/")
    assert r.status_code == 302
    listing.refresh_from_db()
    assert listing.status == "listed" and listing.late
    assert "inscriptions en retard" in Client().get("/canaux/").content.decode()
    html = _text(Client().get("/organisations/agence/"))
    assert (
        "Le bilan de l" in html and "Inscription des services dans les canaux de diffusion" in html
    )


def test_takeover_form(world) -> None:  # type: ignore[no-untyped-def]
    project = world.project(name="Repris")
    project.takeover_institution = world.institution
    project.save()
    c = _login(world.signatory)
    bad = c.post(f"/services/{project.slug}/reprise/", {"takeover_on": "2020-01-01"})
    assert (
        bad.status_code == 400
        and "La date de reprise ne peut pas être passée." in bad.content.decode()
    )
    day = (date.today() + timedelta(days=200)).isoformat()
    assert c.post(f"/services/{project.slug}/reprise/", {"takeover_on": day}).status_code == 302
    assert Takeover.objects.get(project=project).takeover_on.isoformat() == day
    assert _login(world.reviewer).get(f"/services/{project.slug}/reprise/").status_code == 403
