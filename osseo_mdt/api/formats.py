"""Output formats of DRF's own fields, for the hand-written read paths (task list, case list,
rehab summary). Each read path has a test comparing its output with DRF's field-by-field one."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone


def iso_datetime(value: datetime | None) -> str | None:
    """As ``serializers.DateTimeField().to_representation`` writes it with the default
    ISO 8601 format: in the current time zone, UTC written as ``Z``. One time-zone lookup
    instead of DRF's several (a case list writes 150 of these)."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
