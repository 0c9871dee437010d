"""Web links that people publish (project site, code repository, evidence of a commitment…).

Only http(s) addresses are accepted anywhere a link is stored, and only those are ever rendered
as a link: a ``javascript:`` or ``data:`` address would run in the visitor's browser. Django's
URLValidator does the parsing; this module narrows it to the two web schemes and says why in
French.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from pacte.errors import ValidationFailed

WEB_SCHEMES = ["http", "https"]
MAX_LINK_LENGTH = 200  # the URLField columns
LINK_MESSAGE = _("Saisissez une adresse web complète commençant par http:// ou https://.")

web_link_validator = URLValidator(schemes=WEB_SCHEMES, message=LINK_MESSAGE)


def is_web_link(value: object) -> bool:
    """True for an absolute http(s) address that URLValidator accepts."""
    if not isinstance(value, str) or not value or len(value) > MAX_LINK_LENGTH:
        return False
    try:
        web_link_validator(value)
    except ValidationError:
        return False
    return True


def clean_web_link(value: str | None, field: str = "url") -> str:
    """The address, stripped; "" stays "" (no link). Anything else than http(s) is refused."""
    value = (value or "").strip()
    if value and not is_web_link(value):
        message = str(LINK_MESSAGE)
        raise ValidationFailed(message, field_errors={field: [message]})
    return value
