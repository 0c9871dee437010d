"""The forms of the comptoir, the experts and the challenges (French first)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pacte.comptoirs.models import Post, Theme


def _choices(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


TEXT: dict[str, Any] = {"max_length": 5000, "widget": forms.Textarea(attrs={"rows": 4})}


class _PostBase(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    theme = forms.ChoiceField(label=_("Thème"), choices=Theme.choices)
    territory = forms.CharField(
        label=_("Territoire"),
        max_length=120,
        help_text=_("Une commune, un département, une région, ou « France »."),
    )


class ProblemForm(_PostBase):
    """The societal problem, not a solution (C1)."""

    affected = forms.CharField(label=_("Qui est concerné ?"), max_length=300)
    affected_count = forms.IntegerField(
        label=_("Combien de personnes, à peu près ?"), min_value=1, max_value=100_000_000
    )
    today = forms.CharField(label=_("Que se passe-t-il aujourd'hui pour elles ?"), **TEXT)
    body = forms.CharField(
        label=_("Ce que vous observez"),
        help_text=_("Décrivez le problème, pas une solution : les faits, où, depuis quand."),
        **TEXT,
    )


class ProposalForm(_PostBase):
    body = forms.CharField(label=_("Le projet que vous proposez"), **TEXT)
    affected = forms.CharField(label=_("Pour qui ?"), max_length=300, required=False)


class ContributionForm(_PostBase):
    project = forms.ChoiceField(label=_("Projet auquel vous voulez contribuer"))
    skills = forms.CharField(label=_("Vos compétences"), max_length=300)
    time_offered = forms.CharField(
        label=_("Temps proposé"), max_length=120, help_text=_("Par exemple : 2 heures par semaine.")
    )
    body = forms.CharField(label=_("Votre message au porteur"), **TEXT)

    def __init__(self, *args: Any, projects: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "project", projects)


# the form of each kind of post (the comptoir's pages and the mediator's, issue 13 P7)
POST_FORMS: dict[str, type[_PostBase]] = {
    Post.Kind.PROBLEM: ProblemForm,
    Post.Kind.PROJECT: ProposalForm,
    Post.Kind.CONTRIBUTION: ContributionForm,
}


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Votre réponse (publique)"), **TEXT)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Motif (public)"), min_length=10, **TEXT)


class RedirectForm(ReasonForm):
    institution = forms.ChoiceField(label=_("Institution vers laquelle réorienter"))

    def __init__(self, *args: Any, institutions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "institution", institutions)


class BecomeProjectForm(forms.Form):
    name = forms.CharField(label=_("Nom du projet"), max_length=200)
    pitch = forms.CharField(label=_("Le projet en une phrase"), max_length=300)


class ExpertForm(forms.Form):
    name = forms.CharField(label=_("Nom de l'expert"), max_length=200)
    domain = forms.CharField(label=_("Domaine d'expertise"), max_length=200)
    organisation_label = forms.CharField(label=_("Service ou organisme"), max_length=200)
    availability = forms.CharField(label=_("Disponibilités"), max_length=300)
    languages = forms.CharField(
        label=_("Langues (séparées par des virgules)"), max_length=200, initial="français"
    )
    bio = forms.CharField(label=_("Présentation"), required=False, **TEXT)


class AskForm(forms.Form):
    project = forms.ChoiceField(label=_("Votre projet (pacte en vigueur)"))
    topic = forms.CharField(label=_("Sujet de l'échange"), max_length=200)
    question = forms.CharField(label=_("Votre question"), **TEXT)

    def __init__(self, *args: Any, projects: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "project", projects)


class SlotsForm(forms.Form):
    slots = forms.CharField(
        label=_("Créneaux proposés (un par ligne)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExpertRedirectForm(ReasonForm):
    expert = forms.ChoiceField(label=_("Autre expert"))

    def __init__(self, *args: Any, experts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "expert", experts)


class SummaryForm(forms.Form):
    notes = forms.CharField(
        label=_("Vos notes (vues des deux parties seulement)"), required=False, **TEXT
    )
    public_summary = forms.CharField(label=_("Synthèse publique proposée"), **TEXT)


class ChallengeForm(forms.Form):
    title = forms.CharField(label=_("Titre du défi"), max_length=200)
    problem = forms.CharField(label=_("Le problème à résoudre"), **TEXT)
    theme = forms.ChoiceField(label=_("Thème"), choices=Theme.choices)
    territory = forms.CharField(label=_("Territoire"), max_length=120, required=False)
    criteria = forms.CharField(label=_("Critères de sélection"), **TEXT)
    deadline = forms.DateField(
        label=_("Date limite des candidatures (AAAA-MM-JJ)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    programme = forms.ChoiceField(label=_("Programme de financement"), required=False)
    datasets = forms.MultipleChoiceField(
        label=_("Données du catalogue mises à disposition"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        programmes: list[tuple[str, str]],
        datasets: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "programme", [("", _("Aucun"))] + programmes)
        _choices(self, "datasets", datasets)


class ApplyForm(forms.Form):
    proposal = forms.CharField(label=_("Votre proposition"), **TEXT)
    team = forms.CharField(label=_("L'équipe (qui, quelles compétences)"), max_length=300)
    project = forms.ChoiceField(label=_("Projet existant (facultatif)"), required=False)

    def __init__(self, *args: Any, projects: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "project", [("", _("Aucun"))] + projects)


class RouteForm(forms.Form):
    """A row of the routing table (issue 12): kept by its institution's signatories."""

    theme = forms.ChoiceField(label=_("Thème"), required=False)
    territory = forms.CharField(
        label=_("Territoire"),
        max_length=120,
        required=False,
        help_text=_("Une commune, un département ou une région ; vide : tous les territoires."),
    )
    institution = forms.ChoiceField(label=_("Institution qui répond"))
    contact_role = forms.ChoiceField(label=_("Rôle du contact"))
    contact_title = forms.CharField(
        label=_("Contact nommé"),
        max_length=120,
        help_text=_("L'intitulé public du contact, par exemple « Référent innovation »."),
    )
    clock_days = forms.IntegerField(
        label=_("Délai de réponse (jours)"), min_value=1, max_value=365, initial=30
    )
    reason = forms.CharField(
        label=_("Motif du changement (public, facultatif)"), max_length=2000, required=False
    )

    def __init__(
        self,
        *args: Any,
        institutions: list[tuple[str, str]],
        contact_roles: list[tuple[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "theme", [("", _("Tous les thèmes"))] + list(Theme.choices))
        _choices(self, "institution", institutions)
        _choices(self, "contact_role", contact_roles)


class RouteRemoveForm(forms.Form):
    reason = forms.CharField(label=_("Motif du retrait (public)"), min_length=10, **TEXT)


class ExpertWithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Motif du retrait (public)"), min_length=10, **TEXT)
    redirect_to = forms.ChoiceField(
        label=_("Réorienter les demandes en attente vers"),
        required=False,
        help_text=_(
            "Sans autre expert choisi, chaque demande en attente est déclinée avec ce motif."
        ),
    )

    def __init__(self, *args: Any, experts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "redirect_to", [("", _("Personne : décliner les demandes"))] + experts)
