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
from pacte.comptoirs.ports import ASSISTED_POSTS, PostIn
from pacte.data.models import Dataset
from pacte.data.ports import ASSISTED_CONSENT
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
    # a consent to data sharing: the dataset the person is in, their identifier there, the purpose
    dataset: Dataset | None = None
    person_id: str = ""
    purpose: str = ""
    identity_check: str = ""
    # a comptoir post: its content, checked and routed as any post
    post: PostIn | None = None


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
    if data.kind == AssistedAction.Kind.CONSENT:
        if data.project is None:
            errors["project"] = [_("Choisissez le projet qui recevra les données.")]
        if data.dataset is None:
            errors["dataset"] = [_("Choisissez le jeu de données où figure la personne.")]
        if data.identity_check not in AssistedAction.IdentityCheck.values:
            errors["identity_check"] = [_("Indiquez comment vous avez vérifié son identité.")]
    if data.kind == AssistedAction.Kind.POST and data.post is None:
        errors["post"] = [_("Décrivez le dépôt de la personne.")]
    if data.email:
        try:
            validate_email(data.email)
        except DjangoValidationError:
            errors["email"] = [_("Adresse électronique invalide.")]
    return errors


def check(data: AssistedIn) -> None:
    """Raise the same 422 as ``record_assisted`` would for the person's part of ``data``."""
    errors = _check(data)
    errors.pop("post", None)
    if errors:
        raise ValidationFailed(
            _("L'action accompagnée n'a pas été enregistrée : corrigez les champs signalés."),
            field_errors=errors,
        )


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
    consent_kind = data.kind == AssistedAction.Kind.CONSENT
    action = AssistedAction(
        reference=_reference(),
        kind=data.kind,
        organisation=acting.organisation,
        mediator=acting.user,
        person_label=data.person_label.strip(),
        consent_method=data.consent_method,
        identity_check=data.identity_check if consent_kind else "",
        consent_note=data.consent_note.strip(),
        attestation=str(ATTESTATION),
        project=data.project,
        claim_code_sha256=code_sha256(code),
    )
    if data.kind == AssistedAction.Kind.PANEL:
        action.volunteer = ASSISTED.volunteer_for_person(
            age_band=data.age_band, territory=data.territory, situation=data.situation
        )
    elif consent_kind:
        assert data.project is not None and data.dataset is not None  # checked above
        action.consent = ASSISTED_CONSENT.consent_for_person(
            acting, data.dataset, data.person_id, data.project, data.purpose
        )
    elif data.kind == AssistedAction.Kind.POST:
        assert data.post is not None  # checked above
        # the e-mail, if given, is kept on the post so that answers reach the person
        action.post = ASSISTED_POSTS.post_for_person(acting, data.post, contact_email=data.email)
        action.project = action.post.project
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
        identity_check=action.identity_check,
        person=personal_commitment(f"assisted:{action.reference}:{action.person_label}"),
        row=action.volunteer_id or action.feedback_id or action.consent_id or action.post_id,
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
    text = _(
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
    if action.post is not None:
        where = {"pk": action.post.pk}
        if action.post.contact_email:
            text += (
                "\n\n"
                + _(
                    "Votre dépôt au comptoir : /comptoir/%(pk)s/ — la réponse y sera publiée et vous "
                    "sera envoyée à l'adresse donnée au guichet."
                )
                % where
            )
        else:
            text += (
                "\n\n"
                + _("Votre dépôt au comptoir : /comptoir/%(pk)s/ — la réponse y sera publiée.")
                % where
            )
    if action.consent_id is not None:
        text += "\n\n" + _(
            "Vous pouvez retirer ce consentement à tout moment : sur Pacte, page « Retirer un "
            "consentement donné avec un médiateur » (/accompagnement/retrait/), avec ce code ; "
            "ou en le demandant au médiateur de %(organisation)s."
        ) % {"organisation": action.organisation.name}
    return text


@retry_on_conflict
@transaction.atomic
def claim(user: User, code: str) -> AssistedAction:
    """The person, now signed in, takes the contribution into their account."""
    if user is None or not user.is_authenticated:
        raise NotAuthenticated(_("Connectez-vous pour reprendre une démarche faite pour vous."))
    action = (
        AssistedAction.objects.select_for_update(of=("self",))
        .select_related("project", "volunteer", "feedback", "consent", "post")
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
    if action.consent is not None:
        ASSISTED_CONSENT.claim_consent(action.consent, user)
    if action.post is not None:
        ASSISTED_POSTS.claim_post(action.post, user)
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


def _locked(**lookup: str) -> AssistedAction:
    action = (
        AssistedAction.objects.select_for_update(of=("self",))
        .select_related("project", "consent", "organisation")
        .filter(**lookup)
        .first()
    )
    if action is None:
        raise NotFound(_("Ce code ne correspond à aucune démarche. Vérifiez-le sur votre reçu."))
    return action


def _consent_to_withdraw(action: AssistedAction) -> None:
    if action.consent is None:
        raise InvalidTransition(
            _("Cette démarche n'est pas un consentement à la transmission de données.")
        )


@retry_on_conflict
@transaction.atomic
def withdraw_with_code(code: str) -> AssistedAction:
    """The person withdraws the consent recorded for them, with the code of their receipt (no
    account needed)."""
    action = _locked(claim_code_sha256=code_sha256(code or ""))
    _consent_to_withdraw(action)
    assert action.consent is not None
    ASSISTED_CONSENT.withdraw_for_person(action.consent, ASSISTED_CONSENT.BY_PERSON)
    assisted_event(
        "assisted.consent_withdrawn",
        ASSISTED_CONSENT.ASSISTED_PERSON,
        action.reference,
        action.project.slug if action.project else "",
        by=ASSISTED_CONSENT.BY_PERSON,
    )
    return action


@retry_on_conflict
@transaction.atomic
def withdraw_on_request(acting: Acting, reference: str, request_method: str) -> AssistedAction:
    """A mediator of the structure withdraws the consent because the person asked (how they asked
    is recorded, as for the consent itself)."""
    action = _locked(reference=reference)
    policy.require(acting, Action.ASSISTED_RECEIPT, action)
    if request_method not in AssistedAction.ConsentMethod.values:
        raise ValidationFailed(
            _("Indiquez comment la personne a demandé le retrait."),
            field_errors={"request_method": [_("Choisissez une réponse.")]},
        )
    _consent_to_withdraw(action)
    assert action.consent is not None
    ASSISTED_CONSENT.withdraw_for_person(action.consent, ASSISTED_CONSENT.BY_MEDIATOR, acting)
    assisted_event(
        "assisted.consent_withdrawn",
        acting,
        action.reference,
        action.project.slug if action.project else "",
        by=ASSISTED_CONSENT.BY_MEDIATOR,
        request_method=request_method,
    )
    return action
