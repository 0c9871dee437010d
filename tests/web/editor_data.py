"""What the pact editor's page would post back as it is: every field and every row of every list
(with its management numbers), read from the page's form objects."""

from __future__ import annotations

from typing import Any


def _value(bound: Any) -> Any:
    v = bound.value()
    if v is None or v is False:
        return None
    if v is True:
        return "on"
    return v


def editor_data(response: Any) -> dict[str, Any]:
    form = response.context["form"]
    data: dict[str, Any] = {}
    for name in form.fields:
        v = _value(form[name])
        if v is not None:
            data[name] = v
    for prefix, entry in response.context["sets"].items():
        formset = entry["formset"]
        data[f"{prefix}-TOTAL_FORMS"] = str(formset.total_form_count())
        data[f"{prefix}-INITIAL_FORMS"] = str(formset.initial_form_count())
        for row in formset.forms:
            for name in row.fields:
                v = _value(row[name])
                if v is not None:
                    data[row.add_prefix(name)] = v
    return data
