"""Writes for people and organisations: one transaction per use case."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from pacte.accounts.models import (
    ROLES_BY_KIND,
    ApiToken,
    Membership,
    Organisation,
    Role,
    User,
)
from pacte.errors import NotAuthenticated, TooManyAttempts, ValidationFailed
from pacte.links import clean_web_link


@dataclass(frozen=True)
class Acting:
    """A person acting for one organisation, with their roles there."""

    user: User
    organisation: Organisation
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_auditor(self) -> bool:
        return Role.AUDITOR in self.roles

    @property
    def label(self) -> str:
        return f"{self.user} — {self.organisation.name}"


def acting_for(user: User, organisation: Organisation) -> Acting:
    membership = Membership.objects.filter(user=user, organisation=organisation).first()
    if membership is None:
        raise NotAuthenticated(_("Vous n'êtes pas membre de cette organisation."))
    return Acting(user=user, organisation=organisation, roles=frozenset(membership.roles))


@transaction.atomic
def create_organisation(
    *, slug: str, name: str, kind: str, legal_form: str, **extra: str
) -> Organisation:
    if kind == Organisation.Kind.CARRIER and legal_form not in Organisation.CARRIER_FORMS:
        raise ValidationFailed(_("Forme juridique invalide pour un porteur de projet."))
    if kind == Organisation.Kind.INSTITUTION and legal_form not in Organisation.INSTITUTION_FORMS:
        raise ValidationFailed(_("Forme juridique invalide pour une institution publique."))
    if "website" in extra:
        extra["website"] = clean_web_link(extra["website"], "website")
    org, _created = Organisation.objects.update_or_create(
        slug=slug, defaults={"name": name, "kind": kind, "legal_form": legal_form, **extra}
    )
    return org


@transaction.atomic
def vouch_for_address(user: User) -> None:
    """An account made by the platform (command line, demo) has its address vouched for by whoever
    made it: recorded as confirmed, so that allauth never asks its owner to confirm it. Without this
    row, allauth adds the address *unconfirmed* the first time the person opens "Mes adresses", and
    mandatory verification then stops their next sign-in."""
    from allauth.account.models import EmailAddress

    if (
        user.email
        and not EmailAddress.objects.filter(user=user).exists()
        and not EmailAddress.objects.filter(email__iexact=user.email).exists()
    ):
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


@transaction.atomic
def add_member(user: User, organisation: Organisation, roles: list[str]) -> Membership:
    allowed = ROLES_BY_KIND[Organisation.Kind(organisation.kind)]
    bad = [r for r in roles if r not in allowed]
    if bad:
        raise ValidationFailed(
            _("Rôle(s) %(roles)s impossible(s) dans une organisation de type %(kind)s.")
            % {"roles": ", ".join(bad), "kind": organisation.get_kind_display()}
        )
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"roles": sorted(set(roles))}
    )
    if not created:
        membership.roles = sorted(set(membership.roles) | set(roles))
        membership.save(update_fields=["roles"])
    return membership


def sign_in(request: HttpRequest, username: str, password: str) -> User:
    """Password sign-in. django-axes (first authentication backend) counts failures per
    (account, client address) and refuses a locked pair, even with the right password."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise TooManyAttempts(
                _(
                    "Trop de tentatives de connexion depuis cette adresse. Réessayez dans quelques minutes."
                )
            )
        raise NotAuthenticated(_("Identifiant ou mot de passe incorrect."))
    return user


@transaction.atomic
def create_api_token(
    user: User, organisation: Organisation, name: str, days: int = 90
) -> tuple[ApiToken, str]:
    acting_for(user, organisation)  # must be a member
    raw = "pct_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        organisation=organisation,
        name=name,
        prefix=raw[:10],
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return token, raw


def authenticate_token(raw: str) -> Acting:
    digest = hashlib.sha256(raw.encode()).hexdigest()
    token = (
        ApiToken.objects.select_related("user", "organisation")
        .filter(token_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at and token.expires_at < timezone.now()):
        raise NotAuthenticated(_("Jeton d'API invalide, expiré ou révoqué."))
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return acting_for(token.user, token.organisation)
