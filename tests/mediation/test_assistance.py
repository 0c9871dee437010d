"""Assisted use (P7): consent recorded, receipt, claim, journal entries, permissions."""

from __future__ import annotations

import pytest
from django.test import Client

from pacte.accounts import policy
from pacte.accounts.models import Organisation, Role
from pacte.accounts.policy import Action
from pacte.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from pacte.evidence.models import Feedback, Volunteer
from pacte.journal.models import Event
from pacte.mediation import assistance
from pacte.mediation.models import AssistedAction
from pacte.notifications.models import Notification
from tests.conftest import _acting
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "un-mot-de-passe-solide-42"


@pytest.fixture
def mediator(world):  # type: ignore[no-untyped-def]
    return _acting(world.institution, [Role.MEDIATOR])


def _panel(**kw):  # type: ignore[no-untyped-def]
    return assistance.AssistedIn(
        kind=AssistedAction.Kind.PANEL,
        person_label=kw.pop("person_label", "Mme Martin"),
        consent_method=AssistedAction.ConsentMethod.ORAL,
        attested=kw.pop("attested", True),
        age_band=kw.pop("age_band", ""),
        **kw,
    )


def _feedback(project, **kw):  # type: ignore[no-untyped-def]
    return assistance.AssistedIn(
        kind=AssistedAction.Kind.FEEDBACK,
        person_label="Jo",
        consent_method=AssistedAction.ConsentMethod.PAPER,
        attested=True,
        project=project,
        body=kw.pop("body", "Le formulaire est trop long, j'ai abandonné."),
        **kw,
    )


def test_a_mediator_joins_the_panel_for_a_person_and_it_is_marked_and_logged(world, mediator):
    recorded = assistance.record_assisted(mediator, _panel(email="martin@example.org"))
    action = recorded.action
    volunteer = Volunteer.objects.get(pk=action.volunteer_id)
    assert volunteer.user is None and volunteer.consent_at is not None
    assert volunteer.assisted == action  # the resulting row is marked as assisted
    assert action.organisation == world.institution and action.mediator == mediator.user
    assert action.claim_code_sha256 == assistance.code_sha256(recorded.claim_code)
    assert recorded.claim_code not in str(AssistedAction.objects.values().get(pk=action.pk))
    event = Event.objects.get(type="assisted.recorded")
    assert event.subject_id == action.reference and world.institution.slug in event.entry
    assert "Martin" not in event.entry  # the person is never named in the log
    mail = Notification.objects.get(event="assisted.receipt")
    assert mail.recipients == ["martin@example.org"] and recorded.claim_code in mail.body


def test_assisted_feedback_is_marked_and_has_no_author_until_claimed(world, mediator):
    project = world.project()
    recorded = assistance.record_assisted(mediator, _feedback(project))
    fb = Feedback.objects.get(pk=recorded.action.feedback_id)
    assert fb.author is None and fb.project == project and fb.assisted == recorded.action
    assert Event.objects.filter(type="feedback.received", project_slug=project.slug).exists()
    assert Event.objects.filter(type="assisted.recorded", project_slug=project.slug).exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"attested": False}, "attested"),
        ({"person_label": "  "}, "person_label"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"age_band": "999"}, "age_band"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_recorded(world, mediator, change, field):
    before = (Volunteer.objects.count(), Event.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        assistance.record_assisted(mediator, _panel(**change))
    assert exc.value.status == 422 and field in exc.value.field_errors
    assert (Volunteer.objects.count(), Event.objects.count()) == before
    assert not AssistedAction.objects.exists()


def test_feedback_needs_a_service(world, mediator):
    with pytest.raises(ValidationFailed) as exc:
        assistance.record_assisted(mediator, _feedback(None))
    assert "project" in exc.value.field_errors


def test_the_person_claims_the_contributions_into_their_account(world, mediator):
    project = world.project()
    panel = assistance.record_assisted(mediator, _panel())
    fb = assistance.record_assisted(mediator, _feedback(project))
    person = UserFactory()
    assistance.claim(person, panel.claim_code.lower().replace("-", " "))  # forgiving input
    assistance.claim(person, fb.claim_code)
    assert Volunteer.objects.get(pk=panel.action.volunteer_id).user == person
    assert Feedback.objects.get(pk=fb.action.feedback_id).author == person
    claimed = AssistedAction.objects.get(pk=panel.action.pk)
    assert claimed.claimed_by == person and claimed.person_label == ""
    events = Event.objects.filter(type="assisted.claimed").order_by("index")
    assert [e.subject_id for e in events] == [panel.action.reference, fb.action.reference]
    with pytest.raises(InvalidTransition):
        assistance.claim(UserFactory(), panel.claim_code)
    with pytest.raises(NotFound):
        assistance.claim(person, "AAAA-BBBB-CCCC")


def test_a_person_already_in_the_panel_is_not_counted_twice(world, mediator):
    from pacte.evidence.panels import volunteer

    person = UserFactory()
    volunteer(person, consent=True)
    panel = assistance.record_assisted(mediator, _panel(age_band=""))
    assistance.claim(person, panel.claim_code)
    seat = Volunteer.objects.get(pk=panel.action.volunteer_id)
    assert seat.user is None and seat.left_at is not None
    assert '"outcome":"already_in_panel"' in Event.objects.get(type="assisted.claimed").entry


def test_only_mediators_act_for_a_person(world, mediator):
    for acting in (
        world.reviewer,
        world.signatory,
        world.data_steward,
        world.carrier_admin,
        world.auditor,
    ):
        with pytest.raises(PermissionDenied):
            assistance.record_assisted(acting, _panel())
    with pytest.raises(PermissionDenied):
        policy.require(policy.SYSTEM, Action.ASSISTED_ACT, world.institution)
    assert not AssistedAction.objects.exists()
    # a mediator reads the receipts of their own structure only
    action = assistance.record_assisted(mediator, _panel()).action
    other = _acting(world.other_institution, [Role.MEDIATOR])
    assert policy.may(mediator, Action.ASSISTED_RECEIPT, action)
    assert not policy.may(other, Action.ASSISTED_RECEIPT, action)
    assert not policy.may(
        _acting(world.institution, [Role.REVIEWER]), Action.ASSISTED_RECEIPT, action
    )


def test_the_mediator_role_belongs_to_institutions():
    from pacte.accounts.models import ROLES_BY_KIND

    assert Role.MEDIATOR in ROLES_BY_KIND[Organisation.Kind.INSTITUTION]
    assert Role.MEDIATOR not in ROLES_BY_KIND[Organisation.Kind.CARRIER]  # no mediating for oneself


def _signed_in(acting) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(acting.user)
    session = client.session
    session["acting_organisation_id"] = acting.organisation.pk
    session.save()
    return client


def test_the_pages_record_print_and_claim(world, mediator):
    client = _signed_in(mediator)
    assert client.get("/accompagnement/").status_code == 200
    r = client.post(
        "/accompagnement/",
        {
            "kind": "panel_join",
            "person_label": "M. Durand",
            "consent_method": "oral",
            "attested": "on",
        },
    )
    assert r.status_code == 302
    receipt = client.get(r["Location"])
    page = receipt.content.decode()
    action = AssistedAction.objects.get()
    assert action.reference in page and "M. Durand" in page
    code = page.split('id="claim-code"><strong>')[1].split("<")[0]
    assert assistance.code_sha256(code) == action.claim_code_sha256
    # refused: a missing attestation says why, with a 422 and nothing recorded
    bad = client.post(
        "/accompagnement/", {"kind": "panel_join", "person_label": "X", "consent_method": "oral"}
    )
    assert bad.status_code == 422 and "attestation" in bad.content.decode()
    assert AssistedAction.objects.count() == 1
    # someone who is not a mediator gets a 403, a stranger a sign-in prompt
    assert _signed_in(world.reviewer).get("/accompagnement/").status_code == 403
    assert _signed_in(world.reviewer).get(r["Location"]).status_code == 403
    assert Client().get("/accompagnement/").status_code in (302, 401)
    # the person claims it from their own account
    person = UserFactory()
    citizen = Client()
    citizen.force_login(person)
    done = citizen.post("/accompagnement/reprendre/", {"code": code})
    assert done.status_code == 302
    assert Volunteer.objects.get(pk=action.volunteer_id).user == person
    again = citizen.post("/accompagnement/reprendre/", {"code": code})
    assert again.status_code == 409
