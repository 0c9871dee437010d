"""Granted data in the browser (issue 14, part 2): the grantee's team, signed in, downloads an
extract (tiers 1 and 2) or runs a differentially private aggregate (tier 3) from a page, with the
grant's limits and the privacy budget left in view. The same gateway functions as the API
(``data.gateway``) check the grant and log every call in the journal; only the way in differs
(the session and ``policy.Action.GRANT_USE`` instead of the grant's bearer token)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.services import Acting
from pacte.data import selectors
from pacte.data.gateway import extracts
from pacte.data.gateway.access import check_usable
from pacte.data.gateway.aggregates import dp_aggregates
from pacte.data.models import Grant, GrantState
from pacte.engines import privacy, proportionality
from pacte.errors import DomainError, NotAuthenticated

AGGREGATE_OPS = (("sum", gettext_lazy("la somme")), ("mean", gettext_lazy("la moyenne")))


def _acting(request: HttpRequest) -> Acting:
    acting: Acting | None = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


def _grant_for(request: HttpRequest, reference: str) -> tuple[Acting, Grant]:
    acting = _acting(request)
    grant = selectors.get_grant(reference)
    policy.require(acting, policy.Action.GRANT_USE, grant)
    return acting, grant


@login_required
def grant_list(request: HttpRequest) -> HttpResponse:
    """The data access granted to the active organisation's projects."""
    acting = _acting(request)
    grants = (
        Grant.objects.filter(project__carrier=acting.organisation)
        .select_related("project", "dataset_version__dataset")
        .order_by("-issued_at")
    )
    return render(
        request,
        "data/grant_list.html",
        {
            "grants": [(g, proportionality.Tier(g.tier).label) for g in grants],
        },
    )


def _page(
    request: HttpRequest,
    grant: Grant,
    *,
    error: str = "",
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    columns = [c for c in grant.dataset_version.columns if c["name"] in set(grant.columns)]
    return render(
        request,
        "data/grant_downloads.html",
        {
            "g": grant,
            "tier_label": proportionality.Tier(grant.tier).label,
            "usable": grant.state in (GrantState.ACTIVE, GrantState.RENEWAL_DUE),
            "groupable": [c for c in columns if c.get("keys")],
            "measurable": [c for c in columns if c.get("bounds")],
            "ops": AGGREGATE_OPS,
            "dp_limits": privacy.published_limits(),
            "error": error,
            "values": values or {},
        },
        status=status,
    )


@login_required
def grant_downloads(request: HttpRequest, reference: str) -> HttpResponse:
    _acting_, grant = _grant_for(request, reference)
    return _page(request, grant)


@login_required
@require_POST
def grant_extract(request: HttpRequest, reference: str) -> HttpResponseBase:
    """Tiers 1 and 2: the extract, streamed as the API streams it (the gateway logs the call)."""
    _acting_, grant = _grant_for(request, reference)
    fmt = request.POST.get("format", "csv")
    try:
        check_usable(grant)  # what the token's authentication checks on the API
        ex = extracts.extract(grant, grant.dataset_version.dataset.slug, fmt)
    except DomainError as exc:
        if exc.status >= 500:
            raise
        grant.refresh_from_db()
        return _page(request, grant, error=exc.message, status=exc.status)
    response = StreamingHttpResponse(ex.chunks(), content_type=ex.content_type)
    response["Content-Disposition"] = f'attachment; filename="{ex.filename}"'
    response["X-Pacte-Rows"] = str(ex.rows)
    response["X-Pacte-Output-SHA256"] = ex.sha256
    return response


def aggregate_body(post: Any, grant: Grant) -> dict[str, Any]:
    """The gateway's query body from the page's fields (the gateway validates it)."""
    aggregates: list[dict[str, str]] = [{"op": "count"}]
    op, column = post.get("op", ""), post.get("column", "")
    if op in ("sum", "mean") and column:
        aggregates.append({"op": op, "column": column})
    body: dict[str, Any] = {
        "group_by": [c for c in post.getlist("group_by") if c],
        "aggregates": aggregates,
        "filters": [],
    }
    rho = (post.get("rho") or "").strip().replace(",", ".")
    if rho:
        try:
            body["rho"] = float(rho)
        except ValueError:
            body["rho"] = rho  # the gateway answers why, in words
    return body


@login_required
@require_POST
def grant_aggregates(request: HttpRequest, reference: str) -> HttpResponse:
    """Tier 3: noisy aggregates; the result is the public release page (budget spent, noise)."""
    _acting_, grant = _grant_for(request, reference)
    body = aggregate_body(request.POST, grant)
    try:
        check_usable(grant)  # what the token's authentication checks on the API
        out = dp_aggregates(grant, grant.dataset_version.dataset.slug, body)
    except DomainError as exc:
        if exc.status >= 500:
            raise
        grant.refresh_from_db()
        values = {
            "group_by": request.POST.getlist("group_by"),
            "op": request.POST.get("op", ""),
            "column": request.POST.get("column", ""),
            "rho": request.POST.get("rho", ""),
        }
        return _page(request, grant, error=exc.message, values=values, status=exc.status)
    if out.get("cached"):
        messages.success(
            request,
            _("Cette requête avait déjà été publiée : le même résultat est servi, sans dépense."),
        )
    else:
        messages.success(
            request,
            _(
                "Résultat publié : ρ = %(rho)s dépensé, il reste %(left)s. Les valeurs sont bruitées "
                "(la marge à 95 %% est indiquée) ; la requête et son empreinte sont au journal."
            )
            % {"rho": f"{out['rho_spent']:g}", "left": f"{out['rho_remaining']:.4g}"},
        )
    return redirect("data:release", release_id=out["release_id"])
