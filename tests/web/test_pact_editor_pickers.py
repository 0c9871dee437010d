"""Issue 14, the pact editor's pickers: the lists of a pact (bias risks, funding sources, requested
data, experts, channels) are rows and checkboxes instead of "a ; b ; c" text, and the stored
content does not change. Round trips (Hypothesis), inline errors, the no-JavaScript path, the
htmx rows, and the pact's page in words."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.http import QueryDict
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacte.data.models import Dataset
from pacte.pacts import drafting as pact_drafting
from pacte.pacts.models import PactVersion
from pacte.pacts.schema import parse_content
from pacte.web import pact_editor
from tests.web.editor_data import editor_data

pytestmark = pytest.mark.django_db


def _normal(content: dict[str, Any]) -> dict[str, Any]:
    return parse_content(content).model_dump(mode="json")


def _post_of(form: Any, sets: dict[str, Any]) -> QueryDict:
    """What the page built from (form, sets) posts back untouched."""

    class _R:
        context = {"form": form, "sets": {p: {"formset": fs} for p, fs in sets.items()}}

    post = QueryDict(mutable=True)
    for k, v in editor_data(_R()).items():
        if isinstance(v, list):
            post.setlist(k, [str(x) for x in v])
        else:
            post[k] = str(v)
    return post


def round_trip(content: dict[str, Any]) -> dict[str, Any]:
    """content → the editor's form and rows → what they post → content."""
    form, sets = pact_editor.parts_for(content)
    form2, sets2, out = pact_editor.read_post(_post_of(form, sets), content)
    errors = [form2.errors, *[fs.errors for fs in sets2.values()]]
    assert out is not None, errors
    return out


@pytest.fixture
def catalogue(world):  # type: ignore[no-untyped-def]
    return [
        Dataset.objects.create(
            publisher=world.institution, slug="offres", title="Offres d'emploi", sensitivity=1
        ),
        Dataset.objects.create(
            publisher=world.other_institution,
            slug="inscrits",
            title="Inscrits au service",
            sensitivity=2,
        ),
    ]


@pytest.fixture
def channel(world):  # type: ignore[no-untyped-def]
    from pacte.channels import declarations
    from tests.channels.conftest import channel_in

    return declarations.declare_channel(world.signatory, world.institution, channel_in())


text = (
    st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "P")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def lists(draw: Any, datasets: list[str], channels: list[str]) -> dict[str, Any]:
    data = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "dataset": st.sampled_from([*datasets, "jeu-hors-catalogue"]),
                    "tier": st.integers(1, 5),
                    "sensitivity": st.integers(0, 3),
                    "purpose": st.one_of(st.just(""), text),
                }
            ),
            max_size=3,
        )
    )
    names = draw(st.lists(st.sampled_from([*channels, "Espace conseiller"]), unique=True))
    order = [*channels, "Espace conseiller"]
    return {
        "bias_risks": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "group": text,
                        "mechanism": text,
                        "metric": text,
                        "tolerated_ratio": st.sampled_from([0.5, 0.75, 0.8, 1.0]),
                    }
                ),
                max_size=3,
            )
        ),
        "funding_sources": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "name": text,
                        "kind": st.sampled_from(
                            ["public_grant", "donation", "revenue", "loan", "outcome_contract"]
                        ),
                    }
                ),
                max_size=3,
            )
        ),
        "data": data,
        "experts": draw(st.lists(text, max_size=3)),
        "sanctions": draw(
            st.lists(st.fixed_dictionaries({"trigger": text, "measure": text}), max_size=3)
        ),
        # the channels come back in the order of the list of channels (then the others)
        "channels": [
            {"channel": c, "condition": draw(st.one_of(st.just(""), text))}
            for c in sorted(names, key=order.index)
        ],
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_picker_gives_back_the_content_it_was_given(world, content, catalogue, channel, data):  # type: ignore[no-untyped-def]
    drawn = data.draw(lists([d.slug for d in catalogue], [channel.slug]))
    c = copy.deepcopy(content)
    c["bias_risks"] = drawn["bias_risks"]
    c["commons"]["funding_sources"] = drawn["funding_sources"]
    c["state"]["data"] = drawn["data"]
    c["state"]["experts"] = drawn["experts"]
    c["state"]["channels"] = drawn["channels"]
    c["sanctions"] = drawn["sanctions"]
    c = _normal(c)
    assert _normal(round_trip(c)) == c


def test_every_demo_pact_reopens_without_loss(demo_data):  # type: ignore[no-untyped-def]
    versions = list(PactVersion.objects.all())
    assert len(versions) > 5
    named = 0
    for v in versions:
        named += bool(v.content["state"]["channels"] or v.content["state"]["data"])
        assert _normal(round_trip(v.content)) == _normal(v.content), v
    assert named  # the demo has pacts naming data and channels (some freely typed)


# ------------------------------------------------------------------ the page


def _editor(client, world, content):  # type: ignore[no-untyped-def]
    v = pact_drafting.create_pact(world.carrier_admin, world.project(), world.institution, content)
    client.force_login(world.carrier_admin.user)
    return v, f"/espace/pactes/{v.pact.reference}/v1/modifier/"


def test_the_pickers_show_words_and_save_codes(client, world, content, catalogue, channel):  # type: ignore[no-untyped-def]
    v, url = _editor(client, world, content)
    r = client.get(url)
    html = r.content.decode()
    # the catalogue grouped by publisher, the funding kinds and channels in words, stars
    assert ">Subvention publique</option>" in html and ">Contrat à impact</option>" in html
    row = client.get("/espace/pactes/ligne/donnees/?donnees-TOTAL_FORMS=0").content.decode()
    assert '<optgroup label="Agence publique">' in row and ">Offres d&#x27;emploi</option>" in row
    assert ">3 — agrégats en confidentialité différentielle</option>" in row
    assert escape(channel.name) in html and f'value="{channel.slug}"' in html
    assert "Une ligne par" not in html  # no hidden syntax left
    assert 'Risques de biais <span aria-hidden="true">*</span>' in html
    data = editor_data(r)
    data.update(
        {
            "donnees-TOTAL_FORMS": "1",
            "donnees-0-dataset": "offres",
            "donnees-0-tier": "3",
            "donnees-0-purpose": "Mesurer le retour à l'emploi",
            "state_channels": [channel.slug],
            f"channel_condition_{channel.slug}": "Évaluation publiée",
            "experts-TOTAL_FORMS": "2",
            "experts-0-name": "Statisticienne",
            "experts-1-name": "",  # a blank row is dropped
            "save": "1",
        }
    )
    r = client.post(url, data)
    assert r.status_code == 302, r.context and r.context["form"].errors
    state = PactVersion.objects.get(pk=v.pk).content["state"]
    # the sensitivity left blank is the catalogue's
    assert state["data"] == [
        {
            "dataset": "offres",
            "tier": 3,
            "sensitivity": 1,
            "purpose": "Mesurer le retour à l'emploi",
        }
    ]
    assert state["channels"] == [{"channel": channel.slug, "condition": "Évaluation publiée"}]
    assert state["experts"] == ["Statisticienne"]
    # the pact's page says them in words
    page = client.get(f"/pactes/{v.pact.reference}/v1/").content.decode()
    assert "Offres d&#x27;emploi" in page and "Agence publique" in page
    assert "agrégats en confidentialité différentielle" in page
    assert escape(channel.name) in page and "Subvention publique" in page


def test_invalid_rows_get_inline_errors_and_keep_what_was_typed(client, world, content, catalogue):  # type: ignore[no-untyped-def]
    v, url = _editor(client, world, content)
    data = editor_data(client.get(url))
    data.update(
        {
            "biais-TOTAL_FORMS": "2",
            "biais-1-group": "Personnes âgées",  # no mechanism, no metric
            "biais-1-tolerated_ratio": "2",
            "donnees-TOTAL_FORMS": "1",
            "donnees-0-tier": "2",  # no dataset
            "donnees-0-purpose": "Suivi",
            "financement-TOTAL_FORMS": "1",
            "financement-0-name": "Mécène",
            "financement-0-kind": "bitcoin",
            "save": "1",
        }
    )
    before = PactVersion.objects.get(pk=v.pk).content
    r = client.post(url, data)
    assert r.status_code == 422
    html = r.content.decode()
    for field in ("biais-1-mechanism", "biais-1-metric", "biais-1-tolerated_ratio"):
        assert f'id="id_{field}_error"' in html, field
    assert "Un ratio entre 0 (exclu) et 1 est attendu." in html
    assert 'id="id_donnees-0-dataset_error"' in html
    assert 'id="id_financement-0-kind_error"' in html
    assert 'value="Personnes âgées"' in html and 'value="Mécène"' in html
    assert 'value="Suivi"' in html
    assert 'aria-invalid="true"' in html and "<title>Erreur" in html
    assert PactVersion.objects.get(pk=v.pk).content == before  # nothing saved


def test_a_rule_error_shows_on_the_row_at_fault(client, world, content):  # type: ignore[no-untyped-def]
    v, url = _editor(client, world, content)
    data = editor_data(client.get(url))
    data.update(
        {
            "financement-TOTAL_FORMS": "3",
            "financement-1-name": "",  # blank: dropped, so the content's item 1 is form row 2
            "financement-2-name": "Fonds d'investissement",
            "financement-2-kind": "equity",
            "submit": "1",
        }
    )
    r = client.post(url, data)
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="id_financement-2-kind_error"' in html
    assert "Aucun financement en capital n" in html
    assert PactVersion.objects.get(pk=v.pk).status == "draft"


def _tag(html: str, marker: str) -> str:
    """The whole HTML tag that contains `marker`."""
    at = html.index(marker)
    return html[html.rindex("<", 0, at) : html.index(">", at) + 1]


def test_without_javascript_rows_are_added_and_removed_by_the_form(client, world, content):  # type: ignore[no-untyped-def]
    v, url = _editor(client, world, content)
    data = editor_data(client.get(url))
    assert data["biais-TOTAL_FORMS"] == "1"
    # Enter in a field uses the form's first submit button: it saves, never adds nor removes
    page = client.get(url).content.decode()
    form = page[page.index('<form method="post" novalidate>') :]
    first = _tag(form, 'type="submit"')
    assert first.startswith('<button type="submit" name="save" hidden')
    assert 'aria-label="Enregistrer le brouillon"' in first  # named, though never shown
    r = client.post(url, {**data, "add": "biais", "biais-0-group": "Jeunes"})
    html = r.content.decode()
    assert r.status_code == 200 and r.context["sets"]["biais"]["formset"].total_form_count() == 2
    assert "autofocus" in _tag(html, 'id="id_biais-1-group"')  # the new row's first field
    assert 'value="Jeunes"' in html
    data = editor_data(r)
    r = client.post(url, {**data, "remove": "biais-0"})
    html = r.content.decode()
    formset = r.context["sets"]["biais"]["formset"]
    assert formset.total_form_count() == 1 and formset.forms[0]["group"].value() == ""
    assert "Risque de biais retiré" in html
    assert 'data-row-add hx-get="/espace/pactes/ligne/biais/"' in html
    assert "autofocus" in _tag(html, 'value="biais" class="secondary"')  # the add button
    assert PactVersion.objects.get(pk=v.pk).content["bias_risks"] == content["bias_risks"]


def test_htmx_rows_for_every_list(client, world, catalogue):  # type: ignore[no-untyped-def]
    client.force_login(world.carrier_admin.user)
    for prefix, field in [
        ("biais", "group"),
        ("financement", "kind"),
        ("donnees", "dataset"),
        ("experts", "name"),
        ("c", "text"),
    ]:
        r = client.get(f"/espace/pactes/ligne/{prefix}/?{prefix}-TOTAL_FORMS=3")
        html = r.content.decode()
        assert r.status_code == 200
        assert f'name="{prefix}-3-{field}"' in html
        assert f'id="id_{prefix}-TOTAL_FORMS" hx-swap-oob="true"' in html and 'value="4"' in html
        assert f'name="remove" value="{prefix}-3"' in html
    assert (
        "Inscrits au service"
        in client.get("/espace/pactes/ligne/donnees/?donnees-TOTAL_FORMS=0").content.decode()
    )
    assert client.get("/espace/pactes/ligne/inconnue/").status_code == 404
    assert client.get("/espace/pactes/ligne/biais/?biais-TOTAL_FORMS=50").status_code == 422
    client.logout()
    assert client.get("/espace/pactes/ligne/biais/").status_code == 302
