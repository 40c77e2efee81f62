"""Celery tasks of the clinical record: thin, idempotent, calling services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from knox.models import AuthToken

from . import services


@shared_task(name="cases.missed_sessions_check")
def missed_sessions_check() -> int:
    """The daily job (beat, 06:00): raise missed-sessions flags. Safe to run twice a day: an
    open flag is never raised again."""
    return len(services.missed_sessions_check())


@shared_task(name="cases.sweep_expired_tokens")
def sweep_expired_tokens() -> int:
    """The daily job (beat, 03:30): delete API tokens past their expiry. The token check
    refuses an expired token by itself; this keeps the table to live tokens. Returns how many
    went."""
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
