from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Clinical record"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate, post_save

        from . import groups

        # After every app's migrate, so permissions of later apps (scheduling) are there too.
        post_migrate.connect(groups.sync_role_group_permissions, dispatch_uid="role-groups")
        # The triggers that keep the data generation (osseo_mdt.api.cache), on every table
        # of the watched apps, also those a later migration adds.
        from osseo_mdt import data_generation

        post_migrate.connect(
            data_generation.install_after_migrate, sender=self, dispatch_uid="data-generation"
        )
        groups.connect_membership_signals()
        from . import rehab_selectors  # also registers the rehab timeline provider
        from .models import RehabPhase, RehabProtocol

        for model in (RehabPhase, RehabProtocol):
            for signal in (post_save, post_delete):
                signal.connect(
                    rehab_selectors.forget_plan_phases,
                    sender=model,
                    dispatch_uid=f"forget-plan-phases-{model.__name__}-{signal is post_save}",
                )
