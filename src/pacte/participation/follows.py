"""Follow a project, an institution, a dataset or the whole registry; choose how often e-mails come;
unsubscribe from every e-mail in one click (signed token, no sign-in)."""

from __future__ import annotations

from django.core import signing
from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.models import Organisation, User
from pacte.accounts.policy import Action, Person
from pacte.data.models import Dataset
from pacte.errors import BadInput, NotFound, ValidationFailed
from pacte.participation.models import DigestPreference, Follow
from pacte.projects.models import Project

UNSUBSCRIBE_SALT = "pacte.participation.unsubscribe"


def target_object(target: str, key: str) -> object:
    """What a follow points at (for the policy and to refuse unknown slugs with a 404)."""
    if target == Follow.Target.REGISTRY:
        return Follow.Target.REGISTRY
    found: object | None
    if target == Follow.Target.PROJECT:
        found = Project.objects.filter(slug=key).first()
    elif target == Follow.Target.INSTITUTION:
        found = Organisation.objects.filter(slug=key, kind=Organisation.Kind.INSTITUTION).first()
    elif target == Follow.Target.DATASET:
        found = Dataset.objects.filter(slug=key).first()
    else:
        raise ValidationFailed(
            _("On suit un projet, une institution, un jeu de données ou tout le registre."),
            field_errors={"target": [_("Choix invalide.")]},
        )
    if found is None:
        raise NotFound(_("Rien à suivre sous ce nom."))
    return found


@transaction.atomic
def follow(person: Person, target: str, key: str = "") -> Follow:
    key = "" if target == Follow.Target.REGISTRY else (key or "").strip()
    policy.require(person, Action.FOLLOW, target_object(target, key))
    item, _created = Follow.objects.get_or_create(user=person.user, target=target, key=key)
    return item


@transaction.atomic
def unfollow(person: Person, target: str, key: str = "") -> int:
    key = "" if target == Follow.Target.REGISTRY else (key or "").strip()
    deleted, _rows = Follow.objects.filter(user=person.user, target=target, key=key).delete()
    return deleted


def preference_of(user: User) -> DigestPreference:
    pref, _created = DigestPreference.objects.get_or_create(user=user)
    return pref


@transaction.atomic
def set_frequency(person: Person, frequency: str) -> DigestPreference:
    if frequency not in DigestPreference.Frequency.values:
        raise ValidationFailed(
            _("Fréquence inconnue."), field_errors={"frequency": [_("Choix invalide.")]}
        )
    pref = preference_of(person.user)
    pref.frequency = frequency
    pref.save(update_fields=["frequency"])
    return pref


def unsubscribe_token(user: User) -> str:
    """A signed token naming the person; it stops every e-mail (not the notices on the site)."""
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def user_of_token(token: str) -> User:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise BadInput(_("Ce lien de désabonnement n'est pas valide.")) from None
    pk = data.get("u") if isinstance(data, dict) else None
    user = User.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if user is None:
        raise NotFound(_("Ce compte n'existe plus : il ne reçoit plus de courriel."))
    return user


@transaction.atomic
def unsubscribe(token: str) -> User:
    """One click from an e-mail (RFC 8058): no sign-in, the signed token is the proof."""
    user = user_of_token(token)
    pref = preference_of(user)
    pref.frequency = DigestPreference.Frequency.NEVER
    pref.save(update_fields=["frequency"])
    return user
