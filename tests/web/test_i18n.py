"""French first, English available: the spine speaks the language asked by the cookie or the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from tests.web.editor_data import editor_data

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"


def test_compiled_catalogue_is_shipped():
    """The installer has no gettext: the .mo must be in the tree and not older than the .po."""
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    assert po.exists() and mo.exists()
    from django.utils.translation import trans_real

    trans_real._translations = {}  # read the catalogue from disk
    with translation.override("en"):
        assert translation.gettext("Aller au contenu") == "Skip to content"


def _entries(text: str) -> list[dict[str, str]]:
    """The entries of a .po file as {keyword: text} (msgid, msgid_plural, msgstr, msgstr[n], flags)."""
    import ast
    import re

    out = []
    for block in text.strip().split("\n\n"):
        entry: dict[str, str] = {"flags": ""}
        key = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif m := re.match(r'^(msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$', line):
                key = m.group(1)
                entry[key] = ast.literal_eval(m.group(2))
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
        out.append(entry)
    return out


def test_catalogue_is_complete_and_consistent():
    """Every entry is translated, nothing fuzzy, and the placeholders of each msgid are kept."""
    import re

    entries = _entries((LOCALE / "django.po").read_text(encoding="utf-8"))[1:]
    assert len(entries) > 300
    placeholder = re.compile(r"%\(\w+\)s")
    for e in entries:
        assert "fuzzy" not in e["flags"], e
        strs = [v for k, v in e.items() if k.startswith("msgstr")]
        assert strs and all(strs), f"untranslated: {e}"
        source = e.get("msgid_plural", e["msgid"])
        for s in strs:
            assert sorted(placeholder.findall(s)) == sorted(placeholder.findall(source)), e


def test_french_is_the_default(client, active):
    page = client.get("/").content.decode()
    assert '<html lang="fr">' in page
    assert "Aller au contenu" in page and "Journal public" in page and "Se connecter" in page


@pytest.mark.parametrize("how", ["header", "cookie"])
def test_public_pages_in_english(client, active, how):
    if how == "header":
        get = lambda url: client.get(url, HTTP_ACCEPT_LANGUAGE="en")  # noqa: E731
    else:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        get = client.get
    home = get("/").content.decode()
    assert '<html lang="en">' in home
    for text in [
        "Skip to content",
        "Main navigation",
        "Projects",
        "Public log",
        "Sign in",
        "Citizen public services, under a pact, verifiable by all",
        "Change language",
    ]:
        assert text in home, text
    assert "Aller au contenu" not in home and "Journal public" not in home

    registry = get("/projets/?status=active").content.decode()
    assert '<html lang="en">' in registry
    assert (
        "Project registry" in registry
        and "1 project found." in registry
        and "Filter the projects" in registry
    )
    assert "Continuity of service" in registry  # schema labels translated in the filters

    slug = active.pact.project.slug
    project = get(f"/projets/{slug}/").content.decode()
    assert '<html lang="en">' in project
    for text in [
        "Valid signature",
        "Carrier's commitments",
        "Institution's commitments (State)",
        "Phases and decisions",
        "In force",
        "Read the pact",
    ]:
        assert text in project, text
    assert "Signature valide" not in project

    version = get(f"/pactes/{active.pact.reference}/v1/").content.decode()
    assert "Public-interest mission (C1)" in version and "Protected principles (C2)" in version


def test_language_switch_through_the_footer_form(client, active):
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/projets/"})
    assert r.status_code == 302 and r["Location"] == "/projets/"
    page = client.get("/projets/").content.decode()
    assert '<html lang="en">' in page and "Project registry" in page
    assert '<option value="en" lang="en" selected>' in page
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert "Registre des projets" in client.get("/projets/").content.decode()


def test_forms_and_messages_in_english(client, world, draft):
    client.force_login(world.carrier_admin.user)
    r = client.get(f"/espace/pactes/{draft.pact.reference}/v1/modifier/", HTTP_ACCEPT_LANGUAGE="en")
    page = r.content.decode()
    for text in [
        "Pact title",
        "Protected principles",
        "Equal treatment",
        "Save and submit",
        "Commitments, principle by principle",
        "Randomised trial",
        "Quarterly",
        "(required)",
    ]:
        assert text in page, text
    r = client.post(
        f"/espace/pactes/{draft.pact.reference}/v1/modifier/",
        {**editor_data(r), "save": "1"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "Draft saved." in r.content.decode()


def test_login_page_in_english(client, db):
    page = client.get("/connexion/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Sign in</h1>" in page and "Account name or e-mail address" in page
    assert "Password" in page and "Forgot your password?" in page


def test_app_pages_in_english(client, active):
    """The journal, data and evidence apps speak English too; their French stays the default."""
    pages = {
        "/catalogue/": (
            ["Data catalogue", "proportionality rules", "DCAT-AP export (JSON-LD)"],
            "Catalogue des données",
        ),
        "/evaluations/": (
            ["Published impact evaluations", "Null and negative results are published"],
            "Évaluations d'impact publiées",
        ),
        "/journal/verifiable/": (
            ["Verifiable log", "Latest signed checkpoint", "Search the log"],
            "Journal vérifiable",
        ),
    }
    for url, (english, french) in pages.items():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert '<html lang="en">' in page, url
        for text in english:
            assert text in page, (url, text)
        assert french not in page, url
        assert french in client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode(), url


def _msgids(po: Path) -> set[str]:
    return {e["msgid"] for e in _entries(po.read_text(encoding="utf-8"))[1:]}


def test_catalogue_has_every_marked_string(tmp_path, settings, monkeypatch):
    """Every string marked for translation in the code and the templates is in the English
    catalogue, and the catalogue keeps no string the code no longer has: extraction is re-run
    (GNU gettext, as `scripts/messages` does) on a copy of the sources and compared."""
    import shutil

    from django.core.management import call_command

    assert shutil.which("xgettext"), "GNU gettext is needed (apt-get install gettext)"
    source = Path(settings.LOCALE_PATHS[0]).parent
    copy = tmp_path / "pacte"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "*.mo"))
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command(
        "makemessages",
        locale=["en"],
        extensions=["html", "txt", "py"],
        no_obsolete=True,
        verbosity=0,
    )
    extracted = _msgids(copy / "locale" / "en" / "LC_MESSAGES" / "django.po")
    committed = _msgids(LOCALE / "django.po")
    assert len(extracted) > 1000
    missing, stale = sorted(extracted - committed), sorted(committed - extracted)
    assert not missing, f"run scripts/messages and translate: {missing}"
    assert not stale, f"run scripts/messages (strings gone from the code): {stale}"


def test_domain_errors_speak_the_language_asked(client, active):
    """Domain errors (API JSON and UI pages) are translated at raise time: English when asked,
    French by default."""
    cases = [  # url, status, English, French
        (
            "/api/v1/projects/nulle-part",
            404,
            "This project does not exist.",
            "Ce projet n'existe pas.",
        ),
        (
            "/api/v1/log/proof/inclusion",
            404,
            "No entry designated: give index (the entry's position) or hash (its fingerprint).",
            "Aucune entrée désignée : indiquez index (position de l'entrée) ou hash (empreinte).",
        ),
    ]
    for url, status, english, french in cases:
        r = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == status and r.json()["message"] == english, (url, r.content)
        r = client.get(url)
        assert r.status_code == status and r.json()["message"] == french, (url, r.content)

    r = client.get("/api/v1/projects?limit=abc", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400 and r.json()["message"].startswith("Invalid request: "), r.content
    assert r.json()["message"].endswith("Check the fields reported."), r.content
    r = client.post(
        "/api/v1/pacts",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer pct_nope",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert (
        r.status_code == 401
        and r.json()["message"] == "Missing, invalid, expired or revoked API token."
    ), r.content

    page = client.get("/projets/nulle-part/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 404 and "This project does not exist." in page.content.decode()
    assert '<html lang="en">' in page.content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    # the sign-in form is django-allauth's (issue 13): its message, in its own catalogues
    r = client.post("/connexion/", {"login": "personne", "password": "mauvais-mot-de-passe"})
    assert "The username and/or password you specified are not correct." in r.content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    r = client.post("/connexion/", {"login": "personne", "password": "mauvais-mot-de-passe"})
    assert "Le pseudo et/ou le mot de passe sont incorrects." in r.content.decode()
