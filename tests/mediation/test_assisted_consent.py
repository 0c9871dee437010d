"""Assisted consent to data sharing (issue 13, P7): a mediator records the consent of a person
without an account; the person withdraws it with the receipt's code, or after claiming it into an
account, or the mediator withdraws it at the person's request. Permissions × role, French 4xx
messages, journal events in the same transaction, nothing personal in the log."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from django.test import Client

from pacte.accounts.models import Role
from pacte.data.consent import withdraw_consent
from pacte.data.models import Consent
from pacte.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from pacte.mediation import assistance
from pacte.mediation.models import AssistedAction
from tests.conftest import _acting
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PURPOSE = "Être accompagnée dans sa recherche d'emploi par le projet."


@pytest.fixture
def mediator(world):  # type: ignore[no-untyped-def]
    return _acting(world.institution, [Role.MEDIATOR])


@pytest.fixture
def person(cohort):  # type: ignore[no-untyped-def]
    return (
        pq.read_table(cohort.current_version.paths[0], columns=["person_id"]).column(0)[5].as_py()
    )


def _consent(active, cohort, person_id, **kw):  # type: ignore[no-untyped-def]
    return assistance.AssistedIn(
        kind=AssistedAction.Kind.CONSENT,
        person_label=kw.pop("person_label", "Mme Bernard"),
        consent_method=AssistedAction.ConsentMethod.PAPER,
        identity_check=kw.pop("identity_check", AssistedAction.IdentityCheck.ID_DOCUMENT),
        attested=True,
        project=kw.pop("project", active.pact.project),
        dataset=kw.pop("dataset", cohort),
        person_id=person_id,
        purpose=kw.pop("purpose", PURPOSE),
        **kw,
    )


def test_a_mediator_records_a_consent_for_a_person_without_an_account(
    world, active, cohort, person, mediator
):
    recorded = assistance.record_assisted(
        mediator, _consent(active, cohort, person, email="bernard@example.org")
    )
    action = recorded.action
    consent = Consent.objects.get(pk=action.consent_id)
    assert consent.user is None and consent.state == Consent.State.GIVEN
    assert consent.record and consent.record[0]["person_id"] == person
    assert consent.project == active.pact.project and consent.purpose == PURPOSE
    assert consent.assisted == action  # the consent row is marked as assisted
    assert action.identity_check == "id_document" and action.mediator == mediator.user
    given = Event.objects.get(type="consent.given")
    assert '"assisted":true' in given.entry and '"role":"mediator"' in given.entry
    recorded_event = Event.objects.get(type="assisted.recorded")
    assert '"kind":"data_consent"' in recorded_event.entry
    for entry in (given.entry, recorded_event.entry):  # nothing personal in the log
        assert person not in entry and "Bernard" not in entry and "recherche" not in entry
    from pacte.notifications.models import Notification

    mail = Notification.objects.get(event="assisted.receipt")
    assert recorded.claim_code in mail.body and "/accompagnement/retrait/" in mail.body


@pytest.mark.parametrize(
    "change, field",
    [
        ({"identity_check": ""}, "identity_check"),
        ({"dataset": None}, "dataset"),
        ({"project": None}, "project"),
        ({"purpose": "court"}, "purpose"),
        ({"person_id": "inconnu-0000"}, "person_id"),
        ({"person_id": "  "}, "person_id"),
    ],
)
def test_a_bad_consent_is_refused_in_french_and_nothing_is_kept(
    world, active, cohort, person, mediator, change, field
):
    person_id = change.pop("person_id", person)
    before = (Consent.objects.count(), Event.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        assistance.record_assisted(mediator, _consent(active, cohort, person_id, **change))
    assert exc.value.status == 422 and field in exc.value.field_errors
    assert (Consent.objects.count(), Event.objects.count()) == before
    assert not AssistedAction.objects.exists()


def test_no_pact_in_force_means_no_consent(world, draft, cohort, person, mediator):
    with pytest.raises(InvalidTransition) as exc:
        assistance.record_assisted(mediator, _consent(draft, cohort, person))
    assert "pacte en vigueur" in exc.value.message and exc.value.status == 409
    assert not Consent.objects.exists() and not AssistedAction.objects.exists()


def test_only_a_mediator_records_a_consent(world, active, cohort, person):
    for acting in (world.reviewer, world.data_steward, world.carrier_admin, world.signatory):
        with pytest.raises(PermissionDenied):
            assistance.record_assisted(acting, _consent(active, cohort, person))
    assert not Consent.objects.exists() and not Event.objects.filter(type="consent.given")


def test_the_person_withdraws_with_the_code_and_only_once(world, active, cohort, person, mediator):
    recorded = assistance.record_assisted(mediator, _consent(active, cohort, person))
    assistance.withdraw_with_code(recorded.claim_code.lower())  # forgiving input
    consent = Consent.objects.get(pk=recorded.action.consent_id)
    assert consent.state == Consent.State.WITHDRAWN and consent.record == []
    withdrawn = Event.objects.get(type="consent.withdrawn")
    assert '"by":"person"' in withdrawn.entry and '"role":"assisted_person"' in withdrawn.entry
    assert Event.objects.filter(type="assisted.consent_withdrawn").count() == 1
    with pytest.raises(InvalidTransition) as exc:
        assistance.withdraw_with_code(recorded.claim_code)
    assert exc.value.message == "Ce consentement est déjà retiré."
    with pytest.raises(NotFound):
        assistance.withdraw_with_code("AAAA-BBBB-CCCC")


def test_a_code_for_another_kind_of_action_withdraws_nothing(world, mediator):
    panel = assistance.record_assisted(
        mediator,
        assistance.AssistedIn(
            kind=AssistedAction.Kind.PANEL, person_label="X", consent_method="oral", attested=True
        ),
    )
    with pytest.raises(InvalidTransition) as exc:
        assistance.withdraw_with_code(panel.claim_code)
    assert "consentement" in exc.value.message


def test_the_mediator_withdraws_at_the_persons_request_within_their_structure(
    world, active, cohort, person, mediator
):
    recorded = assistance.record_assisted(mediator, _consent(active, cohort, person))
    reference = recorded.action.reference
    with pytest.raises(ValidationFailed) as bad:
        assistance.withdraw_on_request(mediator, reference, "")
    assert "request_method" in bad.value.field_errors
    for acting in (
        _acting(world.other_institution, [Role.MEDIATOR]),
        _acting(world.institution, [Role.REVIEWER]),
        world.data_steward,
    ):
        with pytest.raises(PermissionDenied):
            assistance.withdraw_on_request(acting, reference, "phone")
    assert Consent.objects.get().state == Consent.State.GIVEN
    assistance.withdraw_on_request(mediator, reference, "phone")
    assert Consent.objects.get().state == Consent.State.WITHDRAWN
    event = Event.objects.get(type="assisted.consent_withdrawn")
    assert '"by":"mediator"' in event.entry and '"request_method":"phone"' in event.entry


def test_after_the_claim_the_person_withdraws_from_their_account_only(
    world, active, cohort, person, mediator
):
    recorded = assistance.record_assisted(mediator, _consent(active, cohort, person))
    someone = UserFactory()
    consent = Consent.objects.get()
    with pytest.raises(PermissionDenied):  # a consent without account is nobody's to withdraw here
        withdraw_consent(someone, consent)
    owner = UserFactory()
    assistance.claim(owner, recorded.claim_code)
    consent.refresh_from_db()
    assert consent.user == owner
    with pytest.raises(InvalidTransition) as exc:
        assistance.withdraw_on_request(mediator, recorded.action.reference, "oral")
    assert "compte" in exc.value.message
    with pytest.raises(InvalidTransition):  # the code is spent once claimed
        assistance.withdraw_with_code(recorded.claim_code)
    client = Client()
    client.force_login(owner)
    page = client.get("/donnees/consentement/").content.decode()
    assert str(consent.receipt_id) in page or active.pact.project.name in page
    client.post(f"/donnees/consentements/{consent.receipt_id}/retrait/")
    consent.refresh_from_db()
    assert consent.state == Consent.State.WITHDRAWN and consent.record == []


def _signed_in(acting) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(acting.user)
    session = client.session
    session["acting_organisation_id"] = acting.organisation.pk
    session.save()
    return client


def test_the_pages_record_withdraw_and_answer_in_french(world, active, cohort, person, mediator):
    client = _signed_in(mediator)
    form = client.get("/accompagnement/").content.decode()
    assert cohort.title in form and 'name="identity_check"' in form
    r = client.post(
        "/accompagnement/",
        {
            "kind": "data_consent",
            "person_label": "M. Petit",
            "consent_method": "oral",
            "identity_check": "known",
            "project": active.pact.project.slug,
            "dataset": cohort.slug,
            "person_id": person,
            "purpose": PURPOSE,
            "attested": "on",
        },
    )
    assert r.status_code == 302
    receipt = client.get(r["Location"]).content.decode()
    assert "accompagnée dans sa recherche" in receipt and "Retirer le consentement" in receipt
    code = receipt.split('id="claim-code"><strong>')[1].split("<")[0]
    bad = client.post(
        "/accompagnement/",
        {"kind": "data_consent", "person_label": "X", "consent_method": "oral", "attested": "on"},
    )
    assert bad.status_code == 422 and "jeu de données" in bad.content.decode()
    # the mediator's withdrawal form: another structure's mediator is refused
    reference = AssistedAction.objects.get().reference
    other = _signed_in(_acting(world.other_institution, [Role.MEDIATOR]))
    assert (
        other.post(
            f"/accompagnement/recus/{reference}/retrait/", {"request_method": "oral"}
        ).status_code
        == 403
    )
    # the person, without an account
    anonymous = Client()
    assert anonymous.get("/accompagnement/retrait/").status_code == 200
    wrong = anonymous.post("/accompagnement/retrait/", {"code": "ZZZZ-ZZZZ-ZZZZ"})
    assert wrong.status_code == 404 and "Vérifiez-le sur votre reçu" in wrong.content.decode()
    done = anonymous.post("/accompagnement/retrait/", {"code": code})
    assert done.status_code == 302
    assert Consent.objects.get().state == Consent.State.WITHDRAWN
    again = anonymous.post("/accompagnement/retrait/", {"code": code})
    assert again.status_code == 409 and "déjà retiré" in again.content.decode()
    after = client.get(f"/accompagnement/recus/{reference}/").content.decode()
    assert "Retirer le consentement" not in after and "Retiré" in after
