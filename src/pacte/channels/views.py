"""Thin views: the public channel list and pages, the embeddable directory (iframe page and
script-free fragment), and the institution's and carrier's forms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.channels import declarations, listings, selectors, takeovers
from pacte.channels.forms import (
    ChannelForm,
    CoverageForm,
    ServiceFilterForm,
    TakeoverForm,
    split_words,
)
from pacte.channels.models import ChannelListing, ServiceCoverage
from pacte.channels.texts import clause_label
from pacte.engines.channel_rules import RULES_VERSION, rule_set_rows
from pacte.errors import DomainError, NotAuthenticated, NotFound
from pacte.journal.selectors import events_for_subject
from pacte.projects.models import Project


def _acting(request: HttpRequest) -> Any:
    acting = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


def _form_errors(form: Form, exc: DomainError) -> None:
    form.add_error(None, exc.message)
    for field, errs in exc.field_errors.items():
        if field in form.fields:
            for err in errs:
                form.add_error(field, err)


def channel_list(request: HttpRequest) -> HttpResponse:
    acting = getattr(request, "acting", None)
    return render(
        request,
        "channels/channel_list.html",
        {
            "channels": selectors.channels(),
            "late": selectors.late_listings()[:20],
            "can_declare": acting is not None
            and policy.may(acting, Action.CHANNEL_MANAGE, acting.organisation),
            "rules_version": RULES_VERSION,
            "rule_set": [
                {"clause": row["clause"], "label": clause_label(str(row["clause"]))}
                for row in rule_set_rows()
            ],
        },
    )


def _filters(request: HttpRequest) -> tuple[ServiceFilterForm, str, str]:
    form = ServiceFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["territory"], form.cleaned_data["need"]
    return ServiceFilterForm(), "", ""


def channel_detail(request: HttpRequest, slug: str) -> HttpResponse:
    channel = selectors.get_channel(slug)
    acting = getattr(request, "acting", None)
    form, territory, need = _filters(request)
    embed = request.build_absolute_uri(reverse("channels:embed", args=[channel.slug]))
    fragment = request.build_absolute_uri(reverse("channels:fragment", args=[channel.slug]))
    return render(
        request,
        "channels/channel_detail.html",
        {
            "channel": channel,
            "condition": selectors.condition_lines(channel),
            "services": selectors.listed_services(channel, territory=territory, need=need),
            "history": selectors.listings(channel).exclude(status=ChannelListing.State.LISTED)[:50],
            "filter_form": form,
            "can_manage": policy.may(acting, Action.CHANNEL_MANAGE, channel),
            "embed_url": embed,
            "fragment_url": fragment,
            "events": events_for_subject("channel", channel.slug)[:20],
        },
    )


@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})  # type: ignore[arg-type]  # django-csp types its decorators for views without URL arguments
def channel_embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The page an agency frames in its own site: no header, no script; framing allowed here only."""
    channel = selectors.get_channel(slug)
    form, territory, need = _filters(request)
    return render(
        request,
        "channels/embed.html",
        {
            "channel": channel,
            "services": selectors.listed_services(channel, territory=territory, need=need),
            "filter_form": form,
            "territory": territory,
            "need": need,
        },
    )


def channel_fragment(request: HttpRequest, slug: str) -> HttpResponse:
    """A script-free HTML fragment to include in another site (public data: any origin may read it)."""
    channel = selectors.get_channel(slug)
    _form, territory, need = _filters(request)
    response = render(
        request,
        "channels/_fragment.html",
        {
            "channel": channel,
            "services": selectors.listed_services(channel, territory=territory, need=need),
            "base": request.build_absolute_uri("/").rstrip("/"),
        },
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _channel_data(form: ChannelForm) -> declarations.ChannelIn:
    d = form.cleaned_data
    return declarations.ChannelIn(
        name=d["name"],
        kind=d["kind"],
        clauses=list(d["clauses"]),
        description=d["description"],
        territories=split_words(d["territories"]),
        needs=split_words(d["needs"]),
        min_lower_bound=float(Decimal(d["min_lower_bound_points"]) / 100),
        listing_delay_days=d["listing_delay_days"],
    )


@login_required
def channel_new(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    policy.require(acting, Action.CHANNEL_MANAGE, acting.organisation)
    form = ChannelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                channel = declarations.declare_channel(
                    acting, acting.organisation, _channel_data(form)
                )
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Canal déclaré : sa condition est publiée."))
                return redirect("channels:channel", slug=channel.slug)
        status = 400
    return render(
        request,
        "channels/form.html",
        {"form": form, "title": _("Déclarer un canal de diffusion")},
        status=status,
    )


@login_required
def channel_edit(request: HttpRequest, slug: str) -> HttpResponse:
    acting = _acting(request)
    channel = selectors.get_channel(slug)
    policy.require(acting, Action.CHANNEL_MANAGE, channel)
    form = ChannelForm.for_channel(channel, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                declarations.edit_channel(acting, channel, _channel_data(form))
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Condition modifiée : elle s'applique dès le prochain passage quotidien."),
                )
                return redirect("channels:channel", slug=channel.slug)
        status = 400
    return render(
        request,
        "channels/form.html",
        {
            "form": form,
            "title": _("Modifier le canal « %(name)s »") % {"name": channel.name},
            "channel": channel,
        },
        status=status,
    )


@login_required
@require_POST
def listing_list(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    acting = _acting(request)
    channel = selectors.get_channel(slug)
    listing = ChannelListing.objects.filter(channel=channel, pk=pk).first()
    if listing is None:
        raise NotFound(_("Cette inscription n'existe pas."))
    listings.list_service(acting, listing)
    messages.success(request, _("Service inscrit dans le canal."))
    return redirect("channels:channel", slug=channel.slug)


def _project(slug: str) -> Project:
    project = (
        Project.objects.select_related("carrier", "takeover_institution").filter(slug=slug).first()
    )
    if project is None:
        raise NotFound(_("Ce projet n'existe pas."))
    return project


@login_required
def coverage_edit(request: HttpRequest, slug: str) -> HttpResponse:
    acting = _acting(request)
    project = _project(slug)
    policy.require(acting, Action.PROJECT_EDIT, project)
    coverage = ServiceCoverage.objects.filter(project=project).first()
    initial = (
        {"territories": ", ".join(coverage.territories), "needs": ", ".join(coverage.needs)}
        if coverage
        else {}
    )
    form = CoverageForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                declarations.declare_coverage(
                    acting,
                    project,
                    split_words(form.cleaned_data["territories"]),
                    split_words(form.cleaned_data["needs"]),
                )
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Territoires et besoins du service enregistrés."))
                return redirect("web:project", slug=project.slug)
        status = 400
    return render(
        request,
        "channels/form.html",
        {
            "form": form,
            "title": _("Territoires et besoins de « %(name)s »") % {"name": project.name},
        },
        status=status,
    )


@login_required
def takeover_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    acting = _acting(request)
    project = _project(slug)
    policy.require(acting, Action.TAKEOVER_CONFIRM, project)
    form = TakeoverForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                takeovers.confirm_takeover(
                    acting, project, form.cleaned_data["takeover_on"], form.cleaned_data["terms"]
                )
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request, _("Reprise confirmée : c'est un engagement de l'État, publié.")
                )
                return redirect("web:project", slug=project.slug)
        status = 400
    return render(
        request,
        "channels/form.html",
        {"form": form, "title": _("Confirmer la reprise de « %(name)s »") % {"name": project.name}},
        status=status,
    )
