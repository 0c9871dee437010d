"""Every kind of event the demo writes to the public log reads as a French sentence on the pages
(pacte.web.labels): a new domain that forgets to name its events fails here, not in a citizen's
browser (the crawl found 44 such codes shown raw, e.g. ``consultation.comment_answered``)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_event_type_of_the_demo_has_a_sentence(demo_data) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    from pacte.journal.models import Event
    from pacte.web import labels

    types = set(Event.objects.values_list("type", flat=True))
    assert len(types) > 60, "the demo exercises the platform's events"
    with translation.override("fr"):
        unnamed = sorted(t for t in types if labels.event(t) == t)
    assert not unnamed, f"log events without a sentence in pacte.web.labels: {unnamed}"
