"""Deleting one's account (GDPR right to erasure): personal data erased, contributions kept.

The ``User`` row stays as an anonymous tombstone: every personal field is emptied, the person
can no longer sign in, and every row that points to it (a pact's author, a review, a signature,
a payment order, feedback…) keeps pointing to an author shown as "Compte supprimé". What only
served the person goes: e-mail addresses, identities at FranceConnect/ProConnect and their
tokens, sessions, API tokens, memberships, sign-in records, the custodial signing key's private
half (the public half stays, so past signatures still verify). Other domains erase their own
personal data through the erasers registered in pacte.accounts.ports. The deletion is written to
the public journal under an opaque id (the salted commitment the journal already uses for this
person), never a name or an address.
"""

from __future__ import annotations

import secrets

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts.models import ApiToken, Membership, SigningKey, User
from pacte.accounts.ports import FormerIdentity, personal_data_erasers
from pacte.errors import ValidationFailed
from pacte.journal.services import Actor, personal_commitment, record_event
from pacte.writes.retry import retry_on_conflict

TOMBSTONE_PREFIX = "compte-supprime-"
EVENT_TYPE = "account.deleted"


def opaque_id(user_id: int) -> str:
    """The id under which the journal names this person (never reversible without the salt)."""
    return personal_commitment(f"user:{user_id}")


@retry_on_conflict
@transaction.atomic
def delete_account(user: User) -> str:
    """Erase the person's account; returns the opaque id written to the journal."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is not None:
        raise ValidationFailed(_("Ce compte est déjà supprimé."))
    former = _former_identity(user)
    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()  # with its tokens (ID token, access token)
    Membership.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user).delete()
    SigningKey.objects.filter(user=user).update(encrypted_private_key=None)
    _erase_sign_in_records(former)
    _end_sessions(user.pk)
    for _name, eraser in personal_data_erasers():
        eraser(user, former)
    user.username = TOMBSTONE_PREFIX + secrets.token_hex(8)
    user.email = user.first_name = user.last_name = user.display_name = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.last_login = None
    user.deleted_at = timezone.now()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    opaque = opaque_id(user.pk)
    record_event(
        EVENT_TYPE,
        actor=Actor(role="account_holder"),
        subject_type="account",
        subject_id=opaque,
        data={},
    )
    return opaque


def _former_identity(user: User) -> FormerIdentity:
    emails = {user.email} | set(
        EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    )
    names = {user.display_name, user.first_name, user.last_name, user.get_full_name()}
    return FormerIdentity(
        user_id=user.pk,
        username=user.username,
        emails=frozenset(e.strip().lower() for e in emails if e and e.strip()),
        names=frozenset(n.strip() for n in names if n and n.strip()),
    )


def _erase_sign_in_records(former: FormerIdentity) -> None:
    """django-axes keeps the account name typed at each sign-in (failed or not)."""
    typed = {former.username.lower(), *former.emails}
    match = Q()
    for value in typed:
        match |= Q(username__iexact=value)
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(match).delete()


def _end_sessions(user_id: int) -> None:
    """Every open session of the person (database sessions carry the user id when decoded)."""
    doomed = [
        s.session_key
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if s.get_decoded().get("_auth_user_id") == str(user_id)
    ]
    Session.objects.filter(session_key__in=doomed).delete()
