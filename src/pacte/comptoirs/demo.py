"""Comptoirs demo (issue 12 parts 2-4): the published routing table; posts in every status (one
late, one turned into a project, one contribution offer, one hidden by moderation); two experts
with a completed and a pending exchange; one open challenge with applications and one whose
selection is published. Runs after the spine's and the funding demo, in the same transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from pacte.accounts import policy
from pacte.accounts.models import Organisation, Role, User
from pacte.comptoirs import challenges, experts, posts, routing
from pacte.comptoirs.models import Post
from pacte.data.models import Dataset
from pacte.demo import DEMO_PASSWORD, _as
from pacte.funding.models import Programme
from pacte.projects.models import Project

CITIZEN = ("citoyenne", "Lou Citoyenne")


def _citizen() -> User:
    user, created = User.objects.get_or_create(
        username=CITIZEN[0],
        defaults={"display_name": CITIZEN[1], "email": f"{CITIZEN[0]}@demo.pacte.localhost"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _routes() -> None:
    org = {o.slug: o for o in Organisation.objects.filter(kind="institution")}
    for theme, territory, slug, title, days in (
        ("emploi", "", "agence-emploi", "Référent innovation sociale", 30),
        ("", "Val-de-Loire", "region-val-de-loire", "Chargé de mission citoyenneté", 20),
        ("", "", "dinum-fictive", "Bureau des initiatives citoyennes", 30),
    ):
        routing.set_route(
            policy.SYSTEM,
            theme=theme,
            territory=territory,
            institution=org[slug],
            contact_role=Role.REVIEWER,
            contact_title=title,
            clock_days=days,
        )


def _posts(citizen: User) -> None:
    now = timezone.now()
    agence = _as("instructeur", "agence-emploi")
    region = _as("instructeur", "region-val-de-loire")
    problem: dict[str, Any] = {
        "kind": "probleme",
        "theme": "emploi",
        "territory": "France",
        "affected": "Demandeurs d'emploi sans accès à internet",
        "affected_count": 300_000,
    }
    posts.submit_post(
        citizen,
        posts.PostIn(
            title="Les offres d'emploi ne sont publiées qu'en ligne",
            body="Dans ma commune, l'agence a fermé son panneau d'affichage.",
            today="Les personnes repartent sans offre ou dépendent d'un proche.",
            **problem,
        ),
        now=now - timedelta(days=3),
    )
    posts.submit_post(
        citizen,
        posts.PostIn(
            title="Les convocations arrivent après la date du rendez-vous",
            body="Les courriers de convocation arrivent trop tard dans les zones rurales.",
            today="Des radiations pour absence, puis des recours longs.",
            **problem,
        ),
        now=now - timedelta(days=45),
    )
    posts.mark_late(policy.SYSTEM, now=now)  # the clock ran: the agency is late on "late"
    in_review = posts.submit_post(
        citizen,
        posts.PostIn(
            title="Les jeunes ne connaissent pas les aides à la mobilité",
            body="Les aides au permis existent mais personne ne les demande.",
            today="Les jeunes refusent des emplois faute de moyen de transport.",
            **(problem | {"affected": "Jeunes de 18 à 25 ans", "affected_count": 40_000}),
        ),
        now=now - timedelta(days=10),
    )
    posts.review(agence, in_review)
    answered = posts.submit_post(
        citizen,
        posts.PostIn(
            title="Le simulateur de droits n'existe pas en FALC",
            body="Les personnes ayant un handicap intellectuel ne comprennent pas les résultats.",
            today="Elles renoncent ou demandent à un travailleur social.",
            **(problem | {"theme": "solidarite", "affected": "Personnes en situation de handicap"}),
        ),
        now=now - timedelta(days=25),
    )
    dinum = _as("instructeur", "dinum-fictive")
    posts.answer(
        dinum,
        answered,
        "Une version en facile à lire et à comprendre est prévue au prochain trimestre ; "
        "nous cherchons des testeurs.",
        now=now - timedelta(days=12),
    )
    redirected = posts.submit_post(
        citizen,
        posts.PostIn(
            kind="projet",
            title="Un bus de l'emploi dans les villages",
            theme="mobilite",
            territory="Val-de-Loire",
            body="Un bus itinérant avec un conseiller et une connexion, une fois par semaine.",
            affected="Habitants des villages sans agence",
        ),
        now=now - timedelta(days=8),
    )
    posts.redirect(
        region,
        redirected,
        Organisation.objects.get(slug="agence-emploi"),
        "L'agence pour l'emploi pilote les services itinérants.",
        now=now - timedelta(days=6),
    )
    closed = posts.submit_post(
        citizen,
        posts.PostIn(
            title="Ouvrir les guichets le samedi",
            body="Les personnes qui travaillent ne peuvent pas venir en semaine.",
            today="Elles prennent des congés pour un rendez-vous.",
            **(problem | {"affected": "Salariés en recherche d'un autre emploi"}),
        ),
        now=now - timedelta(days=30),
    )
    posts.close(
        agence,
        closed,
        "Déjà en place : le rendez-vous du samedi existe depuis janvier dans 40 agences.",
        now=now - timedelta(days=20),
    )
    adopted = posts.submit_post(
        citizen,
        posts.PostIn(
            kind="projet",
            title="Un atelier d'entretien d'embauche entre pairs",
            theme="emploi",
            territory="Val-de-Loire",
            body="Des personnes qui ont retrouvé un emploi entraînent celles qui en cherchent.",
            affected="Demandeurs d'emploi de longue durée",
        ),
        now=now - timedelta(days=15),
    )
    posts.turn_into_project(
        _as("porteur", "asso-coach-emploi"),
        adopted,
        name="Entretiens entre pairs",
        pitch="Des anciens demandeurs d'emploi entraînent les nouveaux aux entretiens.",
    )
    project = Project.objects.get(slug="la-bonne-boite-citoyenne")
    posts.submit_post(
        citizen,
        posts.PostIn(
            kind="contribution",
            title="Je peux tester l'accessibilité du service",
            theme="emploi",
            territory="France",
            body="Je suis non-voyante et j'utilise un lecteur d'écran tous les jours.",
            project_slug=project.slug,
            skills="Tests avec lecteur d'écran (NVDA)",
            time_offered="2 heures par mois",
        ),
        now=now - timedelta(days=2),
    )
    spam = posts.submit_post(
        citizen,
        posts.PostIn(
            title="Mon voisin est un fraudeur",
            body="Un message nominatif visant une personne.",
            today="—",
            **problem,
        ),
        now=now - timedelta(days=1),
    )
    posts.moderate(  # the platform's administrator, not the addressed agency
        _as("admin", "dinum-fictive"),
        spam,
        "Dénonciation nominative d'une personne : ce n'est pas un problème de société.",
    )


def _experts() -> None:
    now = timezone.now()
    agence = _as("instructeur", "agence-emploi")
    dinum = _as("instructeur", "dinum-fictive")
    data_expert = experts.publish_expert(
        agence,
        experts.ExpertIn(
            name="Noé Statisticien",
            domain="Données du marché du travail",
            organisation_label="Direction des statistiques de l'agence",
            availability="Mardis et jeudis après-midi",
            languages=["français", "anglais"],
        ),
    )
    a11y_expert = experts.publish_expert(
        dinum,
        experts.ExpertIn(
            name="Inès Accessibilité",
            domain="Accessibilité numérique (RGAA)",
            organisation_label="Pôle design des services numériques",
            availability="Une demi-journée par mois",
            languages=["français", "LSF"],
        ),
    )
    carrier = _as("porteur", "collectif-bonne-boite")
    done = experts.ask(
        carrier,
        data_expert,
        Project.objects.get(slug="la-bonne-boite-citoyenne"),
        "Mesurer le retour à l'emploi",
        "Quelle source administrative permet de suivre le retour à l'emploi à 6 mois ?",
        now=now - timedelta(days=20),
    )
    experts.accept(agence, done, ["Mardi 14 h", "Jeudi 10 h"], now=now - timedelta(days=17))
    experts.record_summary(
        carrier,
        done,
        "Penser à demander l'accès de niveau 3.",
        "Le retour à l'emploi à 6 mois se mesure sur les déclarations d'embauche ; "
        "l'agence fournit un agrégat mensuel par territoire.",
    )
    experts.confirm_summary(agence, done)
    pending = (
        Project.objects.filter(pacts__versions__is_current=True, pacts__versions__status="active")
        .exclude(slug="la-bonne-boite-citoyenne")
        .select_related("carrier")
        .order_by("slug")
        .first()
    )
    if pending is not None:
        experts.ask(
            _as("porteur", pending.carrier.slug),
            a11y_expert,
            pending,
            "Audit RGAA du service",
            "Pouvez-vous relire notre déclaration d'accessibilité avant publication ?",
            now=now - timedelta(days=4),
        )


def _challenges() -> None:
    region = _as("instructeur", "region-val-de-loire")
    agence = _as("instructeur", "agence-emploi")
    today = timezone.localdate()
    programme = Programme.objects.order_by("pk").first()
    datasets = list(Dataset.objects.order_by("slug").values_list("slug", flat=True)[:2])
    open_challenge = challenges.publish_challenge(
        region,
        challenges.ChallengeIn(
            title="Mobilité des jeunes en zone rurale",
            problem="Un jeune sur trois refuse un emploi ou une formation faute de transport.",
            theme="mobilite",
            territory="Val-de-Loire",
            criteria="Effet mesurable sur l'accès à l'emploi ; coût par trajet ; accessibilité.",
            deadline=today + timedelta(days=45),
            dataset_slugs=datasets,
        ),
    )
    for carrier, proposal, team in (
        (
            "asso-coach-emploi",
            "Covoiturage solidaire entre apprentis.",
            "Deux salariés, dix bénévoles",
        ),
        (
            "equipe-trajectoire",
            "Prêt de scooters avec accompagnement.",
            "Trois agents de mission locale",
        ),
    ):
        challenges.apply(_as("porteur", carrier), open_challenge, proposal=proposal, team=team)
    decided = challenges.publish_challenge(
        agence,
        challenges.ChallengeIn(
            title="Réduire le non-recours aux aides à la reprise d'emploi",
            problem="Un tiers des personnes éligibles ne demandent pas l'aide à la reprise.",
            theme="emploi",
            criteria="Impact mesurable par essai ; code ouvert ; accessibilité RGAA AA.",
            deadline=today + timedelta(days=1),
            programme_slug=programme.slug if programme else "",
            dataset_slugs=datasets[:1],
        ),
    )
    picked = challenges.apply(
        _as("porteur", "scic-mes-droits"),
        decided,
        proposal="Un rappel personnalisé au moment de la reprise.",
        team="Coopérative de quatre personnes",
    )
    other = challenges.apply(
        _as("porteur", "fondation-culture-libre"),
        decided,
        proposal="Une campagne d'affichage.",
        team="Une chargée de communication",
    )
    challenges.publish_selection(
        agence,
        decided,
        {
            picked.pk: (True, "Mesure d'impact par essai randomisé prévue, code ouvert."),
            other.pk: (False, "Pas de mesure de l'effet sur le recours ; hors critères."),
        },
    )
    challenges.start_pact_draft(_as("porteur", "scic-mes-droits"), picked)


def load() -> None:
    if Post.objects.exists():
        return
    _routes()
    _posts(_citizen())
    _experts()
    _challenges()
