"""The comptoirs domain's own errors."""

from __future__ import annotations

from pacte.errors import Conflict


class NoRoute(Conflict):
    """The published routing table has no row for this post (409): the platform must add one."""

    code = "no_route"


class DeadlinePassed(Conflict):
    """The challenge's deadline has passed: applications are closed (409)."""

    code = "deadline_passed"
