"""The lists of a pact's content as rows and pickers in the editor (issue 14: "pickers instead of
codes"). The stored content does not change: a dataset is still its catalogue identifier, a
funding source its kind code, a channel its identifier. What the editor shows are words: the
dataset's title under its publisher, the kind's French label, the channel's name.

Anything a stored pact names that the lists do not know (a dataset no longer in the catalogue, a
channel typed freely before the pickers existed) stays a choice of its own, so every existing
pact re-opens without loss.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pacte.input_limits import LABEL, PARAGRAPH, SENTENCE, TITLE
from pacte.pacts.schema import EVIDENCE_KINDS, PRINCIPLES, RECURRENCES
from pacte.web.row_sets import RowForm, RowSet

# ---------------------------------------------------------------- choices from the database


def catalogue_choices() -> dict[str, Any]:
    """The catalogue for the data rows: grouped choices (publisher → titles) and each dataset's
    sensitivity (the default of a row that leaves it blank)."""
    from pacte.data.selectors import datasets

    groups: dict[str, list[tuple[str, str]]] = {}
    sensitivity: dict[str, int] = {}
    for ds in datasets().order_by("publisher__name", "title"):
        groups.setdefault(ds.publisher.name, []).append((ds.slug, ds.title))
        sensitivity[ds.slug] = ds.sensitivity
    return {"catalogue": list(groups.items()), "sensitivities": sensitivity}


def channel_choices() -> list[tuple[str, str]]:
    from pacte.channels.selectors import channels

    return [
        (c.slug, f"{c.name} — {c.institution.name} ({c.get_kind_display()})") for c in channels()
    ]


def tier_choices() -> list[tuple[Any, str]]:
    from pacte.engines import proportionality

    return [("", "—"), *[(int(t), f"{int(t)} — {t.label}") for t in proportionality.Tier]]


def sensitivity_choices() -> list[tuple[Any, Any]]:
    from pacte.data.models import SENSITIVITY

    return [("", _("— celle du catalogue")), *SENSITIVITY]


def funding_kind_choices() -> list[tuple[str, Any]]:
    from pacte.web.labels import FUNDING_KINDS

    return [("", "—"), *FUNDING_KINDS.items()]


def _unknown(value: str) -> str:
    return gettext("« %(value)s » (absent de la liste)") % {"value": value}


# ---------------------------------------------------------------- rows


class BiasRiskRow(RowForm):
    needed = ("group", "mechanism", "metric")

    group = forms.CharField(
        label=_("Groupe exposé"),
        max_length=SENTENCE,
        required=False,
        help_text=_("Par exemple : personnes sans diplôme."),
    )
    mechanism = forms.CharField(
        label=_("Mécanisme du biais"),
        max_length=PARAGRAPH,
        required=False,
        help_text=_("Comment ce groupe pourrait être moins bien servi."),
    )
    metric = forms.CharField(
        label=_("Métrique suivie"),
        max_length=SENTENCE,
        required=False,
        help_text=_("Par exemple : couverture parmi les personnes dans le besoin."),
    )
    tolerated_ratio = forms.FloatField(
        label=_("Ratio toléré"),
        required=False,
        initial=0.8,
        help_text=_(
            "Entre 0 et 1 : avec 0,8, le groupe doit obtenir au moins les quatre cinquièmes du "
            "résultat du groupe de référence."
        ),
    )

    def clean_tolerated_ratio(self) -> float | None:
        r = self.cleaned_data.get("tolerated_ratio")
        if r is not None and not 0 < r <= 1:
            raise forms.ValidationError(_("Un ratio entre 0 (exclu) et 1 est attendu."))
        return r

    @staticmethod
    def initial_for(item: Any) -> dict[str, Any]:
        return {
            "group": item.get("group", ""),
            "mechanism": item.get("mechanism", ""),
            "metric": item.get("metric", ""),
            "tolerated_ratio": item.get("tolerated_ratio", 0.8),
        }

    def item(self) -> dict[str, Any]:
        d = self.cleaned_data
        ratio = d.get("tolerated_ratio")
        return {
            "group": d["group"],
            "mechanism": d["mechanism"],
            "metric": d["metric"],
            "tolerated_ratio": 0.8 if ratio is None else ratio,
        }


class FundingSourceRow(RowForm):
    needed = ("name", "kind")

    name = forms.CharField(
        label=_("Financeur ou source"),
        max_length=TITLE,
        required=False,
        help_text=_("Par exemple : Région Val-de-Loire, dons des adhérents."),
    )
    kind = forms.ChoiceField(label=_("Nature du financement"), required=False, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = funding_kind_choices()  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(item: Any) -> dict[str, Any]:
        return {"name": item.get("name", ""), "kind": item.get("kind", "")}

    def item(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"], "kind": self.cleaned_data["kind"]}


class DataRequestRow(RowForm):
    needed = ("dataset", "tier")

    dataset = forms.ChoiceField(label=_("Jeu de données du catalogue"), required=False, choices=())
    tier = forms.TypedChoiceField(
        label=_("Niveau d'accès demandé"), required=False, coerce=int, empty_value=None, choices=()
    )
    sensitivity = forms.TypedChoiceField(
        label=_("Sensibilité"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=(),
        help_text=_("Laissée vide, c'est celle que le catalogue indique pour ce jeu."),
    )
    purpose = forms.CharField(
        label=_("Finalité"),
        max_length=PARAGRAPH,
        required=False,
        help_text=_("Ce que ces données permettront pour la mission."),
    )

    def __init__(
        self,
        *args: Any,
        catalogue: list[tuple[str, list[tuple[str, str]]]] | None = None,
        sensitivities: dict[str, int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sensitivities = sensitivities or {}
        choices: list[Any] = [("", "—"), *(catalogue or [])]
        known = set(self.sensitivities)
        named = self.initial.get("dataset") or (
            self.data.get(self.add_prefix("dataset")) if self.is_bound else ""
        )
        if named and named not in known:
            choices.append((_("Autres identifiants"), [(named, _unknown(named))]))
        self.fields["dataset"].choices = choices  # type: ignore[attr-defined]
        self.fields["tier"].choices = tier_choices()  # type: ignore[attr-defined]
        self.fields["sensitivity"].choices = sensitivity_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        ds = data.get("dataset")
        if ds and data.get("sensitivity") is None and not data.get("DELETE"):
            if ds in self.sensitivities:
                data["sensitivity"] = self.sensitivities[ds]
            else:
                self.add_error(
                    "sensitivity",
                    _("Ce jeu n'est pas au catalogue : indiquez sa sensibilité."),
                )
        return data

    @staticmethod
    def initial_for(item: Any) -> dict[str, Any]:
        return {
            "dataset": item.get("dataset", ""),
            "tier": item.get("tier"),
            "sensitivity": item.get("sensitivity"),
            "purpose": item.get("purpose", ""),
        }

    def item(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "dataset": d["dataset"],
            "tier": d["tier"],
            "sensitivity": d["sensitivity"],
            "purpose": d["purpose"],
        }


class ExpertRow(RowForm):
    needed = ("name",)

    name = forms.CharField(
        label=_("Expert (nom ou fonction)"),
        max_length=TITLE,
        required=False,
        help_text=_("Par exemple : conseillère emploi référente."),
    )

    @staticmethod
    def initial_for(item: Any) -> dict[str, Any]:
        return {"name": str(item)}

    def item(self) -> str:
        return str(self.cleaned_data["name"])


class SanctionRow(RowForm):
    needed = ("trigger", "measure")

    trigger = forms.CharField(
        label=_("Déclencheur"),
        max_length=SENTENCE,
        required=False,
        help_text=_("Par exemple : manquement non corrigé dans le délai."),
    )
    measure = forms.CharField(
        label=_("Mesure"),
        max_length=SENTENCE,
        required=False,
        help_text=_("Par exemple : suspension des versements."),
    )

    @staticmethod
    def initial_for(item: Any) -> dict[str, Any]:
        return {"trigger": item.get("trigger", ""), "measure": item.get("measure", "")}

    def item(self) -> dict[str, Any]:
        return {"trigger": self.cleaned_data["trigger"], "measure": self.cleaned_data["measure"]}


# ---------------------------------------------------------------- the editor's lists


def new_commitment(principle: str) -> dict[str, Any]:
    return {
        "principle": principle if principle in PRINCIPLES else "",
        "owner": "carrier",
        "recurrence": "none",
    }


def _choices(items: Any) -> list[tuple[str, Any]]:
    """A code table as choices, each label translated when shown."""
    return [(k, _(v)) for k, v in items]


class CommitmentForm(RowForm):
    """One commitment row. A row without a text is an unused row (dropped); its key is made from
    its principle when left empty (pacte.web.pact_editor.commitments_from)."""

    def is_used(self, data: Any) -> bool:
        return bool(str(data.get("text") or "").strip())

    @staticmethod
    def initial_for(item: Any) -> dict[str, Any]:
        return dict(item)

    def item(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "DELETE"}

    key = forms.SlugField(
        label=_("Clé"),
        max_length=60,
        required=False,
        help_text=_("Identifiant court, créé pour vous si vous le laissez vide."),
    )
    owner = forms.ChoiceField(
        label=_("Partie"),
        choices=[("carrier", _("Porteur")), ("institution", _("Institution"))],
        initial="carrier",
    )
    principle = forms.ChoiceField(
        label=_("Principe"), choices=[("", "—"), *_choices(PRINCIPLES.items())], required=False
    )
    text = forms.CharField(
        label=_("Engagement"),
        max_length=500,
        required=False,
        # the focus lands here when a row is added (rows.js): the key before it is optional
        widget=forms.TextInput(attrs={"data-row-focus": ""}),
    )
    indicator = forms.CharField(label=_("Indicateur"), max_length=300, required=False)
    threshold = forms.CharField(label=_("Seuil"), max_length=200, required=False)
    due_date = forms.DateField(
        label=_("Échéance"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    recurrence = forms.ChoiceField(
        label=_("Récurrence"), choices=_choices(RECURRENCES.items()), initial="none"
    )
    evidence = forms.ChoiceField(
        label=_("Preuve"), choices=_choices(EVIDENCE_KINDS.items()), initial="document"
    )


COMMITMENTS = RowSet(
    "c",
    CommitmentForm,
    title=_("Engagements, principe par principe"),
    row_label=_("Engagement"),
    add_label=_("Ajouter un engagement"),
    added=_("Engagement ajouté : écrivez-le, puis son indicateur et son seuil."),
    removed=_("Engagement retiré. Enregistrez le brouillon pour confirmer."),
    new_row=new_commitment,
    max_rows=200,
)

BIAS = RowSet(
    "biais",
    BiasRiskRow,
    title=_("Risques de biais"),
    row_label=_("Risque de biais"),
    add_label=_("Ajouter un risque de biais"),
    added=_("Risque de biais ajouté : remplissez ses champs."),
    removed=_("Risque de biais retiré. Enregistrez le brouillon pour confirmer."),
    help_text=_(
        "Pour chaque groupe qui pourrait être moins bien servi : comment, et ce que vous mesurerez."
    ),
)
FUNDING = RowSet(
    "financement",
    FundingSourceRow,
    title=_("Sources de financement"),
    row_label=_("Source de financement"),
    add_label=_("Ajouter une source de financement"),
    added=_("Source de financement ajoutée : remplissez ses champs."),
    removed=_("Source de financement retirée. Enregistrez le brouillon pour confirmer."),
)
DATA = RowSet(
    "donnees",
    DataRequestRow,
    title=_("Données demandées à l'État (S1)"),
    row_label=_("Jeu de données"),
    add_label=_("Ajouter un jeu de données"),
    added=_("Jeu de données ajouté : choisissez-le dans le catalogue."),
    removed=_("Jeu de données retiré. Enregistrez le brouillon pour confirmer."),
    help_text=_(
        "Choisissez chaque jeu dans le catalogue (rangé par institution éditrice) et le niveau "
        "d'accès dont la mission a besoin."
    ),
    form_kwargs=catalogue_choices,
)
EXPERTS = RowSet(
    "experts",
    ExpertRow,
    title=_("Experts mis à disposition (S3)"),
    row_label=_("Expert"),
    add_label=_("Ajouter un expert"),
    added=_("Expert ajouté : indiquez son nom ou sa fonction."),
    removed=_("Expert retiré. Enregistrez le brouillon pour confirmer."),
)
SANCTIONS = RowSet(
    "sanctions",
    SanctionRow,
    title=_("Sanctions"),
    row_label=_("Sanction"),
    add_label=_("Ajouter une sanction"),
    added=_("Sanction ajoutée : indiquez son déclencheur et la mesure."),
    removed=_("Sanction retirée. Enregistrez le brouillon pour confirmer."),
    help_text=_("Ce qui s'applique en cas de manquement (C7)."),
)
# content path (dotted) of each list the editor shows as rows
LISTS: dict[str, tuple[RowSet, str]] = {
    COMMITMENTS.prefix: (COMMITMENTS, "commitments"),
    BIAS.prefix: (BIAS, "bias_risks"),
    FUNDING.prefix: (FUNDING, "commons.funding_sources"),
    DATA.prefix: (DATA, "state.data"),
    EXPERTS.prefix: (EXPERTS, "state.experts"),
    SANCTIONS.prefix: (SANCTIONS, "sanctions"),
}


def get_list(content: dict[str, Any], path: str) -> list[Any]:
    node: Any = content
    for part in path.split("."):
        node = (node or {}).get(part)
    return list(node or [])


# ---------------------------------------------------------------- channels: checkboxes


def condition_field(value: str) -> str:
    """The name of the condition field beside a channel's checkbox (a safe HTML id)."""
    if re.fullmatch(r"[a-z0-9][a-z0-9-]*", value):
        return f"channel_condition_{value}"
    return "channel_condition_" + hashlib.sha256(value.encode()).hexdigest()[:12]


def add_channel_fields(form: forms.Form, stored: list[str]) -> None:
    """The channel checkboxes (every declared channel, then whatever the pact names that is not
    one) and one optional condition field per channel."""
    choices = channel_choices()
    known = {v for v, _label in choices}
    data: Any = form.data  # a QueryDict when bound
    posted = data.getlist("state_channels") if form.is_bound else []
    for value in [*stored, *posted]:
        if value and value not in known:
            choices.append((value, _unknown(value)))
            known.add(value)
    field = form.fields["state_channels"]
    field.choices = choices  # type: ignore[attr-defined]
    for value, label in choices:
        form.fields[condition_field(value)] = forms.CharField(
            label=gettext("Condition de diffusion pour « %(channel)s »") % {"channel": label},
            max_length=LABEL,
            required=False,
        )


def channel_pairs(form: forms.Form) -> list[tuple[Any, Any]]:
    """(checkbox, condition field) for each channel, in the order of the list."""
    boxes = list(form["state_channels"])
    return [(box, form[condition_field(str(box.data["value"]))]) for box in boxes]


def channels_initial(content: dict[str, Any]) -> dict[str, Any]:
    items = (content.get("state") or {}).get("channels") or []
    out: dict[str, Any] = {"state_channels": [x["channel"] for x in items]}
    for x in items:
        out[condition_field(x["channel"])] = x.get("condition", "")
    return out


def channels_content(form: forms.Form) -> list[dict[str, str]]:
    chosen = form.cleaned_data.get("state_channels") or []
    order = [v for v, _label in form.fields["state_channels"].choices]  # type: ignore[attr-defined]
    return [
        {"channel": v, "condition": form.cleaned_data.get(condition_field(v)) or ""}
        for v in order
        if v in chosen
    ]


# ---------------------------------------------------------------- words for the pact's page


def state_in_words(content: dict[str, Any]) -> dict[str, Any]:
    """The data and channels a pact names, in words: the dataset's title and publisher, the
    tier's and sensitivity's labels, the channel's name (an unknown identifier as it is)."""
    from pacte.channels.models import Channel
    from pacte.data.models import SENSITIVITY, Dataset
    from pacte.engines import proportionality

    state = content.get("state") or {}
    data, channels = state.get("data") or [], state.get("channels") or []
    titles = {
        d.slug: d
        for d in Dataset.objects.filter(slug__in=[x.get("dataset") for x in data]).select_related(
            "publisher"
        )
    }
    names = {
        c.slug: c.name
        for c in Channel.objects.filter(slug__in=[x.get("channel") for x in channels])
    }
    sens = dict(SENSITIVITY)
    tiers = {int(t): t.label for t in proportionality.Tier}
    return {
        "data": [
            {
                "title": titles[x["dataset"]].title
                if x.get("dataset") in titles
                else x.get("dataset"),
                "publisher": titles[x["dataset"]].publisher.name
                if x.get("dataset") in titles
                else "",
                "slug": x.get("dataset") if x.get("dataset") in titles else "",
                "tier": tiers.get(x.get("tier"), x.get("tier")),
                "sensitivity": sens.get(x.get("sensitivity"), x.get("sensitivity")),
                "purpose": x.get("purpose", ""),
            }
            for x in data
        ],
        "channels": [
            {"name": names.get(x.get("channel"), x.get("channel")), "condition": x.get("condition")}
            for x in channels
        ],
    }
