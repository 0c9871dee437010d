"""E-mail notifications to the party who now holds the ball (queued through pacte.notifications)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from pacte.accounts.models import Membership, Role
from pacte.notifications.notifier import notify as queue_notification
from pacte.pacts.models import PactVersion

SUBJECTS = {
    "submitted": ("institution", Role.REVIEWER, _("Nouveau pacte à instruire : %(ref)s")),
    "changes_requested": ("carrier", None, _("Modifications demandées sur %(ref)s")),
    "approved": ("both", None, _("Pacte %(ref)s approuvé : à signer")),
    "active": ("both", None, _("Pacte %(ref)s en vigueur")),
    "notify_breach": ("both", None, _("Manquement notifié sur %(ref)s")),
    "suspend": ("both", None, _("Pacte %(ref)s suspendu")),
    "break": ("both", None, _("Pacte %(ref)s rompu")),
    "cure": ("both", None, _("Manquement levé sur %(ref)s")),
    "reinstate": ("both", None, _("Pacte %(ref)s rétabli")),
    "complete": ("both", None, _("Pacte %(ref)s arrivé à terme")),
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
    body = str(_("Pacte %(ref)s — %(project)s, version %(number)s.\nÉtat : %(status)s.\n")) % {
        "ref": pact.reference,
        "project": pact.project.name,
        "number": version.number,
        "status": version.get_status_display(),
    }
    if version.last_reason:
        body += str(_("Motif : %(reason)s\n")) % {"reason": version.last_reason}
    queue_notification(
        recipients, str(subject) % {"ref": pact.reference}, body, event=f"pact.{what}"
    )
