"""What the data domain offers other domains, typed. Other domains import THIS module only.

Gateway reader (used by evidence for impact evaluations from tier-2 data)::

    from pacte.data.ports import GATEWAY, GatewayGrant, GatewayColumn, OutcomeRead

    GATEWAY.grant(reference: str) -> GatewayGrant
        The grant with this reference, as other domains may see it (no token, no key).
        Raises NotFound (404) if unknown.
    GATEWAY.require_usable_for(grant: GatewayGrant, project_id: int, tier: int) -> None
        Purpose limitation and state, checked now (row read again):
        PermissionDenied (403) if the grant belongs to another project;
        GrantForbidden (403, code "grant_unusable") if revoked, suspended OR expired;
        ValidationFailed (400, field "grant") if the grant's tier is not ``tier``.
    GATEWAY.read_outcomes(grant: GatewayGrant, person: str, outcome: GatewayColumn) -> OutcomeRead
        (pseudonym, y) rows of the grant's dataset, never leaving the platform: the grant's
        tier-2 view restricted to [person, outcome] (mode "tier2_view"), or, when the outcome is
        itself a quasi-identifier, the same pseudonymisation run in-platform with the outcome kept
        exact (mode "in_platform"). Neither written nor logged: the caller logs its data.query.
    GATEWAY.pseudonyms(grant: GatewayGrant, values: Sequence[str]) -> list[str]
        HMAC pseudonyms of ``values`` under the grant's key (the key never leaves data).

    GatewayGrant(reference, project_id, project_slug, tier, granted: tuple[str, ...],
                 dataset_slug, dataset_version, dataset_label ("slug@version"), person_column
                 ("" if none), columns: tuple[GatewayColumn, ...]) + .column(name) -> GatewayColumn | None
    GatewayColumn(name, type, classification)   # type: string|int|float|date|bool
    OutcomeRead(frame: polars.DataFrame with columns "pseudonym" (Utf8) and "y" (Float64),
                mode: "tier2_view" | "in_platform", report: KReport)
    KReport(k, rows_in, rows_out, rows_suppressed, levels: dict[str, str]) + .as_dict()

Assisted use (issue 13 part 7): the mediation domain records a consent to data sharing for a
person without an account, withdraws it, and re-attaches it when the person claims it, through
``pacte.data.assisted`` (re-exported here: ``ASSISTED_CONSENT``): ``datasets()``,
``consent_for_person(acting, dataset, person_id, project, purpose)``,
``withdraw_for_person(consent, by, acting=None)``, ``claim_consent(consent, user)``.

Pact sanctions: ``pacte.data.grants.on_pact_sanction(version, action) -> None`` (registered by
data/apps.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pacte.data import assisted, dcat

if TYPE_CHECKING:
    from pacte.data.gateway import reader
    from pacte.data.gateway.reader import GatewayColumn, GatewayGrant, KReport, OutcomeRead

__all__ = [
    "ASSISTED_CONSENT",
    "GATEWAY",
    "dcat",
    "register_catalogue_dataset",
    "GatewayColumn",
    "GatewayGrant",
    "GatewayReader",
    "KReport",
    "OutcomeRead",
]


class GatewayReader(Protocol):
    def grant(self, reference: str) -> GatewayGrant: ...

    def require_usable_for(self, grant: GatewayGrant, project_id: int, tier: int) -> None: ...

    def read_outcomes(
        self, grant: GatewayGrant, person: str, outcome: GatewayColumn
    ) -> OutcomeRead: ...

    def pseudonyms(self, grant: GatewayGrant, values: Sequence[str]) -> list[str]: ...


if TYPE_CHECKING:
    GATEWAY: GatewayReader = reader.READER  # checked against the protocol; imported on use below


def __getattr__(name: str) -> Any:
    """The gateway reader and its types, imported on first use: the reader pulls OpenDP, Polars and
    PyArrow (through the privacy engine), too heavy for every start-up (the open-data app imports
    this module when Django starts, so `pacte migrate`, a worker or a child process would pay it)."""
    if name in ("GATEWAY", "GatewayColumn", "GatewayGrant", "KReport", "OutcomeRead"):
        from pacte.data.gateway import reader as gateway_reader

        return gateway_reader.READER if name == "GATEWAY" else getattr(gateway_reader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


ASSISTED_CONSENT = assisted  # assisted use: consent_for_person, withdraw_for_person, claim_consent


# Other domains list their own datasets in the DCAT-AP catalogue (the open-data dump does):
#   register_catalogue_dataset(name, contribution: (base_url) -> list of JSON-LD nodes, the first
#   one being the dcat:Dataset; the vocabulary helpers of pacte.data.dcat build typed values).
register_catalogue_dataset = dcat.register_catalogue_dataset
