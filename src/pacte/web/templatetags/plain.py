"""Plain French for codes in templates: ``{% load plain %}{{ code|label:"recurrence" }}``."""

from __future__ import annotations

from typing import Any

from django import template

from pacte.web import labels

register = template.Library()


@register.filter
def label(code: Any, kind: str) -> str:
    """The words for a code of the given kind (see pacte.web.labels)."""
    return labels.label(kind, code)


@register.filter
def event_sentence(code: str) -> str:
    """A journal event type as a sentence."""
    return labels.label("event", code)
