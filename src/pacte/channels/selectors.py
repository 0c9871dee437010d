"""Reads of the channels domain. Channels, their conditions and listings are public."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from pacte.accounts.models import Organisation
from pacte.channels import takeovers
from pacte.channels.facts import candidates, condition_of, coverage_of, facts_for
from pacte.channels.models import Channel, ChannelListing
from pacte.channels.takeovers import TakeoverStanding
from pacte.channels.texts import clause_label, explain
from pacte.engines.channel_rules import NATIONAL, Verdict, evaluate, normalise
from pacte.errors import NotFound
from pacte.evidence.ports import channel_evidence
from pacte.pacts.ports import pact_standings
from pacte.projects.models import Project

L = ChannelListing.State
Coverage = tuple[frozenset[str], frozenset[str]]  # (territories, needs) the service declared


def channels(institution: Organisation | None = None) -> QuerySet[Channel]:
    qs = Channel.objects.select_related("institution")
    if institution is not None:
        qs = qs.filter(institution=institution)
    return qs.order_by("name", "pk")


def get_channel(slug: str) -> Channel:
    channel = channels().filter(slug=slug).first()
    if channel is None:
        raise NotFound(_("Ce canal de diffusion n'existe pas."))
    return channel


@dataclass(frozen=True)
class ListedService:
    listing: ChannelListing
    project: Project
    territories: list[str]
    needs: list[str]


def listed_services(
    channel: Channel, *, territory: str = "", need: str = ""
) -> list[ListedService]:
    """The services listed in a channel today, for a territory and a need (both optional).

    A service declared for the whole country (``france``) matches every territory.
    """
    wanted_territory = next(iter(normalise([territory])), "")
    wanted_need = next(iter(normalise([need])), "")
    out = []
    listings = (
        channel.listings.filter(status=L.LISTED)
        .select_related("project__carrier", "project__channel_coverage", "pact", "commitment")
        .order_by("project__name", "pk")
    )
    for listing in listings:  # one query for the page, whatever its length
        coverage = getattr(listing.project, "channel_coverage", None)
        territories = normalise(coverage.territories) if coverage else frozenset()
        needs = normalise(coverage.needs) if coverage else frozenset()
        if wanted_territory and not (wanted_territory in territories or NATIONAL in territories):
            continue
        if wanted_need and wanted_need not in needs:
            continue
        out.append(ListedService(listing, listing.project, sorted(territories), sorted(needs)))
    return out


def listings(channel: Channel) -> QuerySet[ChannelListing]:
    """The channel's whole history (listed, pending, removed, lapsed), newest first."""
    return channel.listings.select_related("project", "pact", "commitment").order_by(
        "-eligible_on", "-pk"
    )


@dataclass(frozen=True)
class ClauseLine:
    code: str
    label: str
    met: bool
    explanation: str


@dataclass(frozen=True)
class ChannelStanding:
    """For a carrier: one channel, the service's verdict clause by clause, its listing if any."""

    channel: Channel
    pact_reference: str
    met: bool
    clauses: list[ClauseLine]
    listing: ChannelListing | None


def _lines(verdict: Verdict) -> list[ClauseLine]:
    return [
        ClauseLine(str(r.clause), clause_label(r.clause), r.met, explain(r))
        for r in verdict.results
    ]


def standings_for_project(
    project: Project, coverage: Callable[[], Coverage] | None = None
) -> list[ChannelStanding]:
    """Each channel that considers this project's pacts, with what is met and what is not yet.

    A fixed number of queries whatever the number of channels and pacts: the project's pacts only,
    its evidence and coverage once (when a channel considers it; ``coverage`` may be shared with
    the caller), its listings in one query."""
    mine = pact_standings(project_id=project.pk)
    if not mine:
        return []
    coverage = coverage or cache(lambda: coverage_of(project.pk))
    evidence = cache(lambda: channel_evidence(project.pk))
    listings: dict[tuple[int, int], ChannelListing] | None = None
    out = []
    for channel in channels():
        for standing in candidates(channel, mine):
            verdict = evaluate(condition_of(channel), facts_for(standing, evidence(), coverage()))
            if listings is None:
                listings = {}
                for row in ChannelListing.objects.filter(
                    pact_id__in=[s.pact_id for s in mine], status__in=(L.PENDING, L.LISTED)
                ).select_related(
                    "commitment"
                ):  # the model's ordering: the first per (channel, pact) is the one `.first()` read
                    listings.setdefault((row.channel_id, row.pact_id), row)
            listing = listings.get((channel.pk, standing.pact_id))
            out.append(
                ChannelStanding(channel, standing.reference, verdict.met, _lines(verdict), listing)
            )
    return out


def condition_lines(channel: Channel) -> list[str]:
    """The channel's condition in plain French, one line per clause."""
    condition = condition_of(channel)
    lines = []
    for code in [c for c in condition.clauses]:
        label = clause_label(code)
        if code == "positive_effect" and condition.min_lower_bound:
            label += " " + _("(seuil : %(points)s points)") % {
                "points": f"{condition.min_lower_bound * 100:.1f}".replace(".", ",")
            }
        if code == "territory" and condition.territories:
            label += " : " + ", ".join(sorted(condition.territories))
        if code == "need" and condition.needs:
            label += " : " + ", ".join(sorted(condition.needs))
        lines.append(label)
    return sorted(lines)


def late_listings(institution: Organisation | None = None) -> QuerySet[ChannelListing]:
    """State-side breaches: listings made (or still pending) after their due date, read from
    the pacts' commitments."""
    due = F("commitment__due_date")
    qs = ChannelListing.objects.filter(
        Q(listed_on__gt=due)
        | Q(listed_on__isnull=True, removed_on__gt=due)
        | Q(listed_on__isnull=True, removed_on__isnull=True, commitment__due_date__lt=today())
    ).select_related("channel__institution", "project", "commitment")
    if institution is not None:
        qs = qs.filter(channel__institution=institution)
    return qs.order_by("-commitment__due_date", "-pk")


def today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def takeover_alerts(institution: Organisation) -> list[TakeoverStanding]:
    """Projects this institution is named to take over and has not confirmed in time."""
    day = today()
    projects = Project.objects.filter(takeover_institution=institution).prefetch_related("phases")
    return [s for s in (takeovers.standing(p, day) for p in projects) if s.alert]


def institution_page(institution: Organisation) -> dict[str, object]:
    """What the institution's public page shows of channels, takeovers and the State's record."""
    from django.utils import timezone

    from pacte.accounts.state_record import STATE_PROMISES

    if not institution.is_institution:
        return {}
    return {
        "record": STATE_PROMISES.record(institution, timezone.now()),
        "takeover_alerts": takeover_alerts(institution),
        "channels": list(channels(institution)),
    }
