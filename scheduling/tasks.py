"""Celery tasks: thin, idempotent, take primary keys, call services."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat


@shared_task(name="scheduling.record_heartbeat")
def record_heartbeat(worker: str = "") -> int:
    from celery import current_task

    hostname = worker or (current_task.request.hostname if current_task else "") or "in-process"
    beat = WorkerHeartbeat.objects.create(worker=hostname)
    # Keep a day of heartbeats; they are operational, not clinical, data.
    WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - timedelta(days=1)).delete()
    return beat.pk
