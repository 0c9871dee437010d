"""Channels demo (issue 12): a national directory (the employment agency) and a regional counter
network (the region), with services in and out and why; a takeover confirmed on one project and a
public alert on another.

The daily run is replayed on simulated days (like the compliance demo), so the history shows a
listing made on the day, one made late by the region (a State-side breach) and one removed when a
new bias audit fell out of band.
"""

from __future__ import annotations

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from pacte.accounts import policy
from pacte.accounts.models import Organisation
from pacte.channels import declarations, listings, takeovers
from pacte.channels.models import Channel, ChannelListing
from pacte.demo import _activate, _as, pact_content
from pacte.evidence import audits, evaluations
from pacte.pacts import drafting as pact_drafting
from pacte.pacts.commitments import record_evidence
from pacte.pacts.models import PactVersion
from pacte.projects import phases as project_phases
from pacte.projects.models import PhaseKind, Project

NATIONAL = "annuaire-national-emploi"
REGIONAL = "guichets-val-de-loire"


def _audit_csv(coverage_ratio: float) -> bytes:
    """Two groups selected alike; people in need without a diploma reached at ``coverage_ratio``."""
    lines = ["group,y_true,y_pred,in_need"]
    for group, n, need, covered in (
        ("Diplômés", 600, 200, 120),
        ("Sans diplôme", 600, 200, round(120 * coverage_ratio)),
    ):
        for i in range(n):
            in_need = i < need
            selected = (i < covered) if in_need else (need <= i < need + 120)
            lines.append(f"{group},{int(i % 3 == 0)},{int(selected)},{int(in_need)}")
    return ("\n".join(lines) + "\n").encode()


def _regional_service(slug: str, name: str, pitch: str, successes: int) -> PactVersion:
    """A Val-de-Loire service whose pact names the regional counters as a State commitment, with
    a published evaluation, an in-band bias audit and a published accessibility statement."""
    carrier = _as("porteur", "asso-coach-emploi")
    region = Organisation.objects.get(slug="region-val-de-loire")
    project = project_phases.create_project(
        carrier, name=name, slug=slug, pitch=pitch, territory="Val-de-Loire"
    )
    content = pact_content(
        f"Pacte {name}",
        problem="Sans solution de mobilité ni accompagnement, des offres d'emploi restent hors de portée.",
        population="Demandeurs d'emploi du Val-de-Loire",
        size=60_000,
        territory="Val-de-Loire",
        outcome="Retour à l'emploi à 6 mois",
        seed=40_000,
        extra_principles=("accessibility",),
    )
    content["state"]["channels"] = [
        {"channel": REGIONAL, "condition": "Condition publiée du réseau de guichets"}
    ]
    version = _activate(
        pact_drafting.create_pact(carrier, project, region, content),
        "asso-coach-emploi",
        "region-val-de-loire",
    )
    evaluator = _as("evaluateur", "labo-evaluation")
    ev = evaluations.create_evaluation(
        evaluator,
        project,
        title=f"Évaluation {name} (2 000 par bras)",
        counts={
            "n_treatment": 2000,
            "successes_treatment": successes,
            "n_control": 2000,
            "successes_control": 400,
        },
    )
    evaluations.publish_evaluation(evaluator, ev)
    audits.publish_audit(
        evaluator,
        project,
        title="Audit de biais de l'orientation",
        decision="Orientation vers un accompagnement",
        csv_data=_audit_csv(1.0),
        n_bootstrap=50,
    )
    record_evidence(
        carrier,
        version.commitments.get(principle="accessibility"),
        progress=100,
        note="Déclaration d'accessibilité RGAA publiée (conformité partielle, 82 %)",
        url=f"https://example.org/{slug}/accessibilite",
        met=True,
    )
    declarations.declare_coverage(carrier, project, ["Val-de-Loire"], ["emploi", "mobilité"])
    return version


def _channels() -> tuple[Channel, Channel]:
    agence = Organisation.objects.get(slug="agence-emploi")
    region = Organisation.objects.get(slug="region-val-de-loire")
    national = declarations.declare_channel(
        _as("signataire", "agence-emploi"),
        agence,
        declarations.ChannelIn(
            name="Annuaire national des services pour l'emploi",
            slug=NATIONAL,
            kind="directory",
            description="L'annuaire que consultent les conseillers et le public sur le site de l'agence.",
            clauses=["pact_active", "positive_effect", "algorithm_sheet", "need"],
            needs=["emploi"],
            listing_delay_days=0,
        ),
    )
    regional = declarations.declare_channel(
        _as("signataire", "region-val-de-loire"),
        region,
        declarations.ChannelIn(
            name="Réseau des guichets d'accueil du Val-de-Loire",
            slug=REGIONAL,
            kind="counters",
            description="Les agents d'accueil des 40 guichets régionaux orientent vers les services inscrits.",
            clauses=[
                "pact_active",
                "positive_effect",
                "bias_within_band",
                "accessibility_statement",
                "territory",
                "need",
            ],
            territories=["Val-de-Loire"],
            needs=["emploi"],
            listing_delay_days=14,
        ),
    )
    return national, regional


def load() -> None:
    today = timezone.localdate()
    system = policy.SYSTEM
    for slug, territories in (
        ("la-bonne-boite-citoyenne", ["France"]),
        ("atelier-cv-solidaire", ["Val-de-Loire"]),
        ("garde-enfants-emploi", ["France"]),
    ):
        project = Project.objects.get(slug=slug)
        declarations.declare_coverage(
            _as("porteur", project.carrier.slug), project, territories, ["emploi"]
        )
    national, regional = _channels()
    permis = _regional_service(
        "permis-solidaire",
        "Permis Solidaire",
        "Financer et accompagner le permis de conduire des demandeurs d'emploi.",
        successes=520,
    )
    _regional_service(
        "covoiturage-emploi",
        "Covoiturage Emploi",
        "Trouver un covoiturage pour se rendre à un entretien ou à son premier mois de travail.",
        successes=480,
    )

    # Day -40: both regional services meet the condition (pending, due 14 days later); the national
    # directory lists La Bonne Boîte at once. Atelier CV (inconclusive) and Garde d'enfants
    # (suspended pact) stay out, and their carriers see why on their project pages.
    listings.run_channels(system, today - timedelta(days=40))
    listings.list_service(
        _as("signataire", "region-val-de-loire"),
        ChannelListing.objects.get(channel=regional, project__slug="covoiturage-emploi"),
        today - timedelta(days=30),
    )
    # Day -20: Permis Solidaire is still not listed, six days after its due date: State-side breach.
    listings.run_channels(system, today - timedelta(days=20))
    listings.list_service(
        _as("signataire", "region-val-de-loire"),
        ChannelListing.objects.get(channel=regional, project__slug="permis-solidaire"),
        today - timedelta(days=18),
    )
    # Day -5: a new audit of Permis Solidaire is out of band: removed that day, carrier notified.
    audits.publish_audit(
        _as("evaluateur", "labo-evaluation"),
        permis.pact.project,
        title="Audit de biais de l'orientation — 2e semestre",
        decision="Orientation vers un accompagnement",
        csv_data=_audit_csv(0.5),
        n_bootstrap=50,
    )
    listings.run_channels(system, today - timedelta(days=5))

    # Takeover: the agency confirms it takes La Bonne Boîte over; the ministry has not confirmed
    # Mes Droits although its consolidation phase ends in two months: a public alert.
    takeovers.confirm_takeover(
        _as("signataire", "agence-emploi"),
        Project.objects.get(slug="la-bonne-boite-citoyenne"),
        today + relativedelta(months=14),
        "Reprise par la direction des services numériques de l'agence, équipe et code compris.",
    )
    mes_droits = Project.objects.get(slug="mes-droits")
    project_phases.close_phase(
        _as("porteur", "scic-mes-droits"),
        mes_droits,
        decision="continue",
        reason="Passage à l'échelle réussi : consolidation avant la reprise.",
    )
    # a short consolidation: two months are planned before the ministry should take over
    mes_droits.phases.filter(kind=PhaseKind.CONSOLIDATION).update(planned_months=2)
    takeovers.raise_takeover_alerts(system, today)
