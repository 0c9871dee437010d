"""Forms of the participation pages (labels in French, through gettext)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pacte.links import web_link_validator
from pacte.participation.comments import MAX_FLAG_REASON, MAX_TEXT
from pacte.participation.consultations import MAX_DAYS, MIN_DAYS
from pacte.participation.models import DigestPreference, Reuse, Section


class OpenConsultationForm(forms.Form):
    days = forms.IntegerField(
        label=_("Durée de la consultation (jours)"),
        min_value=MIN_DAYS,
        max_value=MAX_DAYS,
        initial=21,
        help_text=_("Pendant cette durée, toute personne connectée peut commenter le pacte."),
    )


class CommentForm(forms.Form):
    section = forms.ChoiceField(label=_("Partie du pacte commentée"), choices=Section.choices)
    text = forms.CharField(
        label=_("Votre commentaire"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Public. Modifiable tant qu'il n'a pas reçu de réponse."),
    )


class EditCommentForm(forms.Form):
    text = forms.CharField(
        label=_("Nouveau texte"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Réponse publique"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


class FlagForm(forms.Form):
    reason = forms.CharField(label=_("Motif du signalement"), max_length=MAX_FLAG_REASON)


class ModerationForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Décision"),
        choices=[
            ("hide", _("Masquer")),
            ("keep", _("Maintenir (écarter les signalements)")),
            ("restore", _("Rétablir")),
        ],
    )
    reason = forms.CharField(
        label=_("Motif public"),
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Au moins 10 caractères ; le motif est publié au journal."),
    )


class FrequencyForm(forms.Form):
    frequency = forms.ChoiceField(
        label=_("Recevoir mes notifications par courriel"),
        choices=DigestPreference.Frequency.choices,
    )


class ReuseForm(forms.Form):
    kind = forms.ChoiceField(label=_("Ce qui est réutilisé"), choices=Reuse.Kind.choices)
    title = forms.CharField(label=_("Titre de la réutilisation"), max_length=200)
    description = forms.CharField(
        label=_("Ce que fait la réutilisation"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reuser = forms.CharField(
        label=_("Par qui"), max_length=200, help_text=_("Personne, association, entreprise…")
    )
    place = forms.CharField(
        label=_("Où"), max_length=200, required=False, help_text=_("Territoire, site, service…")
    )
    url = forms.URLField(
        label=_("Lien"), max_length=500, validators=[web_link_validator], assume_scheme="https"
    )
