"""Assisted use (P7): a mediator acts for a person without an account or a computer, with that
person's recorded consent, hands over a receipt with a claim code, and the person may later take
the contribution into their own account with that code.

Each public write function is one transaction that also writes its journal event.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pacte.accounts import policy
from pacte.accounts.models import User
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.errors import InvalidTransition, NotAuthenticated, NotFound, ValidationFailed
from pacte.evidence.models import Question
from pacte.evidence.ports import ASSISTED
from pacte.journal.services import Actor, personal_commitment
from pacte.mediation.events import assisted_event
from pacte.mediation.models import AssistedAction
from pacte.notifications.notifier import notify
from pacte.projects.models import Project
from pacte.writes.retry import retry_on_conflict

ATTESTATION = gettext_lazy(
    "J'atteste que la personne nommée ci-dessus m'a donné son accord, de la manière indiquée, "
    "pour que j'effectue cette démarche en son nom, après lui avoir expliqué ce que deviendra sa "
    "contribution et comment la reprendre dans son propre compte avec le code du reçu."
)
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed by hand
CODE_GROUPS = 3
CODE_GROUP_LEN = 4
MAX_LABEL = 120
MAX_NOTE = 1000


@dataclass(frozen=True)
class AssistedIn:
    kind: str
    person_label: str
    consent_method: str
    attested: bool
    consent_note: str = ""
    project: Project | None = None
    body: str = ""
    rating: int | None = None
    question: Question | None = None
    age_band: str = ""
    territory: str = ""
    situation: str = ""
    email: str = ""  # where to send the receipt (optional, not stored)


@dataclass(frozen=True)
class Recorded:
    action: AssistedAction
    claim_code: str  # shown once, on the receipt; only its hash is stored


def new_claim_code() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LEN))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def code_sha256(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(f"pacte-claim:{normalised}".encode()).hexdigest()


def _check(data: AssistedIn) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.kind not in AssistedAction.Kind.values:
        errors["kind"] = [_("Choisissez la démarche.")]
    label = data.person_label.strip()
    if not label or len(label) > MAX_LABEL:
        errors["person_label"] = [
            _("Indiquez le nom ou un pseudonyme de la personne (120 caractères au plus).")
        ]
    if data.consent_method not in AssistedAction.ConsentMethod.values:
        errors["consent_method"] = [_("Indiquez comment la personne a donné son accord.")]
    if len(data.consent_note) > MAX_NOTE:
        errors["consent_note"] = [_("1 000 caractères au plus.")]
    if not data.attested:
        errors["attested"] = [_("Cochez l'attestation : sans elle, rien n'est enregistré.")]
    if data.kind == AssistedAction.Kind.FEEDBACK and data.project is None:
        errors["project"] = [_("Choisissez le service sur lequel la personne donne son avis.")]
    if data.email:
        try:
            validate_email(data.email)
        except DjangoValidationError:
            errors["email"] = [_("Adresse électronique invalide.")]
    return errors


def _reference() -> str:
    return f"AID-{timezone.now():%Y}-{secrets.token_hex(4).upper()}"


@retry_on_conflict
@transaction.atomic
def record_assisted(acting: Acting, data: AssistedIn) -> Recorded:
    """Record the person's consent, do the démarche in their name, and issue the receipt."""
    policy.require(acting, Action.ASSISTED_ACT, acting.organisation)
    errors = _check(data)
    if errors:
        raise ValidationFailed(
            _("L'action accompagnée n'a pas été enregistrée : corrigez les champs signalés."),
            field_errors=errors,
        )
    code = new_claim_code()
    action = AssistedAction(
        reference=_reference(),
        kind=data.kind,
        organisation=acting.organisation,
        mediator=acting.user,
        person_label=data.person_label.strip(),
        consent_method=data.consent_method,
        consent_note=data.consent_note.strip(),
        attestation=str(ATTESTATION),
        project=data.project,
        claim_code_sha256=code_sha256(code),
    )
    if data.kind == AssistedAction.Kind.PANEL:
        action.volunteer = ASSISTED.volunteer_for_person(
            age_band=data.age_band, territory=data.territory, situation=data.situation
        )
    else:
        assert data.project is not None  # checked above
        action.feedback = ASSISTED.feedback_for_person(
            data.project, body=data.body, rating=data.rating, question=data.question
        )
    action.save()
    assisted_event(
        "assisted.recorded",
        acting,
        action.reference,
        data.project.slug if data.project else "",
        kind=action.kind,
        consent_method=action.consent_method,
        person=personal_commitment(f"assisted:{action.reference}:{action.person_label}"),
        row=action.volunteer_id or action.feedback_id,
    )
    if data.email:
        notify(
            [data.email],
            _("Votre reçu Pacte %(reference)s") % {"reference": action.reference},
            receipt_text(action, code),
            event="assisted.receipt",
        )
    return Recorded(action, code)


def receipt_text(action: AssistedAction, code: str) -> str:
    return _(
        "Reçu %(reference)s\n"
        "Démarche : %(kind)s\n"
        "Faite pour : %(person)s, par un médiateur de %(organisation)s, le %(date)s.\n"
        "Accord donné : %(method)s.\n\n"
        "Votre code pour reprendre cette contribution dans votre propre compte : %(code)s\n"
        "Connectez-vous à Pacte, ouvrez « Reprendre une démarche faite pour moi » et saisissez ce "
        "code. Gardez-le pour vous : il donne accès à votre contribution."
    ) % {
        "reference": action.reference,
        "kind": action.get_kind_display(),
        "person": action.person_label,
        "organisation": action.organisation.name,
        "date": timezone.localtime(action.created_at).strftime("%d/%m/%Y"),
        "method": action.get_consent_method_display(),
        "code": code,
    }


@retry_on_conflict
@transaction.atomic
def claim(user: User, code: str) -> AssistedAction:
    """The person, now signed in, takes the contribution into their account."""
    if user is None or not user.is_authenticated:
        raise NotAuthenticated(_("Connectez-vous pour reprendre une démarche faite pour vous."))
    action = (
        AssistedAction.objects.select_for_update(of=("self",))
        .select_related("project", "volunteer", "feedback")
        .filter(claim_code_sha256=code_sha256(code or ""))
        .first()
    )
    if action is None:
        raise NotFound(_("Ce code ne correspond à aucune démarche. Vérifiez-le sur votre reçu."))
    if action.claimed:
        raise InvalidTransition(_("Cette démarche a déjà été reprise dans un compte."))
    outcome = "attached"
    if action.volunteer is not None and not ASSISTED.claim_volunteer(action.volunteer, user):
        outcome = "already_in_panel"
    if action.feedback is not None:
        ASSISTED.claim_feedback(action.feedback, user)
    action.claimed_by, action.claimed_at = user, timezone.now()
    action.person_label = ""  # the account now holds it: the mediator's copy of the name goes
    action.save(update_fields=["claimed_by", "claimed_at", "person_label"])
    assisted_event(
        "assisted.claimed",
        Actor(role="citizen", person_id=user.pk),
        action.reference,
        action.project.slug if action.project else "",
        kind=action.kind,
        outcome=outcome,
    )
    return action
