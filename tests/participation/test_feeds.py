"""Atom feeds: valid for feedparser (no bozo) and carrying RFC 4287's required elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import pytest
from django.urls import reverse

from pacte.participation import comments

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def check_atom(body: bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = ET.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    # RFC 4287 §4.1.1: a feed has exactly one id, title, updated; an author (or every entry has
    # one); a link rel="self" is recommended, an alternate link is given
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    assert any(link.get("rel") == "self" for link in root.findall(f"{ATOM}link"))
    entries = root.findall(f"{ATOM}entry")
    assert entries, "the feed has entries"
    for entry in entries:  # §4.1.2: each entry has one id, title, updated, and a link
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert entry.find(f"{ATOM}link") is not None
        assert entry.find(f"{ATOM}author/{ATOM}name") is not None
    assert len({e.find(f"{ATOM}id").text for e in entries}) == len(entries)  # type: ignore[union-attr]
    return parsed


def test_the_registry_feed(client, world, citizens, consultation):
    response = client.get(reverse("participation:feed_registry"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    parsed = check_atom(response.content)
    types = " ".join(e.title for e in parsed.entries)
    assert "Consultation publique ouverte" in types and "Pacte soumis" in types


def test_the_project_feed_carries_the_consultation_and_its_answers(
    client, world, citizens, consultation
):
    c = comments.post_comment(citizens.alice_p, consultation, "mission", "Question ?")
    comments.answer_comment(world.carrier_member, c, "Réponse.")
    slug = consultation.version.pact.project.slug
    parsed = check_atom(client.get(reverse("participation:feed_project", args=[slug])).content)
    assert parsed.entries[0].title.startswith("Réponse publiée à un commentaire")
    assert parsed.entries[0].link.endswith(f"#commentaire-{c.pk}")


def test_the_institution_and_log_feeds(client, world, consultation):
    check_atom(client.get(reverse("participation:feed_institution", args=["agence"])).content)
    parsed = check_atom(client.get(reverse("participation:feed_log")).content)
    assert len(parsed.entries) >= 3


def test_an_unknown_project_feed_is_a_404(client, db):
    assert client.get(reverse("participation:feed_project", args=["nulle-part"])).status_code == 404
