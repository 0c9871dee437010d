"""The State's record for the promises of this domain (issue 12 part 6): expert requests and
comptoir answers, read per institution and registered in ``accounts.state_record`` from
:class:`~pacte.comptoirs.apps.ComptoirsConfig.ready`."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Organisation
from pacte.accounts.state_record import STATE_PROMISES, PromiseFigures, figures_from_items
from pacte.comptoirs.models import EXPERT_CLOCK_DAYS, Assignment, ExpertRequest


def expert_requests(institution: Organisation, now: dt.datetime) -> PromiseFigures:
    """Every request to one of the institution's experts: answered when accepted, redirected or
    declined; due ``EXPERT_CLOCK_DAYS`` after the request."""
    rows = ExpertRequest.objects.filter(expert__institution=institution).values_list(
        "requested_at", "answered_at", "due_at"
    )
    return figures_from_items(rows, now)


def comptoir_answers(institution: Organisation, now: dt.datetime) -> PromiseFigures:
    """Every routing of a comptoir post to the institution: answered by its first response
    (answer, redirection or closing with a reason); due by the routing table's clock."""
    rows = Assignment.objects.filter(organisation=institution).values_list(
        "routed_at", "responded_at", "due_at"
    )
    return figures_from_items(rows, now)


def _expert_clock() -> str:
    return gettext("réponse dans les %(days)s jours après la demande") % {"days": EXPERT_CLOCK_DAYS}


def register() -> None:
    # labels stay lazy: the record page shows them in the visitor's language
    STATE_PROMISES.register(
        "expert_requests",
        cast(str, _("Demandes d'échange avec un expert")),
        lazy(_expert_clock, str)(),
        expert_requests,
    )
    STATE_PROMISES.register(
        "comptoir_answers",
        cast(str, _("Réponses au comptoir")),
        cast(str, _("réponse dans le délai de la table de routage (30 jours par défaut)")),
        comptoir_answers,
    )
