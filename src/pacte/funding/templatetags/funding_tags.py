"""``{% pact_funding pact %}``: the contract tab on a pact's page (outcome contracts, their payments,
and the State-side breaches — late payments — as prominently as a carrier's)."""

from __future__ import annotations

from typing import Any

from django import template

from pacte.funding import selectors

register = template.Library()


@register.inclusion_tag("funding/_pact_tab.html")
def pact_funding(pact: Any) -> dict[str, Any]:
    contracts = list(selectors.contracts(pact=pact.reference).prefetch_related("windows"))
    orders = list(selectors.payments().filter(contract__version__pact=pact))
    return {
        "contracts": contracts,
        "orders": orders,
        "late": [o for o in orders if o.late and o.status != "cancelled"],
    }
