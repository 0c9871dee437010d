"""Mediation demo (issue 13 part 7): a counter agent of the employment agency (demo user
"mediatrice") records an assisted panel seat and an assisted feedback for people without an
account; the receipts' claim codes are not kept (only their hashes)."""

from __future__ import annotations

from pacte.accounts.models import Organisation, Role, User
from pacte.accounts.services import acting_for, add_member
from pacte.demo import DEMO_PASSWORD
from pacte.mediation import assistance
from pacte.mediation.models import AssistedAction
from pacte.projects.models import Project


def load() -> None:
    agence = Organisation.objects.get(slug="agence-emploi")
    user, created = User.objects.get_or_create(
        username="mediatrice",
        defaults={"display_name": "Nadia Médiatrice", "email": "mediatrice@demo.pacte.localhost"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    add_member(user, agence, [Role.MEDIATOR])
    if AssistedAction.objects.exists():
        return
    acting = acting_for(user, agence)
    assistance.record_assisted(
        acting,
        assistance.AssistedIn(
            kind=AssistedAction.Kind.PANEL,
            person_label="M. R. (accueil de Tours)",
            consent_method=AssistedAction.ConsentMethod.ORAL,
            consent_note="Accord donné au guichet après lecture de la notice du panel.",
            attested=True,
            age_band="41-60",
            territory="Val-de-Loire",
        ),
    )
    project = Project.objects.order_by("name").first()
    if project is not None:
        assistance.record_assisted(
            acting,
            assistance.AssistedIn(
                kind=AssistedAction.Kind.FEEDBACK,
                person_label="Mme L.",
                consent_method=AssistedAction.ConsentMethod.PAPER,
                attested=True,
                project=project,
                body="Je n'ai pas d'ordinateur : sans l'accueil je n'aurais pas pu m'inscrire.",
            ),
        )
