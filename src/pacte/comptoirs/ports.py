"""What the comptoirs domain offers other domains, typed. Other domains import THIS module only.

Assisted use (issue 13 part 7): the mediation domain posts a problem, a proposal or an offer to
contribute for a person without an account, and re-attaches the post when the person claims it,
through ``pacte.comptoirs.assisted`` (re-exported here: ``ASSISTED_POSTS``):
``post_for_person(acting, data: PostIn, contact_email="") -> Post`` and
``claim_post(post, user)``. ``PostIn`` is the post's input (kind, title, theme, territory, body,
and the fields each kind requires); ``POST_FORMS[kind]`` is the comptoir's own form for that
kind (a ``projects=[(slug, name)]`` keyword for a contribution) and ``post_in(kind, cleaned_data)``
turns its data into a ``PostIn``.
"""

from __future__ import annotations

from pacte.comptoirs import assisted
from pacte.comptoirs.forms import POST_FORMS
from pacte.comptoirs.models import Post, Theme
from pacte.comptoirs.posts import PostIn, post_in

__all__ = ["ASSISTED_POSTS", "POST_FORMS", "Post", "PostIn", "Theme", "post_in"]

ASSISTED_POSTS = assisted
