"""Thin views of the comptoir's routing table (issue 12): the public table with its version and
history, and the page where an institution's signatories (or the platform's administrators) add,
change and remove the rows that route to it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Organisation
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.comptoirs import routing, selectors
from pacte.comptoirs.forms import RouteForm, RouteRemoveForm
from pacte.comptoirs.models import Route
from pacte.comptoirs.views import acting_of, run_form
from pacte.errors import NotFound, PermissionDenied


def routes(request: HttpRequest) -> HttpResponse:
    acting = getattr(request, "acting", None)
    return render(
        request,
        "comptoirs/routes.html",
        {
            "routes": selectors.routes(),
            "versions": selectors.routing_versions()[:50],
            "current": selectors.routing_versions().first(),
            "can_keep": acting is not None and _may_keep(acting),
        },
    )


def _may_keep(acting: Acting) -> bool:
    return policy.may(acting, Action.COMPTOIR_ROUTE, None) or policy.may(
        acting, Action.COMPTOIR_ROUTE_KEEP, acting.organisation
    )


def _institutions(acting: Acting) -> list[tuple[str, str]]:
    """The institutions this person may route to: all of them for the platform, else their own."""
    qs = Organisation.objects.filter(kind=Organisation.Kind.INSTITUTION).order_by("name")
    if not policy.may(acting, Action.COMPTOIR_ROUTE, None):
        qs = qs.filter(pk=acting.organisation.pk)
    return [(o.slug, o.name) for o in qs]


def _form(acting: Acting, data: Any = None, initial: dict[str, Any] | None = None) -> RouteForm:
    return RouteForm(
        data,
        initial=initial,
        institutions=_institutions(acting),
        contact_roles=[(r.value, r.label) for r in routing.CONTACT_ROLES],
    )


def _route_in(d: dict[str, Any]) -> routing.RouteIn:
    return routing.RouteIn(
        theme=d["theme"],
        territory=d["territory"],
        institution=Organisation.objects.get(slug=d["institution"]),
        contact_role=d["contact_role"],
        contact_title=d["contact_title"],
        clock_days=d["clock_days"],
    )


def _kept_rows(acting: Acting) -> list[Route]:
    rows = selectors.routes()
    if policy.may(acting, Action.COMPTOIR_ROUTE, None):
        return list(rows)
    return list(rows.filter(institution=acting.organisation))


def _page(request: HttpRequest, acting: Acting, form: RouteForm, status: int) -> HttpResponse:
    return render(
        request,
        "comptoirs/routes_keep.html",
        {"form": form, "rows": _kept_rows(acting)},
        status=status,
    )


@login_required
def routes_keep(request: HttpRequest) -> HttpResponse:
    """The rows this person keeps, and the form to add one."""
    acting = acting_of(request)
    if not _may_keep(acting):
        raise PermissionDenied(
            _("Seul un signataire d'une institution peut tenir ses lignes de la table de routage.")
        )
    form = _form(acting, request.POST or None)
    if request.method == "POST":
        d_route = run_form(
            form,
            lambda d: routing.set_route(
                acting,
                theme=d["theme"],
                territory=d["territory"],
                institution=Organisation.objects.get(slug=d["institution"]),
                contact_role=d["contact_role"],
                contact_title=d["contact_title"],
                clock_days=d["clock_days"],
                reason=d["reason"],
            ),
        )
        if d_route is not None:
            messages.success(request, _("Table de routage publiée dans sa nouvelle version."))
            return redirect("comptoirs:routes_keep")
    return _page(request, acting, form, 400 if request.method == "POST" else 200)


def _route(pk: int) -> Route:
    route = Route.objects.select_related("institution").filter(pk=pk).first()
    if route is None:
        raise NotFound(_("Cette ligne de la table de routage n'existe pas (ou plus)."))
    return route


def _initial(route: Route) -> dict[str, Any]:
    return {
        "theme": route.theme,
        "territory": route.territory,
        "institution": route.institution.slug,
        "contact_role": route.contact_role,
        "contact_title": route.contact_title,
        "clock_days": route.clock_days,
    }


@login_required
def route_edit(request: HttpRequest, pk: int) -> HttpResponse:
    acting = acting_of(request)
    route = _route(pk)
    policy.require(acting, Action.COMPTOIR_ROUTE_KEEP, route)
    form = _form(acting, request.POST or None, initial=_initial(route))
    if request.method == "POST":
        done = run_form(
            form,
            lambda d: routing.change_route(acting, route, _route_in(d), d["reason"]),
        )
        if done is not None:
            messages.success(request, _("Ligne modifiée : la table de routage est republiée."))
            return redirect("comptoirs:routes_keep")
    return render(
        request,
        "comptoirs/route_form.html",
        {"form": form, "route": route, "remove_form": RouteRemoveForm(prefix="remove")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def route_remove(request: HttpRequest, pk: int) -> HttpResponse:
    acting = acting_of(request)
    route = _route(pk)
    policy.require(acting, Action.COMPTOIR_ROUTE_KEEP, route)
    if request.method != "POST":
        return redirect("comptoirs:route_edit", pk=pk)
    form = RouteRemoveForm(request.POST, prefix="remove")
    done = run_form(form, lambda d: routing.remove_route(acting, route, d["reason"]))
    if done is not None:
        messages.success(request, _("Ligne retirée : la table de routage est republiée."))
        return redirect("comptoirs:routes_keep")
    return render(
        request,
        "comptoirs/route_form.html",
        {"form": _form(acting, initial=_initial(route)), "route": route, "remove_form": form},
        status=400,
    )
