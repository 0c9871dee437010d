"""Algorithm sheets (C6, CRPA L311-3-1 and R311-3-1-2): the carrier describes an algorithm that
contributes to public decisions, publishes it (final: a change is a new version), and anyone gets
an individual explanation or the sheet in the UK ATRS layout."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.services import Acting
from pacte.engines import canonical
from pacte.errors import NotFound, ValidationFailed
from pacte.evidence.compliance import lock_for_compliance, run_compliance
from pacte.evidence.lifecycles import SHEET
from pacte.evidence.models import AlgorithmSheet
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict

SHEET_FIELDS = (
    "title",
    "purpose",
    "contribution_degree",
    "contribution_mode",
    "operations",
    "human_oversight",
    "risks",
    "objection_contact",
)
PARAMETER_KEY = re.compile(r"[a-z][a-z0-9_]*")


def _validate_parameters(params: Any, errors: dict[str, list[str]]) -> None:
    keys: set[str] = set()
    if not isinstance(params, list) or not params:
        errors["parameters"] = [_("Listez les paramètres et leur pondération.")]
        return
    for i, p in enumerate(params):
        if (
            not isinstance(p, dict)
            or not PARAMETER_KEY.fullmatch(str(p.get("key", "")))
            or not p.get("label")
        ):
            errors[f"parameters.{i}"] = [
                _("Chaque paramètre a une clé (minuscules, chiffres, _) et un libellé.")
            ]
            continue
        try:
            float(p["weight"])
        except (KeyError, TypeError, ValueError):
            errors[f"parameters.{i}.weight"] = [_("La pondération doit être un nombre.")]
        if p["key"] in keys:
            errors[f"parameters.{i}.key"] = [_("Clé en double.")]
        keys.add(p["key"])


def _validate_sheet(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for f in SHEET_FIELDS:
        value = str(data.get(f, "") or "").strip()
        if len(value) < 3:
            errors[f] = [_("Champ obligatoire (CRPA L311-3-1 / R311-3-1-2).")]
        clean[f] = value
    if (
        clean["contribution_degree"]
        and clean["contribution_degree"] not in AlgorithmSheet.Degree.values
    ):
        errors["contribution_degree"] = [_("Choisir : support, partial ou automated.")]
    sources = data.get("data_sources") or []
    if (
        not isinstance(sources, list)
        or not sources
        or not all(isinstance(s, dict) and s.get("name") and s.get("source") for s in sources)
    ):
        errors["data_sources"] = [_("Listez les données traitées et leur source ({name, source}).")]
    params = data.get("parameters") or []
    _validate_parameters(params, errors)
    if errors:
        raise ValidationFailed(_("La fiche algorithme est incomplète."), field_errors=errors)
    clean["data_sources"] = [
        {
            "name": str(s["name"]),
            "source": str(s["source"]),
            "description": str(s.get("description", "")),
        }
        for s in sources
    ]
    clean["parameters"] = [
        {
            "key": p["key"],
            "label": str(p["label"]),
            "weight": float(p["weight"]),
            "description": str(p.get("description", "")),
        }
        for p in params
    ]
    return clean


@retry_on_conflict
@transaction.atomic
def create_sheet(acting: Acting, project: Project, data: dict[str, Any]) -> AlgorithmSheet:
    """A new draft; its version number follows the project's earlier sheets of the same title.

    The project row is locked (FOR NO KEY UPDATE: inserts referencing the project still go
    through) so that two sheets created at once get versions n and n+1, never the same number;
    the unique constraint (project, title, version) guarantees it whatever the code path."""
    policy.require(acting, policy.Action.PROJECT_CARRIER_WORK, project)
    clean = _validate_sheet(data)
    Project.objects.select_for_update(no_key=True, of=("self",)).filter(pk=project.pk).first()
    version = AlgorithmSheet.objects.filter(project=project, title=clean["title"]).count() + 1
    return AlgorithmSheet.objects.create(project=project, version=version, **clean)


def sheet_document(sheet: AlgorithmSheet) -> dict[str, Any]:
    return {
        f: getattr(sheet, f)
        for f in (*SHEET_FIELDS, "data_sources", "parameters", "legal_basis", "version")
    } | {"project": sheet.project.slug}


@retry_on_conflict
@transaction.atomic
def publish_sheet(
    acting: Acting, sheet: AlgorithmSheet, today: date | None = None
) -> AlgorithmSheet:
    sheet = (
        AlgorithmSheet.objects.select_for_update(of=("self",))
        .select_related("project")
        .get(pk=sheet.pk)
    )
    if sheet.status == AlgorithmSheet.State.DRAFT:
        sheet.published_on = today
    lock_for_compliance(sheet.project)  # lock order: what run_compliance changes, before the log
    SHEET.apply(
        acting,
        "publish",
        sheet,
        title=sheet.title,
        version=sheet.version,
        degree=sheet.contribution_degree,
        sha256=canonical.sha256_hex(sheet_document(sheet)),
    )
    run_compliance(today, project=sheet.project)
    return sheet


def explain(sheet: AlgorithmSheet, situation: dict[str, Any]) -> dict[str, Any]:
    """For one person's situation: each parameter's value, weight and contribution (weighted sum)."""
    if sheet.status != AlgorithmSheet.State.PUBLISHED:
        raise NotFound(_("Cette fiche algorithme n'est pas publiée."))
    keys = [p["key"] for p in sheet.parameters]
    errors: dict[str, list[str]] = {}
    for k in situation:
        if k not in keys:
            errors[k] = [_("Paramètre inconnu de cet algorithme.")]
    values: dict[str, float] = {}
    for k in keys:
        if k not in situation:
            errors[k] = [_("Valeur manquante pour ce paramètre.")]
            continue
        raw = situation[k]
        try:
            values[k] = float(raw) if not isinstance(raw, bool) else float(int(raw))
            if not math.isfinite(values[k]):
                raise ValueError
        except (TypeError, ValueError):
            errors[k] = [_("Un nombre (ou vrai/faux) est attendu.")]
    if errors:
        raise ValidationFailed(_("Situation incomplète ou invalide."), field_errors=errors)
    rows = [
        {
            "key": p["key"],
            "label": p["label"],
            "value": values[p["key"]],
            "weight": p["weight"],
            "contribution": values[p["key"]] * p["weight"],
            "description": p["description"],
        }
        for p in sheet.parameters
    ]
    score = sum(r["contribution"] for r in rows)
    total_abs = sum(abs(r["contribution"]) for r in rows) or 1.0
    for r in rows:
        r["share"] = abs(r["contribution"]) / total_abs
    rows.sort(key=lambda r: -abs(r["contribution"]))
    return {
        "sheet": sheet.pk,
        "version": sheet.version,
        "title": sheet.title,
        "score": score,
        "parameters": rows,
        "contribution_degree": sheet.contribution_degree,
        "contribution_degree_label": sheet.get_contribution_degree_display(),
        "human_oversight": sheet.human_oversight,
        "objection_contact": sheet.objection_contact,
        "notice": _(
            "Explication individuelle (CRPA R311-3-1-2) : paramètres appliqués à la situation donnée, "
            "avec leur pondération. Vous pouvez contester la décision auprès du contact indiqué."
        ),
    }


def atrs_export(sheet: AlgorithmSheet) -> dict[str, Any]:
    """The sheet in the UK Algorithmic Transparency Recording Standard layout (tiers 1 and 2)."""
    project = sheet.project
    carrier = project.carrier
    params = "; ".join(f"{p['label']} (pondération {p['weight']:g})" for p in sheet.parameters)
    return {
        "schema": "Algorithmic Transparency Recording Standard (UK), tier 1 and tier 2 layout",
        "tier_1": {
            "name": sheet.title,
            "description": sheet.purpose,
            "website": project.website or "",
            "contact_email": sheet.objection_contact,
        },
        "tier_2": {
            "owner_and_responsibility": {
                "organisation": carrier.name,
                "team": carrier.name,
                "senior_responsible_owner": carrier.name,
                "external_supplier_involvement": "Non",
                "external_supplier": "",
                "companies_house_number": "",
                "external_supplier_role": "",
                "procurement_procedure_type": "",
                "data_access_terms": "Pacte de Service Public Citoyen : accès limité à la finalité du pacte.",
            },
            "description_and_rationale": {
                "detailed_description": f"{sheet.purpose}\n\nOpérations effectuées : {sheet.operations}",
                "scope": sheet.purpose,
                "benefit": "",
                "previous_process": "",
                "alternatives_considered": "",
            },
            "decision_making_process": {
                "process_integration": sheet.contribution_mode,
                "provided_information": params,
                "frequency_and_scale_of_usage": "",
                "human_decisions_and_review": sheet.human_oversight,
                "required_training": "",
                "appeals_and_review": sheet.objection_contact,
                "degree_of_automation": sheet.get_contribution_degree_display(),
            },
            "tool_specification": {
                "system_architecture": sheet.operations,
                "phase": "production"
                if sheet.status == AlgorithmSheet.State.PUBLISHED
                else "pre-deployment",
                "maintenance": "",
                "models": [
                    {
                        "model_name": sheet.title,
                        "model_type": "score pondéré",
                        "model_task": sheet.purpose,
                        "model_input": ", ".join(p["label"] for p in sheet.parameters),
                        "model_output": "score",
                        "model_architecture": "somme pondérée des paramètres",
                        "model_performance": "",
                        "datasets": [s["name"] for s in sheet.data_sources],
                        "dataset_purposes": params,
                    }
                ],
            },
            "data_specification": {
                "source_data_name": ", ".join(s["name"] for s in sheet.data_sources),
                "data_modality": "tabulaire",
                "data_description": "; ".join(
                    f"{s['name']} : {s['description']}".rstrip(" :") for s in sheet.data_sources
                ),
                "data_quantity": "",
                "sensitive_attributes": "",
                "data_completeness_and_representativeness": "",
                "source_data_url": "",
                "data_collection": "; ".join(
                    f"{s['name']} (source : {s['source']})" for s in sheet.data_sources
                ),
                "data_cleaning": "",
                "data_sharing_agreements": "",
                "data_access_and_storage": "",
            },
            "risks_mitigations_and_impact_assessments": {
                "impact_assessment": [],
                "risks": [
                    {
                        "risk_name": "Risques déclarés",
                        "risk_description": sheet.risks,
                        "mitigation": sheet.human_oversight,
                    }
                ],
            },
        },
        "fr_legal": {
            "basis": sheet.legal_basis,
            "degree": sheet.contribution_degree,
            "parameters": sheet.parameters,
            "version": sheet.version,
        },
    }
