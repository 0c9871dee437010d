"""Funding demo (issue 11): one programme of the employment agency with three outcome contracts —
paid on the reference case (+2.11 points, CI [1.75, 2.47]), an inconclusive evaluation that pays
the base fee only (its payment late: a State-side breach), and one withheld because its pact is
suspended."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pacte.accounts import policy
from pacte.accounts.models import Organisation, Role, User
from pacte.accounts.services import add_member
from pacte.demo import DEMO_PASSWORD, _activate, _as, pact_content
from pacte.evidence import audits, evaluations
from pacte.evidence.compliance import run_compliance
from pacte.evidence.models import Evaluation
from pacte.funding import contracts, payments, programmes
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import sanctions as pact_sanctions
from pacte.pacts.models import PactVersion
from pacte.projects import phases as project_phases
from pacte.projects.models import Project

PEOPLE: list[tuple[str, str, list[str]]] = [
    ("financier", "Dominique Financier", [Role.FINANCE_OFFICER]),
    ("approbateur", "Camille Approbatrice", [Role.PAYMENT_APPROVER]),
]


def _people(agence: Organisation) -> None:
    for username, display, roles in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"display_name": display, "email": f"{username}@demo.pacte.localhost"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        add_member(user, agence, roles)


def _fair_audit_csv() -> bytes:
    """After remediation: people in need are reached at least as well in every group."""
    lines = ["group,y_true,y_pred,in_need"]
    for group, n, need, sel_need, sel_other in (
        ("Diplômés", 3000, 1000, 600, 600),
        ("Sans diplôme", 1500, 900, 560, 180),
    ):
        for i in range(n):
            in_need = i < need
            selected = (i < sel_need) if in_need else (need <= i < need + sel_other)
            lines.append(f"{group},{int(i % 3 == 0)},{int(selected)},{int(in_need)}")
    return "\n".join(lines).encode()


def _project_with_pact(carrier: str, slug: str, name: str, outcome: str) -> PactVersion:
    acting = _as("porteur", carrier)
    agence = Organisation.objects.get(slug="agence-emploi")
    project = project_phases.create_project(
        acting,
        name=name,
        slug=slug,
        pitch=f"{name} : un service pour l'emploi.",
        territory="Val-de-Loire",
        target_users="Demandeurs d'emploi",
    )
    v = pact_drafting.create_pact(
        acting,
        project,
        agence,
        pact_content(
            f"Pacte {name}",
            problem="Des demandeurs d'emploi renoncent faute d'un appui concret au bon moment.",
            population="Demandeurs d'emploi",
            size=50_000,
            territory="Val-de-Loire",
            outcome=outcome,
            seed=30_000,
        ),
    )
    return _activate(v, carrier, "agence-emploi")


def load() -> None:
    today = date.today()
    agence = Organisation.objects.get(slug="agence-emploi")
    _people(agence)
    officer, approver = _as("financier", "agence-emploi"), _as("approbateur", "agence-emploi")
    evaluator, reviewer = _as("evaluateur", "labo-evaluation"), _as("instructeur", "agence-emploi")
    programme = programmes.open_programme(
        officer,
        programmes.ProgrammeIn(
            title="Retour à l'emploi durable — impact 2026",
            budget_eur=Decimal("1500000"),
            starts_on=date(today.year, 1, 1),
            ends_on=date(today.year + 1, 12, 31),
            description="Financer les services citoyens en proportion des retours à l'emploi durable qu'ils ajoutent.",
            eligible_problems=["retour à l'emploi", "non-recours"],
            territories=["France", "Val-de-Loire"],
            phase_grants=[
                programmes.PhaseGrantIn("investigation", Decimal("50000"), 3),
                programmes.PhaseGrantIn("construction", Decimal("200000"), 6),
                programmes.PhaseGrantIn("acceleration", Decimal("400000"), 12),
            ],
            prices=[programmes.PriceIn("Retour à l'emploi durable à 6 mois", Decimal("150"))],
            approver_usernames=["approbateur"],
        ),
    )
    window = [(today - timedelta(days=200), today - timedelta(days=20))]

    # 1. La Bonne Boîte: the reference randomised evaluation (+2.11 points, CI [1.75, 2.47]) after a
    #    remediated bias audit (no breach; people in need reached at least as well: equity bonus).
    bb = Project.objects.get(slug="la-bonne-boite-citoyenne")
    audits.publish_audit(
        evaluator,
        bb,
        title="Audit de biais du classement — 2e semestre (après remédiation)",
        decision="Mise en avant d'une entreprise à un demandeur d'emploi",
        csv_data=_fair_audit_csv(),
    )
    bb_version = bb.pacts.get().current_version
    assert bb_version is not None
    c1 = contracts.attach_contract(
        officer,
        programme,
        bb_version,
        contracts.ContractIn(
            outcome="Retour à l'emploi durable à 6 mois",
            price_eur=Decimal("150"),
            base_fee_eur=Decimal("20000"),
            cap_eur=Decimal("400000"),
            windows=window,
            equity_bonus=Decimal("0.10"),
            experiment_slug="bonne-boite-essai-2025",
        ),
    )
    reference = Evaluation.objects.get(title="Essai randomisé La Bonne Boîte 2025")
    contracts.validate_window(evaluator, c1.windows.get(), reference.pk)
    order = payments.prepare_window_payment(officer, c1.windows.get())
    payments.approve(approver, order)
    payments.pay(officer, order)

    # 2. An inconclusive evaluation: base fee only — approved, never paid: late, a State-side breach.
    v2 = _project_with_pact(
        "asso-coach-emploi",
        "atelier-cv-solidaire",
        "Atelier CV Solidaire",
        "Retour à l'emploi durable à 6 mois",
    )
    c2 = contracts.attach_contract(
        officer,
        programme,
        v2,
        contracts.ContractIn(
            outcome="Retour à l'emploi durable à 6 mois",
            price_eur=Decimal("150"),
            base_fee_eur=Decimal("15000"),
            cap_eur=Decimal("150000"),
            windows=window,
            payment_days=30,
        ),
    )
    ev = evaluations.create_evaluation(
        evaluator,
        v2.pact.project,
        title="Évaluation Atelier CV (800 par bras)",
        counts={
            "n_treatment": 800,
            "successes_treatment": 170,
            "n_control": 800,
            "successes_control": 160,
        },
    )
    evaluations.publish_evaluation(evaluator, ev)
    contracts.validate_window(evaluator, c2.windows.get(), ev.pk, today=today - timedelta(days=60))
    late = payments.prepare_window_payment(officer, c2.windows.get())
    payments.approve(approver, late)
    payments.mark_late_payments(policy.SYSTEM, today)
    # the payment is one of the pact's commitments, owned by the institution: 30 days past its due
    # date, the compliance engine's clock finds it breached — a State-side breach, on the pact page
    run_compliance(today, project=v2.pact.project)

    # 3. A suspended pact: its advance is withheld until reinstatement.
    v3 = _project_with_pact(
        "scic-mes-droits",
        "garde-enfants-emploi",
        "Garde d'enfants pour l'emploi",
        "Reprise d'emploi des parents isolés à 6 mois",
    )
    c3 = contracts.attach_contract(
        officer,
        programme,
        v3,
        contracts.ContractIn(
            outcome="Reprise d'emploi des parents isolés à 6 mois",
            price_eur=Decimal("300"),
            base_fee_eur=Decimal("10000"),
            cap_eur=Decimal("120000"),
            advance_eur=Decimal("30000"),
            windows=window,
        ),
    )
    advance = payments.prepare_advance(officer, c3, due_on=today + timedelta(days=30))
    payments.approve(approver, advance)
    pact_sanctions.notify_breach(
        reviewer, v3, "Le rapport d'activité trimestriel n'a pas été remis."
    )
    pact_sanctions.suspend(
        reviewer, v3, "Rapport toujours absent à la fin du délai de remédiation."
    )
