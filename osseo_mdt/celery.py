"""The Celery app. It reads every CELERY_* setting from Django settings (osseo_mdt.settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osseo_mdt.settings")

app = Celery("osseo_mdt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
