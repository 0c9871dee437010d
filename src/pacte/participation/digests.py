"""E-mail digests of a person's notices: immediately, once a day or once a week (their choice),
queued through the platform's outbox by the background worker, never during a request.

Every digest carries a one-click unsubscribe link (a signed token, no sign-in needed) in its text
and in the RFC 8058 headers ``List-Unsubscribe`` and ``List-Unsubscribe-Post``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pacte.accounts.models import User
from pacte.notifications.notifier import notify
from pacte.participation.follows import unsubscribe_token
from pacte.participation.models import DigestPreference, Notice

F = DigestPreference.Frequency
# how long after the previous digest the next one may go, per frequency
SPACING = {
    F.IMMEDIATE: timedelta(0),
    F.DAILY: timedelta(hours=20),
    F.WEEKLY: timedelta(days=6, hours=20),
}
DEFAULT_FREQUENCY = F.DAILY


def absolute(path: str) -> str:
    return settings.PACTE_SITE_URL.rstrip("/") + path


def unsubscribe_url(user: User) -> str:
    return absolute(reverse("participation:unsubscribe", args=[unsubscribe_token(user)]))


def _due_users(frequency: str, now: datetime) -> list[User]:
    """People with unsent notices whose frequency is ``frequency`` and whose last digest is old enough."""
    waiting = Notice.objects.filter(emailed_at__isnull=True).values("user_id")
    users = User.objects.filter(pk__in=waiting, is_active=True).exclude(email="")
    if frequency == DEFAULT_FREQUENCY:
        users = users.filter(
            Q(digest_preference__isnull=True) | Q(digest_preference__frequency=frequency)
        )
    else:
        users = users.filter(digest_preference__frequency=frequency)
    spacing = SPACING[F(frequency)]
    if spacing:
        users = users.filter(
            Q(digest_preference__isnull=True)
            | Q(digest_preference__last_sent_at__isnull=True)
            | Q(digest_preference__last_sent_at__lte=now - spacing)
        )
    return list(users.order_by("pk"))


@transaction.atomic
def send_digest(user: User, now: datetime | None = None) -> int:
    """Queue one digest of ``user``'s unsent notices; return how many notices it carries."""
    now = now or timezone.now()
    notices = list(
        Notice.objects.select_for_update()
        .filter(user=user, emailed_at__isnull=True)
        .order_by("event_index")
    )
    if not notices:
        return 0
    link = unsubscribe_url(user)
    lines = [
        _("Bonjour,"),
        "",
        ngettext(
            "Voici %(n)d nouvelle notification sur Pacte :",
            "Voici %(n)d nouvelles notifications sur Pacte :",
            len(notices),
        )
        % {"n": len(notices)},
        "",
    ]
    for n in notices:
        lines.append(f"- {n.title}")
        lines.append(f"  {n.why} · {absolute(n.link) if n.link else ''}")
    lines += [
        "",
        _("Toutes vos notifications : %(url)s")
        % {"url": absolute(reverse("participation:notices"))},
        _("Ne plus recevoir ces courriels (un clic, sans connexion) : %(url)s") % {"url": link},
    ]
    notify(
        [user.email],
        ngettext(
            "Pacte : %(n)d nouvelle notification",
            "Pacte : %(n)d nouvelles notifications",
            len(notices),
        )
        % {"n": len(notices)},
        "\n".join(lines),
        event="participation.digest",
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    Notice.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=now)
    DigestPreference.objects.update_or_create(user=user, defaults={"last_sent_at": now})
    return len(notices)


def send_digests(frequency: str, now: datetime | None = None) -> int:
    """Send the digests due for one frequency (one transaction per person); return how many went."""
    now = now or timezone.now()
    return sum(1 for user in _due_users(frequency, now) if send_digest(user, now))
