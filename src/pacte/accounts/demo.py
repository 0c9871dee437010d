"""Demo citizens: people with an account and a confirmed address but no organisation, for the
other domains' demos (comments, follows, panels…): ``citizens()`` returns them, creating them
if missing, so any demo may call it in any order."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from pacte.accounts.models import User

# The demo's one password (pacte.demo.DEMO_PASSWORD; not imported: accounts sits below it).
CITIZEN_PASSWORD = "demo-pacte-2026"
CITIZENS = [
    ("citoyenne-alice", "Alice Martin", "alice.martin@demo.pacte.localhost"),
    ("citoyen-karim", "Karim Benali", "karim.benali@demo.pacte.localhost"),
]


@transaction.atomic
def citizens() -> list[User]:
    people = []
    for username, display_name, email in CITIZENS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"display_name": display_name, "email": email}
        )
        if created:
            user.set_password(CITIZEN_PASSWORD)
            user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        people.append(user)
    return people


def load() -> None:
    citizens()
