"""One Django group per staff role. Their permissions are applied by
cases.groups.sync_role_group_permissions after each migrate."""

from django.db import migrations

ROLE_GROUPS = [
    "Role: Surgeon",
    "Role: Prosthetist",
    "Role: Physiotherapist",
    "Role: Nurse (stoma care)",
    "Role: Coordinator",
    "Role: Psychologist",
    "Role: Rehabilitation physician",
]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
