"""Plain French for every code the pages show: one place, translated (gettext).

Why one module rather than each domain's TextChoices alone: model fields already have TextChoices
(their labels are used as they are, through ``TEXT_CHOICES`` below, so a label is never written twice),
but many codes live in the pact's JSON content (recurrence, evidence kinds, funding kinds, methods),
in the proportionality rules (strength, review mode) or in the journal (event types, subject types)
and have no model. A template asks ``{{ code|label:"recurrence" }}`` and gets the words; the crawl test
builds its list of raw codes from the same registry, so a new code without a label is caught.

A domain adds its own codes with ``register(kind, {...})`` from its AppConfig.ready(), or one line in
``EXTRA`` below; an event type without a sentence shows its code (and the crawl test says which).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Label = str | Promise

# ---------------------------------------------------------------- codes without a model

RECURRENCES: dict[str, Label] = {
    "none": _("ponctuel"),
    "monthly": _("mensuel"),
    "quarterly": _("trimestriel"),
    "semiannual": _("semestriel"),
    "yearly": _("annuel"),
}
FUNDING_KINDS: dict[str, Label] = {
    "public_grant": _("Subvention publique"),
    "donation": _("Don"),
    "revenue": _("Recettes"),
    "loan": _("Prêt"),
    "outcome_contract": _("Contrat à impact"),
    "equity": _("Prise de participation"),
}
OWNERS: dict[str, Label] = {"carrier": _("le porteur"), "institution": _("l'institution")}
# who holds the ball: pacts say carrier/institution/both, data requests porteur/institution
BALL: dict[str, Label] = {
    "carrier": _("au porteur"),
    "porteur": _("au porteur"),
    "institution": _("à l'institution"),
    "both": _("aux deux parties (signatures)"),
    "none": _("personne"),
    "—": _("personne"),
}
STRENGTHS: dict[str, Label] = {"weak": _("faible"), "medium": _("moyenne"), "strong": _("forte")}
BENEFITS: dict[str, Label] = {"low": _("faible"), "medium": _("moyen"), "high": _("élevé")}
REVIEW_MODES: dict[str, Label] = {
    "one_reviewer": _("un instructeur"),
    "two_reviewers": _("deux instructeurs"),
    "committee": _("un comité"),
}
SUBJECTS: dict[str, Label] = {
    "pact": _("pacte"),
    "project": _("projet"),
    "data_request": _("demande de données"),
    "grant": _("accès aux données"),
    "dataset": _("jeu de données"),
    "release": _("publication de données"),
    "evaluation": _("évaluation"),
    "audit": _("audit de biais"),
    "panel": _("panel"),
    "experiment": _("expérimentation"),
    "payment": _("paiement"),
    "programme": _("programme de financement"),
    "contract": _("contrat à impact"),
    "consent": _("consentement"),
    "feedback": _("avis d'usager"),
    "algorithm_sheet": _("fiche algorithme"),
    "commitment": _("engagement"),
    "organisation": _("organisation"),
}
# Journal event types read as sentences (what happened, in the past tense).
EVENTS: dict[str, Label] = {
    "project.created": _("Projet proposé"),
    "phase.closed": _("Phase du projet close"),
    "pact.drafted": _("Pacte rédigé (brouillon)"),
    "pact.revised": _("Pacte modifié"),
    "pact.submitted": _("Pacte soumis à l'instruction"),
    "pact.withdrawn": _("Pacte retiré par le porteur"),
    "pact.changes_requested": _("Modifications demandées au porteur"),
    "pact.review_recorded": _("Avis favorable enregistré, second avis attendu"),
    "pact.approved": _("Pacte approuvé par l'institution"),
    "pact.signed": _("Pacte signé"),
    "pact.activated": _("Pacte entré en vigueur"),
    "pact.amendment_started": _("Avenant commencé"),
    "pact.superseded": _("Pacte remplacé par un avenant"),
    "pact.breach_notified": _("Manquement notifié au porteur"),
    "pact.cured": _("Manquement corrigé"),
    "pact.suspended": _("Pacte suspendu (sanctions)"),
    "pact.reinstated": _("Pacte rétabli"),
    "pact.broken": _("Pacte rompu"),
    "pact.completed": _("Pacte arrivé à terme"),
    "pact.state_breach": _("Manquement de l'État constaté"),
    "sanction.applied": _("Sanction appliquée"),
    "remediation.opened": _("Remédiation ouverte"),
    "commitment.evidence": _("Preuve déposée pour un engagement"),
    "commitment.due_soon": _("Échéance d'un engagement proche"),
    "commitment.missed": _("Engagement non tenu à l'échéance"),
    "dataset.published": _("Jeu de données publié au catalogue"),
    "dataset.version_added": _("Nouvelle version d'un jeu de données"),
    "request.drafted": _("Demande de données rédigée"),
    "request.submitted": _("Demande de données soumise"),
    "request.withdrawn": _("Demande de données retirée"),
    "request.changes_requested": _("Modifications demandées sur une demande de données"),
    "request.review_recorded": _("Avis enregistré sur une demande de données"),
    "request.approved": _("Demande de données acceptée"),
    "request.refused": _("Demande de données refusée"),
    "grant.issued": _("Accès aux données ouvert"),
    "grant.token_rotated": _("Clé d'accès aux données renouvelée"),
    "grant.suspended": _("Accès aux données suspendu"),
    "grant.reinstated": _("Accès aux données rétabli"),
    "grant.revoked": _("Accès aux données révoqué"),
    "grant.renewed": _("Accès aux données renouvelé"),
    "grant.renewal_due": _("Renouvellement d'un accès à décider"),
    "grant.renewal_reminder": _("Rappel : un accès aux données arrive à échéance"),
    "grant.expired": _("Accès aux données expiré"),
    "data.query": _("Données interrogées par la passerelle"),
    "consent.given": _("Consentement donné"),
    "consent.withdrawn": _("Consentement retiré"),
    "evaluation.published": _("Évaluation d'impact publiée"),
    "audit.published": _("Audit de biais publié"),
    "algorithm_sheet.published": _("Fiche algorithme publiée"),
    "experiment.designed": _("Expérimentation conçue"),
    "experiment.preregistered": _("Expérimentation pré-enregistrée"),
    "experiment.assigned": _("Participants répartis entre les groupes"),
    "panel.opened": _("Appel à panel ouvert"),
    "panel.drawn": _("Panel tiré au sort"),
    "feedback.received": _("Avis d'usager reçu"),
    "feedback.question_added": _("Question ajoutée au recueil d'avis"),
    "feedback.hidden": _("Avis d'usager masqué (modération)"),
    "feedback.answered": _("Réponse publiée à un avis d'usager"),
    "programme.opened": _("Programme de financement ouvert"),
    "contract.attached": _("Contrat à impact rattaché au pacte"),
    "contract.cancelled": _("Contrat à impact annulé"),
    "window.validated": _("Fenêtre d'évaluation validée"),
    "payment.prepared": _("Paiement préparé"),
    "payment.approved": _("Paiement approuvé"),
    "payment.released": _("Paiement libéré"),
    "payment.paid": _("Paiement versé"),
    "payment.withheld": _("Paiement retenu"),
    "payment.cancelled": _("Paiement annulé"),
    "payment.late": _("Paiement en retard"),
    "recovery.opened": _("Recouvrement ouvert"),
    "recovery.recovered": _("Somme recouvrée"),
    "programme.amended": _("Programme de financement modifié"),
    "ledger.allocated": _("Grand livre : budget alloué"),
    "ledger.reduced": _("Grand livre : budget abaissé"),
    "ledger.committed": _("Grand livre : montant engagé"),
    "ledger.payable": _("Grand livre : montant à payer"),
    "ledger.paid": _("Grand livre : montant versé"),
    "ledger.withheld": _("Grand livre : montant retenu"),
    "ledger.released": _("Grand livre : montant libéré"),
    "ledger.decommitted": _("Grand livre : montant désengagé"),
    "ledger.recovery": _("Grand livre : recouvrement ouvert"),
    "ledger.recovered": _("Grand livre : somme recouvrée"),
    "commitment.added": _("Engagement de l'État ajouté au pacte"),
    "commitment.rescheduled": _("Échéance d'un engagement reportée"),
    "commitment.withdrawn": _("Engagement retiré"),
    "commitment.on_track": _("Engagement de nouveau en bonne voie"),
    "commitment.met": _("Engagement tenu"),
    "commitment.breached": _("Engagement rompu"),
    "channel.declared": _("Canal de diffusion déclaré"),
    "channel.updated": _("Canal de diffusion modifié"),
    "channel.coverage_declared": _("Territoire et besoin couverts déclarés"),
    "channel.eligible": _("Service devenu éligible à un canal"),
    "channel.listed": _("Service référencé dans un canal"),
    "channel.listing_late": _("Référencement dans un canal en retard"),
    "channel.removed": _("Service retiré d'un canal"),
    "channel.lapsed": _("Service sorti des conditions d'un canal"),
    "takeover.confirmed": _("Reprise par l'institution confirmée"),
    "takeover.alert": _("Alerte publique : reprise à préparer"),
    "expert.published": _("Expert publié par l'institution"),
    "expert.updated": _("Fiche d'un expert modifiée"),
    "expert.withdrawn": _("Expert retiré par l'institution"),
    "expert_request.requested": _("Échange avec un expert demandé"),
    "expert_request.accepted": _("Échange avec un expert accepté"),
    "expert_request.redirected": _("Demande d'échange réorientée"),
    "expert_request.declined": _("Demande d'échange déclinée"),
    "expert_request.late": _("Réponse à une demande d'échange en retard"),
    "expert_request.summary_proposed": _("Compte rendu d'échange proposé"),
    "expert_request.completed": _("Compte rendu d'échange publié"),
    "comptoir.route.set": _("Table d'orientation du comptoir modifiée"),
    "comptoir.route.removed": _("Ligne retirée de la table d'orientation du comptoir"),
    "comptoir.post.received": _("Contribution reçue au comptoir"),
    "comptoir.post.routed": _("Contribution orientée vers une institution"),
    "comptoir.post.in_review": _("Contribution en cours d'examen"),
    "comptoir.post.answered": _("Réponse publiée au comptoir"),
    "comptoir.post.redirected": _("Contribution réorientée"),
    "comptoir.post.closed": _("Contribution close avec un motif"),
    "comptoir.post.late": _("Réponse du comptoir en retard"),
    "comptoir.post.moderated": _("Contribution modérée (motif public)"),
    "comptoir.post.became_project": _("Proposition devenue un projet"),
    "challenge.published": _("Défi publié"),
    "challenge.applied": _("Candidature déposée à un défi"),
    "challenge.application_selected": _("Candidature retenue par le jury"),
    "challenge.application_not_selected": _("Candidature non retenue par le jury"),
    "challenge.selection_published": _("Sélection du jury publiée"),
    "challenge.pact_drafted": _("Projet de pacte préparé pour un lauréat"),
    "challenge.closed": _("Défi clos"),
    "consultation.opened": _("Consultation publique ouverte"),
    "consultation.closed": _("Consultation publique close"),
    "consultation.comment_posted": _("Commentaire publié en consultation"),
    "consultation.comment_answered": _("Réponse publiée à un commentaire"),
    "participation.comment_hidden": _("Commentaire masqué (modération)"),
    "participation.comment_kept": _("Commentaire signalé maintenu"),
    "participation.comment_restored": _("Commentaire rétabli"),
    "participation.reuse_declared": _("Réutilisation déclarée"),
    "participation.reuse_hidden": _("Réutilisation masquée (modération)"),
    "participation.reuse_kept": _("Réutilisation signalée maintenue"),
    "participation.reuse_restored": _("Réutilisation rétablie"),
    "assisted.recorded": _("Démarche accompagnée par un médiateur"),
    "assisted.claimed": _("Démarche accompagnée rattachée à un compte"),
    "assisted.consent_withdrawn": _("Consentement accompagné retiré"),
    "opendata.dump_published": _("Export des données ouvertes publié"),
    "account.deleted": _("Compte supprimé (sans donnée personnelle)"),
}


def _text_choices() -> dict[str, dict[str, Label]]:
    """The labels of the models' TextChoices, by kind (imported late: apps must be ready)."""
    from pacte.accounts.models import Organisation, Role
    from pacte.data.models import Classification, RequestStatus
    from pacte.pacts.models import Review, Signature, Status
    from pacte.pacts.schema import EVIDENCE_KINDS, IMPACT_METHODS, PRINCIPLES

    return {
        "role": dict(Role.choices),
        "org_kind": dict(Organisation.Kind.choices),
        "legal_form": dict(Organisation.LegalForm.choices),
        "pact_status": dict(Status.choices),
        "request_status": dict(RequestStatus.choices),
        "classification": dict(Classification.choices),
        "review": dict(Review.Decision.choices),
        "side": dict(Signature.Side.choices),
        "evidence": dict(EVIDENCE_KINDS),
        "method": dict(IMPACT_METHODS),
        "principle": dict(PRINCIPLES),
    }


# issue 14 (evidence pages): a panel call's stratification criterion, an experiment's arms
PANEL_ATTRIBUTES: dict[str, Label] = {
    "age_band": _("Tranche d'âge"),
    "territory": _("Territoire"),
    "situation": _("Situation"),
}
ARMS: dict[str, Label] = {"control": _("groupe témoin"), "treatment": _("groupe traité")}

EXTRA: dict[str, dict[str, Label]] = {
    "recurrence": RECURRENCES,
    "funding_kind": FUNDING_KINDS,
    "owner": OWNERS,
    "ball": BALL,
    "strength": STRENGTHS,
    "benefit": BENEFITS,
    "review_mode": REVIEW_MODES,
    "subject": SUBJECTS,
    "event": EVENTS,
    "panel_attribute": PANEL_ATTRIBUTES,
    "arm": ARMS,
}
_registered: dict[str, dict[str, Label]] = {}
# The merged tables, built on first use and rebuilt after a `register`: a page shows dozens of
# labels, and merging every table again for each was a measurable part of the project page.
# The labels stay lazy (gettext_lazy), so one table serves every language.
_merged: dict[str, dict[str, Label]] | None = None


def register(kind: str, labels: Mapping[str, Label]) -> None:
    """A domain adds the labels of its own codes (e.g. from its AppConfig.ready())."""
    global _merged
    _registered.setdefault(kind, {}).update(labels)
    _merged = None


def kinds() -> dict[str, dict[str, Label]]:
    global _merged
    if _merged is None:
        out: dict[str, dict[str, Label]] = {}
        for source in (_text_choices(), EXTRA, _registered):
            for kind, table in source.items():
                out.setdefault(kind, {}).update(table)
        _merged = out
    return _merged


def label(kind: str, code: Any) -> str:
    """The words for a code (the code itself when it has none: the crawl test then names it)."""
    if code is None or code == "":
        return ""
    table = kinds().get(kind, {})
    value = table.get(str(code))
    return str(value) if value is not None else str(code)


def ball(code: str) -> str:
    return label("ball", code)


def event(code: str) -> str:
    return label("event", code)


def all_codes() -> set[str]:
    """Every code that has a label, plus every choice value of every installed model's fields: what
    a page must never show raw (the crawl test's list)."""
    from django.apps import apps

    codes: set[str] = set()
    for table in kinds().values():
        codes.update(table)
    for model in apps.get_models():
        for f in model._meta.get_fields():
            for choice in getattr(f, "choices", None) or ():
                if isinstance(choice[0], str):
                    codes.add(choice[0])
    return codes
