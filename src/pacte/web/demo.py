"""The demo's open work, so that each role finds something to do from its workspace (issue 14):
a data request waiting for the Agence's decision (data steward, reviewers) and an evaluation draft
waiting to be read and published (evaluator). Loaded after the data and evidence demos."""

from __future__ import annotations

from pacte.accounts.models import Organisation
from pacte.accounts.services import Acting, acting_for


def _as(username: str, org: str) -> Acting:
    from pacte.accounts.models import User

    return acting_for(User.objects.get(username=username), Organisation.objects.get(slug=org))


def load() -> None:
    from pacte.data.models import DataRequest, Dataset
    from pacte.data.requests import create_request, submit_request
    from pacte.evidence import evaluations
    from pacte.evidence.models import Evaluation
    from pacte.pacts.models import Pact
    from pacte.projects.models import Project

    hiring = Dataset.objects.filter(slug="declarations-embauche").first()
    pact = Pact.objects.filter(project__slug="mes-droits").earliest("created_at")
    if (
        hiring is not None
        and not DataRequest.objects.filter(pact=pact, status="submitted").exists()
    ):
        carrier = _as("porteur", pact.project.carrier.slug)
        req = create_request(
            carrier,
            pact,
            hiring,
            purpose="Compter, par département et type de contrat, les embauches de personnes "
            "éligibles aux aides, pour cibler le simulateur de droits (mission du pacte).",
            tier=3,
            columns=["departement", "contract_type", "naf_sector"],
            legal_basis="Mission d'intérêt public (RGPD art. 6-1-e), pacte en vigueur",
            retention_months=12,
            recipients="Équipe projet (2 personnes habilitées)",
            dpo_contact="dpo@demo.pacte.localhost",
            volumetry="une requête par mois",
        )
        submit_request(carrier, req)  # waits for the Agence: data steward and reviewers
    project = Project.objects.get(slug="mes-droits")
    if not Evaluation.objects.filter(status="draft").exists():
        evaluations.create_evaluation(
            _as("evaluateur", "labo-evaluation"),
            project,
            title="Mes Droits : ouverture de droits à 6 mois (à relire)",
            window_months=6,
            counts={
                "n_treatment": 4000,
                "successes_treatment": 1010,
                "n_control": 4000,
                "successes_control": 880,
            },
        )  # a draft: the evaluator reads it, then publishes it from the page
