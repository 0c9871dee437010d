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
from pacte.errors import DomainError, NotAuthenticated, NotFound, ValidationFailed
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import selectors as pact_selectors
from pacte.pacts.schema import MANDATORY_PRINCIPLES, PRINCIPLES
from pacte.web import forms, pact_rows
from pacte.web.row_sets import route_error

PREFIX = "c"
COMMITMENTS = pact_rows.COMMITMENTS


def _acting(request: HttpRequest) -> Acting:
    acting: Acting | None = getattr(request, "acting", None)
    if acting is None:
        raise NotAuthenticated(
            _("Connectez-vous et choisissez l'organisation pour laquelle vous agissez.")
        )
    return acting


def commitments_from(formset: Any) -> list[dict[str, Any]]:
    """The rows that say something (a text), each with a key (made from its principle if empty)."""
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    for row in COMMITMENTS.items(formset):
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
    rows += [pact_rows.new_commitment(p) for p in chosen if p not in covered]
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


def _initial_from_post(post: QueryDict) -> dict[str, Any]:
    """The fields as typed, for the page shown again (no JavaScript: a row added or removed)."""
    initial: dict[str, Any] = {}
    for name, field in forms.PactForm.base_fields.items():
        multiple = isinstance(field, django_forms.MultipleChoiceField)
        initial[name] = post.getlist(name) if multiple else post.get(name)
    initial.update({k: v for k, v in post.items() if k.startswith("channel_condition_")})
    return initial


def _reshown(request: HttpRequest, kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Without JavaScript, "add a row" and "remove" submit the form: the same page comes back
    with the row added (its first field focused) or removed (focus on the add button), nothing
    saved yet."""
    post = request.POST
    adding = "add" in post
    target, _sep, hint = (post.get("add") or "").partition(":")
    dropped, _sep, dropped_index = (post.get("remove") or "").rpartition("-")
    sets: dict[str, Any] = {}
    for prefix, (rows, _path) in pact_rows.LISTS.items():
        drop = int(dropped_index) if dropped == prefix and dropped_index.isdigit() else None
        values = rows.posted_rows(post, drop=drop)
        grow = adding and prefix == target and len(values) < rows.max_rows
        if grow:
            values.append(rows.new_row(hint))
        sets[prefix] = rows.unbound(values, kwargs[prefix])
        if grow:
            first = sets[prefix].forms[-1].visible_fields()[0]
            first.field.widget.attrs["autofocus"] = True
        if drop is not None:  # focus goes to the add button of the row's section
            section = post.get(f"{prefix}-{drop}-principle") if prefix == PREFIX else ""
            sets[prefix].focus_add = section or "autres"
            messages.info(request, str(rows.removed))
    return forms.PactForm(initial=_initial_from_post(post)), sets


def _keep_unedited(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What the editor does not show is kept as it was (no loss on saving)."""
    t, term = old.get("transparency") or {}, old.get("term") or {}
    new["transparency"]["statistics_public"] = t.get("statistics_public", True)
    new["transparency"]["notes"] = t.get("notes", "")
    new["term"]["review_dates"] = term.get("review_dates", [])
    return new


def parts_for(
    content: dict[str, Any], kwargs: dict[str, dict[str, Any]] | None = None
) -> tuple[Any, dict[str, Any]]:
    """The editor for a stored content: its fields, and one row set per list (commitments seeded
    with one empty row per chosen principle that has none)."""
    kwargs = kwargs or {p: rows.form_kwargs() for p, (rows, _x) in pact_rows.LISTS.items()}
    form = forms.PactForm(initial=forms.PactForm.initial_from(content))
    sets = {
        p: rows.from_items(pact_rows.get_list(content, path), kwargs[p])
        for p, (rows, path) in pact_rows.LISTS.items()
        if p != PREFIX
    }
    sets[PREFIX] = COMMITMENTS.unbound(_seeded_rows(content), kwargs[PREFIX])
    return form, sets


def read_post(
    post: QueryDict, old: dict[str, Any], kwargs: dict[str, dict[str, Any]] | None = None
) -> tuple[Any, dict[str, Any], dict[str, Any] | None]:
    """The editor as posted, and the content it says (None while a field or a row is invalid:
    the errors are then on the form and the rows)."""
    kwargs = kwargs or {p: rows.form_kwargs() for p, (rows, _x) in pact_rows.LISTS.items()}
    form = forms.PactForm(post)
    sets = {p: rows.bound(post, kwargs[p]) for p, (rows, _x) in pact_rows.LISTS.items()}
    if not all([form.is_valid(), *[fs.is_valid() for fs in sets.values()]]):
        return form, sets, None
    lists = {
        path: rows.items(sets[p]) for p, (rows, path) in pact_rows.LISTS.items() if p != PREFIX
    }
    content = form.to_content(commitments_from(sets[PREFIX]), lists)
    return form, sets, _keep_unedited(old, content)


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
    # the choices the rows need (the catalogue...), read once for the page
    kwargs = {prefix: rows.form_kwargs() for prefix, (rows, _p) in pact_rows.LISTS.items()}
    if request.method == "POST":
        chosen = request.POST.getlist("principles") or chosen
    if request.method == "POST" and ("add" in request.POST or "remove" in request.POST):
        form, sets = _reshown(request, kwargs)
    elif request.method == "POST":
        form, sets, content = read_post(request.POST, version.content, kwargs)
        if content is not None:
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
                _report(form, sets, exc)
            else:
                messages.success(
                    request,
                    _("Brouillon enregistré. Il reste visible des deux parties seulement."),
                )
                return redirect("web:version_edit", reference=reference, number=number)
        else:
            status = 422
    else:
        form, sets = parts_for(version.content, kwargs)
    return render(
        request,
        "web/version_edit.html",
        {
            "form": form,
            "formset": sets[PREFIX],
            "groups": groups(sets[PREFIX], chosen),
            "sets": {p: {"rows": pact_rows.LISTS[p][0], "formset": fs} for p, fs in sets.items()},
            "channel_pairs": pact_rows.channel_pairs(form),
            "error_count": sum(fs.total_error_count() for fs in sets.values()),
            "version": version,
            "pact": version.pact,
        },
        status=status,
    )


def _report(form: Any, sets: dict[str, Any], exc: DomainError) -> None:
    """The rules' errors, each beside what it is about: a field, a row, or a list."""
    form.add_error(None, exc.message)
    for path, msgs in exc.field_errors.items():
        target = _list_of(sets, path)
        name = forms.field_for(path)
        for msg in msgs:
            if target is not None:
                formset, rest = target
                if rest and route_error(formset, rest, msg):
                    continue
                formset.rule_errors = [*getattr(formset, "rule_errors", []), msg]
                form.add_error(None, msg)
            elif name and name in form.fields:
                form.add_error(name, msg)
            else:
                form.add_error(None, msg)


def _list_of(sets: dict[str, Any], path: str) -> tuple[Any, list[str]] | None:
    for prefix, (_rows, list_path) in pact_rows.LISTS.items():
        if path == list_path:
            return sets[prefix], []
        if path.startswith(list_path + "."):
            return sets[prefix], path[len(list_path) + 1 :].split(".")
    return None


@login_required
def pact_row(request: HttpRequest, prefix: str = PREFIX) -> HttpResponse:
    """htmx: one new row of a list (index = the list's current total), and the new total (out of
    band). `hint` (or `principle`, for a commitment) pre-fills what the add button says."""
    entry = pact_rows.LISTS.get(prefix)
    if entry is None:
        raise NotFound(_("Cette liste n'existe pas dans le pacte."))
    rows = entry[0]
    try:
        index = int(request.GET.get(f"{prefix}-TOTAL_FORMS", "0"))
    except ValueError:
        raise ValidationFailed(_("Nombre de lignes illisible.")) from None
    if not 0 <= index < rows.max_rows:
        raise ValidationFailed(_("Cette liste compte au plus %(n)s lignes.") % {"n": rows.max_rows})
    hint = request.GET.get("hint") or request.GET.get("principle") or ""
    return render(
        request,
        "web/_row.html",
        {
            "row": rows.new_form(index, hint),
            "rows": rows,
            "index": index,
            "total": index + 1,
            "oob": True,
        },
    )
