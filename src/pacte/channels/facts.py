"""The facts a channel's condition reads, gathered through the pacts' and evidence's ports."""

from __future__ import annotations

from pacte.channels.models import Channel, ServiceCoverage
from pacte.engines.channel_rules import Condition, ServiceFacts, normalise, parse_condition
from pacte.evidence.ports import ChannelEvidence, channel_evidence
from pacte.pacts.ports import PactStanding, pact_standings


def condition_of(channel: Channel) -> Condition:
    return parse_condition(
        channel.clauses,
        min_lower_bound=channel.min_lower_bound,
        territories=channel.territories,
        needs=channel.needs,
    )


def coverage_of(project_id: int) -> tuple[frozenset[str], frozenset[str]]:
    """(territories, needs) the service declared; no declaration: none."""
    coverage = ServiceCoverage.objects.filter(project_id=project_id).first()
    if coverage is None:
        return frozenset(), frozenset()
    return normalise(coverage.territories), normalise(coverage.needs)


def facts_for(
    standing: PactStanding,
    evidence: ChannelEvidence | None = None,
    coverage: tuple[frozenset[str], frozenset[str]] | None = None,
) -> ServiceFacts:
    """The facts of one pact's service; ``evidence`` and ``coverage``, when given, are the
    project's (read once for all its pacts and channels)."""
    if evidence is None:
        evidence = channel_evidence(standing.project_id)
    territories, needs = coverage if coverage is not None else coverage_of(standing.project_id)
    return ServiceFacts(
        pact_active=standing.active,
        evaluation_lower_bound=evidence.best_lower_bound,
        bias_audit_published=evidence.bias.audit_id is not None,
        bias_in_breach=evidence.bias.in_breach,
        algorithm_sheet_published=evidence.algorithm_sheet_published,
        accessibility_statement=standing.accessibility_statement,
        territories=territories,
        needs=needs,
    )


def candidates(channel: Channel, standings: list[PactStanding] | None = None) -> list[PactStanding]:
    """The services a channel considers: the pacts of its institution, and any pact whose State
    commitments name the channel."""
    if standings is None:
        standings = pact_standings()
    return [
        s
        for s in standings
        if s.institution_id == channel.institution_id or channel.slug in s.channel_slugs
    ]
