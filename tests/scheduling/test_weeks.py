"""ISO weeks on the team's wall clock: boundaries, time zones and daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.weeks import IsoWeek, is_send_hour, week_of

LONDON = "Europe/London"


def at(text: str, zone: str = LONDON) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def test_sunday_2330_local_is_still_the_old_week() -> None:
    assert str(week_of(at("2026-12-06T23:30"), LONDON)) == "2026-W49"


def test_monday_0030_local_is_the_new_week() -> None:
    assert str(week_of(at("2026-12-07T00:30"), LONDON)) == "2026-W50"


def test_the_local_calendar_decides_not_utc() -> None:
    # 23:30 UTC on Sunday is already Monday in Berlin.
    sunday_utc = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert str(week_of(sunday_utc, "Europe/Berlin")) == "2026-W50"
    assert str(week_of(sunday_utc, LONDON)) == "2026-W49"


def test_the_week_the_clocks_go_back_is_one_week() -> None:
    # UK clocks go back on Sunday 25 October 2026.
    before = at("2026-10-19T07:00")
    assert str(week_of(before, LONDON)) == "2026-W43"
    assert str(week_of(at("2026-10-25T23:59"), LONDON)) == "2026-W43"
    assert str(week_of(at("2026-10-26T00:00"), LONDON)) == "2026-W44"


def test_seven_oclock_stays_seven_oclock_across_daylight_saving() -> None:
    summer = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)  # 07:00 BST
    winter = datetime(2026, 10, 26, 7, 0, tzinfo=UTC)  # 07:00 GMT
    assert is_send_hour(summer, LONDON, weekday=0, hour=7)
    assert is_send_hour(winter, LONDON, weekday=0, hour=7)
    assert not is_send_hour(datetime(2026, 10, 26, 6, 0, tzinfo=UTC), LONDON, 0, 7)


def test_a_week_parses_and_prints_the_same() -> None:
    assert str(IsoWeek.parse("2026-W49")) == "2026-W49"
    assert IsoWeek.parse("2026-W49").monday.isoformat() == "2026-11-30"
    assert str(IsoWeek.parse("2026-W53").next()) == "2027-W01"


@pytest.mark.parametrize("text", ["2026-49", "2026-W00", "2025-W53", "W49", ""])
def test_a_bad_week_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        IsoWeek.parse(text)


@given(st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2100, 1, 1).date()))
def test_every_day_lies_between_its_weeks_monday_and_sunday(day: date) -> None:
    week = IsoWeek.of(day)
    assert week.monday <= day <= week.sunday
    assert week.monday.weekday() == 0
