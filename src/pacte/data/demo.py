"""Data-access demo: two generated datasets (small, so the demo stays fast), grants on the same
dataset for two projects (DP aggregates and a pseudonymised extract) plus a secure room, a
citizen linked to a record, and the demo tokens in VAR_DIR/demo-tokens.json (demo only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings

from pacte.data import demo_data

DEMO_ROWS = 50_000
DEMO_SEED = 2024

HIRING = "declarations-embauche"
COHORT = "cohorte-demandeurs-emploi"


def _keys(mapping: Any) -> list[str]:
    return sorted(mapping)


def hiring_schema() -> dict[str, Any]:
    b = demo_data.CLIPPING_BOUNDS
    return {
        "columns": [
            {
                "name": "establishment_id",
                "type": "string",
                "classification": "direct_identifier",
                "label": "SIRET de l'établissement",
            },
            {
                "name": "departement",
                "type": "string",
                "classification": "quasi_identifier",
                "keys": _keys(demo_data.DEPARTEMENTS),
                "hierarchy": "departement",
                "label": "Département",
            },
            {
                "name": "region",
                "type": "string",
                "classification": "key",
                "keys": _keys(demo_data.REGIONS),
                "label": "Région",
            },
            {
                "name": "naf_sector",
                "type": "string",
                "classification": "key",
                "keys": _keys(demo_data.NAF_SECTIONS),
                "label": "Section NAF",
            },
            {
                "name": "size_band",
                "type": "string",
                "classification": "key",
                "keys": _keys(demo_data.SIZE_BANDS),
                "label": "Tranche d'effectif",
            },
            {
                "name": "contract_type",
                "type": "string",
                "classification": "key",
                "keys": _keys(demo_data.CONTRACT_TYPES),
                "label": "Type de contrat",
            },
            {
                "name": "contract_days",
                "type": "int",
                "classification": "measure",
                "bounds": list(b["contract_days"]),
                "label": "Durée du contrat (jours)",
            },
            {
                "name": "hire_date",
                "type": "date",
                "classification": "quasi_identifier",
                "hierarchy": "date",
                "label": "Date d'embauche",
            },
            {
                "name": "salary_band",
                "type": "string",
                "classification": "key",
                "keys": _keys(demo_data.SALARY_BANDS),
                "label": "Tranche de salaire",
            },
            {
                "name": "monthly_salary_eur",
                "type": "int",
                "classification": "measure",
                "bounds": list(b["monthly_salary_eur"]),
                "label": "Salaire mensuel brut (€)",
            },
            {
                "name": "person_id",
                "type": "string",
                "classification": "direct_identifier",
                "label": "Identifiant de la personne",
            },
            {
                "name": "age",
                "type": "int",
                "classification": "quasi_identifier",
                "hierarchy": "age",
                "bounds": list(b["age"]),
                "label": "Âge",
            },
            {
                "name": "sex",
                "type": "string",
                "classification": "quasi_identifier",
                "keys": _keys(demo_data.SEXES),
                "hierarchy": "suppress",
                "label": "Sexe",
            },
        ]
    }


def cohort_schema() -> dict[str, Any]:
    flag = {"type": "int", "classification": "measure", "bounds": [0, 1]}
    return {
        "columns": [
            {"name": "person_id", "type": "string", "classification": "direct_identifier"},
            {
                "name": "age_band",
                "type": "string",
                "classification": "quasi_identifier",
                "keys": _keys(demo_data.AGE_BANDS),
            },
            {
                "name": "sex",
                "type": "string",
                "classification": "quasi_identifier",
                "keys": _keys(demo_data.SEXES),
            },
            {
                "name": "departement",
                "type": "string",
                "classification": "quasi_identifier",
                "keys": _keys(demo_data.DEPARTEMENTS),
                "hierarchy": "departement",
            },
            {
                "name": "region",
                "type": "string",
                "classification": "key",
                "keys": _keys(demo_data.REGIONS),
            },
            {
                "name": "education_level",
                "type": "string",
                "classification": "key",
                "keys": _keys(demo_data.EDUCATION_LEVELS),
            },
            {
                "name": "unemployment_duration_band",
                "type": "string",
                "classification": "key",
                "keys": _keys(demo_data.UNEMPLOYMENT_DURATION_BANDS),
            },
            {"name": "benefit_receipt", **flag, "classification": "sensitive"},
            {"name": "disability", **flag, "classification": "sensitive"},
            {"name": "in_need", **flag, "classification": "sensitive"},
            {"name": "treated", **flag},
            {"name": "back_to_work_3m", **flag},
            {"name": "back_to_work_6m", **flag},
        ]
    }


DATASETS: dict[str, dict[str, Any]] = {
    HIRING: {
        "title": "Déclarations préalables à l'embauche (synthétiques)",
        "description": "Une ligne par embauche déclarée : établissement, territoire, secteur NAF, contrat, "
        "salaire. Données générées, modelées sur les DPAE. Unité de confidentialité des agrégats DP : "
        "une personne, dont au plus 3 déclarations sont retenues (k = 3, public).",
        "sensitivity": 2,
        "keywords": ["emploi", "embauche", "DPAE", "entreprises"],
        "generate": demo_data.generate_hiring_declarations,
        "schema": hiring_schema,
        "person_column": "person_id",
        "enterprise_column": "establishment_id",
        "rows_per_person": 3,
    },
    COHORT: {
        "title": "Cohorte de demandeurs d'emploi (synthétique)",
        "description": "Profil et retour à l'emploi à 3 et 6 mois d'une cohorte de demandeurs d'emploi. "
        "Données générées. Sensibles : aucun extrait n'est délivré. Unité de confidentialité : "
        "une personne (une ligne par personne, k = 1).",
        "sensitivity": 3,
        "keywords": ["emploi", "demandeurs d'emploi", "évaluation"],
        "generate": demo_data.generate_jobseeker_cohort,
        "schema": cohort_schema,
        "person_column": "person_id",
        "enterprise_column": "",
        "rows_per_person": 1,
    },
}


def generate_files(rows: int, seed: int, out: Path, progress: Any = None) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for slug, spec in DATASETS.items():
        cb = (lambda done, total, s=slug: progress(s, done, total)) if progress else None
        from pacte.data.ingestion import normalise_parquet

        paths[slug] = spec["generate"](rows, seed, out / f"{slug}-{rows}-seed{seed}.parquet", cb)
        normalise_parquet(paths[slug])
    return paths


def _demo_request(
    pact_project: str,
    dataset: Any,
    tier: int,
    purpose: str,
    columns: list[str],
    population: int,
    severity: int,
) -> Any:
    from pacte.data.grants import issue_token
    from pacte.data.requests import approve_request, create_request, submit_request
    from pacte.demo import _as
    from pacte.pacts.models import Pact

    pact = Pact.objects.filter(project__slug=pact_project).earliest("created_at")
    carrier = pact.project.carrier.slug
    req = create_request(
        _as("porteur", carrier),
        pact,
        dataset,
        purpose=purpose,
        tier=tier,
        columns=columns,
        legal_basis="Mission d'intérêt public (RGPD art. 6-1-e), pacte en vigueur",
        retention_months=24,
        recipients="Équipe projet (3 personnes habilitées)",
        dpo_contact="dpo@demo.pacte.localhost",
        volumetry="quelques requêtes par semaine",
    )
    submit_request(_as("porteur", carrier), req)
    outcome = None
    for reviewer in ("instructeur", "instructeur2", "donnees"):
        outcome = approve_request(
            _as(reviewer, "agence-emploi"),
            req,
            population=population,
            severity=severity,
            note="Finalité conforme à la mission du pacte.",
        )
        if outcome.grant is not None:
            break
    assert outcome is not None and outcome.grant is not None, outcome
    token = issue_token(_as("porteur", carrier), outcome.grant)
    return outcome.grant, token


def load() -> None:
    from pacte.accounts.models import Organisation, User
    from pacte.data.catalogue import publish_dataset
    from pacte.data.ingestion import add_version, file_sha256, normalise_parquet
    from pacte.data.models import Dataset, PersonLink
    from pacte.demo import DEMO_PASSWORD, _as

    if Dataset.objects.filter(slug=HIRING).exists():
        return
    steward = _as("donnees", "agence-emploi")
    agence = Organisation.objects.get(slug="agence-emploi")
    base = Path(settings.VAR_DIR) / "datasets"
    created = {}
    for slug, spec in DATASETS.items():
        target = base / slug / f"demo-{DEMO_ROWS}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            spec["generate"](DEMO_ROWS, DEMO_SEED, target)
            normalise_parquet(target)
        ds = publish_dataset(
            steward,
            publisher=agence,
            slug=slug,
            title=spec["title"],
            description=spec["description"],
            sensitivity=spec["sensitivity"],
            certified=True,
            keywords=spec["keywords"],
            licence="etalab-2.0",
        )
        add_version(
            steward,
            ds,
            version=f"demo-{DEMO_ROWS}",
            paths=[str(target)],
            schema=spec["schema"](),
            row_count=DEMO_ROWS,
            person_column=spec["person_column"],
            enterprise_column=spec["enterprise_column"],
            sha256=file_sha256(target),
            byte_size=target.stat().st_size,
            rho_cap=1.0,
            max_contributions=spec["rows_per_person"],
        )
        created[slug] = ds

    hiring, cohort = created[HIRING], created[COHORT]
    tokens: dict[str, dict[str, Any]] = {}
    for project, ds, tier, purpose, columns in (
        (
            "la-bonne-boite-citoyenne",
            hiring,
            3,
            "Repérer, par région et secteur, les entreprises qui recrutent sans publier d'offre, pour orienter "
            "les candidatures spontanées (mission du pacte).",
            [
                "region",
                "naf_sector",
                "size_band",
                "contract_type",
                "salary_band",
                "monthly_salary_eur",
                "contract_days",
            ],
        ),
        (
            "mes-droits",
            hiring,
            2,
            "Mesurer le non-recours aux aides à l'embauche selon le contrat et le territoire, pour améliorer "
            "le simulateur de droits (mission du pacte).",
            [
                "person_id",
                "departement",
                "naf_sector",
                "contract_type",
                "hire_date",
                "salary_band",
                "age",
                "sex",
            ],
        ),
        (
            "la-bonne-boite-citoyenne",
            cohort,
            4,
            "Étudier le retour à l'emploi des personnes accompagnées, par profil, pour l'évaluation d'impact "
            "pré-enregistrée du pacte.",
            [],
        ),
    ):
        grant, token = _demo_request(
            project, ds, tier, purpose, columns, population=3_000_000, severity=2
        )
        tokens[grant.name] = {
            "token": token,
            "dataset": ds.slug,
            "tier": tier,
            "grant": grant.reference,
        }

    citizen, created_user = User.objects.get_or_create(
        username="citoyen",
        defaults={"display_name": "Lou Citoyenne", "email": "citoyen@demo.pacte.localhost"},
    )
    if created_user:
        citizen.set_password(DEMO_PASSWORD)
        citizen.save()
    import pyarrow.parquet as pq

    cohort_version = cohort.current_version
    assert cohort_version is not None, "the cohort was imported above"
    first_person = (
        pq.read_table(cohort_version.paths[0], columns=["person_id"]).column(0)[0].as_py()
    )
    PersonLink.objects.get_or_create(
        user=citizen, dataset=cohort, defaults={"person_id": first_person}
    )

    path = Path(settings.VAR_DIR) / "demo-tokens.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tokens, ensure_ascii=False, indent=2), encoding="utf-8")
