"""A follow-up task asking for an outcome set completes once the set is recorded."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cases import services as case_services
from scheduling.models import Task, TaskStatus, TaskTemplate
from tests.scheduling.factories import TaskTemplateFactory, make_case


@pytest.fixture
def outcome_task(staff: Any) -> tuple[Any, Any, Task]:
    case = make_case(staff)
    template: TaskTemplate = TaskTemplateFactory.create(
        role="physiotherapist",
        outcome_time_point="month_3",
        outcome_kinds=["six_minute_walk", "timed_up_and_go"],
    )
    task = Task.objects.create(
        case=case,
        title="3-month outcome measures",
        role="physiotherapist",
        due_date=date(2026, 3, 10),
        template=template,
        anchor="test",
        occurrence=1,
    )
    return staff, case, task


def record(staff: Any, case: Any, kind: str, time_point: str = "month_3") -> None:
    case_services.outcome_measure_record(
        actor=staff.physio,
        case=case,
        kind=kind,
        time_point=time_point,
        measured_on=date(2026, 3, 1),
        value=300 if kind == "six_minute_walk" else 12,
    )


def test_the_task_waits_until_every_measure_of_the_set_is_recorded(outcome_task) -> None:
    staff, case, task = outcome_task
    record(staff, case, "six_minute_walk")
    task.refresh_from_db()
    assert task.status == TaskStatus.REQUESTED
    record(staff, case, "timed_up_and_go")
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert task.completed_by == staff.physio
    assert "month_3" in task.completion_note


def test_measures_of_another_time_point_do_not_complete_it(outcome_task) -> None:
    staff, case, task = outcome_task
    record(staff, case, "six_minute_walk", "month_6")
    record(staff, case, "timed_up_and_go", "month_6")
    task.refresh_from_db()
    assert task.status == TaskStatus.REQUESTED


def test_the_default_follow_up_templates_name_their_outcome_sets(db) -> None:
    from scheduling import defaults

    TaskTemplate.objects.all().delete()
    defaults.install(TaskTemplate)
    three_months = TaskTemplate.objects.get(code="follow-up-3m-outcomes")
    assert three_months.outcome_time_point == "month_3"
    assert "qtfa" in three_months.outcome_kinds
    assert TaskTemplate.objects.get(code="assessment-baseline-outcomes").outcome_time_point == (
        "baseline"
    )
