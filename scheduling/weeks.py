"""Weeks as the weekly email sees them: pure date arithmetic, no database.

A digest belongs to an ISO week (Monday to Sunday) of the team's local calendar, so a job
that fires at Sunday 23:30 or Monday 00:30 local time, or in the week the clocks change,
lands in the week a clinician would name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        # date.fromisocalendar raises ValueError for week 53 of a 52-week year, etc.
        date.fromisocalendar(self.year, self.week, 1)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK.match(text.strip())
        if not match:
            raise ValueError(f"'{text}' is not an ISO week like 2026-W49.")
        try:
            return cls(int(match[1]), int(match[2]))
        except ValueError as exc:
            raise ValueError(f"'{text}' is not a week of {match[1]}.") from exc

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def next(self) -> IsoWeek:
        return IsoWeek.of(self.monday + timedelta(days=7))


def local_date(moment: datetime, time_zone: str) -> date:
    """The calendar date of an aware moment in a team's zone."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(ZoneInfo(time_zone)).date()


def week_of(moment: datetime, time_zone: str) -> IsoWeek:
    return IsoWeek.of(local_date(moment, time_zone))


def is_send_hour(moment: datetime, time_zone: str, weekday: int, hour: int) -> bool:
    """True when `moment`, read on the team's wall clock, falls in the digest's hour
    (weekday 0 = Monday). Wall-clock based, so daylight-saving changes keep 07:00 at 07:00."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return local.weekday() == weekday and local.hour == hour
