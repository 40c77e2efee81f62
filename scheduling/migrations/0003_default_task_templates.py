"""The default task templates (scheduling/defaults.py), shared by every team. Adds missing
codes only, so re-running it (or seed_demo) never overwrites a clinic's edits."""

from django.db import migrations


def install_defaults(apps, schema_editor):
    from scheduling import defaults

    defaults.install(apps.get_model("scheduling", "TaskTemplate"))


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_tasks_meetings_appointments"),
    ]

    operations = [
        migrations.RunPython(install_defaults, migrations.RunPython.noop),
    ]
