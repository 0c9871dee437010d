"""Mail backends that fail, for the notifier's retry tests (real backend classes, set in settings)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class RefusingBackend(LocmemBackend):
    """A mail server that refuses every connection."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise ConnectionRefusedError("serveur de courrier injoignable")


class FlakyBackend(LocmemBackend):
    """Refuses the first ``failures`` messages, then delivers to Django's locmem outbox."""

    failures: ClassVar[int] = 0

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise TimeoutError("délai dépassé")
        return super().send_messages(email_messages)
