from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pacte.accounts.models import Organisation, Role
from pacte.accounts.services import Acting, acting_for
from pacte.demo import pact_content
from tests.factories import InstitutionFactory, MembershipFactory, OrganisationFactory, UserFactory


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """A test that starts Spark (the ``spark`` fixture, directly or through another fixture)
    carries the ``spark`` mark: scripts/test runs those once, in the SQLite lane, since what they
    compare (DuckDB and Spark over the same Parquet files) does not depend on the database.

    The browser tests run last, in their usual order: they share one Chromium (``browser``
    below), whose Playwright driver keeps an event loop registered in the thread while it is
    open; every other test runs before it starts, as in a run without browser tests."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)
    in_browser = [item for item in items if item.get_closest_marker("browser")]
    if in_browser:
        items[:] = [item for item in items if not item.get_closest_marker("browser")] + in_browser


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashing():  # type: ignore[no-untyped-def]
    """Argon2 at its smallest cost first (tests/hashers.py); the production hashers stay
    listed, so a hash made with them is still checked."""
    from django.conf import settings
    from django.test import override_settings

    hashers = ["tests.hashers.QuickArgon2PasswordHasher", *settings.PASSWORD_HASHERS]
    with override_settings(PASSWORD_HASHERS=hashers):
        yield


@pytest.fixture(autouse=True, scope="session")
def _checkpoints_signed_in_the_request():  # type: ignore[no-untyped-def]
    """The checkpoint after a ``record_event`` commit is signed at once, in the test's own
    thread, whatever PACTE_ENV says (no timer thread racing the test database);
    tests/journal/test_deferred_signing.py exercises the deferred signature."""
    from django.test import override_settings

    with override_settings(LOG_CHECKPOINT_INTERVAL=0):
        yield


@pytest.fixture(scope="session")
def _chromium():  # type: ignore[no-untyped-def]
    """One headless Chromium for the whole run (tests/chromium.py): launched by the first browser
    test, closed at the end of the run."""
    import os

    from playwright.sync_api import sync_playwright

    from tests.chromium import launch

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def browser(_chromium):  # type: ignore[no-untyped-def]
    """The run's Chromium; each test opens its own contexts (cookies, storage, pages), which are
    all closed after it: no test sees another's session."""
    yield _chromium
    for context in list(_chromium.contexts):
        context.close()


@pytest.fixture(autouse=True)
def _log_memory_per_test(tmp_path_factory, settings):  # type: ignore[no-untyped-def]
    """The log's memory of its latest signed checkpoint lives outside the database; each
    test database starts empty, so each test gets its own memory file."""
    settings.LOG_MEMORY_FILE = str(tmp_path_factory.mktemp("log-memory") / "log-latest-checkpoint")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():  # type: ignore[no-untyped-def]
    """django-allauth counts requests per address in the cache (sign-in, sign-up, reset):
    each test starts with none counted, whatever the tests before it did."""
    from django.core.cache import cache

    cache.clear()


@dataclass
class World:
    """Two parties and one person per role, ready to act."""

    carrier: Organisation
    institution: Organisation
    other_institution: Organisation
    evaluator_org: Organisation
    carrier_admin: Acting
    carrier_member: Acting
    reviewer: Acting
    reviewer2: Acting
    signatory: Acting
    data_steward: Acting
    outsider_reviewer: Acting  # reviewer of another institution
    auditor: Acting

    def project(self, **kw: Any):  # type: ignore[no-untyped-def]
        from pacte.projects.phases import create_project

        kw.setdefault("name", "Service citoyen")
        kw.setdefault("pitch", "Un service d'intérêt général")
        return create_project(self.carrier_admin, **kw)


def _acting(org: Organisation, roles: list[str]) -> Acting:
    m = MembershipFactory(organisation=org, roles=roles)
    return acting_for(m.user, org)


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    carrier = OrganisationFactory(slug="porteur", name="Association Porteuse")
    institution = InstitutionFactory(slug="agence", name="Agence publique")
    other = InstitutionFactory(slug="region", name="Région")
    evaluator = OrganisationFactory(
        slug="labo", name="Labo", kind="evaluator", legal_form="evaluation_body"
    )
    return World(
        carrier=carrier,
        institution=institution,
        other_institution=other,
        evaluator_org=evaluator,
        carrier_admin=_acting(carrier, [Role.CARRIER_ADMIN]),
        carrier_member=_acting(carrier, [Role.CARRIER_MEMBER]),
        reviewer=_acting(institution, [Role.REVIEWER]),
        reviewer2=_acting(institution, [Role.REVIEWER]),
        signatory=_acting(institution, [Role.SIGNATORY]),
        data_steward=_acting(institution, [Role.DATA_STEWARD]),
        outsider_reviewer=_acting(other, [Role.REVIEWER]),
        auditor=_acting(evaluator, [Role.AUDITOR]),
    )


@pytest.fixture
def content() -> dict[str, Any]:
    return pact_content(
        "Pacte de test",
        problem="Les personnes éloignées de l'emploi ne trouvent pas les entreprises qui recrutent.",
        population="Demandeurs d'emploi",
        size=10_000,
        territory="Val-de-Loire",
        outcome="Retour à l'emploi durable à 6 mois",
    )


@pytest.fixture
def draft(world: World, content: dict[str, Any]):  # type: ignore[no-untyped-def]
    from pacte.pacts.drafting import create_pact

    return create_pact(world.carrier_admin, world.project(), world.institution, content)


def activate(world: World, version):  # type: ignore[no-untyped-def]
    from pacte.pacts import drafting as pact_drafting
    from pacte.pacts import review as pact_review
    from pacte.pacts import signing as pact_signing

    pact_drafting.submit(world.carrier_admin, version)
    pact_review.approve(world.reviewer, version)
    version.refresh_from_db()
    if version.status == "submitted":
        pact_review.approve(world.reviewer2, version)
    pact_signing.sign(world.carrier_admin, version)
    pact_signing.sign(world.signatory, version)
    version.refresh_from_db()
    return version


@pytest.fixture
def active(world: World, draft):  # type: ignore[no-untyped-def]
    return activate(world, draft)


@pytest.fixture
def user_factory():  # type: ignore[no-untyped-def]
    return UserFactory


@pytest.fixture
def demo_data(transactional_db, settings):  # type: ignore[no-untyped-def]
    """The whole demo (every domain's part) in the test database, loaded once per run and restored
    for each test that asks (tests/demo_data.py); sign-ins use a fast hasher."""
    from tests import demo_data as demo_copy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_copy.load()
