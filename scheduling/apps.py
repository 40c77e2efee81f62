from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Tasks and scheduling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to the domain signals of `cases`)
        from .rehab_receivers import on_rehab_flag_raised  # noqa: F401  (tasks for rehab flags)
        from .webhook_receivers import on_task_created  # noqa: F401  (webhook outbox events)
