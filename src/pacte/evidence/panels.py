"""Panels of testers (S2, P2): volunteers join and leave, a carrier or partner opens a call, the
panel is drawn by stratified lot with a seed committed in the log beforehand."""

from __future__ import annotations

import hashlib
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import User
from pacte.accounts.services import Acting
from pacte.engines import assignment as asg
from pacte.errors import ValidationFailed
from pacte.evidence import events, panel_draws
from pacte.evidence.compliance import lock_for_compliance, run_compliance
from pacte.evidence.inputs import required_text
from pacte.evidence.lifecycles import PANEL_CALL
from pacte.evidence.models import (
    AGE_BANDS,
    PANEL_ATTRIBUTES,
    SITUATIONS,
    PanelCall,
    PanelMember,
    Volunteer,
)
from pacte.evidence.selectors import live_version
from pacte.notifications.notifier import notify
from pacte.pacts.models import Pact
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict

CONSENT_VERSION = "2026-01"
MAX_TARGET_SIZE = 100_000


@retry_on_conflict
@transaction.atomic
def volunteer(
    user: User,
    *,
    consent: bool,
    contact_preference: str = "email",
    contact_value: str = "",
    age_band: str = "",
    territory: str = "",
    situation: str = "",
) -> Volunteer:
    """Join (or update) the pool of testers. Every attribute is optional: the person chooses."""
    if not consent:
        raise ValidationFailed(
            _("Votre consentement explicite est nécessaire pour rejoindre le panel."),
            field_errors={"consent": [_("Cochez la case de consentement.")]},
        )
    errors: dict[str, list[str]] = {}
    if contact_preference not in Volunteer.Contact.values:
        errors["contact_preference"] = [_("Préférence de contact inconnue.")]
    if age_band and age_band not in AGE_BANDS:
        errors["age_band"] = [_("Tranche d'âge inconnue.")]
    if situation and situation not in SITUATIONS:
        errors["situation"] = [_("Situation inconnue.")]
    if len(territory) > 120:
        errors["territory"] = [_("120 caractères au plus.")]
    if errors:
        raise ValidationFailed(_("Certains champs sont invalides."), field_errors=errors)
    v, _created = Volunteer.objects.get_or_create(user=user)
    v.consent_at = timezone.now()
    v.consent_text_version = CONSENT_VERSION
    v.contact_preference = contact_preference
    v.contact_value = contact_value.strip()[:200]
    v.age_band, v.territory, v.situation = age_band, territory.strip(), situation
    v.left_at = None
    v.save()
    return v


@retry_on_conflict
@transaction.atomic
def leave_panel(user: User) -> bool:
    """Leave at any time: every personal field is erased; the anonymous row keeps counts right."""
    v = Volunteer.objects.select_for_update().filter(user=user, left_at__isnull=True).first()
    if v is None:
        return False
    v.user = None
    v.contact_preference = v.contact_value = v.age_band = v.territory = v.situation = ""
    v.consent_at = None
    v.left_at = timezone.now()
    v.save()
    v.seats.update(left=True)
    return True


def _panel_targets(
    target_size: int, targets: dict[str, int] | None, shares: dict[str, float] | None
) -> dict[str, int]:
    """Seats per stratum: given outright (summing to the size) or as proportional shares."""
    if target_size <= 0 or target_size > MAX_TARGET_SIZE:
        raise ValidationFailed(
            _("La taille visée doit être entre 1 et 100 000."),
            field_errors={"target_size": [_("Taille invalide.")]},
        )
    if targets:
        if any(int(v) < 0 for v in targets.values()):
            raise ValidationFailed(_("Les cibles par strate doivent être positives."))
        targets = {str(k): int(v) for k, v in targets.items()}
        if sum(targets.values()) != target_size:
            raise ValidationFailed(
                _(
                    "La somme des cibles par strate (%(total)s) doit égaler la taille visée (%(size)s)."
                )
                % {"total": sum(targets.values()), "size": target_size},
                field_errors={"targets": [_("Somme incohérente.")]},
            )
        return targets
    if shares:
        try:
            return asg.proportional_targets(shares, target_size)
        except ValueError as exc:
            raise ValidationFailed(_("Profil cible invalide : parts positives attendues.")) from exc
    raise ValidationFailed(
        _("Indiquez le profil cible (cibles ou parts par strate)."),
        field_errors={"targets": [_("Obligatoire.")]},
    )


@retry_on_conflict
@transaction.atomic
def open_panel_call(
    acting: Acting,
    project: Project,
    *,
    title: str,
    target_size: int,
    stratify_by: str = "age_band",
    targets: dict[str, int] | None = None,
    shares: dict[str, float] | None = None,
    description: str = "",
    pact: Pact | None = None,
    today: date | None = None,
) -> PanelCall:
    policy.require(acting, policy.Action.PROJECT_PARTNER_WORK, project)
    title = required_text(title, "title", _("Donnez un titre à l'appel."))
    if stratify_by not in PANEL_ATTRIBUTES:
        raise ValidationFailed(
            _("Critère de stratification inconnu."),
            field_errors={
                "stratify_by": [
                    _("Choisir parmi : %(choices)s.") % {"choices": ", ".join(PANEL_ATTRIBUTES)}
                ]
            },
        )
    seats = _panel_targets(target_size, targets, shares)
    if pact is None:
        v = live_version(project)
        pact = v.pact if v else None
    seed = asg.new_seed()
    call = PanelCall.objects.create(
        project=project,
        pact=pact,
        opened_by=acting.organisation,
        title=title,
        description=description.strip(),
        target_size=target_size,
        stratify_by=stratify_by,
        targets=seats,
        seed_commitment=asg.commit_seed(seed),
        seed_hex=seed.hex(),
        opened_on=today or timezone.localdate(),
    )
    lock_for_compliance(project)  # lock order: what run_compliance changes, before the log
    events.record(
        "panel.opened",
        acting,
        "panel",
        call.pk,
        project,
        title=title,
        target_size=target_size,
        stratify_by=stratify_by,
        targets=seats,
        seed_commitment=call.seed_commitment,
        algorithm=asg.ASSIGNMENT_ALGORITHM,
        opened_by=acting.organisation.slug,
        opened_on=call.opened_on.isoformat(),
    )
    panel_draws.track_draw(acting, call)  # the institution's promise to draw, if it is one
    run_compliance(today, project=project)
    return call


@retry_on_conflict
@transaction.atomic
def draw_panel(acting: Acting, call: PanelCall) -> PanelCall:
    """Draw the panel by stratified lot with the committed seed, then invite each person drawn."""
    call = (
        PanelCall.objects.select_for_update(of=("self",)).select_related("project").get(pk=call.pk)
    )
    PANEL_CALL.check(acting, "draw", call)
    # the State's promise to draw is settled first: its row is locked before the journal's
    panel_draws.settle_draw(acting, call, timezone.localdate())
    pool = list(
        Volunteer.objects.filter(left_at__isnull=True, user__isnull=False).select_related("user")
    )
    by_id = {str(v.pk): v for v in pool}
    result = asg.stratified_draw(
        [(str(v.pk), v.attribute(call.stratify_by)) for v in pool],
        call.targets,
        bytes.fromhex(call.seed_hex),
    )
    PanelMember.objects.bulk_create(
        PanelMember(call=call, volunteer=by_id[vid], stratum=stratum)
        for stratum, ids in result.selected_by_stratum.items()
        for vid in ids
    )
    call.shortfall = result.shortfall
    selected_digest = hashlib.sha256(",".join(sorted(result.selected)).encode()).hexdigest()
    PANEL_CALL.apply(
        acting,
        "draw",
        call,
        seed=call.seed_hex,
        seed_commitment=call.seed_commitment,
        selected=len(result.selected),
        complete=result.complete,
        selected_sha256=selected_digest,
    )
    recipients = []
    for vid in result.selected:
        person = by_id[vid]
        address = person.contact_value or (person.user.email if person.user else "")
        if person.contact_preference == Volunteer.Contact.EMAIL and address:
            recipients.append(address)
    for address in recipients:  # one message each: volunteers never see each other's address
        notify(
            [address],
            _("Invitation au panel : %(title)s") % {"title": call.title},
            _(
                "Bonjour,\n\nVous avez été tiré au sort pour tester « %(project)s ».\n%(description)s\n\n"
                "Vous pouvez quitter le panel à tout moment depuis votre espace volontaire ; "
                "vos données personnelles sont alors effacées.\n"
            )
            % {"project": call.project.name, "description": call.description},
            event="panel.invitation",
        )
    return call
