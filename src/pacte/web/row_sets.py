"""Repeating rows of a form: added and removed without a round trip (htmx and rows.js, both from our
own static files) and still with one when JavaScript is off (plain submit buttons).

A `RowSet` is a named Django formset. Its rows are numbered `<prefix>-<i>-<field>`; a removed row
keeps its number with a hidden "removed" flag (so the numbering never has a gap and the formset
does not validate it), and a row that says nothing is dropped when the rows are read back. Each
row form knows how to turn one item of the stored content into initial values (`initial_for`)
and back (`item`), so a list of the content goes through the form unchanged.

The pact editor (pacte.web.pact_editor) has one set per list of the pact's content: commitments,
bias risks, funding sources, requested data, experts (pacte.web.pact_rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.forms.formsets import BaseFormSet, formset_factory
from django.http import QueryDict
from django.utils.functional import Promise

MAX_ROWS = 200  # a hard limit on what a request may ask the server to build


class RemovedFlag(forms.HiddenInput):
    """The hidden "removed" flag of a row: "on" once removed, empty otherwise (never "False", which
    a template would read as true)."""

    def format_value(self, value: Any) -> str | None:
        return "on" if value in (True, "on", "true", "True", "1") else ""


class RowForm(forms.Form):
    """One row. Fields are optional one by one: `clean` asks for the `needed` ones once the row is
    used, so a blank row is simply dropped. Subclasses say how an item of the content maps to
    the row (`initial_for`) and back (`item`)."""

    needed: tuple[str, ...] = ()
    use_required_attribute = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.needed:
            self.fields[name].required_in_row = True  # type: ignore[attr-defined]

    def is_used(self, data: Mapping[str, Any]) -> bool:
        return any(str(v).strip() for k, v in data.items() if k != "DELETE" and v not in (None, ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("DELETE") or not self.is_used(self._filled()):
            return data
        for name in self.needed:
            if name in self.fields and data.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, self.needed_message(name))
        return data

    def _filled(self) -> dict[str, Any]:
        """What the person typed, field by field (initial values of a new row do not count)."""
        out = {}
        for name in self.fields:
            if name == "DELETE":
                continue
            value = self[name].data if self.is_bound else self.initial.get(name)
            if value not in (None, "") and not self.is_default(name, value):
                out[name] = value
        return out

    def is_default(self, name: str, value: Any) -> bool:
        """A value a new row starts with (a default choice) says nothing on its own."""
        initial = self.fields[name].initial
        return initial is not None and str(value) == str(initial)

    def needed_message(self, name: str) -> str:
        from django.utils.translation import gettext as _

        return _("Champ obligatoire pour cette ligne.")

    @staticmethod
    def initial_for(item: Any) -> dict[str, Any]:
        raise NotImplementedError

    def item(self) -> Any:
        raise NotImplementedError


class RowFormSet(BaseFormSet):  # type: ignore[type-arg]
    deletion_widget = RemovedFlag

    def _construct_form(self, i: int, **kwargs: Any) -> Any:
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        form.row_number = i + 1  # what the row's legend says ("Expert 2")
        return form


class RowSet:
    """A named list of rows in a form. `hint` is what the add button asks for (e.g. the principle
    of a new commitment); `form_kwargs` gives the rows what they need to build their choices
    (computed once per page, e.g. the catalogue)."""

    def __init__(
        self,
        prefix: str,
        form: type[RowForm],
        *,
        title: str | Promise,
        row_label: str | Promise,
        add_label: str | Promise,
        added: str | Promise,
        removed: str | Promise,
        help_text: str | Promise = "",
        new_row: Callable[[str], dict[str, Any]] | None = None,
        form_kwargs: Callable[[], dict[str, Any]] | None = None,
        max_rows: int = 50,
    ) -> None:
        self.prefix = prefix
        self.form = form
        self.title, self.row_label, self.add_label = title, row_label, add_label
        self.added, self.removed, self.help_text = added, removed, help_text
        self.new_row = new_row or (lambda hint: {})
        self.form_kwargs = form_kwargs or (lambda: {})
        self.max_rows = max_rows
        self.formset_class = formset_factory(
            form,
            formset=RowFormSet,
            extra=0,
            can_delete=True,
            max_num=max_rows,
            validate_max=True,
            absolute_max=MAX_ROWS,
        )

    # ------------------------------------------------------------ building

    def bound(self, data: QueryDict, kwargs: dict[str, Any] | None = None) -> Any:
        return self.formset_class(
            data,
            prefix=self.prefix,
            form_kwargs=kwargs if kwargs is not None else self.form_kwargs(),
        )

    def unbound(self, rows: list[dict[str, Any]], kwargs: dict[str, Any] | None = None) -> Any:
        return self.formset_class(
            initial=rows,
            prefix=self.prefix,
            form_kwargs=kwargs if kwargs is not None else self.form_kwargs(),
        )

    def from_items(self, items: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
        return self.unbound([self.form.initial_for(x) for x in items], kwargs)

    def new_form(self, index: int, hint: str = "") -> RowForm:
        """Row number `index`, empty but for its defaults (the htmx "add a row" answer)."""
        kwargs = self.form_kwargs()
        formset: Any = self.formset_class(prefix=self.prefix, form_kwargs=kwargs)
        form = self.form(
            prefix=formset.add_prefix(index),
            initial=self.new_row(hint),
            auto_id=formset.auto_id,
            empty_permitted=True,
            use_required_attribute=False,
            renderer=formset.renderer,
            **kwargs,
        )
        formset.add_fields(form, index)
        form.row_number = index + 1  # type: ignore[attr-defined]
        return form

    # ------------------------------------------------------------ reading

    def posted_rows(self, post: QueryDict, *, drop: int | None = None) -> list[dict[str, Any]]:
        """The rows as typed (raw values), without the removed ones: the page shown again when
        JavaScript is off and a row is added or removed (nothing is saved)."""
        try:
            total = int(post.get(f"{self.prefix}-TOTAL_FORMS") or 0)
        except ValueError:
            total = 0
        names = [n for n in self.form.base_fields if n != "DELETE"]
        rows = []
        for i in range(min(max(total, 0), MAX_ROWS)):
            if i == drop or RemovedFlag().format_value(post.get(f"{self.prefix}-{i}-DELETE")):
                continue
            rows.append({n: post.get(f"{self.prefix}-{i}-{n}", "") for n in names})
        return rows

    def used_forms(self, formset: Any) -> list[RowForm]:
        """The valid rows that say something, in order (call after `is_valid`)."""
        out = []
        for form in formset.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or not form.is_used(form._filled()):
                continue
            out.append(form)
        return out

    def items(self, formset: Any) -> list[Any]:
        formset.item_forms = self.used_forms(formset)
        return [f.item() for f in formset.item_forms]


def route_error(formset: Any, rest: list[str], message: str) -> bool:
    """A rule's error on item `rest[0]` (field `rest[1]`, if any) of a list read by `items`: shown
    on the row the item came from. False when there is no such row."""
    forms_ = getattr(formset, "item_forms", None)
    if not forms_ or not rest or not rest[0].isdigit() or int(rest[0]) >= len(forms_):
        return False
    form = forms_[int(rest[0])]
    field = rest[1] if len(rest) > 1 and rest[1] in form.fields else None
    if field is None and len(form.visible_fields()) == 1:
        field = form.visible_fields()[0].name
    form.add_error(field, message)
    return True
