"""The hand-written read paths format dates and times exactly as DRF's fields do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from django.utils import timezone as dj_timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

from osseo_mdt.api.formats import iso_date, iso_datetime

DRF = serializers.DateTimeField()
ZONES = st.sampled_from(["UTC", "Europe/London", "Europe/Berlin", "America/Toronto"])
OFFSETS = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(
    moment=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),
    offset=st.one_of(st.none(), OFFSETS),
    zone=ZONES,
)
def test_iso_datetime_writes_what_drf_writes(moment: datetime, offset: object, zone: str) -> None:
    value = moment if offset is None else moment.replace(tzinfo=offset)  # type: ignore[arg-type]
    with dj_timezone.override(zone):
        assert iso_datetime(value) == DRF.to_representation(value)


def test_utc_is_written_with_z_and_none_stays_none() -> None:
    with dj_timezone.override("UTC"):
        assert iso_datetime(datetime(2026, 6, 1, 12, 0, tzinfo=UTC)) == "2026-06-01T12:00:00Z"
    with dj_timezone.override("Europe/London"):
        summer = iso_datetime(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
        assert summer == "2026-06-01T13:00:00+01:00"
    assert iso_datetime(None) is None
    assert iso_date(None) is None
