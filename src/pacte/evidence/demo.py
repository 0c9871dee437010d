"""Evidence demo: a panel, the reference randomised evaluation on generated data, an
inconclusive pilot, a bias audit that finds a coverage gap (remediation opened), an algorithm
sheet, feedback, and a pact the compliance engine breaks on a simulated clock."""

from __future__ import annotations

import random
from datetime import date, timedelta

from pacte.accounts.models import Organisation, User
from pacte.demo import _activate, _as, pact_content
from pacte.evidence import audits, evaluations, experiments, feedback, panels, sheets
from pacte.evidence.compliance import BREACH_GRACE_DAYS, run_compliance
from pacte.pacts import drafting as pact_drafting
from pacte.projects import phases as project_phases
from pacte.projects.models import Project

AGE_BANDS = ["16-25", "26-40", "41-60", "60+"]
SITUATIONS = ["demandeur_emploi", "salarie", "etudiant", "retraite", "sans_activite"]
N_ARM, RATE_T, RATE_C = 100_000, 22_100, 19_990  # 22.1 % vs 19.99 %: the reference case


def _volunteers(n: int) -> None:
    rng = random.Random(2026)
    existing = set(
        User.objects.filter(username__startswith="testeur-").values_list("username", flat=True)
    )
    new = [
        User(
            username=f"testeur-{i:03d}",
            display_name=f"Testeur {i}",
            email=f"testeur-{i:03d}@demo.pacte.localhost",
        )
        for i in range(1, n + 1)
        if f"testeur-{i:03d}" not in existing
    ]
    for u in new:
        u.set_unusable_password()
    User.objects.bulk_create(new)
    for u in User.objects.filter(username__startswith="testeur-").order_by("username"):
        panels.volunteer(
            u,
            consent=True,
            contact_preference="email",
            age_band=rng.choice(AGE_BANDS),
            territory=rng.choice(["Val-de-Loire", "Île-de-France", "Occitanie"]),
            situation=rng.choice(SITUATIONS),
        )


def _outcomes_csv(allocation: dict[str, str]) -> bytes:
    """Exactly 22,100 of 100,000 treated and 19,990 of 100,000 controls back in work."""
    lines = ["unit_id,arm,outcome"]
    seen = {"treatment": 0, "control": 0}
    quota = {"treatment": RATE_T, "control": RATE_C}
    for unit in sorted(allocation):
        arm = allocation[unit]
        seen[arm] += 1
        lines.append(f"{unit},{arm},{1 if seen[arm] <= quota[arm] else 0}")
    return ("\n".join(lines) + "\n").encode()


def _audit_csv() -> bytes:
    """Selection passes the 80 % rule for people without a diploma, coverage of those in need does not."""
    lines = ["group,y_true,y_pred,in_need"]

    def block(group: str, n: int, need: int, selected_in_need: int, selected_other: int) -> None:
        for i in range(n):
            in_need = i < need
            selected = (i < selected_in_need) if in_need else (need <= i < need + selected_other)
            y_true = 1 if (i % 3 == 0) else 0
            lines.append(f"{group},{y_true},{int(selected)},{int(in_need)}")

    block("Diplômés", 3000, 1000, 600, 300)  # selection 30 %, coverage 60 %
    block(
        "Sans diplôme", 1500, 900, 270, 150
    )  # selection 28 % (ratio 0.93), coverage 30 % (ratio 0.5)
    block("Outre-mer", 20, 10, 5, 1)  # too small: "données insuffisantes"
    return ("\n".join(lines) + "\n").encode()


def load() -> None:
    today = date.today()
    evaluator = _as("evaluateur", "labo-evaluation")
    carrier = _as("porteur", "collectif-bonne-boite")
    agence = _as("instructeur", "agence-emploi")
    bb = Project.objects.get(slug="la-bonne-boite-citoyenne")
    md = Project.objects.get(slug="mes-droits")

    # Panel: 120 volunteers, a call by the institution with a target profile, stratified draw.
    _volunteers(120)
    call = panels.open_panel_call(
        agence,
        bb,
        title="Tester la recherche d'entreprises qui recrutent",
        target_size=40,
        stratify_by="age_band",
        targets={"16-25": 12, "26-40": 14, "41-60": 10, "60+": 4},
        description="Deux séances d'une heure, à distance ou en agence, indemnisées.",
    )
    panels.draw_panel(agence, call)

    # Feedback loop.
    q = feedback.ask_question(
        carrier, bb, "La liste d'entreprises vous a-t-elle aidé à candidater ?", scale_max=5
    )
    for user, body, rating in (
        ("testeur-001", "Très utile, j'ai envoyé trois candidatures spontanées.", 5),
        ("testeur-002", "Les distances affichées sont fausses pour ma commune.", 2),
        ("testeur-003", "Publicité pour une formation payante : www.exemple-arnaque.test", None),
    ):
        f = feedback.give_feedback(
            User.objects.get(username=user),
            bb,
            body=body,
            rating=rating,
            question=q if rating else None,
        )
        if user == "testeur-002":
            feedback.reply_feedback(
                carrier, f, "Merci : le calcul des distances est corrigé dans la version 1.4."
            )
        if user == "testeur-003":
            feedback.hide_feedback(
                carrier, f, "Message publicitaire sans rapport avec le service (charte)."
            )

    # Pre-registered randomised experiment on 200,000 pseudonymous job seekers, then the evaluation.
    exp = experiments.design_experiment(
        carrier,
        bb,
        slug="bonne-boite-essai-2025",
        hypothesis="Montrer aux demandeurs d'emploi les entreprises susceptibles de recruter augmente le retour "
        "à l'emploi durable.",
        outcome="Retour à l'emploi durable à 5 mois",
        baseline_rate=0.20,
        mde_points=1.0,
        window_months=5,
    )
    exp = experiments.preregister(carrier, exp)
    allocation = experiments.assign_units(
        carrier, exp, [f"bb-{i:06d}" for i in range(1, 2 * N_ARM + 1)]
    )
    ev = evaluations.create_evaluation(
        evaluator,
        bb,
        title="Essai randomisé La Bonne Boîte 2025",
        csv_data=_outcomes_csv(allocation),
        experiment=exp,
    )
    evaluations.publish_evaluation(evaluator, ev)

    # An inconclusive pilot: the same rates on 1,000 people per arm.
    ev = evaluations.create_evaluation(
        evaluator,
        md,
        title="Pilote Mes Droits (1 000 par bras)",
        window_months=6,
        counts={
            "n_treatment": 1000,
            "successes_treatment": 221,
            "n_control": 1000,
            "successes_control": 200,
        },
    )
    evaluations.publish_evaluation(evaluator, ev)

    # Bias audit: coverage gap among people in need without a diploma → remediation commitment.
    audits.publish_audit(
        evaluator,
        bb,
        title="Audit de biais du classement — 1er semestre",
        decision="Mise en avant d'une entreprise à un demandeur d'emploi",
        csv_data=_audit_csv(),
    )

    # Algorithm sheet (C6).
    sheet = sheets.create_sheet(
        carrier,
        bb,
        {
            "title": "Classement des entreprises susceptibles de recruter",
            "purpose": "Proposer à chaque demandeur d'emploi une liste d'entreprises à qui adresser une candidature spontanée.",
            "contribution_degree": "support",
            "contribution_mode": "Le score ordonne une liste ; la personne et son conseiller choisissent librement à qui écrire.",
            "data_sources": [
                {
                    "name": "Déclarations préalables à l'embauche agrégées",
                    "source": "Agence publique pour l'emploi",
                    "description": "embauches par établissement et par métier sur 3 ans",
                },
                {
                    "name": "Répertoire des établissements",
                    "source": "Sirene (Insee)",
                    "description": "taille, secteur, adresse",
                },
            ],
            "parameters": [
                {
                    "key": "embauches_passees",
                    "label": "Embauches des 12 derniers mois (nombre)",
                    "weight": 0.5,
                },
                {
                    "key": "croissance_secteur",
                    "label": "Croissance de l'emploi du secteur (%)",
                    "weight": 0.3,
                },
                {"key": "distance_km", "label": "Distance au domicile (km)", "weight": -0.05},
                {"key": "taille", "label": "Effectif de l'établissement (dizaines)", "weight": 0.1},
            ],
            "operations": "Score = somme pondérée des paramètres ; tri décroissant ; 20 premières entreprises affichées.",
            "human_oversight": "Le conseiller peut retirer une entreprise ; aucune décision n'est prise sans la personne.",
            "risks": "Sous-représentation des petites entreprises ; biais territorial en zone rurale (audité chaque semestre).",
            "objection_contact": "contestation@bonne-boite.example.org",
        },
    )
    sheets.publish_sheet(carrier, sheet)

    # The pact the engine breaks: impact evaluation never published, on a simulated clock.
    trainer = _as("porteur", "asso-coach-emploi")
    region = Organisation.objects.get(slug="region-val-de-loire")
    p = project_phases.create_project(
        trainer,
        name="Mobilité Rurale Emploi",
        slug="mobilite-rurale-emploi",
        pitch="Des trajets partagés vers les entretiens d'embauche en zone rurale.",
        territory="Val-de-Loire",
        target_users="Demandeurs d'emploi sans véhicule",
    )
    start = today - timedelta(days=400)
    content = pact_content(
        "Pacte Mobilité Rurale",
        problem="Sans véhicule, des demandeurs d'emploi ruraux renoncent "
        "à des entretiens d'embauche.",
        population="Demandeurs d'emploi ruraux sans véhicule",
        size=25_000,
        territory="Val-de-Loire",
        outcome="Accès à un emploi à 6 mois",
        seed=40_000,
        start=start,
    )
    for c in content["commitments"]:
        if c["key"] != "impact-evaluation":
            c["due_date"] = (
                None  # recurring commitments, measured elsewhere: the story is the evaluation
            )
    v = pact_drafting.create_pact(trainer, p, region, content)
    v = _activate(v, "asso-coach-emploi", "region-val-de-loire", signed_on=start)
    due = v.commitments.get(key="impact-evaluation").due_date
    assert due is not None, "pact_content gives the impact evaluation a due date"
    breach_day = due + timedelta(days=BREACH_GRACE_DAYS + 1)
    run_compliance(due - timedelta(days=10), project=p)  # due soon
    run_compliance(due + timedelta(days=1), project=p)  # missed
    run_compliance(breach_day, project=p)  # breached → breach notified, 30-day cure period
    run_compliance(breach_day + timedelta(days=31), project=p)  # cure period over → suspended
    run_compliance(breach_day + timedelta(days=62), project=p)  # still nothing → broken

    # Finally, today's statuses for everything in force.
    run_compliance(today)
