"""The published routing table of the comptoir: theme × territory → institution, named contact
role, clock. Setting a row is a governance event (journal, same transaction)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Organisation, Role
from pacte.accounts.policy import Action, Principal
from pacte.comptoirs.events import exchange_event
from pacte.comptoirs.models import Route, Theme
from pacte.errors import ValidationFailed
from pacte.writes.retry import retry_on_conflict


@retry_on_conflict
@transaction.atomic
def set_route(
    principal: Principal,
    *,
    theme: str,
    territory: str,
    institution: Organisation,
    contact_role: str,
    contact_title: str,
    clock_days: int,
) -> Route:
    """Create or replace the row for (theme, territory); empty theme or territory: any."""
    policy.require(principal, Action.COMPTOIR_ROUTE, None)
    errors: dict[str, list[str]] = {}
    if theme and theme not in Theme.values:
        errors["theme"] = [_("Thème inconnu.")]
    if not institution.is_institution:
        errors["institution"] = [_("Le comptoir route vers une institution publique.")]
    if contact_role not in Role.values or not contact_title.strip():
        errors["contact_role"] = [_("Nommez le rôle et l'intitulé du contact.")]
    if not 1 <= clock_days <= 365:
        errors["clock_days"] = [_("Un délai de réponse entre 1 et 365 jours.")]
    if errors:
        raise ValidationFailed(_("La règle de routage est invalide."), field_errors=errors)
    route, _created = Route.objects.update_or_create(
        theme=theme,
        territory=territory.strip(),
        defaults={
            "institution": institution,
            "contact_role": contact_role,
            "contact_title": contact_title.strip(),
            "clock_days": clock_days,
        },
    )
    exchange_event(
        "comptoir.route.set",
        principal,
        "comptoir_route",
        f"{theme or '*'}/{route.territory or '*'}",
        institution=institution.slug,
        contact_role=contact_role,
        contact=route.contact_title,
        clock_days=clock_days,
    )
    return route
