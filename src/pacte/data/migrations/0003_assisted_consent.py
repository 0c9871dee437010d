"""Issue 13 (assisted use): a consent recorded by a mediator has no user until the person claims
it. Reversible: going back deletes the consents no account holds (the old schema cannot keep a
consent without its person), then makes the column required again."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _drop_userless_consents(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("data", "Consent").objects.filter(user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0002_person_unit_profile"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="consent",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="data_consents",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        # backwards, this runs first: the column can only become NOT NULL again without them
        migrations.RunPython(migrations.RunPython.noop, _drop_userless_consents),
    ]
