"""Counting days without a session: rest phases expect none, the first expected day counts."""

from datetime import date, timedelta

import pytest

from cases.rehab import (
    PhaseSpec,
    days_without_session,
    first_session_day,
    missed_sessions,
    protocol_length_days,
)

REST_THEN_LOADING = (
    PhaseSpec("rest", 3, 0, 0, 0, "wheelchair"),
    PhaseSpec("loading", 10, 10, 50, 3, "none"),
)
START = date(2025, 3, 3)


def test_sessions_are_first_expected_after_the_rest_phases() -> None:
    assert first_session_day(REST_THEN_LOADING) == 3
    assert first_session_day((PhaseSpec("rest", 5, 0, 0, 0, "bed"),)) == 5
    assert protocol_length_days(REST_THEN_LOADING) == 13


@pytest.mark.parametrize(
    ("today_day", "last_day", "days"),
    [
        (0, None, 0),  # resting
        (2, None, 0),
        (3, None, 1),  # the first loading day without a session counts
        (5, None, 3),
        (6, 5, 1),
        (9, 5, 4),
        (5, 1, 3),  # a session during rest does not push the count before loading began
    ],
)
def test_days_without_a_session(today_day: int, last_day: int | None, days: int) -> None:
    last = None if last_day is None else START + timedelta(days=last_day)
    today = START + timedelta(days=today_day)
    assert days_without_session(REST_THEN_LOADING, START, last, today) == days


def test_three_days_into_loading_without_a_session_are_missed() -> None:
    today = START + timedelta(days=5)
    assert missed_sessions(days_without_session(REST_THEN_LOADING, START, None, today))
