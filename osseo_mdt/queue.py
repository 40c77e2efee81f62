"""Queue Celery jobs after the transaction commits, without letting a broker outage undo or
fail the write: the job's own row (a digest delivery, a webhook delivery) stays pending and
a periodic sweeper queues it again once the broker answers."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)


def _send(task: Any, *args: int) -> None:
    try:
        task.delay(*args)
    except (BrokerUnavailable, ConnectionError, OSError) as exc:
        logger.warning(
            "broker unavailable, %s%s left for the sweeper: %s", task.name, args, type(exc).__name__
        )


def enqueue_on_commit(task: Any, *args: int) -> None:
    """Send `task(*args)` (primary keys only) once the current transaction commits."""
    transaction.on_commit(partial(_send, task, *args))
