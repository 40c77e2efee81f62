"""The pure generation rules: which occurrences an event calls for and when each is due."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.pathway import Stage, SurgeryKind
from scheduling.generation import (
    MAX_OCCURRENCES,
    MAX_SPAN_DAYS,
    Occurrence,
    RepeatUnit,
    StageEntered,
    SurgeryDated,
    TemplateSpec,
    Trigger,
    add_months,
    due_dates,
    fires,
    is_rehab_start,
    moved,
    plan,
    spec_errors,
)

ANCHOR = date(2026, 3, 2)


def spec(**fields: object) -> TemplateSpec:
    defaults: dict[str, object] = {"template_id": 1, "trigger": Trigger.STAGE_ENTERED}
    defaults["stage"] = (
        Stage.SCREENING
        if fields.get("trigger", Trigger.STAGE_ENTERED) == Trigger.STAGE_ENTERED
        else ""
    )
    return TemplateSpec(**{**defaults, **fields})  # type: ignore[arg-type]


def test_a_stage_template_fires_on_entering_its_stage_only() -> None:
    template = spec(stage=Stage.ASSESSMENT)
    assert fires(template, StageEntered(Stage.SCREENING, Stage.ASSESSMENT, ANCHOR))
    assert not fires(template, StageEntered(Stage.ASSESSMENT, Stage.MDT_REVIEW, ANCHOR))


def test_rehabilitation_starts_only_when_entered_from_a_surgery_stage() -> None:
    assert is_rehab_start(Stage.STAGE1_SURGERY, Stage.REHABILITATION)
    assert is_rehab_start(Stage.STAGE2_SURGERY, Stage.REHABILITATION)
    assert not is_rehab_start(Stage.FOLLOW_UP, Stage.REHABILITATION)  # retraining
    assert not is_rehab_start(Stage.ON_HOLD, Stage.REHABILITATION)
    assert not is_rehab_start(Stage.STAGE1_SURGERY, Stage.INTERSTAGE)


@pytest.mark.parametrize("trigger", [Trigger.REHAB_DAYS, Trigger.REHAB_MONTHS])
def test_rehab_templates_fire_at_the_start_of_rehabilitation(trigger: str) -> None:
    template = spec(trigger=trigger, offset_months=3 if trigger == Trigger.REHAB_MONTHS else 0)
    assert fires(template, StageEntered(Stage.STAGE2_SURGERY, Stage.REHABILITATION, ANCHOR))
    assert not fires(template, StageEntered(Stage.FOLLOW_UP, Stage.REHABILITATION, ANCHOR))
    assert not fires(template, SurgeryDated(SurgeryKind.STAGE2, ANCHOR, performed=True))


def test_a_surgery_template_fires_for_its_kinds_and_its_date_only() -> None:
    performed = spec(trigger=Trigger.SURGERY_PERFORMED, surgery_kinds=frozenset({"stage2"}))
    planned = spec(trigger=Trigger.SURGERY_PLANNED, surgery_kinds=frozenset({"stage2"}))
    done = SurgeryDated(SurgeryKind.STAGE2, ANCHOR, performed=True)
    booked = SurgeryDated(SurgeryKind.STAGE2, ANCHOR, performed=False)
    assert fires(performed, done) and not fires(performed, booked)
    assert fires(planned, booked) and not fires(planned, done)
    assert not fires(performed, SurgeryDated(SurgeryKind.STAGE1, ANCHOR, performed=True))
    assert not fires(performed, StageEntered(Stage.STAGE2_SURGERY, Stage.REHABILITATION, ANCHOR))


def test_a_single_task_is_due_offset_days_after_the_anchor() -> None:
    assert due_dates(spec(offset_days=7), ANCHOR) == [date(2026, 3, 9)]


def test_a_weekly_task_repeats_the_given_number_of_times() -> None:
    weekly = spec(offset_days=7, occurrences=3, repeat_every=1, repeat_unit=RepeatUnit.WEEKS)
    assert due_dates(weekly, ANCHOR) == [date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]


def test_every_n_days_repeats_by_days() -> None:
    every_3 = spec(occurrences=3, repeat_every=3, repeat_unit=RepeatUnit.DAYS)
    assert due_dates(every_3, ANCHOR) == [ANCHOR, date(2026, 3, 5), date(2026, 3, 8)]


def test_months_after_rehabilitation_clamp_to_the_end_of_a_short_month() -> None:
    three_months = spec(trigger=Trigger.REHAB_MONTHS, offset_months=1)
    assert due_dates(three_months, date(2026, 1, 31)) == [date(2026, 2, 28)]


def test_monthly_repeats_are_counted_from_the_anchor_so_they_do_not_drift() -> None:
    yearly = spec(
        trigger=Trigger.REHAB_MONTHS,
        offset_months=1,
        occurrences=3,
        repeat_every=1,
        repeat_unit=RepeatUnit.MONTHS,
    )
    # 31 Jan -> 28 Feb -> 31 Mar (not 28 Mar) -> 30 Apr
    assert due_dates(yearly, date(2026, 1, 31)) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_a_negative_offset_falls_before_a_planned_surgery() -> None:
    pre_op = spec(
        trigger=Trigger.SURGERY_PLANNED, surgery_kinds=frozenset({"stage1"}), offset_days=-14
    )
    assert due_dates(pre_op, ANCHOR) == [date(2026, 2, 16)]


def test_plan_numbers_occurrences_from_one_and_keeps_templates_apart() -> None:
    specs = [
        spec(template_id=1, stage=Stage.ASSESSMENT, offset_days=1),
        spec(template_id=2, stage=Stage.ASSESSMENT, occurrences=2, repeat_every=1),
        spec(template_id=3, stage=Stage.MDT_REVIEW),
    ]
    found = plan(specs, StageEntered(Stage.SCREENING, Stage.ASSESSMENT, ANCHOR))
    assert found == [
        Occurrence(1, 1, date(2026, 3, 3)),
        Occurrence(2, 1, ANCHOR),
        Occurrence(2, 2, date(2026, 3, 9)),
    ]


def test_nothing_falls_due_before_the_referral() -> None:
    pre_op = spec(
        trigger=Trigger.SURGERY_PLANNED, surgery_kinds=frozenset({"stage1"}), offset_days=-30
    )
    event = SurgeryDated(SurgeryKind.STAGE1, ANCHOR, performed=False)
    assert plan([pre_op], event, not_before=date(2026, 2, 20))[0].due == date(2026, 2, 20)


def test_a_task_follows_its_anchor_by_the_same_number_of_days() -> None:
    assert moved(date(2026, 3, 9), ANCHOR, date(2026, 3, 16)) == date(2026, 3, 23)
    earlier = moved(date(2026, 3, 9), ANCHOR, date(2026, 1, 20), not_before=date(2026, 2, 5))
    assert earlier == date(2026, 2, 5)


@pytest.mark.parametrize("occurrences", [0, -1, MAX_OCCURRENCES + 1, 10_000])
def test_a_recurrence_of_zero_or_more_than_520_is_refused_naming_occurrences(
    occurrences: int,
) -> None:
    errors = spec_errors(spec(occurrences=occurrences, repeat_every=1))
    assert "occurrences" in errors
    assert "520" in errors["occurrences"][0]


def test_520_weekly_occurrences_are_allowed() -> None:
    assert spec_errors(spec(occurrences=MAX_OCCURRENCES, repeat_every=1)) == {}


def test_a_repeating_template_needs_an_interval() -> None:
    assert "repeat_every" in spec_errors(spec(occurrences=2))
    assert "repeat_every" in spec_errors(spec(occurrences=2, repeat_every=0))


def test_each_trigger_names_what_it_needs() -> None:
    assert "stage" in spec_errors(spec(stage=""))
    assert "stage" in spec_errors(spec(stage="nowhere"))
    assert "surgery_kinds" in spec_errors(spec(trigger=Trigger.SURGERY_PERFORMED))
    assert "surgery_kinds" in spec_errors(
        spec(trigger=Trigger.SURGERY_PERFORMED, surgery_kinds=frozenset({"transplant"}))
    )
    assert "offset_months" in spec_errors(spec(trigger=Trigger.REHAB_MONTHS))
    assert "offset_months" in spec_errors(spec(offset_months=3))
    assert "offset_days" in spec_errors(spec(offset_days=-1))
    assert "trigger" in spec_errors(spec(trigger="moon_phase"))


def test_a_template_whose_last_occurrence_is_decades_away_is_refused() -> None:
    errors = spec_errors(
        spec(
            trigger=Trigger.REHAB_MONTHS,
            offset_months=12,
            occurrences=520,
            repeat_every=12,
            repeat_unit=RepeatUnit.MONTHS,
        )
    )
    assert "repeat_every" in errors


@st.composite
def valid_specs(draw: st.DrawFn) -> TemplateSpec:
    """Any template the rules accept, built field by field for its trigger."""
    trigger = draw(st.sampled_from(list(Trigger)))
    occurrences = draw(st.integers(1, 30) | st.just(MAX_OCCURRENCES))
    unit = draw(st.sampled_from(list(RepeatUnit)))
    if occurrences == MAX_OCCURRENCES:  # ten years of weekly tasks, the longest series
        unit = draw(st.sampled_from([RepeatUnit.DAYS, RepeatUnit.WEEKS]))
    every = draw(st.integers(1, 1 if occurrences == MAX_OCCURRENCES else 6))
    template = TemplateSpec(
        template_id=draw(st.integers(1, 50)),
        trigger=trigger,
        stage=draw(st.sampled_from(Stage.values)) if trigger == Trigger.STAGE_ENTERED else "",
        surgery_kinds=draw(st.frozensets(st.sampled_from(SurgeryKind.values), min_size=1))
        if trigger in (Trigger.SURGERY_PLANNED, Trigger.SURGERY_PERFORMED)
        else frozenset(),
        offset_days=draw(
            st.integers(-400, 400) if trigger == Trigger.SURGERY_PLANNED else st.integers(0, 400)
        ),
        offset_months=draw(st.integers(1, 60)) if trigger == Trigger.REHAB_MONTHS else 0,
        occurrences=occurrences,
        repeat_every=every if occurrences > 1 else draw(st.none() | st.just(every)),
        repeat_unit=unit,
    )
    assert spec_errors(template) == {}, spec_errors(template)
    return template


anchors = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))


@given(valid_specs(), anchors)
def test_every_valid_template_gives_its_occurrences_in_order_within_the_span(
    template: TemplateSpec, anchor: date
) -> None:
    dates = due_dates(template, anchor)
    assert len(dates) == template.occurrences
    assert dates == sorted(dates)
    assert all(abs((d - anchor).days) <= MAX_SPAN_DAYS for d in dates)


@given(valid_specs(), anchors, st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 1, 1)))
def test_no_planned_occurrence_falls_before_the_referral(
    template: TemplateSpec, anchor: date, referral: date
) -> None:
    events: list[StageEntered | SurgeryDated] = [
        StageEntered(Stage.SCREENING, template.stage or Stage.ASSESSMENT, anchor),
        StageEntered(Stage.STAGE1_SURGERY, Stage.REHABILITATION, anchor),
        *[
            SurgeryDated(k, anchor, performed=p)
            for k in template.surgery_kinds
            for p in (True, False)
        ],
    ]
    for event in events:
        found = plan([template], event, not_before=referral)
        assert all(o.due >= referral for o in found)
        assert [o.occurrence for o in found] == list(range(1, len(found) + 1))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2080, 1, 1)), st.integers(0, 600))
def test_adding_months_keeps_the_day_or_the_month_end(day: date, months: int) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result + timedelta(days=1)).month != result.month


@given(anchors, anchors, st.integers(-100, 100))
def test_moving_an_anchor_there_and_back_restores_the_due_date(
    old: date, new: date, offset: int
) -> None:
    due = old + timedelta(days=offset)
    assert moved(moved(due, old, new), new, old) == due
