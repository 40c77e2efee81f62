"""The data generation (osseo_mdt.data_generation): its tables, functions and the triggers on
the tables there are so far; after every migrate the triggers are attached to any table
added since. PostgreSQL only; nothing on SQLite."""

from typing import Any

from django.db import migrations


def install(apps: Any, schema_editor: Any) -> None:
    from osseo_mdt import data_generation

    data_generation.install(using=schema_editor.connection.alias)


def uninstall(apps: Any, schema_editor: Any) -> None:
    from osseo_mdt import data_generation

    data_generation.uninstall(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_service_accounts"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
