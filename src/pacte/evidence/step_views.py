"""The evidence steps as pages (issue 14): file a bias audit, write and publish an algorithm sheet,
open a panel call and draw it, design, pre-register and assign an experiment; the public list of
published sheets. Thin views: the use cases (audits, sheets, panels, experiments) check who may
act (``pacte.accounts.policy``) and write the journal in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pacte.accounts import policy
from pacte.accounts.services import Acting
from pacte.errors import DomainError, NotAuthenticated
from pacte.evidence import audits, experiments, panels, selectors, sheets
from pacte.evidence.forms import AssignForm, AuditForm, ExperimentForm, PanelForm, SheetForm
from pacte.evidence.models import AlgorithmSheet, Experiment, PanelCall
from pacte.projects.models import Project

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # a bias audit's CSV sent from the page


def _acting(request: HttpRequest) -> Acting:
    acting: Acting | None = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


def _projects(acting: Acting, action: policy.Action) -> list[Project]:
    """The projects on which the person may take this step (the policy decides, one place)."""
    qs = Project.objects.select_related("carrier").order_by("name")
    return [p for p in qs if policy.may(acting, action, p)]


# ------------------------------------------------------------------ the hub


@login_required
def evidence_work(request: HttpRequest) -> HttpResponse:
    """What the person can do with evidence, and their steps still open (drafts, open calls…)."""
    acting = _acting(request)
    org = acting.organisation
    steps = [
        (
            _("Publier un audit de biais"),
            _("Mesurer les écarts de décision d'un algorithme entre groupes (évaluateur)."),
            "evidence:audit_new",
            _projects(acting, policy.Action.PROJECT_EVALUATE),
        ),
        (
            _("Rédiger une fiche algorithme"),
            _("Décrire un algorithme qui aide à décider, avant de la publier (porteur)."),
            "evidence:sheet_new",
            _projects(acting, policy.Action.PROJECT_CARRIER_WORK),
        ),
        (
            _("Ouvrir un appel à panel"),
            _("Tirer au sort des testeurs volontaires (porteur ou institution partenaire)."),
            "evidence:panel_new",
            _projects(acting, policy.Action.PROJECT_PARTNER_WORK),
        ),
        (
            _("Concevoir une expérimentation"),
            _("Calculer la taille d'échantillon, puis pré-enregistrer (porteur ou évaluateur)."),
            "evidence:experiment_new",
            _projects(acting, policy.Action.EXPERIMENT_DESIGN),
        ),
    ]
    project = Project.objects.filter(slug=request.GET.get("projet", "")).first()
    query = "?" + urlencode({"projet": project.slug}) if project else ""
    return render(
        request,
        "evidence/work.html",
        {
            "steps": [
                {
                    "title": t,
                    "help": h,
                    "url": reverse(name) + query,
                    "projects": ps,
                }
                for t, h, name, ps in steps
                if ps
            ],
            "project": project,
            "draft_sheets": AlgorithmSheet.objects.filter(
                project__carrier=org, status=AlgorithmSheet.State.DRAFT
            ).select_related("project"),
            "open_panels": PanelCall.objects.filter(
                opened_by=org, status=PanelCall.State.OPEN
            ).select_related("project"),
            "running_experiments": Experiment.objects.filter(created_by=org)
            .exclude(status=Experiment.State.ASSIGNED)
            .select_related("project"),
        },
    )


def _form_page(
    request: HttpRequest, form: Any, template_context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(
        request, "evidence/step_form.html", {"form": form, **template_context}, status=status
    )


def _initial(request: HttpRequest) -> dict[str, str]:
    return {"project": request.GET.get("projet", "")}


# ------------------------------------------------------------------ bias audits


@login_required
def audit_new(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    projects = _projects(acting, policy.Action.PROJECT_EVALUATE)
    page = {
        "title": _("Publier un audit de biais"),
        "intro": _(
            "L'audit compare, groupe par groupe, les décisions de l'algorithme à la situation réelle "
            "des personnes. Un écart hors de la bande tolérée par le pacte ouvre un engagement de "
            "correction pour le porteur. L'audit est public dès sa publication et inscrit au journal."
        ),
        "button": _("Publier l'audit"),
        "multipart": True,
        "no_project": _(
            "Seul un évaluateur indépendant (rôle « évaluateur » d'un organisme d'évaluation) publie "
            "un audit de biais, sur un projet dont il n'est pas membre du porteur."
        ),
    }
    if request.method != "POST":
        return _form_page(request, AuditForm(projects=projects, initial=_initial(request)), page)
    form = AuditForm(request.POST, request.FILES, projects=projects)
    status = 422
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", _("Le fichier dépasse 50 Mo."))
        else:
            try:
                audit = audits.publish_audit(
                    acting,
                    form.chosen_project(),
                    title=form.cleaned_data["title"],
                    decision=form.cleaned_data["decision"],
                    csv_data=upload.read(),
                    min_group_size=form.cleaned_data["min_group_size"],
                    reference_group=form.cleaned_data["reference_group"] or None,
                )
            except DomainError as exc:
                form.show_domain_errors(exc, {"csv": "file"})
                status = exc.status
            else:
                messages.success(request, _audit_result(audit.breach_count, audit.remediation_key))
                return redirect("evidence:audit", pk=audit.pk)
    return _form_page(request, form, page, status)


def _audit_result(breaches: int, remediation: str) -> str:
    if breaches and remediation:
        return _(
            "Audit publié. Des écarts sortent de la bande tolérée : un engagement de correction a été "
            "ouvert au pacte, le porteur a 90 jours pour y répondre avant le prochain audit."
        )
    if breaches:
        return _("Audit publié. Des écarts sortent de la bande tolérée (aucun pacte en vigueur).")
    return _("Audit publié : aucun écart hors de la bande tolérée. Il est public et au journal.")


# ------------------------------------------------------------------ algorithm sheets


def sheet_list(request: HttpRequest) -> HttpResponse:
    """Every published algorithm sheet, newest first (public)."""
    qs = selectors.sheets(None).filter(status=AlgorithmSheet.State.PUBLISHED)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "evidence/sheet_list.html", {"page": page})


@login_required
def sheet_new(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    projects = _projects(acting, policy.Action.PROJECT_CARRIER_WORK)
    page = {
        "title": _("Rédiger une fiche algorithme"),
        "intro": _(
            "La loi (CRPA, articles L311-3-1 et R311-3-1-2) oblige à expliquer tout algorithme qui "
            "contribue à une décision individuelle. Vous enregistrez d'abord un brouillon, que seul "
            "votre organisation voit ; vous le publiez ensuite depuis sa page."
        ),
        "button": _("Enregistrer le brouillon"),
        "sheet": True,
        "no_project": _(
            "Seuls les membres du porteur d'un projet rédigent ses fiches algorithmes."
        ),
    }
    if request.method != "POST":
        return _form_page(request, SheetForm(projects=projects, initial=_initial(request)), page)
    form = SheetForm(request.POST, projects=projects)
    status = 422
    if form.is_valid():
        try:
            sheet = sheets.create_sheet(acting, form.chosen_project(), form.sheet_data())
        except DomainError as exc:
            form.show_domain_errors(
                exc, {"data_sources": "source_1_name", "parameters": "param_1_label"}
            )
            status = exc.status
        else:
            messages.success(
                request,
                _(
                    "Brouillon enregistré (version %(version)s). Relisez-le : une fois publiée, la "
                    "fiche ne se modifie plus, un changement en fera une nouvelle version."
                )
                % {"version": sheet.version},
            )
            return redirect("evidence:sheet", pk=sheet.pk)
    return _form_page(request, form, page, status)


def _confirm_then(
    request: HttpRequest,
    *,
    confirm: dict[str, Any],
    act: Callable[[], object],
    done: str,
    back: str,
) -> HttpResponse:
    """An irreversible step: the confirmation page first (confirm.html), then the use case; a
    refusal (409, 422) comes back as a message on the object's page, never a 500."""
    if request.POST.get("confirm") != "1":
        return render(request, "confirm.html", {**confirm, "cancel_url": back})
    try:
        act()
    except DomainError as exc:
        if exc.status not in (409, 422):
            raise
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, done)
    return redirect(back)


@login_required
@require_POST
def sheet_publish(request: HttpRequest, pk: int) -> HttpResponse:
    acting = _acting(request)
    sheet = selectors.get_sheet(acting, pk)
    return _confirm_then(
        request,
        confirm={
            "title": _("Publier la fiche « %(title)s »") % {"title": sheet.title},
            "consequence": _(
                "La fiche devient publique dans la liste des fiches algorithmes et sur la page "
                "du projet, avec son empreinte au journal. Elle ne pourra plus être modifiée : "
                "un changement fera une nouvelle version."
            ),
            "action_url": reverse("evidence:sheet_publish", args=[pk]),
            "button": _("Oui, publier"),
        },
        act=lambda: sheets.publish_sheet(acting, sheet),
        done=_(
            "Fiche publiée : elle figure dans la liste publique des fiches algorithmes, et chacun "
            "peut y demander l'explication de sa propre situation."
        ),
        back=reverse("evidence:sheet", args=[pk]),
    )


# ------------------------------------------------------------------ panels


@login_required
def panel_new(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    projects = _projects(acting, policy.Action.PROJECT_PARTNER_WORK)
    counts = selectors.volunteer_counts()
    page = {
        "title": _("Ouvrir un appel à panel de testeurs"),
        "intro": _(
            "Les testeurs sont tirés au sort parmi les %(n)s volontaires actifs, par strates, pour "
            "que le panel ressemble au public visé. L'engagement sur la graine du tirage est inscrit "
            "au journal dès l'ouverture : personne ne peut choisir les personnes tirées."
        )
        % {"n": counts["active"]},
        "button": _("Ouvrir l'appel"),
        "panel": True,
        "no_project": _(
            "Seuls le porteur d'un projet et l'institution partenaire de son pacte ouvrent un appel "
            "à panel."
        ),
    }
    if request.method != "POST":
        return _form_page(request, PanelForm(projects=projects, initial=_initial(request)), page)
    form = PanelForm(request.POST, projects=projects)
    status = 422
    if form.is_valid():
        try:
            call = panels.open_panel_call(
                acting,
                form.chosen_project(),
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                target_size=form.cleaned_data["target_size"],
                stratify_by=form.cleaned_data["stratify_by"],
                shares=form.shares(),
            )
        except DomainError as exc:
            form.show_domain_errors(exc, {"targets": "target_size"})
            status = exc.status
        else:
            messages.success(
                request,
                _(
                    "Appel ouvert. Quand le vivier vous paraît suffisant, lancez le tirage depuis "
                    "cette page : les personnes tirées reçoivent une invitation."
                ),
            )
            return redirect("evidence:panel", pk=call.pk)
    return _form_page(request, form, page, status)


@login_required
@require_POST
def panel_draw(request: HttpRequest, pk: int) -> HttpResponse:
    acting = _acting(request)
    call = selectors.get_panel(pk)
    return _confirm_then(
        request,
        confirm={
            "title": _("Tirer au sort le panel « %(title)s »") % {"title": call.title},
            "consequence": _(
                "Le tirage est fait maintenant parmi les %(n)s volontaires actifs, avec la "
                "graine engagée au journal à l'ouverture ; la graine est alors révélée pour que "
                "chacun puisse refaire le tirage. Les personnes tirées reçoivent une invitation."
            )
            % {"n": selectors.volunteer_counts()["active"]},
            "action_url": reverse("evidence:panel_draw", args=[pk]),
            "button": _("Oui, tirer au sort"),
        },
        act=lambda: panels.draw_panel(acting, call),
        done=_(
            "Tirage effectué. La composition ci-dessous et la graine révélée sont publiques ; les "
            "personnes tirées ont reçu leur invitation."
        ),
        back=reverse("evidence:panel", args=[pk]),
    )


# ------------------------------------------------------------------ experiments


@login_required
def experiment_new(request: HttpRequest) -> HttpResponse:
    acting = _acting(request)
    projects = _projects(acting, policy.Action.EXPERIMENT_DESIGN)
    page = {
        "title": _("Concevoir une expérimentation"),
        "intro": _(
            "La plateforme calcule combien de personnes il faut par groupe pour voir l'effet cherché. "
            "Vous relisez ensuite la conception, puis la pré-enregistrez : le plan d'analyse est figé "
            "au journal avant toute affectation, pour que personne ne puisse choisir l'analyse après "
            "coup."
        ),
        "button": _("Calculer et enregistrer la conception"),
        "no_project": _(
            "Seuls le porteur d'un projet et un évaluateur indépendant conçoivent une expérimentation."
        ),
    }
    if request.method != "POST":
        return _form_page(
            request, ExperimentForm(projects=projects, initial=_initial(request)), page
        )
    form = ExperimentForm(request.POST, projects=projects)
    status = 422
    if form.is_valid():
        try:
            exp = experiments.design_experiment(
                acting, form.chosen_project(), **form.design_kwargs()
            )
        except DomainError as exc:
            form.show_domain_errors(exc)
            status = exc.status
        else:
            messages.success(
                request,
                _(
                    "Conception enregistrée : %(n)s personnes par groupe. Relisez-la, puis "
                    "pré-enregistrez-la."
                )
                % {"n": exp.required_per_arm},
            )
            return redirect("evidence:experiment", slug=exp.slug)
    return _form_page(request, form, page, status)


@login_required
@require_POST
def experiment_preregister(request: HttpRequest, slug: str) -> HttpResponse:
    acting = _acting(request)
    exp = selectors.get_experiment(slug)
    return _confirm_then(
        request,
        confirm={
            "title": _("Pré-enregistrer l'expérimentation"),
            "consequence": _(
                "Le plan d'analyse (hypothèse, résultat, taille, méthode) et un engagement sur la "
                "graine secrète de l'affectation sont inscrits au journal public. Ils ne pourront "
                "plus changer ; l'affectation des personnes devient possible."
            ),
            "action_url": reverse("evidence:experiment_preregister", args=[slug]),
            "button": _("Oui, pré-enregistrer"),
        },
        act=lambda: experiments.preregister(acting, exp),
        done=_(
            "Expérimentation pré-enregistrée : son plan est public et figé. Étape suivante : "
            "affecter les personnes aux groupes."
        ),
        back=reverse("evidence:experiment", args=[slug]),
    )


@login_required
def experiment_assign(request: HttpRequest, slug: str) -> HttpResponse:
    acting = _acting(request)
    exp = selectors.get_experiment(slug)
    policy.require(acting, policy.Action.EXPERIMENT_RUN, exp)
    page = {
        "title": _("Affecter les personnes aux groupes"),
        "intro": _(
            "Chaque identifiant est placé dans le groupe témoin ou le groupe qui reçoit le service, "
            "par un tirage fait avec la graine engagée au journal ; la graine est alors révélée et "
            "chacun peut refaire l'affectation. L'affectation est définitive."
        ),
        "button": _("Affecter (définitif)"),
        "exp": exp,
    }
    if request.method != "POST":
        return _form_page(request, AssignForm(), page)
    form = AssignForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            allocation = experiments.assign_units(acting, exp, form.cleaned_data["unit_ids"])
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(
                request,
                _(
                    "%(n)s unités affectées. La graine est révélée : chacun peut refaire "
                    "l'affectation à partir du journal. Étape suivante : l'évaluateur déposera les "
                    "résultats à la fin de la durée d'observation."
                )
                % {"n": len(allocation)},
            )
            return redirect("evidence:experiment", slug=slug)
    return _form_page(request, form, page, status)
