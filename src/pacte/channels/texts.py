"""The engine's codes in plain French (through gettext): clause names and why a clause is (not) met."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pacte.engines.channel_rules import Clause, ClauseResult

CLAUSE_LABELS = {
    Clause.PACT_ACTIVE: gettext_lazy("Pacte en vigueur"),
    Clause.POSITIVE_EFFECT: gettext_lazy(
        "Évaluation publiée dont la borne basse de l'intervalle de confiance est positive"
    ),
    Clause.BIAS_WITHIN_BAND: gettext_lazy("Audit de biais publié, dans la bande tolérée"),
    Clause.ALGORITHM_SHEET: gettext_lazy("Fiche algorithme publiée"),
    Clause.ACCESSIBILITY_STATEMENT: gettext_lazy("Déclaration d'accessibilité publiée"),
    Clause.TERRITORY: gettext_lazy("Territoire couvert"),
    Clause.NEED: gettext_lazy("Besoin couvert"),
}


def clause_label(code: str) -> str:
    try:
        return str(CLAUSE_LABELS[Clause(code)])
    except ValueError:
        return code


def _points(share: str) -> str:
    """A share as percentage points, French style (0.012 → « 1,2 point »)."""
    try:
        value = float(share) * 100
    except ValueError:
        return share
    return f"{value:.1f}".replace(".", ",")


def explain(result: ClauseResult) -> str:
    """Why this clause is met or not, in one French sentence."""
    code = result.code
    p = result.param
    if code == "pact_active":
        return _("Le pacte est en vigueur.")
    if code == "pact_not_active":
        return _("Le pacte n'est pas en vigueur (il doit être signé et actif).")
    if code == "no_published_evaluation":
        return _("Aucune évaluation d'impact n'est encore publiée.")
    if code == "lower_bound_above":
        return _(
            "La borne basse de l'effet mesuré (%(low)s points) dépasse le seuil du canal (%(min)s points)."
        ) % {"low": _points(p("low")), "min": _points(p("min"))}
    if code == "lower_bound_not_above":
        return _(
            "La borne basse de l'effet mesuré (%(low)s points) ne dépasse pas le seuil du canal "
            "(%(min)s points) : l'effet n'est pas encore démontré."
        ) % {"low": _points(p("low")), "min": _points(p("min"))}
    if code == "no_bias_audit":
        return _("Aucun audit de biais n'est encore publié.")
    if code == "bias_out_of_band":
        return _(
            "Le dernier audit de biais publié relève au moins un écart hors de la bande tolérée."
        )
    if code == "bias_within_band":
        return _("Le dernier audit de biais publié est dans la bande tolérée.")
    if code == "algorithm_sheet_published":
        return _("La fiche algorithme est publiée.")
    if code == "no_algorithm_sheet":
        return _("Aucune fiche algorithme n'est publiée.")
    if code == "accessibility_statement_present":
        return _("La déclaration d'accessibilité est publiée.")
    if code == "no_accessibility_statement":
        return _(
            "Aucune déclaration d'accessibilité : l'engagement « accessibilité » du pacte doit être "
            "tenu, avec l'adresse de la déclaration."
        )
    if code == "territory_any":
        return _("Le canal couvre tout le territoire.")
    if code == "territory_covered":
        return _("Le service couvre le territoire du canal (%(territories)s).") % {
            "territories": p("territories")
        }
    if code == "territory_not_covered":
        return _("Le service ne couvre pas le territoire du canal (%(territories)s).") % {
            "territories": p("territories")
        }
    if code == "need_any":
        return _("Le canal accepte tous les besoins.")
    if code == "need_covered":
        return _("Le service répond à un besoin du canal (%(needs)s).") % {"needs": p("needs")}
    if code == "need_not_covered":
        return _("Le service ne déclare aucun des besoins du canal (%(needs)s).") % {
            "needs": p("needs")
        }
    return code
