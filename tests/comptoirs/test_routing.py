"""The routing table kept in the browser (issue 12): an institution's signatories add, change and
remove the rows that route to it; every change publishes a new version of the table (the public
page shows the version and its history) and is logged in the same transaction; a refused form
shows its errors beside the fields, in French, with what was typed."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from pacte.accounts import policy
from pacte.accounts.models import Role
from pacte.comptoirs import posts, routing
from pacte.comptoirs.models import Route, RoutingVersion
from pacte.errors import InvalidTransition, PermissionDenied, ValidationFailed
from pacte.journal.models import Event
from tests.comptoirs.conftest import problem_in
from tests.conftest import _acting

pytestmark = pytest.mark.django_db


def _events(type: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(e.entry)["data"] for e in Event.objects.filter(type=type).order_by("index")]


def _row(world, **kw):  # type: ignore[no-untyped-def]
    values = dict(
        theme="logement",
        territory="Cher",
        institution=world.institution,
        contact_role=Role.REVIEWER,
        contact_title="Pôle logement",
        clock_days=21,
    )
    values.update(kw)
    return routing.RouteIn(**values)


def _login(acting) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(acting.user)
    session = c.session
    session["acting_organisation_id"] = acting.organisation.pk
    session.save()
    return c


def test_each_change_publishes_a_version_and_is_logged(world, desk):  # type: ignore[no-untyped-def]
    start = RoutingVersion.objects.count()  # the fixture's two rows
    d = _row(world)
    route = routing.set_route(
        world.signatory,
        theme=d.theme,
        territory=d.territory,
        institution=d.institution,
        contact_role=d.contact_role,
        contact_title=d.contact_title,
        clock_days=d.clock_days,
        reason="Nouveau pôle logement dans le Cher.",
    )
    v = RoutingVersion.objects.order_by("-number").first()
    assert v is not None and v.number == start + 1 and v.change == "added"
    assert v.published_by == world.institution and v.reason.startswith("Nouveau pôle")
    assert {"theme": "logement", "territory": "Cher"}.items() <= v.rows[-1].items()
    added = _events("comptoir.route.set")[-1]
    assert added["table_version"] == v.number and added["change"] == "added"

    # a post now goes to the new row
    post = posts.submit_post(desk.citizen, problem_in(theme="logement", territory="cher"))
    assert post.contact_title == "Pôle logement"

    # unchanged: no new version; changed: a new one, with the previous row in the journal
    routing.change_route(world.signatory, route, _row(world))
    assert RoutingVersion.objects.count() == start + 1
    routing.change_route(world.signatory, route, _row(world, clock_days=10), "Délai raccourci.")
    changed = _events("comptoir.route.set")[-1]
    assert changed["change"] == "changed" and changed["previous"]["clock_days"] == 21
    assert changed["table_version"] == start + 2

    with pytest.raises(ValidationFailed) as short:
        routing.remove_route(world.signatory, route, "court")
    assert short.value.status == 422 and "motif" in short.value.message.lower()
    routing.remove_route(world.signatory, route, "Le pôle logement ferme en fin d'année.")
    assert not Route.objects.filter(pk=route.pk).exists()
    [removed] = _events("comptoir.route.removed")
    assert removed["table_version"] == start + 3 and removed["change"] == "removed"
    # the post routed before keeps its assignment
    post.refresh_from_db()
    assert post.contact_title == "Pôle logement"


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("signatory", True),
        ("reviewer", False),
        ("carrier_admin", False),
        ("outsider", False),  # another institution's reviewer
        ("platform_admin", True),
    ],
)
def test_who_keeps_a_row_routed_to_the_institution(world, desk, who, allowed):  # type: ignore[no-untyped-def]
    principal = {
        "signatory": world.signatory,
        "reviewer": world.reviewer,
        "carrier_admin": world.carrier_admin,
        "outsider": world.outsider_reviewer,
        "platform_admin": desk.admin,
    }[who]
    before = RoutingVersion.objects.count()
    if allowed:
        routing.change_route(
            principal, desk.route, _row(world, theme="emploi", territory="Val-de-Loire")
        )
        assert RoutingVersion.objects.count() == before + 1
    else:
        with pytest.raises(PermissionDenied) as refused:
            routing.change_route(
                principal, desk.route, _row(world, theme="emploi", territory="Val-de-Loire")
            )
        assert refused.value.status == 403 and "signataire" in refused.value.message
        assert RoutingVersion.objects.count() == before


def test_an_institution_cannot_take_another_institutions_row(world, desk):  # type: ignore[no-untyped-def]
    catch_all = Route.objects.get(theme="", territory="")  # the other institution's
    with pytest.raises(PermissionDenied):
        routing.change_route(world.signatory, catch_all, _row(world, theme="", territory=""))
    with pytest.raises(PermissionDenied):  # nor through set_route on the same pair
        routing.set_route(
            world.signatory,
            theme="",
            territory="",
            institution=world.institution,
            contact_role=Role.REVIEWER,
            contact_title="Accueil",
            clock_days=10,
        )
    with pytest.raises(PermissionDenied):  # nor route a new row to another institution
        routing.set_route(
            world.signatory,
            theme="sante",
            territory="",
            institution=world.other_institution,
            contact_role=Role.REVIEWER,
            contact_title="Accueil",
            clock_days=10,
        )
    # the catch-all row stays (a post must always find a row), even for the platform
    with pytest.raises(InvalidTransition) as kept:
        routing.remove_route(desk.admin, catch_all, "Plus personne ne répond aux dépôts.")
    assert kept.value.status == 409 and "ligne par défaut" in kept.value.message
    # two rows cannot cover the same pair
    mine = routing.set_route(
        world.signatory,
        theme="sante",
        territory="",
        institution=world.institution,
        contact_role=Role.REVIEWER,
        contact_title="Santé",
        clock_days=10,
    )
    with pytest.raises(ValidationFailed) as taken:
        routing.change_route(
            world.signatory, mine, _row(world, theme="emploi", territory="val-de-loire")
        )
    assert "couvre déjà" in taken.value.field_errors["territory"][0]


def test_the_keeping_page_adds_changes_and_removes_rows(world, desk):  # type: ignore[no-untyped-def]
    assert Client().get("/comptoir/routage/gerer/").status_code == 302  # sign in first
    assert _login(world.reviewer).get("/comptoir/routage/gerer/").status_code == 403
    c = _login(world.signatory)
    html = c.get("/comptoir/routage/gerer/").content.decode()
    assert "Référent innovation" in html and "Bureau des usagers" not in html  # its own rows
    # refused: the errors beside the fields, in French, with what was typed kept
    r = c.post(
        "/comptoir/routage/gerer/",
        {
            "theme": "logement",
            "territory": "Indre",
            "institution": world.institution.slug,
            "contact_role": "reviewer",
            "contact_title": "Pôle habitat",
            "clock_days": "0",
        },
    )
    html = r.content.decode()
    assert r.status_code == 400
    assert "Assurez-vous que cette valeur est supérieure ou égale à 1" in html
    assert 'value="Pôle habitat"' in html and 'value="Indre"' in html
    assert RoutingVersion.objects.filter(territory="Indre").count() == 0
    # another institution is not among the choices
    r = c.post(
        "/comptoir/routage/gerer/",
        {
            "theme": "logement",
            "territory": "Indre",
            "institution": world.other_institution.slug,
            "contact_role": "reviewer",
            "contact_title": "Pôle habitat",
            "clock_days": "15",
        },
    )
    assert r.status_code == 400 and "Sélectionnez un choix valide" in r.content.decode()
    r = c.post(
        "/comptoir/routage/gerer/",
        {
            "theme": "logement",
            "territory": "Indre",
            "institution": world.institution.slug,
            "contact_role": "reviewer",
            "contact_title": "Pôle habitat",
            "clock_days": "15",
            "reason": "Ouverture du pôle habitat de l'Indre.",
        },
    )
    assert r.status_code == 302
    route = Route.objects.get(territory="Indre")
    version = RoutingVersion.objects.order_by("-number").first()
    assert version is not None
    public = Client().get("/comptoir/routage/").content.decode()
    assert f"Version {version.number} de la table" in public
    assert "Ouverture du pôle habitat de l&#x27;Indre." in public and "Ligne ajoutée" in public

    # change, then remove (a short reason is refused beside its field)
    edit = f"/comptoir/routage/{route.pk}/modifier/"
    assert _login(world.outsider_reviewer).get(edit).status_code == 403
    r = c.post(
        edit,
        {
            "theme": "logement",
            "territory": "Indre",
            "institution": world.institution.slug,
            "contact_role": "reviewer",
            "contact_title": "Pôle habitat",
            "clock_days": "12",
        },
    )
    assert r.status_code == 302
    route.refresh_from_db()
    assert route.clock_days == 12
    r = c.post(f"/comptoir/routage/{route.pk}/retirer/", {"remove-reason": "court"})
    assert (
        r.status_code == 400
        and "Assurez-vous que cette valeur comporte au moins 10" in r.content.decode()
    )
    assert "court</textarea>" in r.content.decode()  # what was typed stays
    r = c.post(
        f"/comptoir/routage/{route.pk}/retirer/",
        {"remove-reason": "Le pôle habitat rejoint le pôle logement."},
    )
    assert r.status_code == 302 and not Route.objects.filter(pk=route.pk).exists()
    public = Client().get("/comptoir/routage/").content.decode()
    assert "Ligne retirée" in public and "Ligne modifiée" in public
    assert c.get(f"/comptoir/routage/{route.pk}/modifier/").status_code == 404


def test_the_platform_keeps_every_row(world, desk):  # type: ignore[no-untyped-def]
    c = _login(desk.admin)
    html = c.get("/comptoir/routage/gerer/").content.decode()
    assert "Référent innovation" in html and "Bureau des usagers" in html
    assert _acting(world.institution, [Role.PLATFORM_ADMIN]) is not None
    assert policy.may(desk.admin, policy.Action.COMPTOIR_ROUTE_KEEP, desk.route)
