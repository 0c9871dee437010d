"""The demo: fictional institutions, carriers, people for every role and five projects at
different stages, all created through the services (so the public journal is real).
Idempotent: loading twice changes nothing."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from pacte.accounts.models import Organisation, Role, User
from pacte.accounts.services import (
    Acting,
    acting_for,
    add_member,
    create_organisation,
    vouch_for_address,
)
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import review as pact_review
from pacte.pacts import sanctions as pact_sanctions
from pacte.pacts import signing as pact_signing
from pacte.pacts.models import PactVersion
from pacte.pacts.schema import PRINCIPLES
from pacte.projects import phases as project_phases
from pacte.projects.models import Project

DEMO_PASSWORD = "demo-pacte-2026"
# Modules with a `load()` adding their domain's demo on top of the spine's (datasets, grants, evidence…).
DEMO_EXTENSIONS: list[str] = ["pacte.data.demo"]
DEMO_EXTENSIONS.append("pacte.evidence.demo")
DEMO_EXTENSIONS.append("pacte.funding.demo")
DEMO_EXTENSIONS.append("pacte.channels.demo")
DEMO_EXTENSIONS.append("pacte.participation.demo")
DEMO_EXTENSIONS.append("pacte.mediation.demo")  # issue 13 part 7
DEMO_EXTENSIONS.append("pacte.comptoirs.demo")
DEMO_EXTENSIONS.append("pacte.accounts.demo")
DEMO_EXTENSIONS.append("pacte.web.demo")  # open work for each role (issue 14)
DEMO_EXTENSIONS.append("pacte.opendata.demo")  # issue 13 part 5: the dump, after all the rest

INSTITUTIONS = [
    ("agence-emploi", "Agence publique pour l'emploi (fictive)", "operator", "France"),
    ("dinum-fictive", "Direction du numérique — ministère fictif", "ministry", "France"),
    ("region-val-de-loire", "Région Val-de-Loire (fictive)", "local_authority", "Val-de-Loire"),
]
CARRIERS = [
    ("collectif-bonne-boite", "Collectif La Bonne Boîte Citoyenne", "collective", "France"),
    ("asso-coach-emploi", "Association Coach Emploi", "association", "Val-de-Loire"),
    ("scic-mes-droits", "SCIC Mes Droits", "cooperative", "France"),
    ("fondation-culture-libre", "Fondation Culture Libre", "foundation", "France"),
    ("equipe-trajectoire", "Équipe d'agents Trajectoire Jeunes", "agents_team", "Val-de-Loire"),
]
# username, display name, [(org slug, roles)], staff
PEOPLE: list[tuple[str, str, list[tuple[str, list[str]]], bool]] = [
    ("porteur", "Camille Porteur", [(slug, [Role.CARRIER_ADMIN]) for slug, *_ in CARRIERS], False),
    ("membre", "Dominique Membre", [("collectif-bonne-boite", [Role.CARRIER_MEMBER])], False),
    (
        "instructeur",
        "Alix Instructeur",
        [(slug, [Role.REVIEWER]) for slug, *_ in INSTITUTIONS],
        False,
    ),
    (
        "instructeur2",
        "Sacha Second",
        [
            ("agence-emploi", [Role.REVIEWER]),
            ("dinum-fictive", [Role.REVIEWER]),
            ("region-val-de-loire", [Role.REVIEWER]),  # two reviewers at each institution
        ],
        False,
    ),
    (
        "signataire",
        "Claude Signataire",
        [(slug, [Role.SIGNATORY]) for slug, *_ in INSTITUTIONS],
        False,
    ),
    ("donnees", "Morgan Données", [("agence-emploi", [Role.DATA_STEWARD])], False),
    ("evaluateur", "Noa Évaluateur", [("labo-evaluation", [Role.EVALUATOR])], False),
    ("auditeur", "Eden Auditeur", [("labo-evaluation", [Role.AUDITOR])], False),
    ("admin", "Administratrice Pacte", [("dinum-fictive", [Role.PLATFORM_ADMIN])], True),
]


def pact_content(
    title: str,
    *,
    problem: str,
    population: str,
    size: int,
    territory: str,
    outcome: str,
    data: list[dict[str, Any]] | None = None,
    seed: int = 150_000,
    cap: int = 0,
    start: date | None = None,
    extra_principles: tuple[str, ...] = (),
) -> dict[str, Any]:
    start = start or date.today() - timedelta(days=60)
    principles = ["continuity", "equality", "neutrality", "transparency", *extra_principles]
    indicators = {
        "continuity": ("Disponibilité mensuelle du service", "≥ 99 %", "uptime"),
        "equality": ("Ratio de couverture des personnes éloignées de l'emploi", "≥ 0,8", "audit"),
        "neutrality": (
            "Critères de classement publiés et audités",
            "publication semestrielle",
            "publication",
        ),
        "transparency": ("Fiche algorithme et budget publiés", "2 fois par an", "publication"),
        "accessibility": ("Score RGAA", "≥ 75 %", "audit"),
        "data_protection": ("Analyse d'impact (AIPD) à jour", "annuelle", "document"),
        "adaptability": ("Retours usagers traités", "≥ 90 % sous 30 jours", "document"),
    }
    commitments = [
        {
            "key": f"{p.replace('_', '-')}-1",
            "owner": "carrier",
            "principle": p,
            "text": f"Garantir le principe : {PRINCIPLES[p].lower()}",
            "indicator": indicators[p][0],
            "threshold": indicators[p][1],
            "due_date": (start + timedelta(days=180)).isoformat(),
            "recurrence": "semiannual",
            "evidence": indicators[p][2],
        }
        for p in principles
    ]
    commitments += [
        {
            "key": "impact-evaluation",
            "owner": "carrier",
            "principle": "",
            "text": "Publier l'évaluation d'impact pré-enregistrée",
            "indicator": outcome,
            "threshold": "évaluation publiée",
            "due_date": (start + timedelta(days=300)).isoformat(),
            "recurrence": "none",
            "evidence": "evaluation",
        },
        {
            "key": "state-data-access",
            "owner": "institution",
            "principle": "",
            "text": "Ouvrir l'accès aux données demandées",
            "indicator": "Accès accordé",
            "threshold": "sous 60 jours",
            "due_date": (start + timedelta(days=60)).isoformat(),
            "recurrence": "none",
            "evidence": "grant",
        },
        {
            "key": "state-panel",
            "owner": "institution",
            "principle": "",
            "text": "Ouvrir un panel de 200 testeurs",
            "indicator": "Panel ouvert",
            "threshold": "200 personnes",
            "due_date": (start + timedelta(days=90)).isoformat(),
            "recurrence": "none",
            "evidence": "panel",
        },
    ]
    return {
        "title": title,
        "mission": {
            "problem": problem,
            "population": population,
            "population_size": size,
            "territory": territory,
            "purpose_limitation": "Les données et moyens apportés par le pacte ne servent qu'à cette mission.",
        },
        "principles": principles,
        "bias_risks": [
            {
                "group": "Personnes sans diplôme",
                "mechanism": "Moins de recours aux outils numériques",
                "metric": "couverture parmi les personnes dans le besoin",
                "tolerated_ratio": 0.8,
            }
        ],
        "bias_correction_promise": True,
        "impact_plan": {
            "outcome": outcome,
            "method": "randomised",
            "evaluator": "Laboratoire d'évaluation indépendant",
            "window_months": 6,
            "mde_points": 2.0,
        },
        "commons": {
            "legal_form": "association loi 1901",
            "no_private_shareholding": True,
            "funding_sources": [{"name": "Subvention d'amorçage", "kind": "public_grant"}],
            "code_licence": "AGPL-3.0-or-later",
            "data_licence": "etalab-2.0",
        },
        "transparency": {
            "algorithm_sheet": True,
            "source_code_url": "https://example.org/code",
            "budget_twice_yearly": True,
        },
        "state": {
            "data": data or [],
            "panel_size": 200,
            "panel_profile": "demandeurs d'emploi de plus de 12 mois",
            "experts": ["Conseillère emploi référente"],
            "channels": [{"channel": "Espace conseiller", "condition": "pacte en vigueur"}],
            "seed_funding_eur": seed,
            "outcome_contract": {
                "price_per_outcome_eur": 1500,
                "base_fee_eur": 20_000,
                "cap_eur": cap,
            }
            if cap
            else None,
        },
        "term": {"start": start.isoformat(), "end": (start + timedelta(days=730)).isoformat()},
        "cure_days": 30,
        "sanctions": [
            {
                "trigger": "Manquement non corrigé",
                "measure": "Suspension des accès aux données et des versements",
            }
        ],
        "commitments": commitments,
    }


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _as(username: str, org: str) -> Acting:
    return acting_for(_user(username), Organisation.objects.get(slug=org))


def _activate(
    version: PactVersion,
    carrier: str,
    institution: str,
    second: bool = False,
    signed_on: date | None = None,
) -> PactVersion:
    """Submit, review, sign. ``signed_on``: the demo replays a pact that began in the past (its
    deadlines already gone by): the signatures and state dates are set to that day, so the page never
    shows a pact signed after the deadline it was later broken over (a simulated clock, demo only)."""
    pact_drafting.submit(_as("porteur", carrier), version)
    pact_review.approve(_as("instructeur", institution), version, "Conforme.")
    version.refresh_from_db()
    # still submitted: a second review is required (``second`` says the caller expects it)
    if version.status == "submitted":
        pact_review.approve(
            _as("instructeur2", institution), version, "Double instruction : conforme."
        )
    pact_signing.sign(_as("porteur", carrier), version)
    pact_signing.sign(_as("signataire", institution), version)
    if signed_on is not None:
        from datetime import datetime, time

        from django.utils import timezone

        when = timezone.make_aware(datetime.combine(signed_on, time(11, 0)))
        version.signatures.update(signed_at=when)
        PactVersion.objects.filter(pk=version.pk).update(submitted_at=when, status_changed_at=when)
    version.refresh_from_db()
    return version


@transaction.atomic
def load_demo() -> bool:
    """Load the demo; returns False if it was already there."""
    if Project.objects.filter(slug="la-bonne-boite-citoyenne").exists():
        return False
    for slug, name, form, territory in INSTITUTIONS:
        create_organisation(
            slug=slug, name=name, kind="institution", legal_form=form, territory=territory
        )
    for slug, name, form, territory in CARRIERS:
        create_organisation(
            slug=slug, name=name, kind="carrier", legal_form=form, territory=territory
        )
    Organisation.objects.update_or_create(
        slug="labo-evaluation",
        defaults={
            "name": "Laboratoire d'évaluation indépendant (fictif)",
            "kind": "evaluator",
            "legal_form": "evaluation_body",
            "territory": "France",
        },
    )
    for username, display, memberships, staff in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "display_name": display,
                "email": f"{username}@demo.pacte.localhost",
                "is_staff": staff,
                "is_superuser": staff,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        for org, roles in memberships:
            add_member(user, Organisation.objects.get(slug=org), roles)

    agence, dinum, region = (Organisation.objects.get(slug=s) for s, *_ in INSTITUTIONS)
    dpae = [
        {
            "dataset": "declarations-embauche",
            "tier": 3,
            "sensitivity": 2,
            "purpose": "Repérer les entreprises qui recrutent",
        }
    ]

    # 1. Hiring-company finder: active pact, double review (restricted data), construction phase.
    p1 = project_phases.create_project(
        _as("porteur", "collectif-bonne-boite"),
        name="La Bonne Boîte Citoyenne",
        slug="la-bonne-boite-citoyenne",
        pitch="Trouver les entreprises qui vont recruter, avant les offres publiées.",
        territory="France",
        target_users="Demandeurs d'emploi",
        takeover_institution=agence,
        repository="https://example.org/bonne-boite",
        licence="AGPL-3.0-or-later",
    )
    project_phases.close_phase(
        _as("porteur", "collectif-bonne-boite"),
        p1,
        decision="continue",
        reason="L'investigation montre un besoin fort : 40 % des embauches sans offre publiée.",
    )
    v = pact_drafting.create_pact(
        _as("porteur", "collectif-bonne-boite"),
        p1,
        agence,
        pact_content(
            "Pacte La Bonne Boîte Citoyenne",
            problem="Beaucoup d'embauches se font sans offre publiée : les candidatures spontanées sont mal ciblées.",
            population="Demandeurs d'emploi",
            size=3_000_000,
            territory="France",
            outcome="Retour à l'emploi durable à 6 mois",
            data=dpae,
            cap=400_000,
            extra_principles=("data_protection",),
        ),
    )
    _activate(v, "collectif-bonne-boite", "agence-emploi", second=True)

    # 2. Personalised job-search coach: submitted, waiting for the region.
    p2 = project_phases.create_project(
        _as("porteur", "asso-coach-emploi"),
        name="Coach Emploi Personnalisé",
        slug="coach-emploi",
        pitch="Un accompagnement de recherche d'emploi adapté à chaque personne.",
        territory="Val-de-Loire",
        target_users="Demandeurs d'emploi de longue durée",
    )
    v = pact_drafting.create_pact(
        _as("porteur", "asso-coach-emploi"),
        p2,
        region,
        pact_content(
            "Pacte Coach Emploi",
            problem="Les demandeurs d'emploi de longue durée manquent d'un accompagnement régulier et adapté.",
            population="Demandeurs d'emploi de plus de 12 mois",
            size=120_000,
            territory="Val-de-Loire",
            outcome="Retour à l'emploi à 6 mois",
            seed=80_000,
            data=dpae,  # restricted data: two reviewers of the Région must approve
        ),
    )
    pact_drafting.submit(_as("porteur", "asso-coach-emploi"), v)

    # 3. Benefits simulator against non-take-up: active, amendment submitted (diff visible).
    p3 = project_phases.create_project(
        _as("porteur", "scic-mes-droits"),
        name="Mes Droits — simulateur de prestations",
        slug="mes-droits",
        pitch="Connaître ses droits sociaux en 7 minutes pour lutter contre le non-recours.",
        territory="France",
        target_users="Ménages modestes",
        takeover_institution=dinum,
    )
    project_phases.close_phase(
        _as("porteur", "scic-mes-droits"),
        p3,
        decision="continue",
        reason="Usage confirmé par les tests.",
    )
    project_phases.close_phase(
        _as("porteur", "scic-mes-droits"),
        p3,
        decision="continue",
        reason="Construction terminée, passage à l'échelle.",
    )
    v = pact_drafting.create_pact(
        _as("porteur", "scic-mes-droits"),
        p3,
        dinum,
        pact_content(
            "Pacte Mes Droits",
            problem="Un tiers des personnes éligibles au RSA ne le demandent pas (non-recours).",
            population="Ménages éligibles à une prestation",
            size=5_000_000,
            territory="France",
            outcome="Ouverture effective de droits à 6 mois",
            extra_principles=("accessibility",),
        ),
    )
    v = _activate(v, "scic-mes-droits", "dinum-fictive")
    v2 = pact_drafting.new_version(_as("porteur", "scic-mes-droits"), v.pact)
    content = dict(v2.content)
    content["mission"] = {**content["mission"], "territory": "France, y compris outre-mer"}
    content["state"] = {**content["state"], "panel_size": 400}
    pact_drafting.update_draft(_as("porteur", "scic-mes-droits"), v2, content)
    pact_drafting.submit(_as("porteur", "scic-mes-droits"), v2)

    # 4. Cultural legal-offer finder: changes requested, revision in draft.
    p4 = project_phases.create_project(
        _as("porteur", "fondation-culture-libre"),
        name="Offre Légale Culture",
        slug="offre-legale-culture",
        pitch="Trouver où voir ou écouter une œuvre légalement.",
        territory="France",
        target_users="Tout public",
    )
    v = pact_drafting.create_pact(
        _as("porteur", "fondation-culture-libre"),
        p4,
        dinum,
        pact_content(
            "Pacte Offre Légale",
            problem="Le public ne sait pas où trouver une offre légale pour une œuvre donnée.",
            population="Public des œuvres culturelles",
            size=20_000_000,
            territory="France",
            outcome="Part des recherches aboutissant à une offre légale consultée",
            seed=50_000,
        ),
    )
    pact_drafting.submit(_as("porteur", "fondation-culture-libre"), v)
    pact_review.request_changes(
        _as("instructeur", "dinum-fictive"),
        v,
        "Le critère de classement des plateformes doit être explicité (neutralité).",
    )
    pact_drafting.new_version(_as("porteur", "fondation-culture-libre"), v.pact)

    # 5. A pact broken after an uncured breach.
    p5 = project_phases.create_project(
        _as("porteur", "equipe-trajectoire"),
        name="Trajectoire Jeunes",
        slug="trajectoire-jeunes",
        pitch="Orienter les jeunes sans solution vers une formation.",
        territory="Val-de-Loire",
        target_users="Jeunes de 16 à 25 ans",
    )
    v = pact_drafting.create_pact(
        _as("porteur", "equipe-trajectoire"),
        p5,
        region,
        pact_content(
            "Pacte Trajectoire Jeunes",
            problem="Des jeunes sortis du système scolaire restent sans solution de formation.",
            population="Jeunes de 16 à 25 ans sans solution",
            size=40_000,
            territory="Val-de-Loire",
            outcome="Entrée en formation qualifiante à 6 mois",
            seed=60_000,
            start=date.today() - timedelta(days=400),  # the audit fell due 220 days ago
        ),
    )
    v = _activate(
        v,
        "equipe-trajectoire",
        "region-val-de-loire",
        signed_on=date.today() - timedelta(days=400),
    )
    reviewer = _as("instructeur", "region-val-de-loire")
    pact_sanctions.notify_breach(
        reviewer, v, "L'audit de biais promis n'a pas été publié à l'échéance."
    )
    pact_sanctions.suspend(reviewer, v, "Délai de remédiation écoulé sans publication de l'audit.")
    pact_sanctions.break_pact(
        reviewer, v, "Aucune remédiation après suspension : le pacte est rompu."
    )
    project_phases.close_phase(
        _as("porteur", "equipe-trajectoire"),
        p5,
        decision="stop",
        reason="Pacte rompu : le projet s'arrête faute d'audit.",
        next_kind="abandoned",
    )
    for extension in DEMO_EXTENSIONS:  # each domain adds its part of the demo, same transaction
        importlib.import_module(extension).load()
    for user in User.objects.exclude(email=""):  # every demo account is made by the platform
        vouch_for_address(user)
    return True
