from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from pacte.accounts.models import Role
from pacte.accounts.services import Acting
from pacte.channels import declarations
from pacte.channels.models import Channel
from pacte.demo import pact_content
from pacte.evidence.models import AlgorithmSheet
from pacte.journal.models import Event
from pacte.pacts.commitments import record_evidence
from tests.conftest import _acting, activate
from tests.funding.conftest import published_audit, published_evaluation

ALL_CLAUSES = [
    "pact_active",
    "positive_effect",
    "bias_within_band",
    "algorithm_sheet",
    "accessibility_statement",
    "territory",
    "need",
]


def channel_in(**kw: Any) -> declarations.ChannelIn:
    values: dict[str, Any] = dict(
        name="Annuaire de l'emploi",
        kind="directory",
        clauses=ALL_CLAUSES,
        territories=["Val-de-Loire"],
        needs=["emploi"],
        listing_delay_days=0,
    )
    values.update(kw)
    return declarations.ChannelIn(**values)


def event_data(type: str) -> list[dict[str, Any]]:
    return [json.loads(e.entry)["data"] for e in Event.objects.filter(type=type).order_by("index")]


@dataclass
class Service:
    project: Any
    version: Any
    evaluator: Acting


@pytest.fixture
def service(world) -> Service:  # type: ignore[no-untyped-def]
    """An active pact whose service has declared its coverage but published no evidence yet."""
    from pacte.pacts.drafting import create_pact

    content = pact_content(
        "Pacte de test",
        problem="Les personnes éloignées de l'emploi ne trouvent pas les entreprises qui recrutent.",
        population="Demandeurs d'emploi",
        size=10_000,
        territory="Val-de-Loire",
        outcome="Retour à l'emploi durable à 6 mois",
        extra_principles=("accessibility",),
    )
    project = world.project()
    version = activate(world, create_pact(world.carrier_admin, project, world.institution, content))
    declarations.declare_coverage(world.carrier_admin, project, ["Val-de-Loire"], ["Emploi"])
    return Service(project, version, _acting(world.evaluator_org, [Role.EVALUATOR]))


def publish_all_evidence(world, service: Service) -> None:  # type: ignore[no-untyped-def]
    published_evaluation(service.project, service.evaluator)
    published_audit(service.project, service.evaluator)
    publish_sheet(service.project)
    publish_accessibility_statement(world, service)


def publish_sheet(project) -> AlgorithmSheet:  # type: ignore[no-untyped-def]
    return AlgorithmSheet.objects.create(
        project=project,
        title="Orientation",
        purpose="Orienter",
        contribution_degree="support",
        contribution_mode="Suggestion",
        operations="Classement",
        human_oversight="Un conseiller décide",
        risks="Aucun connu",
        objection_contact="contact@example.org",
        status=AlgorithmSheet.State.PUBLISHED,
        published_at=timezone.now(),
        published_on=date.today(),
    )


def publish_accessibility_statement(world, service: Service) -> None:  # type: ignore[no-untyped-def]
    commitment = service.version.commitments.get(principle="accessibility")
    record_evidence(
        world.carrier_admin,
        commitment,
        progress=100,
        note="Déclaration d'accessibilité publiée",
        url="https://example.org/accessibilite",
        met=True,
    )


@pytest.fixture
def channel(world) -> Channel:  # type: ignore[no-untyped-def]
    return declarations.declare_channel(world.signatory, world.institution, channel_in())
