"""The footer's statement link says the site's RGAA conformity level, as the RGAA model asks."""

from __future__ import annotations

import json
from functools import lru_cache

from django import template
from django.utils.translation import gettext as _

from pacte.opendata.accessibility import conformity
from pacte.opendata.views import CHECKLIST

register = template.Library()

LEVELS = {
    "totalement conforme": lambda: _("Accessibilité : totalement conforme"),
    "partiellement conforme": lambda: _("Accessibilité : partiellement conforme"),
    "non conforme": lambda: _("Accessibilité : non conforme"),
}


@lru_cache(maxsize=1)
def _level() -> str:
    return conformity(json.loads(CHECKLIST.read_text(encoding="utf-8"))).level


@register.simple_tag
def accessibility_label() -> str:
    return LEVELS[_level()]()
