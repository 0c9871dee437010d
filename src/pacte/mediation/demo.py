"""Mediation demo (issue 13 part 7): a counter agent of the employment agency (demo user
"mediatrice") records an assisted panel seat, an assisted feedback and an assisted consent to
data sharing (when the data demo is loaded) for people without an account; the receipts' claim
codes are not kept (only their hashes)."""

from __future__ import annotations

from pacte.accounts.models import Organisation, Role, User
from pacte.accounts.services import Acting, acting_for, add_member
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
    _assisted_consent(acting)


def _assisted_consent(acting: Acting) -> None:
    """Mme D., identified at the counter, sends her record of the job-seeker cohort to a project
    under a pact in force (skipped when the data demo is not loaded)."""
    import pyarrow.parquet as pq

    from pacte.data.ports import ASSISTED_CONSENT
    from pacte.pacts.models import PactVersion, Status

    dataset = next(iter(ASSISTED_CONSENT.datasets()), None)
    in_force = PactVersion.objects.filter(status=Status.ACTIVE).select_related("pact__project")
    version = in_force.order_by("pk").first()
    if dataset is None or version is None or dataset.current_version is None:
        return
    dv = dataset.current_version
    person_id = pq.read_table(dv.paths[0], columns=[dv.person_column]).column(0)[1].as_py()
    assistance.record_assisted(
        acting,
        assistance.AssistedIn(
            kind=AssistedAction.Kind.CONSENT,
            person_label="Mme D.",
            consent_method=AssistedAction.ConsentMethod.PAPER,
            identity_check=AssistedAction.IdentityCheck.ID_DOCUMENT,
            consent_note="Formulaire signé au guichet ; copie remise à la personne.",
            attested=True,
            project=version.pact.project,
            dataset=dataset,
            person_id=str(person_id),
            purpose="Être accompagnée par le projet dans ma recherche d'emploi.",
        ),
    )
