"""A listing's clock moves to the pact: the due date lives on the pact's State-side commitment.

Forward: the listing points to its commitment; its own ``due_on`` and ``late`` go. Open listings
that existed before get their commitment from the next daily run (``channels.listings`` adopts a
listing without one, with the journal event). Backward: ``due_on`` comes back filled from the
commitment (or, without one, from the day the condition was met plus the channel's delay), and
``late`` from the listing date against it.
"""

import datetime

import django.db.models.deletion
from django.db import migrations, models


def restore_clock(apps, schema_editor):  # type: ignore[no-untyped-def]
    listing_model = apps.get_model("channels", "ChannelListing")
    for listing in listing_model.objects.select_related("commitment", "channel"):
        if listing.commitment is not None and listing.commitment.due_date is not None:
            due = listing.commitment.due_date
        else:
            due = listing.eligible_on + datetime.timedelta(days=listing.channel.listing_delay_days)
        end = listing.listed_on or listing.removed_on or datetime.date.today()
        listing.due_on = due
        listing.late = end > due
        listing.save(update_fields=["due_on", "late"])


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0001_initial"),
        ("pacts", "0002_alter_commitment_evidence_url"),
    ]

    operations = [
        migrations.AddField(
            model_name="channellisting",
            name="commitment",
            field=models.ForeignKey(
                blank=True,
                help_text="the pact's State-side commitment to list the service by its due date",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="pacts.commitment",
            ),
        ),
        migrations.AlterField(
            model_name="channellisting", name="due_on", field=models.DateField(null=True)
        ),
        migrations.RunPython(migrations.RunPython.noop, restore_clock),
        migrations.RemoveField(model_name="channellisting", name="due_on"),
        migrations.RemoveField(model_name="channellisting", name="late"),
    ]
