"""Issue 13 (assisted use): a post a mediator makes for a person without an account has no
author until the person claims it. Reversible: going back deletes the posts without an author
(the previous schema requires one)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _drop_authorless_posts(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("comptoirs", "Post").objects.filter(author__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("comptoirs", "0002_contact_role_choices"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="contact_email",
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AddField(
            model_name="post",
            name="with_mediator",
            field=models.BooleanField(
                default=False, verbose_name="déposé avec l'aide d'un médiateur"
            ),
        ),
        migrations.AlterField(
            model_name="post",
            name="author",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="comptoir_posts",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        # backwards, this runs first: the author can only become required again without them
        migrations.RunPython(migrations.RunPython.noop, _drop_authorless_posts),
    ]
