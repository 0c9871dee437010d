"""The channels JSON API (thin): channels, their listed services, and the State's record of each
institution (``/institutions/{slug}/record``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from pacte.accounts.api_auth import TokenAuth
from pacte.accounts.models import Organisation
from pacte.accounts.state_record import STATE_PROMISES
from pacte.api_contract import WRITE, Cursor, Limit, Offset, paginate, responses
from pacte.channels import declarations, listings, selectors
from pacte.channels.models import Channel, ChannelListing
from pacte.errors import NotFound
from pacte.input_limits import BigInt, Identifier, Label, Paragraph, Title

router = Router(tags=["canaux de diffusion"])
ClauseCode = Literal[
    "pact_active",
    "positive_effect",
    "bias_within_band",
    "algorithm_sheet",
    "accessibility_statement",
    "territory",
    "need",
]
auth = TokenAuth()


class ChannelOut(Schema):
    slug: str
    name: str
    kind: str
    institution: str
    description: str
    territories: list[str]
    needs: list[str]
    rules_version: str
    clauses: list[str]
    min_lower_bound: float
    listing_delay_days: int
    condition: list[str] = Field(description="La condition, clause par clause, en français.")


class ChannelPage(Schema):
    count: int
    items: list[ChannelOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


class ServiceOut(Schema):
    project: str
    name: str
    pitch: str
    carrier: str
    pact: str
    territories: list[str]
    needs: list[str]
    listed_on: date | None
    late: bool


class ServicePage(Schema):
    count: int
    items: list[ServiceOut]


class ChannelIn(Schema):
    name: Title
    kind: Literal["counters", "toolbox", "directory", "website"]
    clauses: Annotated[list[ClauseCode], Field(max_length=7)] = []
    description: Paragraph = ""
    territories: Annotated[list[Label], Field(max_length=50)] = []
    needs: Annotated[list[Label], Field(max_length=50)] = []
    min_lower_bound: Annotated[float, Field(ge=-1, le=1, description="Part (0.01 = 1 point).")] = (
        0.0
    )
    listing_delay_days: Annotated[int, Field(ge=0, le=365)] = 0
    slug: Annotated[
        Identifier, Field(description="Adresse choisie à la déclaration (ignorée ensuite).")
    ] = ""


class ListingOut(Schema):
    id: int
    channel: str
    project: str
    pact: str
    status: str
    eligible_on: date
    due_on: date | None = Field(
        description="due date of the pact's State-side commitment (null once withdrawn)"
    )
    listed_on: date | None
    removed_on: date | None
    failing_clause: str
    late: bool


class PromiseOut(Schema):
    name: str
    label: str
    clock: str
    answered: int
    median_response_days: float | None
    share_on_time: float | None
    open_items: int
    open_past_due: int


class RecordOut(Schema):
    institution: str
    on: date
    promises: list[PromiseOut]


def channel_out(c: Channel) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "name": c.name,
        "kind": c.kind,
        "institution": c.institution.slug,
        "description": c.description,
        "territories": list(c.territories),
        "needs": list(c.needs),
        "rules_version": c.rules_version,
        "clauses": list(c.clauses),
        "min_lower_bound": c.min_lower_bound,
        "listing_delay_days": c.listing_delay_days,
        "condition": selectors.condition_lines(c),
    }


def service_out(s: selectors.ListedService) -> dict[str, Any]:
    return {
        "project": s.project.slug,
        "name": s.project.name,
        "pitch": s.project.pitch,
        "carrier": s.project.carrier.slug,
        "pact": s.listing.pact.reference,
        "territories": s.territories,
        "needs": s.needs,
        "listed_on": s.listing.listed_on,
        "late": s.listing.late,
    }


def listing_out(x: ChannelListing) -> dict[str, Any]:
    return {
        "id": x.pk,
        "channel": x.channel.slug,
        "project": x.project.slug,
        "pact": x.pact.reference,
        "status": x.status,
        "eligible_on": x.eligible_on,
        "due_on": x.due_on,
        "listed_on": x.listed_on,
        "removed_on": x.removed_on,
        "failing_clause": x.failing_clause,
        "late": x.late,
    }


@router.get("/channels", response=responses({200: ChannelPage}), summary="Canaux de diffusion")
def list_channels(
    request: HttpRequest, limit: Limit = 20, offset: Offset = 0, after: Cursor = ""
) -> dict[str, Any]:
    return paginate(
        selectors.channels(),
        limit,
        offset,
        lambda page: [channel_out(c) for c in page],
        after=after,
        by_keyset=True,
    )


@router.get(
    "/channels/{slug}", response=responses({200: ChannelOut}), summary="Un canal et sa condition"
)
def channel_detail(request: HttpRequest, slug: Identifier) -> dict[str, Any]:
    return channel_out(selectors.get_channel(slug))


@router.get(
    "/channels/{slug}/services",
    response=responses({200: ServicePage}),
    summary="Services inscrits dans un canal (par territoire et besoin)",
)
def channel_services(
    request: HttpRequest,
    slug: Identifier,
    territory: Label = "",
    need: Label = "",
    limit: Limit = 20,
    offset: Offset = 0,
) -> dict[str, Any]:
    channel = selectors.get_channel(slug)
    services = selectors.listed_services(channel, territory=territory, need=need)
    return paginate(services, limit, offset, lambda page: [service_out(s) for s in page])


class ListingPage(Schema):
    count: int
    items: list[ListingOut]
    next: str | None = Field(
        default=None, description="Curseur de la page suivante (paramètre after), null à la fin."
    )


@router.get(
    "/channels/{slug}/listings",
    response=responses({200: ListingPage}),
    summary="Historique des inscriptions d'un canal (en attente, inscrits, retirés)",
)
def channel_listings(
    request: HttpRequest,
    slug: Identifier,
    limit: Limit = 20,
    offset: Offset = 0,
    after: Cursor = "",
) -> dict[str, Any]:
    channel = selectors.get_channel(slug)
    qs = selectors.listings(channel).select_related("channel")
    return paginate(
        qs, limit, offset, lambda page: [listing_out(x) for x in page], after=after, by_keyset=True
    )


def _channel_in(payload: ChannelIn) -> declarations.ChannelIn:
    return declarations.ChannelIn(
        name=payload.name,
        kind=payload.kind,
        clauses=list(payload.clauses),
        description=payload.description,
        territories=list(payload.territories),
        needs=list(payload.needs),
        min_lower_bound=payload.min_lower_bound,
        listing_delay_days=payload.listing_delay_days,
        slug=payload.slug,
    )


@router.post(
    "/channels",
    response=responses({201: ChannelOut}, WRITE),
    auth=auth,
    summary="Déclarer un canal (signataire de l'institution)",
)
def declare_channel(request: HttpRequest, payload: ChannelIn) -> Status[dict[str, Any]]:
    acting = request.auth  # type: ignore[attr-defined]
    channel = declarations.declare_channel(acting, acting.organisation, _channel_in(payload))
    return Status(201, channel_out(channel))


@router.put(
    "/channels/{slug}",
    response=responses({200: ChannelOut}, WRITE),
    auth=auth,
    summary="Modifier un canal et sa condition (signataire de l'institution)",
)
def edit_channel(request: HttpRequest, slug: Identifier, payload: ChannelIn) -> dict[str, Any]:
    channel = declarations.edit_channel(
        request.auth,  # type: ignore[attr-defined]
        selectors.get_channel(slug),
        _channel_in(payload),
    )
    return channel_out(channel)


@router.post(
    "/channels/{slug}/listings/{listing_id}/list",
    response=responses({200: ListingOut}, WRITE),
    auth=auth,
    summary="Inscrire un service en attente (signataire de l'institution)",
)
def list_service(request: HttpRequest, slug: Identifier, listing_id: BigInt) -> dict[str, Any]:
    listing = ChannelListing.objects.filter(channel__slug=slug, pk=listing_id).first()
    if listing is None:
        raise NotFound(_("Cette inscription n'existe pas."))
    return listing_out(listings.list_service(request.auth, listing))  # type: ignore[attr-defined]


@router.get(
    "/institutions/{slug}/record",
    response=responses({200: RecordOut}),
    summary="Le bilan de l'État : délais de réponse de l'institution, promesse par promesse",
)
def institution_record(request: HttpRequest, slug: Identifier) -> dict[str, Any]:
    institution = Organisation.objects.filter(slug=slug, kind=Organisation.Kind.INSTITUTION).first()
    if institution is None:
        raise NotFound(_("Institution inconnue."))
    now = timezone.now()
    return {
        "institution": institution.slug,
        "on": timezone.localdate(),
        "promises": [
            {
                "name": entry.name,
                "label": str(entry.label),
                "clock": str(entry.clock),
                "answered": f.answered,
                "median_response_days": f.median_response_days,
                "share_on_time": f.share_on_time,
                "open_items": f.open_items,
                "open_past_due": f.open_past_due,
            }
            for entry, f in STATE_PROMISES.record(institution, now)
        ],
    }
