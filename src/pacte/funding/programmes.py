"""An institution opens a funding programme: budget, period, eligibility, phase grants, prices and
who may approve payments. Opening allocates the budget in the ledger (one transaction, one
journal event per movement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Membership, Role, User
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.errors import ValidationFailed
from pacte.funding import ledger
from pacte.funding.events import funding_event, money
from pacte.funding.models import PhaseGrant, PriceListEntry, Programme
from pacte.writes.retry import retry_on_conflict


@dataclass(frozen=True)
class PhaseGrantIn:
    phase: str
    amount_eur: Decimal
    duration_months: int


@dataclass(frozen=True)
class PriceIn:
    outcome: str
    price_eur: Decimal
    unit: str = "personne"


@dataclass(frozen=True)
class ProgrammeIn:
    title: str
    budget_eur: Decimal
    starts_on: date
    ends_on: date
    description: str = ""
    eligible_problems: list[str] = field(default_factory=list)
    territories: list[str] = field(default_factory=list)
    phase_grants: list[PhaseGrantIn] = field(default_factory=list)
    prices: list[PriceIn] = field(default_factory=list)
    approver_usernames: list[str] = field(default_factory=list)


def _check(data: ProgrammeIn) -> None:
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = [_("Donnez un intitulé au programme.")]
    if data.budget_eur <= 0:
        errors["budget_eur"] = [_("Le budget doit être positif.")]
    if data.budget_eur != data.budget_eur.quantize(Decimal("0.01")):
        errors.setdefault("budget_eur", []).append(_("Le budget s'exprime au centime près."))
    if data.ends_on < data.starts_on:
        errors["ends_on"] = [_("La fin du programme précède son début.")]
    phases = {p.phase for p in data.phase_grants}
    if not phases <= set(PhaseGrant.Phase.values) or len(phases) != len(data.phase_grants):
        errors["phase_grants"] = [
            _("Phases possibles, une fois chacune : investigation, construction, accélération.")
        ]
    if any(p.amount_eur < 0 or p.duration_months <= 0 for p in data.phase_grants):
        errors.setdefault("phase_grants", []).append(
            _("Montants positifs et durées d'au moins un mois.")
        )
    if any(p.price_eur < 0 or not p.outcome.strip() for p in data.prices):
        errors["prices"] = [_("Chaque prix nomme un résultat et n'est jamais négatif.")]
    if errors:
        raise ValidationFailed(_("Le programme est incomplet ou incohérent."), field_errors=errors)


def _approvers(acting: Acting, usernames: list[str]) -> list[User]:
    people = []
    for name in usernames:
        m = (
            Membership.objects.filter(user__username=name, organisation=acting.organisation)
            .select_related("user")
            .first()
        )
        if m is None or not m.has(Role.PAYMENT_APPROVER):
            raise ValidationFailed(
                _("%(name)s n'est pas approbateur des paiements de votre institution.")
                % {"name": name},
                field_errors={"approver_usernames": [_("Approbateur inconnu.")]},
            )
        people.append(m.user)
    return people


def _set_terms(acting: Acting, programme: Programme, data: ProgrammeIn) -> list[User]:
    """The programme's phase grants, price list and approvers, as ``data`` gives them."""
    programme.phase_grants.all().delete()
    PhaseGrant.objects.bulk_create(
        [
            PhaseGrant(
                programme=programme,
                phase=p.phase,
                amount_eur=p.amount_eur,
                duration_months=p.duration_months,
            )
            for p in data.phase_grants
        ]
    )
    programme.prices.all().delete()
    PriceListEntry.objects.bulk_create(
        [
            PriceListEntry(
                programme=programme, outcome=p.outcome.strip(), unit=p.unit, price_eur=p.price_eur
            )
            for p in data.prices
        ]
    )
    approvers = _approvers(acting, data.approver_usernames)
    programme.approvers.set(approvers)
    return approvers


def _terms(data: ProgrammeIn, approvers: list[User]) -> dict[str, Any]:
    """The programme's terms as the journal publishes them."""
    return {
        "period": [data.starts_on.isoformat(), data.ends_on.isoformat()],
        "eligible_problems": data.eligible_problems,
        "territories": data.territories,
        "phase_grants": [
            {"phase": p.phase, "amount": money(p.amount_eur), "months": p.duration_months}
            for p in data.phase_grants
        ],
        "prices": [
            {"outcome": p.outcome, "price": money(p.price_eur), "unit": p.unit} for p in data.prices
        ],
        "approvers": len(approvers),
    }


@retry_on_conflict
@transaction.atomic
def open_programme(acting: Acting, data: ProgrammeIn) -> Programme:
    policy.require(acting, Action.FUNDING_PROGRAMME, acting.organisation)
    _check(data)
    base = slugify(data.title)[:60] or "programme"
    slug, n = base, 1
    while Programme.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    programme = Programme.objects.create(
        slug=slug,
        institution=acting.organisation,
        title=data.title.strip(),
        description=data.description,
        budget_eur=data.budget_eur,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        eligible_problems=data.eligible_problems,
        territories=data.territories,
    )
    approvers = _set_terms(acting, programme, data)
    funding_event(
        "programme.opened",
        acting,
        "programme",
        programme.slug,
        title=programme.title,
        institution=acting.organisation.slug,
        budget=money(programme.budget_eur),
        **_terms(data, approvers),
    )
    ledger.move(
        acting,
        "allocated",
        programme,
        programme.budget_eur,
        ledger.available(programme),
        ledger.appropriation(programme),
        memo=_("Budget alloué au programme"),
    )
    return programme


def lock_programme(programme: Programme | int) -> Programme:
    """Lock the programme row (first in the lock order: programme → contract → order → journal)."""
    pk = programme if isinstance(programme, int) else programme.pk
    return (
        Programme.objects.select_for_update(of=("self",)).select_related("institution").get(pk=pk)
    )


@retry_on_conflict
@transaction.atomic
def amend_programme(acting: Acting, programme: Programme, data: ProgrammeIn) -> Programme:
    """The finance officer amends an open programme. Contracts already attached keep their
    clauses; a budget raised posts the difference from the institution's credits, a budget
    lowered gives the difference back, never below what is already committed."""
    programme = lock_programme(programme)
    policy.require(acting, Action.FUNDING_PROGRAMME, programme)
    _check(data)
    if data.starts_on != programme.starts_on and programme.contracts.exists():
        raise ValidationFailed(
            _("Des contrats sont attachés : le début du programme ne change plus."),
            field_errors={"starts_on": [_("Début déjà engagé.")]},
        )
    if data.budget_eur < programme.committed_eur:
        raise ValidationFailed(
            _("Le budget ne peut descendre sous ce qui est déjà engagé (%(committed)s €).")
            % {"committed": money(programme.committed_eur)},
            field_errors={"budget_eur": [_("Budget inférieur aux engagements.")]},
        )
    before = {
        "title": programme.title,
        "budget": money(programme.budget_eur),
        "period": [programme.starts_on.isoformat(), programme.ends_on.isoformat()],
    }
    delta = data.budget_eur - programme.budget_eur
    programme.title = data.title.strip()
    programme.description = data.description
    programme.budget_eur = data.budget_eur
    programme.starts_on = data.starts_on
    programme.ends_on = data.ends_on
    programme.eligible_problems = data.eligible_problems
    programme.territories = data.territories
    programme.save()
    approvers = _set_terms(acting, programme, data)
    funding_event(
        "programme.amended",
        acting,
        "programme",
        programme.slug,
        before=before,
        title=programme.title,
        budget=money(programme.budget_eur),
        **_terms(data, approvers),
    )
    if delta > 0:
        ledger.move(
            acting,
            "allocated",
            programme,
            delta,
            ledger.available(programme),
            ledger.appropriation(programme),
            memo=_("Budget du programme relevé"),
        )
    elif delta < 0:
        ledger.move(
            acting,
            "reduced",
            programme,
            -delta,
            ledger.appropriation(programme),
            ledger.available(programme),
            memo=_("Budget du programme abaissé : la différence revient aux crédits"),
        )
    return programme
