"""Accent- and case-insensitive project search: a folded search column, filled for existing rows."""

from django.db import migrations, models


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from pacte.projects.models import folded

    Project = apps.get_model("projects", "Project")
    for p in Project.objects.select_related("carrier"):
        text = " ".join([p.name, p.pitch, p.territory, p.carrier.name])
        Project.objects.filter(pk=p.pk).update(search_text=folded(text))


class Migration(migrations.Migration):
    dependencies = [("projects", "0002_alter_project_repository_alter_project_website")]

    operations = [
        migrations.AddField(
            model_name="project",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
