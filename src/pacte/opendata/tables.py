"""The tables of the open-data dump: every column described once, rows read in chunks.

Each table holds exactly what the public API shows anonymously (same selectors, same field
names): nothing a visitor cannot already read is published here. Rows are produced one at a
time from querysets read with ``.iterator()``, so the dump never holds a table in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from pacte.data.models import Grant, Release
from pacte.evidence import selectors as evidence
from pacte.funding import selectors as funding
from pacte.journal.selectors import recent_events
from pacte.pacts import selectors as pacts
from pacte.projects.models import Phase
from pacte.projects.selectors import search_projects

CHUNK = 500
Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | integer | number | boolean | date | datetime | json
    description: str  # French: the data dictionary is written in French


@dataclass(frozen=True)
class Table:
    name: str
    description: Any
    api: str  # where the same rows are served by the API
    columns: tuple[Column, ...]
    rows: Callable[[], Iterator[Row]]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def C(name: str, type: str, description: Any) -> Column:  # noqa: N802 — a table's column, tersely
    return Column(name, type, description)


# ------------------------------------------------------------------ rows


def _projects() -> Iterator[Row]:
    current: dict[int, tuple[Any, int, str]] = {}
    for project_id, kind, started_on, pk in Phase.objects.values_list(
        "project_id", "kind", "started_on", "id"
    ).iterator(chunk_size=CHUNK):
        if project_id not in current or (started_on, pk) > current[project_id][:2]:
            current[project_id] = (started_on, pk, kind)  # as Project.current_phase
    for p in search_projects().order_by("name", "id").iterator(chunk_size=CHUNK):
        yield {
            "slug": p.slug,
            "name": p.name,
            "pitch": p.pitch,
            "territory": p.territory,
            "carrier": p.carrier.slug,
            "takeover_institution": p.takeover_institution.slug if p.takeover_institution else None,
            "current_phase": current[p.pk][2] if p.pk in current else None,
            "description": p.description,
            "website": p.website,
            "repository": p.repository,
            "licence": p.licence,
            "target_users": p.target_users,
        }


def _pacts() -> Iterator[Row]:
    rows = (
        pacts.versions_visible(None)
        .filter(is_current=True)
        .order_by("-pact__created_at", "-pk")
        .values_list(
            "pact__reference", "pact__project__slug", "pact__institution__slug", "number", "status"
        )
    )
    for reference, project, institution, number, status in rows.iterator(chunk_size=CHUNK):
        yield {
            "reference": reference,
            "project": project,
            "institution": institution,
            "current_version": number,
            "status": status,
        }


def _versions() -> Iterator[Row]:
    qs = pacts.versions_visible(None).order_by("pact__reference", "number")
    for v in qs.iterator(chunk_size=CHUNK):
        yield {
            "pact": v.pact.reference,
            "number": v.number,
            "status": v.status,
            "is_current": v.is_current,
            "canonical_sha256": v.canonical_sha256,
            "requires_second_review": v.requires_second_review,
            "submitted_at": v.submitted_at,
            "status_changed_at": v.status_changed_at,
            "last_reason": v.last_reason,
            "cure_deadline": v.cure_deadline,
            "content": v.content,
        }


COMMITMENT_FIELDS = (
    "key",
    "owner",
    "principle",
    "text",
    "indicator",
    "threshold",
    "due_date",
    "recurrence",
    "evidence_kind",
    "status",
    "progress",
)


def _commitments() -> Iterator[Row]:
    rows = pacts.commitments().values(
        "version__pact__reference", "version__number", *COMMITMENT_FIELDS
    )
    for r in rows.iterator(chunk_size=CHUNK):
        yield {"pact": r.pop("version__pact__reference"), "version": r.pop("version__number"), **r}


def _grants() -> Iterator[Row]:
    qs = Grant.objects.select_related("project__carrier", "dataset_version__dataset").order_by(
        "-issued_at", "-id"
    )
    for g in qs.iterator(chunk_size=CHUNK):
        yield {
            "reference": g.reference,
            "name": g.name,
            "project": g.project.slug,
            "carrier": g.project.carrier.slug,
            "dataset": g.dataset_version.dataset.slug,
            "dataset_version": g.dataset_version.version,
            "tier": g.tier,
            "columns": g.columns,
            "purpose": g.purpose,
            "state": g.state,
            "rho_grant": g.rho_grant,
            "rho_spent": g.rho_spent,
            "issued_at": g.issued_at,
            "expires_at": g.expires_at,
            "last_reason": g.last_reason,
        }


def _releases() -> Iterator[Row]:
    qs = Release.objects.select_related("grant__project", "dataset_version__dataset").order_by(
        "created_at", "id"
    )
    for r in qs.iterator(chunk_size=CHUNK):
        yield {
            "release_id": str(r.release_id),
            "grant": r.grant.reference,
            "project": r.grant.project.slug,
            "dataset": r.dataset_version.dataset.slug,
            "dataset_version": r.dataset_version.version,
            "fingerprint": r.fingerprint,
            "query": r.query,
            "rho": r.rho,
            "privacy_unit": r.privacy_unit or None,
            "cells": r.cells,
            "aggregates": r.aggregates,
            "output_sha256": r.output_sha256,
            "served": r.served,
            "created_at": r.created_at,
        }


EVALUATION_FIELDS = (
    "title",
    "status",
    "outcome",
    "window",
    "estimand",
    "method",
    "source",
    "n_treatment",
    "n_control",
    "successes_treatment",
    "successes_control",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "scale",
    "unit",
    "conclusive",
    "sentence",
    "power",
    "mde_points",
    "data_sha256",
    "published_at",
)


def _evaluations() -> Iterator[Row]:
    for e in evidence.evaluations(None).iterator(chunk_size=CHUNK):
        yield {
            "id": e.pk,
            "project": e.project.slug,
            "pact": e.pact.reference if e.pact else None,
            "experiment": e.experiment.slug if e.experiment else None,
            "evaluator": e.evaluator.slug,
            **{f: getattr(e, f) for f in EVALUATION_FIELDS},
            "risk_ratio": e.details.get("risk_ratio"),
        }


def _audits() -> Iterator[Row]:
    for a in evidence.audits().iterator(chunk_size=CHUNK):
        yield {
            "id": a.pk,
            "project": a.project.slug,
            "pact": a.pact.reference if a.pact else None,
            "auditor": a.auditor.slug,
            "title": a.title,
            "decision": a.decision,
            "band": [a.band_low, a.band_high],
            "band_source": a.band_source,
            "min_group_size": a.min_group_size,
            "reference_group": a.reference_group,
            "n_rows": a.n_rows,
            "breach_count": a.breach_count,
            "insufficient_count": a.insufficient_count,
            "remediation_commitment": a.remediation_key,
            "rows": a.rows,
            "groups": a.groups,
            "data_sha256": a.data_sha256,
            "published_at": a.published_at,
        }


def _events() -> Iterator[Row]:
    rows = recent_events().values(
        "index", "type", "occurred_at", "subject_type", "subject_id", "entry", "entry_hash"
    )
    for r in rows.iterator(chunk_size=CHUNK):
        yield dict(r)


def _payments() -> Iterator[Row]:
    for p in funding.payments().iterator(chunk_size=CHUNK):
        yield {
            "reference": p.reference,
            "contract": p.contract.reference,
            "programme": p.contract.programme.slug,
            "kind": p.kind,
            "window": p.window.number if p.window else None,
            "amount_eur": p.amount_eur,
            "status": p.status,
            "formula_version": p.formula_version,
            "formula": p.formula_text,
            "inputs": p.inputs,
            "due_on": p.due_on,
            "paid_on": p.paid_on,
            "late": p.late,
        }


# ------------------------------------------------------------------ the tables

S, INT, N, B, D, T, J = "string", "integer", "number", "boolean", "date", "datetime", "json"

TABLES: tuple[Table, ...] = (
    Table(
        "projets",
        _("Projets citoyens inscrits au registre."),
        "/api/v1/projects",
        (
            C("slug", S, "Identifiant du projet (dans ses adresses)."),
            C("name", S, "Nom du projet."),
            C("pitch", S, "Le projet en une phrase."),
            C("territory", S, "Territoire d'action."),
            C("carrier", S, "Organisation porteuse (identifiant)."),
            C("takeover_institution", S, "Institution qui reprend le projet, s'il y en a une."),
            C("current_phase", S, "Phase en cours (exploration, construction, accélération…)."),
            C("description", S, "Description longue."),
            C("website", S, "Site web."),
            C("repository", S, "Dépôt du code source."),
            C("licence", S, "Licence du code (identifiant SPDX)."),
            C("target_users", S, "Publics visés."),
        ),
        _projects,
    ),
    Table(
        "pactes",
        _("Pactes publics, avec leur version en vigueur."),
        "/api/v1/pacts",
        (
            C("reference", S, "Référence du pacte."),
            C("project", S, "Projet (identifiant)."),
            C("institution", S, "Institution signataire (identifiant)."),
            C("current_version", INT, "Numéro de la version en vigueur."),
            C("status", S, "Statut de la version en vigueur."),
        ),
        _pacts,
    ),
    Table(
        "versions_de_pactes",
        _("Toutes les versions publiques des pactes, avec leur contenu."),
        "/api/v1/pacts/{reference}/versions",
        (
            C("pact", S, "Référence du pacte."),
            C("number", INT, "Numéro de version."),
            C("status", S, "Statut de la version."),
            C("is_current", B, "Vrai pour la version en vigueur."),
            C("canonical_sha256", S, "Empreinte SHA-256 du texte canonique signé."),
            C("requires_second_review", B, "Vrai si une seconde relecture est exigée."),
            C("submitted_at", T, "Date de soumission."),
            C("status_changed_at", T, "Date du dernier changement de statut."),
            C("last_reason", S, "Motif public de la dernière décision."),
            C("cure_deadline", D, "Échéance de mise en conformité, le cas échéant."),
            C("content", J, "Contenu du pacte (objet JSON)."),
        ),
        _versions,
    ),
    Table(
        "engagements",
        _("Engagements des deux parties des pactes publics."),
        "/api/v1/pacts/commitments",
        (
            C("pact", S, "Référence du pacte."),
            C("version", INT, "Version du pacte."),
            C("key", S, "Clé de l'engagement dans le pacte."),
            C("owner", S, "Partie qui s'engage (porteur ou institution)."),
            C("principle", S, "Principe du Service Public Citoyen servi."),
            C("text", S, "Texte de l'engagement."),
            C("indicator", S, "Indicateur suivi."),
            C("threshold", S, "Seuil à atteindre."),
            C("due_date", D, "Échéance."),
            C("recurrence", S, "Récurrence."),
            C("evidence_kind", S, "Nature de la preuve attendue."),
            C("status", S, "État de l'engagement."),
            C("progress", INT, "Avancement déclaré, en pourcentage."),
        ),
        _commitments,
    ),
    Table(
        "acces_aux_donnees",
        _("Accès aux données accordés (parties publiques)."),
        "/api/v1/grants",
        (
            C("reference", S, "Référence de l'accès."),
            C("name", S, "Intitulé."),
            C("project", S, "Projet bénéficiaire."),
            C("carrier", S, "Organisation porteuse."),
            C("dataset", S, "Jeu de données."),
            C("dataset_version", S, "Version du jeu de données."),
            C("tier", INT, "Palier d'accès (0 à 4)."),
            C("columns", J, "Colonnes accordées."),
            C("purpose", S, "Finalité déclarée."),
            C("state", S, "État de l'accès."),
            C("rho_grant", N, "Budget de confidentialité différentielle accordé (zCDP ρ)."),
            C("rho_spent", N, "Budget de confidentialité consommé."),
            C("issued_at", T, "Date d'octroi."),
            C("expires_at", T, "Date d'expiration."),
            C("last_reason", S, "Motif public de la dernière décision."),
        ),
        _grants,
    ),
    Table(
        "requetes_publiees",
        _("Requêtes servies par la passerelle et leurs résultats publiés (agrégats protégés)."),
        "/api/v1/releases/{release_id}",
        (
            C("release_id", S, "Identifiant de la publication."),
            C("grant", S, "Accès utilisé."),
            C("project", S, "Projet."),
            C("dataset", S, "Jeu de données."),
            C("dataset_version", S, "Version du jeu de données."),
            C("fingerprint", S, "Empreinte de la requête."),
            C("query", J, "Requête (objet JSON)."),
            C("rho", N, "Budget de confidentialité dépensé."),
            C("privacy_unit", S, "Unité de confidentialité."),
            C("cells", INT, "Nombre de cellules publiées."),
            C("aggregates", J, "Agrégats publiés (bruités)."),
            C("output_sha256", S, "Empreinte SHA-256 du résultat."),
            C("served", B, "Vrai si le résultat a été servi."),
            C("created_at", T, "Date."),
        ),
        _releases,
    ),
    Table(
        "evaluations",
        _("Évaluations d'impact publiées."),
        "/api/v1/evaluations",
        (
            C("id", INT, "Identifiant de l'évaluation."),
            C("project", S, "Projet évalué."),
            C("pact", S, "Pacte concerné, le cas échéant."),
            C("experiment", S, "Expérimentation d'origine, le cas échéant."),
            C("evaluator", S, "Organisation évaluatrice."),
            C("title", S, "Intitulé."),
            C("status", S, "Statut."),
            C("outcome", S, "Résultat mesuré."),
            C("window", S, "Fenêtre de mesure."),
            C("estimand", S, "Quantité estimée."),
            C("method", S, "Méthode statistique."),
            C("source", S, "Source des données."),
            C("n_treatment", INT, "Effectif du groupe bénéficiaire."),
            C("n_control", INT, "Effectif du groupe témoin."),
            C("successes_treatment", INT, "Succès dans le groupe bénéficiaire."),
            C("successes_control", INT, "Succès dans le groupe témoin."),
            C("estimate", N, "Effet estimé."),
            C("ci_low", N, "Borne basse de l'intervalle de confiance à 95 %."),
            C("ci_high", N, "Borne haute de l'intervalle de confiance à 95 %."),
            C("p_value", N, "Valeur p."),
            C("scale", S, "Échelle de l'effet."),
            C("unit", S, "Unité de l'effet."),
            C("conclusive", B, "Vrai si l'évaluation conclut."),
            C("sentence", S, "La conclusion en une phrase."),
            C("power", N, "Puissance statistique."),
            C("mde_points", N, "Effet minimal détectable, en points."),
            C("data_sha256", S, "Empreinte SHA-256 des données utilisées."),
            C("published_at", T, "Date de publication."),
            C("risk_ratio", N, "Rapport de risques, le cas échéant."),
        ),
        _evaluations,
    ),
    Table(
        "audits",
        _("Audits de biais publiés."),
        "/api/v1/audits",
        (
            C("id", INT, "Identifiant de l'audit."),
            C("project", S, "Projet audité."),
            C("pact", S, "Pacte concerné, le cas échéant."),
            C("auditor", S, "Organisation auditrice."),
            C("title", S, "Intitulé."),
            C("decision", S, "Décision de l'audit."),
            C("band", J, "Bande d'acceptation [basse, haute]."),
            C("band_source", S, "Source de la bande."),
            C("min_group_size", INT, "Effectif minimal d'un groupe."),
            C("reference_group", S, "Groupe de référence."),
            C("n_rows", INT, "Lignes auditées."),
            C("breach_count", INT, "Groupes hors de la bande."),
            C("insufficient_count", INT, "Groupes trop petits pour conclure."),
            C("remediation_commitment", S, "Engagement de remédiation, le cas échéant."),
            C("rows", J, "Résultats par groupe."),
            C("groups", J, "Groupes examinés."),
            C("data_sha256", S, "Empreinte SHA-256 des données."),
            C("published_at", T, "Date de publication."),
        ),
        _audits,
    ),
    Table(
        "journal",
        _("Entrées du journal public vérifiable."),
        "/api/v1/events",
        (
            C("index", INT, "Rang de l'entrée dans le journal."),
            C("type", S, "Type d'événement."),
            C("occurred_at", T, "Date de l'événement."),
            C("subject_type", S, "Nature de l'objet concerné."),
            C("subject_id", S, "Identifiant de l'objet concerné."),
            C("entry", S, "Entrée canonique (JSON), telle qu'inscrite dans l'arbre de Merkle."),
            C("entry_hash", S, "Empreinte SHA-256 de l'entrée."),
        ),
        _events,
    ),
    Table(
        "paiements",
        _("Paiements au résultat des programmes de financement, avec leur formule."),
        "/api/v1/funding/payments",
        (
            C("reference", S, "Référence du paiement."),
            C("contract", S, "Contrat à impact."),
            C("programme", S, "Programme de financement."),
            C("kind", S, "Nature : paiement au résultat ou avance."),
            C("window", INT, "Fenêtre d'évaluation payée, le cas échéant."),
            C("amount_eur", N, "Montant en euros."),
            C("status", S, "État du paiement."),
            C("formula_version", S, "Version de la formule de calcul."),
            C("formula", S, "Formule appliquée, en clair."),
            C("inputs", J, "Entrées de la formule (évaluation, intervalle, effectifs…)."),
            C("due_on", D, "Date d'échéance."),
            C("paid_on", D, "Date de paiement."),
            C("late", B, "Vrai si l'État a payé (ou doit encore) après l'échéance."),
        ),
        _payments,
    ),
)
