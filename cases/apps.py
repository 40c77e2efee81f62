from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Clinical record"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import groups

        # After every app's migrate, so permissions of later apps (scheduling) are there too.
        post_migrate.connect(groups.sync_role_group_permissions, dispatch_uid="role-groups")
        groups.connect_membership_signals()
        from . import rehab_selectors  # noqa: F401  (registers the rehab timeline provider)
