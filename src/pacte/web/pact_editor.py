"""The pact editor: one guided section per principle, commitments added without a round trip (htmx,
from our own static files) and still with one (a plain submit button) when JavaScript is off.

Rows are seeded for the principles that have no commitment yet; an unused row (no text) is dropped
when the draft is saved, so nothing blank is ever stored. The rules stay in pacte.pacts.drafting.
"""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.errors import DomainError, NotAuthenticated, ValidationFailed
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import selectors as pact_selectors
from pacte.pacts.schema import MANDATORY_PRINCIPLES, PRINCIPLES
from pacte.web import forms

ROW_FIELDS = list(forms.CommitmentForm.base_fields)
PREFIX = "c"


def _acting(request: HttpRequest) -> Acting:
    acting: Acting | None = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


def _new_row(principle: str) -> dict[str, Any]:
    return {"principle": principle, "owner": "carrier", "recurrence": "none"}


def commitments_from(formset: Any) -> list[dict[str, Any]]:
    """The rows that say something (a text), each with a key (made from its principle if empty)."""
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    for f in formset.forms:
        d = getattr(f, "cleaned_data", None) or {}
        if not d or d.get("DELETE") or not (d.get("text") or "").strip():
            continue
        row = {k: v for k, v in d.items() if k != "DELETE"}
        if not row.get("key"):
            stem = (row.get("principle") or "engagement").replace("_", "-")
            n = 1
            while f"{stem}-{n}" in used:
                n += 1
            row["key"] = f"{stem}-{n}"
        used.add(row["key"])
        out.append(row)
    return out


def _seeded_rows(content: dict[str, Any]) -> list[dict[str, Any]]:
    """The draft's commitments, plus one empty row per chosen principle that has none yet."""
    rows = list(content.get("commitments", []))
    chosen = content.get("principles") or list(MANDATORY_PRINCIPLES)
    covered = {r.get("principle") for r in rows}
    rows += [_new_row(p) for p in chosen if p not in covered]
    return rows


def _rows_from_post(post: QueryDict) -> list[dict[str, Any]]:
    total = int(post.get(f"{PREFIX}-TOTAL_FORMS") or 0)
    rows = []
    for i in range(min(total, 200)):
        if post.get(f"{PREFIX}-{i}-DELETE"):
            continue
        rows.append({f: post.get(f"{PREFIX}-{i}-{f}", "") for f in ROW_FIELDS if f != "DELETE"})
    return rows


def groups(formset: Any, chosen: list[str]) -> list[dict[str, Any]]:
    """One section per principle (chosen ones, and any that has rows), then the other commitments."""
    by: dict[str, list[Any]] = {}
    for f in formset.forms:
        by.setdefault(f["principle"].value() or "", []).append(f)
    out = []
    for code, label in PRINCIPLES.items():
        if code in chosen or code in by:
            out.append(
                {
                    "code": code,
                    "label": label,
                    "guide": forms.PRINCIPLE_GUIDES.get(code, ""),
                    "forms": by.get(code, []),
                }
            )
    out.append(
        {
            "code": "",
            "label": _("Autres engagements (évaluation, données, panel, versements…)"),
            "guide": _("Les engagements qui ne relèvent pas d'un seul principe, des deux parties."),
            "forms": by.get("", []),
        }
    )
    return out


@login_required
def version_edit(request: HttpRequest, reference: str, number: int) -> HttpResponse:
    acting = _acting(request)
    version = pact_selectors.get_version(acting, reference, number)
    policy.require(acting, Action.PACT_WRITE, version.pact)
    if not version.is_editable:
        messages.warning(
            request, _("Cette version est figée : créez une nouvelle version pour la modifier.")
        )
        return redirect("web:version", reference=reference, number=number)
    status = 200
    chosen = list(version.content.get("principles") or MANDATORY_PRINCIPLES)
    if request.method == "POST" and "add" in request.POST:
        # Without JavaScript: the same page with one more row, nothing saved yet.
        rows = _rows_from_post(request.POST) + [_new_row(request.POST.get("add", ""))]
        initial: dict[str, Any] = {k: request.POST.get(k) for k in forms.PactForm.base_fields}
        initial["principles"] = request.POST.getlist("principles")
        chosen = request.POST.getlist("principles") or chosen
        form = forms.PactForm(initial=initial)
        formset = forms.CommitmentFormSet(initial=rows, prefix=PREFIX)
    elif request.method == "POST":
        form = forms.PactForm(request.POST)
        formset = forms.CommitmentFormSet(request.POST, prefix=PREFIX)
        chosen = request.POST.getlist("principles") or chosen
        if form.is_valid() and formset.is_valid():
            content = form.to_content(commitments_from(formset))
            try:
                version = pact_drafting.update_draft(acting, version, content)
                if "submit" in request.POST:
                    pact_drafting.submit(acting, version)
                    messages.success(
                        request,
                        _(
                            "Pacte soumis à l'instruction. L'institution va l'examiner ; vous "
                            "verrez sa décision dans votre espace."
                        ),
                    )
                    return redirect("web:version", reference=reference, number=number)
            except DomainError as exc:
                status = exc.status
                _report(form, exc)
            else:
                messages.success(
                    request,
                    _("Brouillon enregistré. Il reste visible des deux parties seulement."),
                )
                return redirect("web:version_edit", reference=reference, number=number)
        else:
            status = 422
    else:
        form = forms.PactForm(initial=forms.PactForm.initial_from(version.content))
        formset = forms.CommitmentFormSet(initial=_seeded_rows(version.content), prefix=PREFIX)
    return render(
        request,
        "web/version_edit.html",
        {
            "form": form,
            "formset": formset,
            "groups": groups(formset, chosen),
            "version": version,
            "pact": version.pact,
        },
        status=status,
    )


def _report(form: Any, exc: DomainError) -> None:
    form.add_error(None, exc.message)
    for path, msgs in exc.field_errors.items():
        name = forms.field_for(path)
        for msg in msgs:
            if name and name in form.fields:
                form.add_error(name, msg)
            else:
                form.add_error(None, msg)


@login_required
def commitment_row(request: HttpRequest) -> HttpResponse:
    """htmx: one new commitment row (index = the current total) and the new total (out of band)."""
    try:
        index = int(request.GET.get(f"{PREFIX}-TOTAL_FORMS", "0"))
    except ValueError:
        raise ValidationFailed(_("Nombre de lignes illisible.")) from None
    if not 0 <= index < 200:
        raise ValidationFailed(_("Un pacte compte au plus 200 engagements."))
    principle = request.GET.get("principle", "")
    if principle and principle not in PRINCIPLES:
        principle = ""
    row = forms.CommitmentForm(prefix=f"{PREFIX}-{index}", initial=_new_row(principle))
    row.fields["DELETE"] = django_forms.BooleanField(label=_("Supprimer"), required=False)
    return render(
        request,
        "web/_commitment_row.html",
        {"cf": row, "total": index + 1, "oob": True},
    )
