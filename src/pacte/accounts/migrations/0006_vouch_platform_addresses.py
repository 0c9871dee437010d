"""Accounts made before allauth (command line, back office, demo) have no allauth address: allauth
would add it *unconfirmed* the first time the person opens "Mes adresses", and mandatory
verification would then stop their next sign-in. Their address was vouched for by whoever made the
account: record it as confirmed (accounts.services.vouch_for_address does the same for new ones)."""

from django.db import migrations


def vouch(apps, schema_editor):  # type: ignore[no-untyped-def]
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    have = set(EmailAddress.objects.values_list("user_id", flat=True))
    taken = {e.lower() for e in EmailAddress.objects.values_list("email", flat=True)}
    rows = []
    for u in User.objects.exclude(email="").only("pk", "email").order_by("pk"):
        if u.pk in have or u.email.lower() in taken:  # one address belongs to one account
            continue
        taken.add(u.email.lower())
        rows.append(EmailAddress(user_id=u.pk, email=u.email, verified=True, primary=True))
    EmailAddress.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_drop_external_identity"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(vouch, migrations.RunPython.noop)]
