"""Migrations data 0003 / mediation 0002 (assisted consent), both ways: backwards, the consents
that no account holds are deleted (the previous schema requires a user), the others are kept."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pacte.accounts.models import Role
from pacte.data.models import Consent
from pacte.mediation import assistance
from pacte.mediation.models import AssistedAction
from tests.conftest import _acting
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("mediation", "0001_initial"), ("data", "0002_person_unit_profile")]


def _migrate(target: list[tuple[str, str]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target or executor.loader.graph.leaf_nodes())


def test_assisted_consents_go_backwards_and_forwards(world, active, cohort):
    person = pq.read_table(cohort.current_version.paths[0], columns=["person_id"])
    mediator = _acting(world.institution, [Role.MEDIATOR])
    made = []
    for i in (1, 2):
        made.append(
            assistance.record_assisted(
                mediator,
                assistance.AssistedIn(
                    kind=AssistedAction.Kind.CONSENT,
                    person_label=f"Personne {i}",
                    consent_method="oral",
                    identity_check="id_document",
                    attested=True,
                    project=active.pact.project,
                    dataset=cohort,
                    person_id=person.column(0)[i].as_py(),
                    purpose="Être accompagnée dans sa recherche d'emploi.",
                ),
            )
        )
    owner = UserFactory()
    assistance.claim(owner, made[1].claim_code)
    try:
        _migrate(BEFORE)
        with connection.cursor() as cur:
            cur.execute("SELECT user_id FROM data_consent")
            assert [row[0] for row in cur.fetchall()] == [owner.pk]
    finally:
        _migrate()
    assert list(Consent.objects.values_list("user_id", flat=True)) == [owner.pk]
