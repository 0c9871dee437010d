"""Issue 14: the workspace shows every person's work across their organisations; irreversible moves
ask for a confirmation and say what happens next; ended pacts do not show open commitments."""

from __future__ import annotations

import re
from html import unescape

import pytest

from pacte.accounts.models import Membership, Role
from pacte.pacts import drafting as pact_drafting
from pacte.pacts import review as pact_review
from pacte.pacts import sanctions as pact_sanctions
from pacte.pacts.models import PactVersion, Status
from tests.data.conftest import hiring, parquet_files, request_for  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def text(response) -> str:  # type: ignore[no-untyped-def]
    """The page's visible text, tags removed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def section(page: str, start: str, end: str) -> str:
    i = page.index(start)
    return page[i : page.index(end, i)]


def _second_pact(world, content):  # type: ignore[no-untyped-def]
    """A pact submitted to the other institution (the Région of the fixtures)."""
    project = world.project(name="Deuxième service")
    v = pact_drafting.create_pact(world.carrier_admin, project, world.other_institution, content)
    return pact_drafting.submit(world.carrier_admin, v)


# ------------------------------------------------------------------ one queue, every organisation


def test_reviewer_of_two_institutions_sees_both_queues(client, world, draft, content):
    Membership.objects.filter(user=world.outsider_reviewer.user).delete()
    Membership.objects.create(
        user=world.reviewer.user, organisation=world.other_institution, roles=[Role.REVIEWER]
    )
    first = pact_drafting.submit(world.carrier_admin, draft)
    second = _second_pact(world, content)
    client.force_login(world.reviewer.user)
    page = text(client.get("/espace/"))
    turn = section(page, "À vous d'agir", "En attente d'une autre partie")
    for v, org in ((first, world.institution), (second, world.other_institution)):
        assert f"{v.pact.reference} v1" in turn and org.name in turn
    # the one of the non-active organisation opens through a switch of organisation
    html = client.get("/espace/").content.decode()
    assert f'name="next" value="/pactes/{second.pact.reference}/v1/"' in html
    r = client.post(
        "/espace/organisation/",
        {
            "organisation": world.other_institution.pk,
            "next": f"/pactes/{second.pact.reference}/v1/",
        },
    )
    assert r.status_code == 302 and r["Location"] == f"/pactes/{second.pact.reference}/v1/"
    assert "Approuver" in text(client.get(r["Location"]))


def test_data_steward_sees_the_request_waiting_for_a_decision(client, world, active, hiring):  # noqa: F811
    req = request_for(world, active, hiring, tier=2, columns=["region"])
    client.force_login(world.data_steward.user)
    page = text(client.get("/espace/"))
    assert "Rien n'attend de décision" not in page
    turn = section(page, "À vous d'agir", "En attente d'une autre partie")
    assert req.reference in turn and "Soumise à l'instruction" in turn
    # the carrier sees it too, with the ball at the institution
    client.force_login(world.carrier_admin.user)
    others = section(text(client.get("/espace/")), "En attente d'une autre partie", "Mes projets")
    assert req.reference in others and "à l'institution" in others


def test_auditor_reads_requests_and_projects(client, world, active, hiring):  # noqa: F811
    req = request_for(world, active, hiring, tier=2, columns=["region"])
    client.force_login(world.auditor.user)
    page = text(client.get("/espace/"))
    audit = section(page, "Lecture d'audit", "Mes projets")
    assert req.reference in audit and active.pact.project.name in audit
    assert client.get(f"/donnees/demandes/{req.reference}/").status_code == 200


def test_evaluator_sees_the_draft_to_publish(client, world, active):
    from pacte.accounts.services import acting_for
    from pacte.evidence import evaluations
    from tests.evidence.conftest import REFERENCE
    from tests.factories import MembershipFactory

    m = MembershipFactory(organisation=world.evaluator_org, roles=[Role.EVALUATOR])
    ev = evaluations.create_evaluation(
        acting_for(m.user, world.evaluator_org),
        active.pact.project,
        title="Retour à l'emploi",
        counts=REFERENCE,
    )
    client.force_login(m.user)
    turn = section(text(client.get("/espace/")), "À vous d'agir", "En attente d'une autre partie")
    assert "Retour à l'emploi" in turn and "relire puis publier" in turn
    assert ev.status == "draft"
    # the shortcut to the deposit form is there for an evaluator
    assert "Déposer une évaluation" in text(client.get("/espace/"))


# ------------------------------------------------------------------ moves: buttons, confirmation


def test_after_approving_the_reviewer_no_longer_sees_approve(client, world, content):
    content["state"]["data"] = [{"dataset": "x", "tier": 3, "sensitivity": 2, "purpose": "p"}]
    v = pact_drafting.create_pact(world.carrier_admin, world.project(), world.institution, content)
    v = pact_drafting.submit(world.carrier_admin, v)
    assert v.requires_second_review
    client.force_login(world.reviewer.user)
    url = f"/pactes/{v.pact.reference}/v1/"
    assert "Approuver" in text(client.get(url))
    r = client.post(f"/espace/pactes/{v.pact.reference}/v1/approve/", follow=True)
    page = text(r)
    assert "Votre approbation est enregistrée (1 sur 2)" in page
    assert "Un second instructeur" in page
    assert 'data-action="approve"' not in r.content.decode()
    client.force_login(world.reviewer2.user)
    assert 'data-action="approve"' in client.get(url).content.decode()
    r = client.post(f"/espace/pactes/{v.pact.reference}/v1/approve/", follow=True)
    assert "Pacte approuvé. Prochaine étape : la signature" in text(r)


def test_signing_asks_for_a_confirmation_then_says_what_comes_next(client, world, draft):
    pact_drafting.submit(world.carrier_admin, draft)
    pact_review.approve(world.reviewer, draft)
    ref = draft.pact.reference
    client.force_login(world.carrier_admin.user)
    r = client.post(f"/espace/pactes/{ref}/v1/sign/")
    assert r.status_code == 200 and "Cette action ne peut pas être annulée." in text(r)
    assert not draft.signatures.exists()  # nothing signed yet
    r = client.post(f"/espace/pactes/{ref}/v1/sign/", {"confirm": "1"}, follow=True)
    page = text(r)
    assert draft.signatures.count() == 1
    assert "Votre signature est enregistrée. Le pacte entrera en vigueur" in page
    assert "Action effectuée" not in page
    assert 'data-action="sign"' not in r.content.decode()  # signed already: no second button
    client.force_login(world.signatory.user)
    r = client.post(f"/espace/pactes/{ref}/v1/sign/", {"confirm": "1"}, follow=True)
    assert "les deux parties ont signé, le pacte est en vigueur" in text(r)
    assert PactVersion.objects.get(pk=draft.pk).status == Status.ACTIVE


def test_breaking_and_closing_ask_for_a_confirmation(client, world, active):
    ref = active.pact.reference
    client.force_login(world.reviewer.user)
    r = client.post(f"/espace/pactes/{ref}/v1/complete/")
    assert r.status_code == 200 and "Une clôture ne peut pas être annulée" in text(r)
    assert PactVersion.objects.get(pk=active.pk).status == Status.ACTIVE
    pact_sanctions.notify_breach(world.reviewer, active, "Audit de biais non publié.")
    pact_sanctions.suspend(world.reviewer, active, "Délai de remédiation écoulé.")
    reason = "Aucune remédiation après la suspension."
    r = client.post(f"/espace/pactes/{ref}/v1/break/", {"reason": reason})
    assert r.status_code == 200 and reason in r.content.decode()  # the reason comes back to edit
    assert PactVersion.objects.get(pk=active.pk).status == Status.SUSPENDED
    r = client.post(f"/espace/pactes/{ref}/v1/break/", {"reason": reason, "confirm": "1"})
    assert PactVersion.objects.get(pk=active.pk).status == Status.BROKEN


# ------------------------------------------------------------------ contradictions


def test_a_broken_pact_shows_no_commitment_on_track(client, world, active):
    pact_sanctions.notify_breach(world.reviewer, active, "Audit de biais non publié.")
    pact_sanctions.suspend(world.reviewer, active, "Délai de remédiation écoulé.")
    pact_sanctions.break_pact(world.reviewer, active, "Aucune remédiation après suspension.")
    for url in (f"/projets/{active.pact.project.slug}/", f"/pactes/{active.pact.reference}/v1/"):
        page = text(client.get(url))
        assert "En bonne voie" not in page and "Échéance proche" not in page
        assert "Caduc : pacte rompu" in page


def test_no_evidence_link_before_signature(client, world, draft):
    pact_drafting.submit(world.carrier_admin, draft)
    pact_review.approve(world.reviewer, draft)
    client.force_login(world.carrier_admin.user)
    html = client.get(f"/pactes/{draft.pact.reference}/v1/").content.decode()
    assert "Déposer une preuve" not in html
    from pacte.pacts import signing

    signing.sign(world.carrier_admin, draft)
    signing.sign(world.signatory, draft)
    html = client.get(f"/pactes/{draft.pact.reference}/v1/").content.decode()
    assert "Déposer une preuve" in html


def test_spine_demo_finishes_its_workflows(client, settings, monkeypatch):
    """Two reviewers at the Région approve the pact that needs two; the broken pact was signed
    before the deadlines it was broken over and shows no commitment on track."""
    from pacte import demo as spine_demo
    from pacte.accounts.models import User

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(spine_demo, "DEMO_EXTENSIONS", [])
    spine_demo.load_demo()
    coach = PactVersion.objects.get(pact__project__slug="coach-emploi")
    assert coach.requires_second_review and coach.status == Status.SUBMITTED
    url = f"/espace/pactes/{coach.pact.reference}/v1/approve/"
    for username in ("instructeur", "instructeur2"):
        client.force_login(User.objects.get(username=username))
        client.post(
            "/espace/organisation/",
            {"organisation": coach.pact.institution_id, "next": "/espace/"},
        )
        assert client.post(url).status_code == 302
    coach.refresh_from_db()
    assert coach.status == Status.APPROVED
    broken = PactVersion.objects.get(status=Status.BROKEN)
    signed = max(s.signed_at.date() for s in broken.signatures.all())
    assert all(c.due_date is None or signed < c.due_date for c in broken.commitments.all())
    page = text(client.get(f"/projets/{broken.pact.project.slug}/"))
    assert "En bonne voie" not in page and "Caduc : pacte rompu" in page


# ------------------------------------------------------------------ the pact editor


def test_editor_offers_one_section_per_principle_and_adds_rows(client, world):
    from pacte.pacts.drafting import create_pact
    from tests.web.editor_data import editor_data

    v = create_pact(world.carrier_admin, world.project(), world.institution, {"title": "Neuf"})
    client.force_login(world.carrier_admin.user)
    url = f"/espace/pactes/{v.pact.reference}/v1/modifier/"
    r = client.get(url)
    html = r.content.decode()
    # one guided section and one seeded row per mandatory principle, no anonymous blank rows
    for label in ("Continuité du service", "Égalité de traitement", "Neutralité", "Transparence"):
        assert f">{label}</h2>" in html
    assert r.context["formset"].total_form_count() == 4
    # the htmx endpoint gives the next row and the new total, out of band
    row = client.get("/espace/engagements/ligne/?principle=accessibility&c-TOTAL_FORMS=4")
    row_html = row.content.decode()
    assert 'name="c-4-text"' in row_html and 'value="5"' in row_html
    assert 'hx-swap-oob="true"' in row_html
    assert client.get("/espace/engagements/ligne/?c-TOTAL_FORMS=abc").status_code == 422
    # without JavaScript: the same page with one more row, nothing saved
    data = editor_data(r)
    data.update({"add": "c:accessibility", "c-0-text": "Garantir la continuité"})
    r = client.post(url, data)
    assert r.status_code == 200 and r.context["formset"].total_form_count() == 5
    assert 'value="Garantir la continuité"' in r.content.decode()
    assert r.context["formset"].forms[4]["principle"].value() == "accessibility"
    assert PactVersion.objects.get(pk=v.pk).content.get("commitments", []) == []


def test_editor_drops_unused_rows_and_makes_keys(client, world):
    from pacte.pacts.drafting import create_pact
    from tests.web.editor_data import editor_data

    v = create_pact(world.carrier_admin, world.project(), world.institution, {"title": "Neuf"})
    client.force_login(world.carrier_admin.user)
    url = f"/espace/pactes/{v.pact.reference}/v1/modifier/"
    r = client.get(url)
    data = editor_data(r)
    data.update({"c-TOTAL_FORMS": "2", "c-INITIAL_FORMS": "0", "save": "1"})
    data.update({"c-0-principle": "continuity", "c-0-owner": "carrier", "c-0-recurrence": "none"})
    data.update({"c-0-evidence": "uptime", "c-0-text": "Disponibilité du service"})
    data.update({"c-1-principle": "equality", "c-1-owner": "carrier", "c-1-recurrence": "none"})
    data.update({"c-1-evidence": "audit", "c-1-text": ""})  # an unused row
    data.update({"financement-TOTAL_FORMS": "1", "financement-0-name": "Amorçage"})
    data["financement-0-kind"] = "public_grant"
    r = client.post(url, data)
    assert r.status_code == 302
    content = PactVersion.objects.get(pk=v.pk).content
    assert [(c["key"], c["principle"]) for c in content["commitments"]] == [
        ("continuity-1", "continuity")
    ]
    assert content["commons"]["funding_sources"] == [{"name": "Amorçage", "kind": "public_grant"}]
    page = client.get(url).content.decode()
    assert 'value="Amorçage"' in page and ">Subvention publique</option>" in page
    assert "(obligatoire pour soumettre)" in page
