"""Celery tasks of the clinical record: thin, idempotent, calling services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="cases.missed_sessions_check")
def missed_sessions_check() -> int:
    """The daily job (beat, 06:00): raise missed-sessions flags. Safe to run twice a day: an
    open flag is never raised again."""
    return len(services.missed_sessions_check())
