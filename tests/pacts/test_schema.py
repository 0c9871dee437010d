from __future__ import annotations

import copy

import pytest

from pacte.errors import ValidationFailed
from pacte.pacts.schema import completeness_errors, parse_content


def errors_of(content):  # type: ignore[no-untyped-def]
    return completeness_errors(parse_content(content))


def test_complete_content_has_no_error(content):
    assert errors_of(content) == {}


def test_empty_draft_parses_but_lists_every_missing_part():
    errs = errors_of({})
    for key in (
        "title",
        "mission.problem",
        "principles",
        "bias_risks",
        "impact_plan.outcome",
        "commons.no_private_shareholding",
        "commons.code_licence",
        "term",
        "sanctions",
    ):
        assert key in errs, key


@pytest.mark.parametrize("missing", ["continuity", "equality", "neutrality", "transparency"])
def test_mandatory_principles(content, missing):
    content["principles"].remove(missing)
    errs = errors_of(content)
    assert "principles" in errs
    assert "obligatoires manquants" in errs["principles"][0]


def test_each_principle_needs_a_measurable_commitment(content):
    for c in content["commitments"]:
        if c["principle"] == "neutrality":
            c["indicator"] = ""
    errs = errors_of(content)
    assert any("Neutralité" in m for m in errs["commitments"])


def test_a_commitment_without_due_date_or_recurrence_is_not_measurable(content):
    for c in content["commitments"]:
        if c["principle"] == "equality":
            c["due_date"] = None
            c["recurrence"] = "none"
    assert any("Égalité" in m for m in errors_of(content)["commitments"])


@pytest.mark.parametrize(
    "outcome",
    [
        "Nombre de visites du site",
        "pages vues par mois",
        "Téléchargements de l'application",
        "nombre d'inscriptions",
        "monthly page views",
        "Sign-ups",
        "downloads",
    ],
)
def test_audience_metrics_are_refused_as_outcomes(content, outcome):
    content["impact_plan"]["outcome"] = outcome
    errs = errors_of(content)
    assert "impact_plan.outcome" in errs
    assert "audience" in errs["impact_plan.outcome"][0]


@pytest.mark.parametrize(
    "outcome", ["Retour à l'emploi durable à 6 mois", "Ouverture effective de droits"]
)
def test_social_outcomes_are_accepted(content, outcome):
    content["impact_plan"]["outcome"] = outcome
    assert "impact_plan.outcome" not in errors_of(content)


def test_commons_attestation_and_no_equity(content):
    content["commons"]["no_private_shareholding"] = False
    content["commons"]["funding_sources"].append({"name": "Fonds VC", "kind": "equity"})
    errs = errors_of(content)
    assert "commons.no_private_shareholding" in errs
    assert "commons.funding_sources.1.kind" in errs  # the source at fault, by its place


def test_licence_must_be_open(content):
    content["commons"]["code_licence"] = "Proprietary"
    assert "commons.code_licence" in errors_of(content)


def test_term_end_after_start(content):
    content["term"]["end"] = content["term"]["start"]
    assert "term.end" in errors_of(content)


def test_state_commitments_must_be_on_the_board(content):
    content["commitments"] = [c for c in content["commitments"] if c["owner"] != "institution"]
    assert any("institution" in m for m in errors_of(content)["commitments"])


def test_duplicate_commitment_keys(content):
    content["commitments"].append(copy.deepcopy(content["commitments"][0]))
    assert any("clé unique" in m for m in errors_of(content)["commitments"])


def test_structural_errors_are_reported_per_field_in_french():
    with pytest.raises(ValidationFailed) as exc:
        parse_content(
            {
                "mission": {"population_size": "beaucoup"},
                "unknown": 1,
                "commitments": [{"key": "Bad Key", "owner": "someone", "text": "x"}],
            }
        )
    fields = exc.value.field_errors
    assert fields["mission.population_size"] == ["Un nombre entier est attendu."]
    assert fields["unknown"] == ["Champ inconnu."]
    assert "commitments.0.key" in fields and "commitments.0.owner" in fields
