"""Thin views: public registry (no account) and back office. Rules live in services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.middleware import SESSION_KEY
from pacte.accounts.models import Membership, Organisation
from pacte.accounts.policy import Action
from pacte.accounts.request_types import SignedInRequest
from pacte.accounts.selectors import institutions, organisations_of_agent
from pacte.accounts.services import Acting, create_api_token
from pacte.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied
from pacte.journal.selectors import project_events_page, recent_events
from pacte.pacts import commitments as pact_commitments
from pacte.pacts import documents as pact_documents
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import selectors as pact_selectors
from pacte.pacts.lifecycles import LIVE
from pacte.pacts.models import Commitment, Status
from pacte.pacts.schema import PRINCIPLES
from pacte.projects import phases as project_phases
from pacte.projects.models import Project
from pacte.projects.selectors import get_project, search_projects
from pacte.web import forms, pact_moves, pact_rows, queues
from pacte.web.caching import public_page
from pacte.web.project_sections import PROJECT_SECTIONS


def _acting(request: HttpRequest) -> Acting:
    acting: Acting | None = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


# ------------------------------------------------------------------ public


def _board(
    version: Any, acting: Acting | None, commitments: list[Commitment] | None = None
) -> dict[str, list[Commitment]]:
    """The commitments board; ``can_file``: this person may file evidence now (pact in force, their
    side's commitment) — no evidence link before signature. ``commitments``: already read."""
    board = pact_selectors.commitments_board(version, commitments)
    live = version.status in LIVE
    for items in board.values():
        for c in items:
            c.can_file = (  # type: ignore[attr-defined]
                live and acting is not None and policy.may(acting, Action.COMMITMENT_EVIDENCE, c)
            )
    return board


@public_page
def home(request: HttpRequest) -> HttpResponse:
    active = (
        pact_selectors.versions_visible(None).filter(is_current=True, status=Status.ACTIVE).count()
    )
    return render(
        request,
        "web/home.html",
        {
            "project_count": Project.objects.count(),
            "active_count": active,
            "events": recent_events()[:8],
            "projects": search_projects()[:6],
        },
    )


@public_page
def project_list(request: HttpRequest) -> HttpResponse:
    f = {
        k: request.GET.get(k, "").strip()
        for k in ("q", "status", "institution", "principle", "territory")
    }
    qs = pact_selectors.with_public_pacts(search_projects(**f))
    page = Paginator(qs, 12).get_page(request.GET.get("page"))
    rows = [(p, pact_selectors.public_pacts_of(p)) for p in page.object_list]
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    return render(
        request,
        "web/project_list.html",
        {
            "page": page,
            "rows": rows,
            "filters": f,
            "query": query,
            "statuses": [s for s in Status.choices if s[0] != Status.DRAFT],
            "institutions": institutions(),
            "principles": PRINCIPLES.items(),
        },
    )


@public_page
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    acting = getattr(request, "acting", None)
    # the project, then its pacts as this visitor sees them (versions, signatures, commitments:
    # three queries whatever the number of pacts), then its phases; no section reads them again
    project = get_project(slug)
    pacts = []
    for shown in pact_selectors.shown_pacts(project, acting):
        digest = pact_documents.canonical_digest(shown.version) if shown.signatures else None
        pacts.append(
            {
                "pact": shown.pact,
                "version": shown.version,
                "board": _board(shown.version, acting, shown.commitments),
                "signatures": [
                    (s, pact_documents.verify_signature(s, digest)) for s in shown.signatures
                ],
                "versions": shown.versions,
            }
        )
    # each domain's part of the page: the first rendered here, the others announced (heading and
    # link) and loaded from their own URL when they scroll into view (project_section below)
    sections = PROJECT_SECTIONS.render(project, acting)
    return render(
        request,
        "web/project_detail.html",
        {
            "project": project,
            "pacts": pacts,
            "phases": list(project.phases.all()),
            "sections": sections,
            "principles": PRINCIPLES,
            "can_edit": acting is not None and acting.organisation.pk == project.carrier_id,
        },
    )


def _page_or_fragment(
    request: HttpRequest, page: str, fragment: str, context: dict[str, Any]
) -> HttpResponse:
    """htmx asks for the body of a section, to put in the project page; a browser without
    JavaScript, or a link followed, gets the section's full page at the same URL."""
    hx = request.headers.get("HX-Request") == "true"
    response = render(request, fragment if hx else page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@public_page
def project_section(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    """One section of the project page, alone: its full page, or its body for htmx. The project is
    read as the page reads it, and the section's provider filters what ``acting`` may see, as on
    the page."""
    acting = getattr(request, "acting", None)
    project = get_project(slug)
    try:
        title, section = PROJECT_SECTIONS.render_one(name, project, acting)
    except KeyError:
        raise NotFound(_("Cette section n'existe pas.")) from None
    return _page_or_fragment(
        request,
        "web/project_section_page.html",
        "web/project_section_fragment.html",
        {"project": project, "name": name, "title": title, "section": section},
    )


@public_page
def project_events(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's public log events, newest first, paged by keyset (``?avant=<index>``, one
    indexed query whatever the depth): a page of its own, and the body of the project page's
    events section (htmx)."""
    project = get_project(slug)
    before = request.GET.get("avant", "")
    events, older = project_events_page(project.slug, before)
    return _page_or_fragment(
        request,
        "web/project_events_page.html",
        "web/project_events_fragment.html",
        {
            "project": project,
            "events": events,
            "older_events": older,
            "first_page": not before.isdigit(),
        },
    )


@public_page
def version_detail(request: HttpRequest, reference: str, number: int) -> HttpResponse:
    acting = getattr(request, "acting", None)
    version = pact_selectors.get_version(acting, reference, number)
    signatures = [
        (s, pact_documents.verify_signature(s))
        for s in version.signatures.select_related("organisation", "signer")
    ]
    return render(
        request,
        "web/version_detail.html",
        {
            "version": version,
            "pact": version.pact,
            "c": version.content,
            "state": pact_rows.state_in_words(version.content),
            "principles": PRINCIPLES,
            "board": _board(version, acting),
            "signatures": signatures,
            "versions": pact_selectors.pact_versions(acting, version.pact),
            "actions": pact_moves.available_actions(acting, version),
            "reason_form": forms.ReasonForm(),
            "reviews": version.reviews.select_related("organisation"),
        },
    )


def version_canonical(request: HttpRequest, reference: str, number: int) -> HttpResponse:
    from pacte.engines.canonical import canonical_json

    version = pact_selectors.get_version(getattr(request, "acting", None), reference, number)
    text = canonical_json(pact_documents.canonical_document(version))
    response = HttpResponse(text.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{reference}-v{number}.json"'
    return response


def version_diff(request: HttpRequest, reference: str, old: int, new: int) -> HttpResponse:
    acting = getattr(request, "acting", None)
    a = pact_selectors.get_version(acting, reference, old)
    b = pact_selectors.get_version(acting, reference, new)
    return render(
        request,
        "web/version_diff.html",
        {
            "old": a,
            "new": b,
            "pact": a.pact,
            "lines": pact_selectors.diff_versions(a, b),
        },
    )


def journal(request: HttpRequest) -> HttpResponse:
    type_prefix = request.GET.get("type", "").strip()
    project = request.GET.get("project", "").strip()
    page = Paginator(recent_events(type_prefix=type_prefix, project=project), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request, "web/journal.html", {"page": page, "type": type_prefix, "project": project}
    )


def choose_language(request: HttpRequest) -> HttpResponse:
    """Language switch by GET: it only sets the language cookie, so public pages carry no CSRF
    token and can be cached for every visitor."""
    from django.utils.http import url_has_allowed_host_and_scheme

    code = request.GET.get("language", "")
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    if code in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600, samesite="Lax"
        )
    return response


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database state: 200 when the database answers, else 503 (Retry-After)."""
    from django.conf import settings
    from django.db import connection

    from pacte.request_faults import database_unavailable

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        return JsonResponse(
            {"status": "unavailable", "database": "unreachable"},
            status=503,
            headers={"Retry-After": str(settings.DB_RETRY_AFTER_SECONDS)},
        )
    return JsonResponse({"status": "ok", "database": "ok"})


# ------------------------------------------------------------------ auth


def login_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' lockout response (AXES_LOCKOUT_CALLABLE): our sign-in page already said it in
    French with a 429; any other sign-in form (the admin's) gets the French error page."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    from pacte.errors import TooManyAttempts

    error = TooManyAttempts(str(settings.AXES_COOLOFF_MESSAGE))
    return render(request, "error.html", {"error": error}, status=error.status)


@login_required
@require_POST
def switch_organisation(request: SignedInRequest) -> HttpResponse:
    org_id = int(request.POST.get("organisation", "0") or 0)
    if not Membership.objects.filter(user=request.user, organisation_id=org_id).exists():
        raise PermissionDenied(_("Vous n'êtes pas membre de cette organisation."))
    request.session[SESSION_KEY] = org_id
    messages.success(request, _("Organisation changée."))
    return redirect(request.POST.get("next") or reverse("web:dashboard"))


# ------------------------------------------------------------------ back office


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """One queue across all the person's organisations and roles (pacte.web.queues)."""
    if getattr(request, "acting", None) is None:
        # a person without membership is a citizen: what they can do, not an error
        return render(
            request,
            "web/citizen_dashboard.html",
            {"agent_of": organisations_of_agent(request.user)},  # type: ignore[arg-type]
        )
    acting = _acting(request)
    user = acting.user
    return render(
        request,
        "web/dashboard.html",
        {"ws": queues.workspace(user), "projects": queues.projects_of(user)},
    )


@login_required
def project_create(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    form = forms.ProjectForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                data = form.cleaned_data
                project = project_phases.create_project(
                    acting,
                    name=data["name"],
                    pitch=data["pitch"],
                    takeover_institution=data["takeover_institution"],
                    description=data["description"],
                    territory=data["territory"],
                    target_users=data["target_users"],
                    website=data["website"],
                    repository=data["repository"],
                    licence=data["licence"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, _("Projet créé."))
                return redirect("web:project", slug=project.slug)
        else:
            status = 422
    return render(request, "web/project_form.html", {"form": form}, status=status)


@login_required
def phase_close(request: HttpRequest, slug: str) -> HttpResponse:
    acting = _acting(request)
    project = get_project(slug)
    form = forms.PhaseCloseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                project_phases.close_phase(
                    acting,
                    project,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                    next_kind=form.cleaned_data["next_kind"] or None,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, _("Décision publiée."))
                return redirect("web:project", slug=slug)
        else:
            status = 422
    return render(request, "web/phase_form.html", {"form": form, "project": project}, status=status)


@login_required
def pact_create(request: HttpRequest, slug: str) -> HttpResponse:
    acting = _acting(request)
    project = get_project(slug)
    form = forms.NewPactForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                version = pact_drafting.create_pact(
                    acting,
                    project,
                    form.cleaned_data["institution"],
                    {"title": form.cleaned_data["title"]},
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                return redirect(
                    "web:version_edit", reference=version.pact.reference, number=version.number
                )
        else:
            status = 422
    return render(request, "web/pact_new.html", {"form": form, "project": project}, status=status)


@login_required
def commitment_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    acting = _acting(request)
    commitment = Commitment.objects.select_related("version__pact__project").filter(pk=pk).first()
    if commitment is None:
        raise PermissionDenied(_("Engagement introuvable."))
    form = forms.EvidenceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                pact_commitments.record_evidence(acting, commitment, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, _("Preuve enregistrée."))
                return redirect("web:project", slug=commitment.version.pact.project.slug)
        else:
            status = 422
    return render(
        request, "web/evidence_form.html", {"form": form, "commitment": commitment}, status=status
    )


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    form = forms.TokenForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        _, raw = create_api_token(acting.user, acting.organisation, form.cleaned_data["name"])
    tokens = acting.user.api_tokens.filter(organisation=acting.organisation).order_by("-created_at")
    return render(request, "web/tokens.html", {"form": form, "raw": raw, "tokens": tokens})


@public_page
def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    org = Organisation.objects.filter(slug=slug).first()
    if org is None:
        from pacte.errors import NotFound

        raise NotFound(_("Organisation inconnue."))
    from pacte.channels import selectors as channel_selectors

    return render(
        request,
        "web/organisation.html",
        {
            "org": org,
            "projects": Project.objects.filter(carrier=org),
            "pacts": pact_selectors.versions_visible(None).filter(
                pact__institution=org, is_current=True
            ),
            "state": channel_selectors.institution_page(org),  # the State's record (issue 12)
        },
    )
