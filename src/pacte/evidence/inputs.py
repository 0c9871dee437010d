"""Checks of free text shared by the evidence forms (titles, questions, replies…)."""

from __future__ import annotations

from pacte.errors import ValidationFailed


def required_text(value: str, field: str, message: str, minimum: int = 3) -> str:
    """The stripped text, or a 422 naming the field when it is shorter than ``minimum``."""
    value = (value or "").strip()
    if len(value) < minimum:
        raise ValidationFailed(message, field_errors={field: [message]})
    return value
