"""What Pacte takes from the claims FranceConnect and ProConnect send (pure functions)."""

from __future__ import annotations

from typing import Any

# what the sign-in stashes in its state and checks at the callback (provider → views)
NONCE_KEY = "pacte_nonce"
ACR_KEY = "pacte_acr"


def _claims(data: dict[str, Any]) -> dict[str, Any]:
    """allauth keeps {"userinfo": …, "id_token": …}; userinfo has the most."""
    merged: dict[str, Any] = {}
    for part in ("id_token", "userinfo"):
        value = data.get(part)
        if isinstance(value, dict):
            merged.update(value)
    return merged or data


def common_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Fields of the Pacte account: FranceConnect's family_name, ProConnect's usual_name."""
    claims = _claims(data)
    given = str(claims.get("given_name") or "").strip()
    family = str(claims.get("family_name") or claims.get("usual_name") or "").strip()
    return {
        "email": claims.get("email"),
        "email_verified": claims.get("email_verified") is True,
        "first_name": given[:150],
        "last_name": family[:150],
    }


def display_name(data: dict[str, Any]) -> str:
    """ "Angela DUBOIS": the first given name and the family (or usual) name."""
    fields = common_fields(data)
    first = fields["first_name"].split(" ")[0] if fields["first_name"] else ""
    return " ".join(p for p in (first, fields["last_name"]) if p)[:120]


def siret(data: dict[str, Any]) -> str:
    """The SIRET of a ProConnect agent's organisation, digits only ("" when none)."""
    value = str(_claims(data).get("siret") or "")
    return "".join(c for c in value if c.isdigit())
