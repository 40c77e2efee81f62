"""Seeds three example rehabilitation protocols (DOMAIN.md), shared by every team and labelled
as examples: the team reviews the numbers before using them."""

from django.db import migrations

from cases.protocol_examples import EXAMPLES, install


def seed(apps, schema_editor):
    install(apps.get_model("cases", "RehabProtocol"), apps.get_model("cases", "RehabPhase"))


def unseed(apps, schema_editor):
    RehabProtocol = apps.get_model("cases", "RehabProtocol")
    codes = [code for code, *_ in EXAMPLES]
    for protocol in RehabProtocol.objects.filter(team=None, is_example=True, code__in=codes):
        if not protocol.plans.exists():
            protocol.phases.all().delete()
            protocol.delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_rehabilitation")]

    operations = [migrations.RunPython(seed, unseed)]
