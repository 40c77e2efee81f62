"""Rehabilitation rules: target loads day by day, pain-gate holds, and session flags."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.rehab import (
    FlagKind,
    FlagThresholds,
    PhaseSpec,
    SessionFacts,
    effective_plan_day,
    missed_sessions,
    phase_for_day,
    plan_series,
    session_flags,
    target_load_kg,
)

# Radboudumc's standard protocol (DOMAIN.md): from day 3 static loading rising to 50% body
# weight by day 10; days 11-34 walking at 50% in bars, then with aids; full weight bearing
# reached over days 35-41.
STANDARD_6_WEEKS = (
    PhaseSpec("post-operative rest", 3, 0, 0, 0, "wheelchair"),
    PhaseSpec("static axial loading", 8, 10, 50, 3, "none (static)"),
    PhaseSpec("walking at half load", 24, 50, 50, 3, "parallel bars, then two crutches"),
    PhaseSpec("to full weight bearing", 7, 50, 100, 3, "two crutches, weaned while NRS < 5"),
)
# The slow protocol for short or weak bone: at most 50% for the first 6 weeks.
SLOW_12_WEEKS = (
    PhaseSpec("post-operative rest", 3, 0, 0, 0, "wheelchair"),
    PhaseSpec("static axial loading", 8, 10, 50, 3, "none (static)"),
    PhaseSpec("half load", 31, 50, 50, 3, "parallel bars, then two crutches"),
    PhaseSpec("to full weight bearing", 42, 50, 100, 3, "two crutches"),
)


# Worked examples.


@pytest.mark.parametrize(
    ("day", "kg"),
    [
        (0, 0.0),
        (2, 0.0),
        (3, 8.0),  # 10% of 80 kg on the first loading day
        (7, 26.3),  # 10 + 40 * 4/7 = 32.86% -> 26.29 kg
        (10, 40.0),  # 50% body weight by day 10
        (11, 40.0),
        (34, 40.0),
        (35, 40.0),
        (38, 60.0),
        (41, 80.0),  # full weight bearing at six weeks
        (365, 80.0),
    ],
)
def test_the_standard_protocol_gives_the_published_loads(day, kg):
    assert target_load_kg(STANDARD_6_WEEKS, 80, day) == kg


def test_the_slow_protocol_stays_at_half_body_weight_for_six_weeks():
    first_six_weeks = [target_load_kg(SLOW_12_WEEKS, 70, day) for day in range(42)]
    assert max(first_six_weeks) == 35.0
    assert target_load_kg(SLOW_12_WEEKS, 70, 10) == 35.0
    assert target_load_kg(SLOW_12_WEEKS, 70, 83) == 70.0


def test_a_day_held_by_the_pain_gate_does_not_advance_the_plan():
    held = {7}
    assert target_load_kg(STANDARD_6_WEEKS, 80, 7, held) == 26.3
    assert target_load_kg(STANDARD_6_WEEKS, 80, 8, held) == 26.3
    assert target_load_kg(STANDARD_6_WEEKS, 80, 11, held) == 40.0
    assert target_load_kg(STANDARD_6_WEEKS, 80, 42, held) == 80.0
    assert target_load_kg(STANDARD_6_WEEKS, 80, 41, held) == target_load_kg(
        STANDARD_6_WEEKS, 80, 40
    )


def test_three_held_days_put_half_body_weight_back_to_day_13():
    held = {4, 5, 9}
    assert target_load_kg(STANDARD_6_WEEKS, 80, 12, held) < 40.0
    assert target_load_kg(STANDARD_6_WEEKS, 80, 13, held) == 40.0


def test_held_days_after_the_day_asked_about_change_nothing():
    assert target_load_kg(STANDARD_6_WEEKS, 80, 7, {7, 8, 20}) == 26.3


def test_a_held_day_counted_twice_counts_once():
    assert target_load_kg(STANDARD_6_WEEKS, 80, 8, [7, 7]) == 26.3


def test_the_load_cap_limits_the_target():
    assert target_load_kg(STANDARD_6_WEEKS, 80, 41, load_cap_kg=50) == 50.0
    assert target_load_kg(STANDARD_6_WEEKS, 80, 10, load_cap_kg=50) == 40.0


def test_the_target_never_exceeds_body_weight_even_if_a_phase_asks_for_more():
    overreaching = (PhaseSpec("overreach", 2, 100, 150, 3, "none"),)
    assert target_load_kg(overreaching, 72.5, 1) == 72.5


def test_no_load_is_prescribed_before_the_plan_starts():
    assert target_load_kg(STANDARD_6_WEEKS, 80, -1) == 0.0


def test_a_one_day_phase_asks_for_its_end_load():
    phases = (PhaseSpec("step", 1, 20, 30, 3, "bars"), PhaseSpec("hold", 5, 30, 30, 3, "bars"))
    assert target_load_kg(phases, 100, 0) == 30.0


def test_a_phase_may_lower_the_load():
    phases = (PhaseSpec("down", 3, 60, 40, 2, "crutches"),)
    assert [target_load_kg(phases, 50, day) for day in range(4)] == [30.0, 25.0, 20.0, 20.0]


def test_targets_are_rounded_to_a_tenth_of_a_kilogram():
    phases = (PhaseSpec("odd", 1, 33.333, 33.333, 1, "none"),)
    assert target_load_kg(phases, 77.7, 0) == 25.9


def test_rounding_never_lifts_the_target_over_the_cap():
    phases = (PhaseSpec("full", 1, 100, 100, 1, "none"),)
    assert target_load_kg(phases, 80, 0, load_cap_kg=33.36) == 33.3


@pytest.mark.parametrize(
    ("body_weight_kg", "cap"),
    [(0, None), (-70, None), (70, -1)],
)
def test_it_rejects_an_impossible_body_weight_or_cap(body_weight_kg, cap):
    with pytest.raises(ValueError):
        target_load_kg(STANDARD_6_WEEKS, body_weight_kg, 5, load_cap_kg=cap)


def test_it_rejects_a_protocol_without_phases():
    with pytest.raises(ValueError, match="at least one phase"):
        target_load_kg((), 80, 5)


@pytest.mark.parametrize(
    "arguments",
    [
        ("none", 0, 0, 10, 1, "bars"),
        ("negative", 3, -5, 10, 1, "bars"),
        ("negative", 3, 5, -10, 1, "bars"),
        ("sessions", 3, 5, 10, -1, "bars"),
    ],
)
def test_a_phase_must_make_sense(arguments):
    with pytest.raises(ValueError):
        PhaseSpec(*arguments)


def test_it_names_the_phase_and_the_day_within_it():
    assert phase_for_day(STANDARD_6_WEEKS, 0) == (STANDARD_6_WEEKS[0], 0)
    assert phase_for_day(STANDARD_6_WEEKS, 12) == (STANDARD_6_WEEKS[2], 1)
    assert phase_for_day(STANDARD_6_WEEKS, 500) == (STANDARD_6_WEEKS[3], 6)
    assert phase_for_day(STANDARD_6_WEEKS, -1) is None


def test_the_effective_plan_day_ignores_held_days_before_the_plan_and_from_today_on():
    assert effective_plan_day(10, {-3, 2, 5, 10, 12}) == 8


def test_the_series_for_charting_follows_the_calendar_and_its_holds():
    start = date(2025, 3, 3)
    series = plan_series(
        STANDARD_6_WEEKS, 80, start, start + timedelta(days=12), held_days={date(2025, 3, 10)}
    )
    assert series[0] == (start, 0.0)
    assert series[-1] == (date(2025, 3, 15), 40.0)
    assert len(series) == 13
    assert series[7] == (date(2025, 3, 10), 26.3)
    assert series[8] == (date(2025, 3, 11), 26.3)


def test_the_series_is_empty_when_it_ends_before_it_starts():
    assert plan_series(STANDARD_6_WEEKS, 80, date(2025, 3, 3), date(2025, 3, 2)) == []


# Properties.

percentages = st.floats(min_value=0, max_value=200, allow_nan=False)
phase_lists = st.lists(
    st.builds(
        PhaseSpec,
        name=st.just("phase"),
        length_days=st.integers(min_value=1, max_value=30),
        start_load_pct=percentages,
        end_load_pct=percentages,
        sessions_per_day=st.integers(min_value=0, max_value=4),
        walking_aid=st.just("crutches"),
    ),
    min_size=1,
    max_size=6,
)


@st.composite
def monotone_phase_lists(draw: st.DrawFn) -> list[PhaseSpec]:
    count = draw(st.integers(min_value=1, max_value=6))
    levels = sorted(
        draw(st.lists(percentages, min_size=2 * count, max_size=2 * count)),
    )
    lengths = draw(st.lists(st.integers(1, 30), min_size=count, max_size=count))
    return [
        PhaseSpec("phase", length, levels[2 * i], levels[2 * i + 1], 3, "bars")
        for i, length in enumerate(lengths)
    ]


body_weights = st.floats(min_value=20, max_value=250, allow_nan=False)
caps = st.none() | st.floats(min_value=0, max_value=300, allow_nan=False)
days = st.integers(min_value=-5, max_value=250)
held_day_sets = st.sets(st.integers(min_value=-5, max_value=250), max_size=40)


@given(phase_lists, body_weights, days, held_day_sets, caps)
def test_a_target_never_exceeds_the_cap_or_body_weight(phases, weight, day, held, cap):
    target = target_load_kg(phases, weight, day, held, cap)
    assert 0 <= target <= weight
    if cap is not None:
        assert target <= cap


@given(phase_lists, body_weights, days, held_day_sets, caps)
def test_a_target_is_a_whole_number_of_tenths_of_a_kilogram(phases, weight, day, held, cap):
    target = target_load_kg(phases, weight, day, held, cap)
    assert round(target, 1) == target


@given(monotone_phase_lists(), body_weights, days, held_day_sets, caps)
def test_a_rising_protocol_never_lowers_the_target(phases, weight, day, held, cap):
    today = target_load_kg(phases, weight, day, held, cap)
    assert target_load_kg(phases, weight, day + 1, held, cap) >= today


@given(monotone_phase_lists(), body_weights, days, caps)
def test_a_rising_protocol_never_lowers_the_target_without_holds(phases, weight, day, cap):
    today = target_load_kg(phases, weight, day, load_cap_kg=cap)
    assert target_load_kg(phases, weight, day + 1, load_cap_kg=cap) >= today


@given(phase_lists, body_weights, st.integers(0, 250), held_day_sets, caps)
def test_holds_delay_the_plan_by_exactly_the_held_days(phases, weight, day, held, cap):
    held_before = len([held_day for held_day in held if 0 <= held_day < day])
    delayed = target_load_kg(phases, weight, day - held_before, load_cap_kg=cap)
    assert target_load_kg(phases, weight, day, held, cap) == delayed


@given(phase_lists, body_weights, st.integers(0, 250), held_day_sets, caps)
def test_the_day_after_a_held_day_has_the_held_days_target(phases, weight, day, held, cap):
    held = held | {day}
    on_held_day = target_load_kg(phases, weight, day, held, cap)
    assert target_load_kg(phases, weight, day + 1, held, cap) == on_held_day


@given(phase_lists, body_weights, st.integers(0, 60), st.sets(st.integers(0, 60)), caps)
def test_the_series_matches_the_day_by_day_targets(phases, weight, length, held, cap):
    start = date(2025, 1, 1)
    held_dates = {start + timedelta(days=held_day) for held_day in held}
    series = plan_series(phases, weight, start, start + timedelta(days=length), held_dates, cap)
    assert series == [
        (start + timedelta(days=day), target_load_kg(phases, weight, day, held, cap))
        for day in range(length + 1)
    ]


# Session flags.


def test_a_quiet_session_raises_no_flag():
    facts = SessionFacts(40, 2, 3, frozenset({"clean"}))
    assert session_flags(facts, 40) == []


@pytest.mark.parametrize(
    ("load_kg", "target_kg", "flagged"),
    [
        (44.0, 40, False),  # exactly 10% over
        (44.1, 40, True),
        (55.0, 50, False),  # 50 * 1.1 is 55.00000000000001 in floating point
        (55.1, 50, True),
        (30.0, 40, False),
        (0.1, 0, True),
    ],
)
def test_a_load_more_than_10_percent_over_target_is_an_overload(load_kg, target_kg, flagged):
    flags = session_flags(SessionFacts(load_kg=load_kg), target_kg)
    assert (FlagKind.OVERLOAD in flags) is flagged


def test_without_a_load_or_a_target_there_is_no_overload():
    assert session_flags(SessionFacts(load_kg=None), 40) == []
    assert session_flags(SessionFacts(load_kg=90), None) == []


def test_a_clinic_may_tune_the_overload_tolerance():
    strict = FlagThresholds(overload_tolerance=0.0)
    assert session_flags(SessionFacts(load_kg=40.5), 40, strict) == [FlagKind.OVERLOAD]


@pytest.mark.parametrize(
    ("before", "after", "flagged"),
    [
        (4, 4, False),
        (4, 5, True),
        (5, 2, True),
        (None, 6, True),
        (7, None, True),
        (None, None, False),
        (0, 0, False),
    ],
)
def test_pain_at_or_above_nrs_5_closes_the_pain_gate(before, after, flagged):
    flags = session_flags(SessionFacts(pain_nrs_before=before, pain_nrs_after=after), None)
    assert (FlagKind.PAIN_GATE in flags) is flagged


def test_a_clinic_may_tune_the_pain_gate():
    facts = SessionFacts(pain_nrs_after=6)
    assert session_flags(facts, None, FlagThresholds(pain_gate_nrs=7)) == []


@pytest.mark.parametrize(
    ("findings", "flagged"),
    [
        (set(), False),
        ({"clean"}, False),
        ({"discharge"}, False),
        ({"redness"}, False),
        ({"hypergranulation"}, False),
        ({"discharge", "hypergranulation"}, False),
        ({"discharge", "redness"}, True),
        ({"suspected_infection"}, True),
        ({"hypergranulation", "suspected_infection"}, True),
    ],
)
def test_a_stoma_concern_is_suspected_infection_or_discharge_with_redness(findings, flagged):
    flags = session_flags(SessionFacts(stoma_findings=frozenset(findings)), None)
    assert (FlagKind.STOMA_CONCERN in flags) is flagged


def test_a_session_may_raise_several_flags_in_a_fixed_order():
    facts = SessionFacts(60, 3, 8, frozenset({"suspected_infection"}))
    assert session_flags(facts, 40) == [
        FlagKind.OVERLOAD,
        FlagKind.PAIN_GATE,
        FlagKind.STOMA_CONCERN,
    ]


@pytest.mark.parametrize(
    "facts",
    [
        {"pain_nrs_before": 11},
        {"pain_nrs_after": -1},
        {"stoma_findings": frozenset({"oozing"})},
        {"load_kg": -2.0},
    ],
)
def test_it_rejects_impossible_session_facts(facts):
    with pytest.raises(ValueError):
        SessionFacts(**facts)


@pytest.mark.parametrize(("days", "flagged"), [(0, False), (2, False), (3, True), (10, True)])
def test_three_days_without_a_session_are_missed_sessions(days, flagged):
    assert missed_sessions(days) is flagged


def test_a_clinic_may_tune_the_missed_session_days():
    assert missed_sessions(3, FlagThresholds(missed_session_days=5)) is False
    assert missed_sessions(5, FlagThresholds(missed_session_days=5)) is True


def test_the_flag_kinds_are_the_four_the_digest_shows():
    assert list(FlagKind.values) == ["overload", "pain_gate", "stoma_concern", "missed_sessions"]
