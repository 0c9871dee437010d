"""E-mail notifications to the party who now holds the ball (queued through pacte.notifications)."""

from __future__ import annotations

from pacte.accounts.models import Membership, Role
from pacte.notifications.notifier import notify as queue_notification
from pacte.pacts.models import PactVersion

SUBJECTS = {
    "submitted": ("institution", Role.REVIEWER, "Nouveau pacte à instruire : {ref}"),
    "changes_requested": ("carrier", None, "Modifications demandées sur {ref}"),
    "approved": ("both", None, "Pacte {ref} approuvé : à signer"),
    "active": ("both", None, "Pacte {ref} en vigueur"),
    "notify_breach": ("both", None, "Manquement notifié sur {ref}"),
    "suspend": ("both", None, "Pacte {ref} suspendu"),
    "break": ("both", None, "Pacte {ref} rompu"),
    "cure": ("both", None, "Manquement levé sur {ref}"),
    "reinstate": ("both", None, "Pacte {ref} rétabli"),
    "complete": ("both", None, "Pacte {ref} arrivé à terme"),
}


def notify(version: PactVersion, what: str) -> None:
    if what not in SUBJECTS:
        return
    side, role, subject = SUBJECTS[what]
    pact = version.pact
    orgs = []
    if side in ("carrier", "both"):
        orgs.append(pact.project.carrier_id)
    if side in ("institution", "both"):
        orgs.append(pact.institution_id)
    recipients = sorted(
        {
            m.user.email
            for m in Membership.objects.filter(organisation_id__in=orgs).select_related("user")
            if m.user.email and (role is None or role in m.roles)
        }
    )
    if not recipients:
        return
    body = (
        f"Pacte {pact.reference} — {pact.project.name}, version {version.number}.\n"
        f"État : {version.get_status_display()}.\n"
        + (f"Motif : {version.last_reason}\n" if version.last_reason else "")
    )
    queue_notification(recipients, subject.format(ref=pact.reference), body, event=f"pact.{what}")
