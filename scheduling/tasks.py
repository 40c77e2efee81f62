"""Celery tasks: thin, idempotent, take primary keys, call services."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .digest import DigestSendFailed
from .models import WorkerHeartbeat


@shared_task(name="scheduling.record_heartbeat")
def record_heartbeat(worker: str = "") -> int:
    from celery import current_task

    hostname = worker or (current_task.request.hostname if current_task else "") or "in-process"
    beat = WorkerHeartbeat.objects.create(worker=hostname)
    # Keep a day of heartbeats; they are operational, not clinical, data.
    WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - timedelta(days=1)).delete()
    return beat.pk


@shared_task(name="scheduling.weekly_digest_tick")
def weekly_digest_tick() -> int:
    """Hourly: fan out the weekly email for teams whose local send hour it is."""
    from .digest import digest_tick

    return len(digest_tick())


def retry_delay(attempt: int) -> float:
    """Exponential backoff with full jitter: up to base * 2^(attempt-1) seconds, capped."""
    ceiling = min(settings.DIGEST_RETRY_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0), 3600)
    return random.uniform(ceiling / 2, ceiling)


@shared_task(name="scheduling.send_digest", bind=True, max_retries=None)
def send_digest(self: Any, delivery_id: int) -> str:
    """Send one weekly email; on SMTP failure retry with backoff until the delivery's last
    attempt (DIGEST_MAX_ATTEMPTS), which marks it failed."""
    from .digest import digest_send

    while True:
        try:
            return digest_send(delivery_id)
        except DigestSendFailed as failed:
            if failed.final:
                return "failed"  # recorded on the delivery row, visible in the admin
            if not self.request.is_eager:
                delay = retry_delay(self.request.retries + 1)
                raise self.retry(exc=failed, countdown=delay) from failed
            # In-process (no broker to hold a delayed retry): try again at once.


@shared_task(name="scheduling.sweep_digests")
def sweep_digests() -> int:
    """Re-queue deliveries stuck in `sending` (their worker died mid-send)."""
    from .digest import digest_sweep

    return len(digest_sweep())


# --- Webhooks -----------------------------------------------------------------------------------


@shared_task(name="scheduling.deliver_webhook", bind=True, max_retries=None)
def deliver_webhook(self: Any, delivery_id: int) -> str:
    """One attempt at a webhook delivery; a failure that may pass is retried after its
    backoff (recorded on the delivery as next_attempt_at) until WEBHOOK_MAX_ATTEMPTS."""
    from .webhooks import deliver

    outcome = deliver(delivery_id)
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    # In-process (no broker to hold a delayed retry) the delivery stays pending, due at
    # next_attempt_at, for the sweeper: a web request never waits through the backoff.
    return outcome.status


@shared_task(name="scheduling.emit_overdue_task_events")
def emit_overdue_task_events() -> int:
    """Hourly: task.overdue, once per task and due date, for teams that listen."""
    from .webhooks import emit_overdue_tasks

    return emit_overdue_tasks()


@shared_task(name="scheduling.sweep_webhook_deliveries")
def sweep_webhook_deliveries() -> int:
    """Re-queue webhook deliveries whose job was lost (dead worker, lost retry message)."""
    from .webhooks import sweep

    return len(sweep())
