"""Participation demo (issue 13): two citizens, a public consultation on the submitted "Coach Emploi"
pact with comments (one edited, two answered, one flagged), follows with their notices, and two
declared reuses (a dataset's and a project's code)."""

from __future__ import annotations

from pacte.accounts.models import User
from pacte.accounts.policy import Person
from pacte.data.models import Dataset
from pacte.demo import DEMO_PASSWORD, _as
from pacte.pacts.models import PactVersion, Status
from pacte.participation import comments, consultations, follows, notices, reuses
from pacte.participation.models import Consultation, DigestPreference, Follow

CITIZENS = [
    ("citoyenne.demo", "Inès Citoyenne", "citoyenne.demo@demo.pacte.localhost"),
    ("citoyen.demo", "Yanis Citoyen", "citoyen.demo@demo.pacte.localhost"),
]


def citizens() -> list[User]:
    """The two demo citizens (no organisation); created if the accounts demo did not already."""
    people = []
    for username, display, email in CITIZENS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"display_name": display, "email": email}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        people.append(user)
    return people


def load() -> None:
    ines, yanis = (Person(u) for u in citizens())
    version = PactVersion.objects.filter(
        pact__project__slug="coach-emploi", status=Status.SUBMITTED
    ).first()
    if version is None or Consultation.objects.filter(version=version).exists():
        return
    follows.follow(ines, Follow.Target.PROJECT, "coach-emploi")
    follows.follow(ines, Follow.Target.REGISTRY)
    follows.follow(yanis, Follow.Target.INSTITUTION, "region-val-de-loire")
    follows.follow(yanis, Follow.Target.DATASET, "declarations-embauche")
    follows.set_frequency(yanis, DigestPreference.Frequency.WEEKLY)

    consultation = consultations.open_consultation(
        _as("instructeur", "region-val-de-loire"), version, 30
    )
    first = comments.post_comment(
        ines,
        consultation,
        "mission",
        "Les personnes sans voiture en zone rurale sont-elles prises en compte ?",
    )
    comments.edit_comment(
        ines,
        first,
        "Les personnes sans voiture en zone rurale sont-elles prises en compte dans le public visé ?",
    )
    comments.answer_comment(
        _as("porteur", "asso-coach-emploi"),
        first,
        "Oui : les rendez-vous peuvent se tenir à distance ou dans les maisons France Services.",
    )
    data = comments.post_comment(
        yanis,
        consultation,
        "data",
        "Pourquoi le pacte a-t-il besoin des déclarations d'embauche nominatives ?",
    )
    comments.answer_comment(
        _as("instructeur", "region-val-de-loire"),
        data,
        "Il n'y accède qu'en agrégats (palier 3) : aucune donnée nominative ne sort.",
    )
    comments.post_comment(
        yanis,
        consultation,
        "state",
        "Quel calendrier pour l'amorçage promis par la Région ?",
    )
    flagged = comments.post_comment(
        ines, consultation, "principles", "Ce projet est inutile, comme tous les autres."
    )
    comments.flag_comment(yanis, flagged, "Message sans argument, hors du sujet du pacte")

    if Dataset.objects.filter(slug="declarations-embauche").exists():
        reuses.declare_reuse(
            yanis,
            reuses.ReuseIn(
                kind="api",
                title="Alerte recrutements de mon bassin d'emploi",
                description="Un courriel par semaine avec les secteurs qui recrutent près de chez soi.",
                reuser="Yanis Citoyen",
                place="Tours",
                url="https://exemple.org/alertes-recrutement",
                dataset="declarations-embauche",
            ),
        )
    reuses.declare_reuse(
        ines,
        reuses.ReuseIn(
            kind="code",
            title="La Bonne Boîte, version Bretagne",
            description="Le code du projet repris pour les entreprises bretonnes.",
            reuser="Collectif Breizh Emploi (fictif)",
            place="Rennes",
            url="https://exemple.org/bonne-boite-bzh",
            project="la-bonne-boite-citoyenne",
        ),
    )
    notices.fan_out_all()
