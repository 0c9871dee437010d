"""Background work for comptoirs (django-tasks, database backend; run by `pacte worker`)."""

from __future__ import annotations

from django_tasks import task

from pacte.accounts import policy
from pacte.comptoirs import challenges, experts, posts


@task()
def mark_late_answers_task() -> dict[str, int]:
    """Daily: comptoir posts and expert requests unanswered past their clock are late (a public
    lateness of the institution), and challenges past their deadline close."""
    return {
        "late_posts": len(posts.mark_late(policy.SYSTEM)),
        "late_expert_requests": len(experts.mark_late(policy.SYSTEM)),
        "closed_challenges": len(challenges.expire(policy.SYSTEM)),
    }
