from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Written by a Celery worker on beat's schedule: shows operators that workers and beat
    are alive and consuming from the broker."""

    worker = models.CharField(max_length=200)
    beat_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
