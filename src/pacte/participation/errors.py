"""The participation domain's own errors."""

from __future__ import annotations

from pacte.errors import Conflict


class ConsultationClosed(Conflict):
    """The consultation does not (or no longer) accept comments (409)."""

    code = "consultation_closed"
