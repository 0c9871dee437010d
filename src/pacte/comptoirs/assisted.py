"""Comptoir posts a mediator makes for a person without an account (issue 13, P7), and their
claim into the person's account later.

The post has no author: it is marked ``with_mediator`` (its page says "déposé avec l'aide d'un
médiateur") and, if the person gave an e-mail address, answers go there; the mediation domain
keeps the record of the person's consent and the receipt. These functions run in the caller's
transaction (the mediation use case, which writes its own journal event besides the comptoir's
``comptoir.post.received``, marked ``assisted``).
"""

from __future__ import annotations

from pacte.accounts import policy
from pacte.accounts.models import User
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.comptoirs.models import Post
from pacte.comptoirs.posts import PostIn, create_post


def post_for_person(acting: Acting, data: PostIn, contact_email: str = "") -> Post:
    """The same checks, routing, clock and journal event as any post; the mediator acts."""
    policy.require(acting, Action.ASSISTED_ACT, acting.organisation)
    return create_post(acting, None, data, contact_email=contact_email.strip())


def claim_post(post: Post, user: User) -> None:
    """The person, signed in, becomes the post's author; the address given at the counter is
    dropped (their account's address takes over)."""
    Post.objects.filter(pk=post.pk, author__isnull=True).update(author=user, contact_email="")
