"""The published routing table of the comptoir: theme × territory → institution, named contact
role, clock.

Who keeps it: the platform (any row), and each institution for the rows that route to it — a
signatory adds, changes or removes them (``Action.COMPTOIR_ROUTE_KEEP``); a row held by another
institution is that institution's (or the platform's) to change. Every change publishes a new
:class:`~pacte.comptoirs.models.RoutingVersion` of the table (the change, its reason, the whole
table as it then stood) and writes its journal event, in the same transaction. Posts already
routed keep their assignment: a change applies to the next posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Organisation, Role
from pacte.accounts.policy import Action, Principal
from pacte.comptoirs.events import exchange_event
from pacte.comptoirs.models import Route, RoutingVersion, Theme
from pacte.errors import InvalidTransition, ValidationFailed
from pacte.writes.models import ReferenceCounter
from pacte.writes.retry import retry_on_conflict

# the contact roles a row may name: the institution's own desks
CONTACT_ROLES = (Role.REVIEWER, Role.SIGNATORY, Role.DATA_STEWARD, Role.FINANCE_OFFICER)
VERSION_COUNTER = "comptoir-routing"  # the table's version counter, locked by every change


@dataclass(frozen=True)
class RouteIn:
    theme: str  # "" = any theme
    territory: str  # "" = any territory
    institution: Organisation
    contact_role: str
    contact_title: str
    clock_days: int


def _require_keeper(principal: Principal, institution: Organisation) -> None:
    """The platform keeps every row; an institution, the rows that route to it."""
    if policy.may(principal, Action.COMPTOIR_ROUTE, None):
        return
    policy.require(principal, Action.COMPTOIR_ROUTE_KEEP, institution)


def _checked(data: RouteIn, *, replacing: Route | None = None) -> RouteIn:
    errors: dict[str, list[str]] = {}
    territory = " ".join(data.territory.split())
    if data.theme and data.theme not in Theme.values:
        errors["theme"] = [_("Thème inconnu.")]
    if len(territory) > 120:
        errors["territory"] = [_("Un territoire de 120 caractères au plus.")]
    if not data.institution.is_institution:
        errors["institution"] = [_("Le comptoir route vers une institution publique.")]
    if data.contact_role not in Role.values or not data.contact_title.strip():
        errors["contact_role"] = [_("Nommez le rôle et l'intitulé du contact.")]
    if len(data.contact_title.strip()) > 120:
        errors["contact_title"] = [_("Un intitulé de 120 caractères au plus.")]
    if not 1 <= data.clock_days <= 365:
        errors["clock_days"] = [_("Un délai de réponse entre 1 et 365 jours.")]
    taken = Route.objects.filter(theme=data.theme, territory__iexact=territory)
    if replacing is not None:
        taken = taken.exclude(pk=replacing.pk)
    if replacing is not None and taken.exists():
        errors["territory"] = [
            _("Une autre ligne couvre déjà ce thème et ce territoire : modifiez-la plutôt.")
        ]
    if errors:
        raise ValidationFailed(_("La règle de routage est invalide."), field_errors=errors)
    return RouteIn(
        data.theme,
        territory,
        data.institution,
        data.contact_role,
        data.contact_title.strip(),
        data.clock_days,
    )


def _row(route: Route) -> dict[str, Any]:
    return {
        "theme": route.theme,
        "territory": route.territory,
        "institution": route.institution.slug,
        "contact_role": route.contact_role,
        "contact": route.contact_title,
        "clock_days": route.clock_days,
    }


def _publish(
    principal: Principal,
    change: str,
    route: Route,
    reason: str,
    previous: dict[str, Any] | None = None,
) -> RoutingVersion:
    """A new version of the table, and its journal event. The caller holds the table's lock, so
    version numbers follow each other without gaps."""
    last = RoutingVersion.objects.order_by("-number").values_list("number", flat=True).first()
    ReferenceCounter.objects.filter(scope=VERSION_COUNTER).update(last=(last or 0) + 1)
    acting_org = getattr(principal, "organisation", None)
    version = RoutingVersion.objects.create(
        number=(last or 0) + 1,
        published_at=timezone.now(),
        change=change,
        theme=route.theme,
        territory=route.territory,
        institution=route.institution,
        published_by=acting_org if isinstance(acting_org, Organisation) else None,
        reason=reason.strip(),
        rows=[_row(r) for r in Route.objects.select_related("institution").order_by("pk")],
    )
    exchange_event(
        f"comptoir.route.{'removed' if change == RoutingVersion.Change.REMOVED else 'set'}",
        principal,
        "comptoir_route",
        f"{route.theme or '*'}/{route.territory or '*'}",
        table_version=version.number,
        change=change,
        institution=route.institution.slug,
        contact_role=route.contact_role,
        contact=route.contact_title,
        clock_days=route.clock_days,
        previous=previous,
        reason=version.reason or None,
    )
    return version


def _lock() -> None:
    """Every change to the table takes its version counter first (SELECT … FOR UPDATE): changes
    follow each other, and the lock is taken before the journal's (see ``pacte.journal``)."""
    ReferenceCounter.objects.bulk_create(
        [ReferenceCounter(scope=VERSION_COUNTER, last=0)], ignore_conflicts=True
    )
    ReferenceCounter.objects.select_for_update().get(scope=VERSION_COUNTER)


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
    reason: str = "",
) -> Route:
    """Create or replace the row for (theme, territory); empty theme or territory: any."""
    _lock()
    data = _checked(RouteIn(theme, territory, institution, contact_role, contact_title, clock_days))
    _require_keeper(principal, data.institution)
    route = (
        Route.objects.select_for_update()
        .select_related("institution")
        .filter(theme=data.theme, territory__iexact=data.territory)
        .first()
    )
    if route is not None:
        return _change_locked(principal, route, data, reason)
    route = Route.objects.create(
        theme=data.theme,
        territory=data.territory,
        institution=data.institution,
        contact_role=data.contact_role,
        contact_title=data.contact_title,
        clock_days=data.clock_days,
    )
    _publish(principal, RoutingVersion.Change.ADDED, route, reason)
    return route


def _change_locked(principal: Principal, route: Route, data: RouteIn, reason: str) -> Route:
    _require_keeper(principal, route.institution)  # the row's current holder
    previous = _row(route)
    route.theme = data.theme
    route.territory = data.territory
    route.institution = data.institution
    route.contact_role = data.contact_role
    route.contact_title = data.contact_title
    route.clock_days = data.clock_days
    if _row(route) == previous:
        return route  # nothing changed: no new version
    route.save()
    _publish(principal, RoutingVersion.Change.CHANGED, route, reason, previous)
    return route


@retry_on_conflict
@transaction.atomic
def change_route(principal: Principal, route: Route, data: RouteIn, reason: str = "") -> Route:
    """Change one row (its theme and territory too, if no other row covers the new pair)."""
    _lock()
    route = Route.objects.select_for_update().select_related("institution").get(pk=route.pk)
    _require_keeper(principal, route.institution)
    data = _checked(data, replacing=route)
    _require_keeper(principal, data.institution)
    return _change_locked(principal, route, data, reason)


@retry_on_conflict
@transaction.atomic
def remove_route(principal: Principal, route: Route, reason: str) -> RoutingVersion:
    """Remove one row, with a public reason. The catch-all row stays: without it, a post that
    matches no other row could not be routed."""
    _lock()
    route = Route.objects.select_for_update().select_related("institution").get(pk=route.pk)
    _require_keeper(principal, route.institution)
    if len(reason.strip()) < 10:
        raise ValidationFailed(
            _("Donnez le motif du retrait (10 caractères au moins), il sera public."),
            field_errors={"reason": [_("Motif trop court.")]},
        )
    if not route.theme and not route.territory:
        raise InvalidTransition(
            _(
                "La ligne par défaut (tous thèmes, tous territoires) ne peut pas être retirée : "
                "modifiez-la plutôt."
            )
        )
    removed = Route(
        pk=route.pk,
        theme=route.theme,
        territory=route.territory,
        institution=route.institution,
        contact_role=route.contact_role,
        contact_title=route.contact_title,
        clock_days=route.clock_days,
    )
    route.delete()
    return _publish(principal, RoutingVersion.Change.REMOVED, removed, reason)
