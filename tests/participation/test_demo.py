"""The participation demo: a pact in consultation with citizens' comments (some answered, one
edited, one flagged), follows with their notices, reuses."""

from __future__ import annotations

import pytest

from pacte.participation.models import Comment, Consultation, Follow, Notice, Reuse

pytestmark = pytest.mark.django_db


def test_participation_demo(demo_data):  # type: ignore[no-untyped-def]
    consultation = Consultation.objects.get()
    assert (
        consultation.version.pact.project.slug == "coach-emploi" and consultation.accepts_comments()
    )
    states = list(Comment.objects.values_list("state", flat=True))
    assert states.count("answered") == 2 and states.count("published") == 2
    assert Comment.objects.filter(revisions__isnull=False).count() == 1
    assert Comment.objects.filter(flags__isnull=False).count() == 1
    assert set(Comment.objects.values_list("author__username", flat=True)) == {
        "citoyenne.demo",
        "citoyen.demo",
    }
    assert Follow.objects.count() == 4
    assert Reuse.objects.filter(dataset__slug="declarations-embauche").exists()
    assert Reuse.objects.filter(project__slug="la-bonne-boite-citoyenne").exists()
    ines = Notice.objects.filter(user__username="citoyenne.demo")
    assert ines.filter(event_type="consultation.comment_answered", why="Votre commentaire").exists()
