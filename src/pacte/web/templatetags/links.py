"""`{% load links %}` then `{{ value|web_link }}`: the address if it is http(s), else "".

Templates render a stored address as a link only through this filter, so a bad address already
in the database (e.g. ``javascript:…`` stored before validation existed) never becomes a live link.
"""

from __future__ import annotations

from django import template

from pacte.links import is_web_link

register = template.Library()


@register.filter
def web_link(value: object) -> str:
    return value if isinstance(value, str) and is_web_link(value) else ""
