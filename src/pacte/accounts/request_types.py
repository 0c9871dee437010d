"""What Pacte adds to a Django request, declared for the type checker.

Views annotate their request with the narrowest of these classes; nothing is created at run time
(Django builds plain requests, the middleware and the API's token check set the attributes).
"""

from __future__ import annotations

from django.http import HttpRequest

from pacte.accounts.models import Membership, User
from pacte.accounts.services import Acting


class ActingRequest(HttpRequest):
    """A request after ActingOrganisationMiddleware (or the public API's viewer): the organisation
    the person acts for, None when nobody is signed in or the person belongs to none."""

    acting: Acting | None
    my_memberships: list[Membership]  # set for a signed-in person, reused by the template context


class SignedInRequest(ActingRequest):
    """A request behind @login_required: the user is an account, never AnonymousUser."""

    user: User


class TokenRequest(HttpRequest):
    """An API request that passed TokenAuth: ninja puts the token's acting organisation in `auth`."""

    auth: Acting
    acting: Acting
