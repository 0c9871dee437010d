"""The funding domain's own errors."""

from __future__ import annotations

from pacte.errors import Conflict


class BudgetExceeded(Conflict):
    """The programme cannot commit this amount: it would go over its budget (409)."""

    code = "budget_exceeded"
