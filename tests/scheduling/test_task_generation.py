"""Generated tasks: every trigger, idempotency, re-entry, rescheduling and leaving the pathway.
Cases are moved through the cases services, so the pathway's signals fire for real."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import transaction

from cases import services as case_services
from cases.models import StageTransition
from scheduling import receivers, services
from scheduling.models import Task, TaskStatus, TaskTemplate, Trigger
from tests.scheduling.factories import (
    REFERRAL,
    Staff,
    TaskTemplateFactory,
    make_case,
    move,
    to_mdt_review,
    to_rehabilitation,
)

pytestmark = pytest.mark.django_db


def generated(case: Any, **filters: Any) -> list[Task]:
    return list(
        Task.objects.filter(case=case, template__isnull=False, **filters).order_by("due_date", "id")
    )


# --- Every trigger kind -----------------------------------------------------------------------


def test_entering_a_stage_creates_its_tasks_due_offset_days_after_the_move(staff: Staff) -> None:
    template = TaskTemplateFactory.create(stage="screening", role="coordinator", offset_days=7)
    case = move(staff, make_case(staff), "screening", on=date(2026, 2, 20))
    [task] = generated(case)
    assert (task.template, task.occurrence, task.role) == (template, 1, "coordinator")
    assert task.due_date == date(2026, 2, 27)
    assert task.status == TaskStatus.REQUESTED
    assert task.assignee is None and task.created_by is None


def test_a_planned_surgery_creates_tasks_before_its_date(staff: Staff) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PLANNED,
        stage="",
        surgery_kinds=["single_stage"],
        offset_days=-14,
        role="nurse",
    )
    case = make_case(staff)
    case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", planned_date=date(2026, 4, 20)
    )
    [task] = generated(case)
    assert (task.role, task.due_date) == ("nurse", date(2026, 4, 6))


def test_a_performed_surgery_of_a_listed_kind_creates_tasks(staff: Staff) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PERFORMED,
        stage="",
        surgery_kinds=["single_stage", "stage2"],
        offset_days=2,
        role="nurse",
        title="Stoma-care teaching",
    )
    case = make_case(staff)
    case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="debridement", performed_date=date(2026, 2, 1)
    )
    assert generated(case) == []
    case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", performed_date=date(2026, 2, 10)
    )
    [task] = generated(case)
    assert (task.title, task.due_date) == ("Stoma-care teaching", date(2026, 2, 12))


def test_a_planned_surgery_later_recorded_as_performed_creates_the_performed_tasks(
    staff: Staff,
) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PERFORMED, stage="", surgery_kinds=["single_stage"], offset_days=7
    )
    case = make_case(staff)
    surgery = case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", planned_date=date(2026, 2, 16)
    )
    assert generated(case) == []
    case_services.surgery_update(
        actor=staff.surgeon, surgery=surgery, performed_date=date(2026, 2, 17)
    )
    assert [t.due_date for t in generated(case)] == [date(2026, 2, 24)]


def test_the_start_of_rehabilitation_creates_the_weekly_reviews(staff: Staff) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.REHAB_DAYS,
        stage="",
        offset_days=7,
        occurrences=3,
        repeat_every=1,
        repeat_unit="weeks",
        role="physiotherapist",
    )
    case = to_rehabilitation(staff, make_case(staff), date(2026, 2, 9), date(2026, 2, 16))
    tasks = generated(case)
    assert [t.due_date for t in tasks] == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)]
    assert [t.occurrence for t in tasks] == [1, 2, 3]
    assert {t.role for t in tasks} == {"physiotherapist"}


def test_follow_up_reviews_fall_months_after_rehabilitation_starts(staff: Staff) -> None:
    for months in (3, 6, 12, 24):
        TaskTemplateFactory.create(
            trigger=Trigger.REHAB_MONTHS,
            stage="",
            offset_months=months,
            offset_days=0,
            role="surgeon",
        )
    case = to_rehabilitation(staff, make_case(staff), date(2026, 1, 26), date(2026, 1, 31))
    assert [t.due_date for t in generated(case)] == [
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2027, 1, 31),
        date(2028, 1, 31),
    ]


def test_coming_back_from_follow_up_for_retraining_does_not_restart_the_reviews(
    staff: Staff,
) -> None:
    TaskTemplateFactory.create(trigger=Trigger.REHAB_MONTHS, stage="", offset_months=3)
    case = to_rehabilitation(staff, make_case(staff), date(2026, 1, 26), date(2026, 1, 31))
    case = move(staff, case, "follow_up", "rehabilitation")
    assert len(generated(case)) == 1


def test_a_switched_off_template_creates_nothing(staff: Staff) -> None:
    TaskTemplateFactory.create(stage="screening", is_active=False)
    case = move(staff, make_case(staff), "screening")
    assert generated(case) == []


def test_another_teams_template_creates_nothing_here(staff: Staff) -> None:
    from tests.factories import TeamFactory

    TaskTemplateFactory.create(stage="screening", team=TeamFactory.create())
    case = move(staff, make_case(staff), "screening")
    assert generated(case) == []


def test_a_team_template_with_a_shared_code_replaces_the_shared_one(staff: Staff) -> None:
    TaskTemplateFactory.create(code="prescreen", stage="screening", title="Shared wording")
    TaskTemplateFactory.create(
        code="prescreen", stage="screening", title="Our wording", team=staff.team
    )
    case = move(staff, make_case(staff), "screening")
    assert [t.title for t in generated(case)] == ["Our wording"]


def test_a_team_can_switch_off_a_shared_template_for_itself_only(staff: Staff) -> None:
    TaskTemplateFactory.create(code="prescreen", stage="screening")
    TaskTemplateFactory.create(
        code="prescreen", stage="screening", team=staff.team, is_active=False
    )
    case = move(staff, make_case(staff), "screening")
    assert generated(case) == []


def test_no_generated_task_falls_due_before_the_referral(staff: Staff) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PLANNED, stage="", surgery_kinds=["single_stage"], offset_days=-60
    )
    case = make_case(staff, referral_date=date(2026, 2, 1))
    case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", planned_date=date(2026, 3, 2)
    )
    assert [t.due_date for t in generated(case)] == [date(2026, 2, 1)]


# --- Idempotency ------------------------------------------------------------------------------


def test_firing_a_stage_trigger_twice_makes_one_set_of_tasks(staff: Staff) -> None:
    TaskTemplateFactory.create(stage="screening", occurrences=2, repeat_every=1)
    case = move(staff, make_case(staff), "screening")
    transition = StageTransition.objects.get(case=case, to_stage="screening")
    receivers.on_case_stage_changed(None, case=case, transition=transition, actor=staff.coordinator)
    assert services.tasks_generate_for_transition(transition=transition) == 0
    assert len(generated(case)) == 2


def test_firing_a_surgery_trigger_twice_makes_one_task(staff: Staff) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PERFORMED, stage="", surgery_kinds=["single_stage"]
    )
    case = make_case(staff)
    surgery = case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", performed_date=date(2026, 2, 10)
    )
    receivers.on_surgery_recorded(None, surgery=surgery, actor=staff.surgeon)
    services.tasks_generate_for_surgery(surgery=surgery)
    assert len(generated(case)) == 1


def test_firing_the_rehab_trigger_twice_makes_one_set_of_tasks(staff: Staff) -> None:
    TaskTemplateFactory.create(trigger=Trigger.REHAB_MONTHS, stage="", offset_months=3)
    TaskTemplateFactory.create(trigger=Trigger.REHAB_DAYS, stage="", offset_days=7)
    case = to_rehabilitation(staff, make_case(staff), date(2026, 2, 9), date(2026, 2, 16))
    start = StageTransition.objects.get(case=case, to_stage="rehabilitation")
    services.tasks_generate_for_transition(transition=start)
    services.tasks_generate_for_case(case=case)
    assert len(generated(case)) == 2


def test_regenerating_a_whole_case_adds_nothing_twice(staff: Staff) -> None:
    TaskTemplateFactory.create(stage="mdt_review")
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PLANNED, stage="", surgery_kinds=["single_stage"], offset_days=-7
    )
    case = to_mdt_review(staff, make_case(staff))
    case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", planned_date=date(2026, 5, 4)
    )
    before = len(generated(case))
    assert services.tasks_generate_for_case(case=case) == 0
    assert services.tasks_generate_for_case(case=case) == 0
    assert len(generated(case)) == before == 2


def test_a_template_added_later_reaches_cases_already_in_its_stage_on_regeneration(
    staff: Staff,
) -> None:
    case = move(staff, make_case(staff), "screening")
    TaskTemplateFactory.create(stage="screening")
    assert services.tasks_generate_for_case(case=case) == 1
    assert len(generated(case)) == 1


def test_the_same_event_task_raised_twice_is_one_task(staff: Staff) -> None:
    case = make_case(staff)
    first = services.task_create_for_event(
        case=case,
        role="physiotherapist",
        title="Overload",
        due=date(2026, 3, 2),
        event_key="flag:1",
    )
    again = services.task_create_for_event(
        case=case,
        role="physiotherapist",
        title="Overload",
        due=date(2026, 3, 2),
        event_key="flag:1",
    )
    assert first.pk == again.pk
    assert first.priority == "urgent"
    assert Task.objects.filter(case=case).count() == 1


def test_generated_tasks_roll_back_with_the_transition_that_made_them(staff: Staff) -> None:
    TaskTemplateFactory.create(stage="screening")
    case = make_case(staff)
    with pytest.raises(RuntimeError), transaction.atomic():
        move(staff, case, "screening")
        assert len(generated(case)) == 1
        raise RuntimeError("the request failed after the move")
    assert generated(case) == []


# --- Entering a stage again -------------------------------------------------------------------


def test_entering_a_stage_again_gives_fresh_tasks_once_the_first_are_done(staff: Staff) -> None:
    TaskTemplateFactory.create(stage="mdt_review", role="coordinator")
    case = to_mdt_review(staff, make_case(staff))
    [first] = generated(case)
    services.task_complete(actor=staff.coordinator, task=first)
    case = move(staff, case, "assessment", "mdt_review")
    assert [t.status for t in generated(case)] == ["completed", "requested"]


def test_entering_a_stage_again_does_not_duplicate_a_task_still_open(staff: Staff) -> None:
    TaskTemplateFactory.create(stage="mdt_review", role="coordinator")
    case = to_mdt_review(staff, make_case(staff))
    case = move(staff, case, "assessment", "mdt_review")
    assert len(generated(case, status__in=["requested"])) == 1


# --- Rescheduling -----------------------------------------------------------------------------


def test_moving_a_planned_surgery_moves_its_open_tasks_and_leaves_completed_ones(
    staff: Staff,
) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PLANNED,
        stage="",
        surgery_kinds=["single_stage"],
        offset_days=-14,
        role="nurse",
        title="Pre-assessment",
    )
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PLANNED,
        stage="",
        surgery_kinds=["single_stage"],
        offset_days=-21,
        role="surgeon",
        title="Order components",
    )
    case = make_case(staff)
    surgery = case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", planned_date=date(2026, 4, 20)
    )
    order = Task.objects.get(case=case, title="Order components")
    services.task_complete(actor=staff.surgeon, task=order)

    case_services.surgery_update(
        actor=staff.surgeon, surgery=surgery, planned_date=date(2026, 5, 4)
    )

    pre_assessment = Task.objects.get(case=case, title="Pre-assessment")
    order.refresh_from_db()
    assert pre_assessment.due_date == date(2026, 4, 20)  # 14 days before the new date
    assert order.due_date == date(2026, 3, 30)  # completed: stays where it was
    assert len(generated(case)) == 2  # moved, not duplicated


def test_correcting_a_performed_date_moves_the_open_tasks_hanging_on_it(staff: Staff) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PERFORMED, stage="", surgery_kinds=["single_stage"], offset_days=7
    )
    case = make_case(staff)
    surgery = case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", performed_date=date(2026, 2, 10)
    )
    case_services.surgery_update(
        actor=staff.surgeon, surgery=surgery, performed_date=date(2026, 2, 12)
    )
    assert [t.due_date for t in generated(case)] == [date(2026, 2, 19)]


def test_moving_a_surgery_does_not_move_tasks_set_by_hand(staff: Staff) -> None:
    case = make_case(staff)
    surgery = case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", planned_date=date(2026, 4, 20)
    )
    manual = services.task_create(
        actor=staff.coordinator, case=case, title="Call", role="nurse", due_date=date(2026, 4, 6)
    )
    case_services.surgery_update(
        actor=staff.surgeon, surgery=surgery, planned_date=date(2026, 5, 4)
    )
    manual.refresh_from_db()
    assert manual.due_date == date(2026, 4, 6)


# --- Leaving the pathway ----------------------------------------------------------------------


@pytest.mark.parametrize("exit_to", ["declined", "withdrawn"])
def test_leaving_the_pathway_cancels_open_generated_tasks_with_the_reason(
    staff: Staff, exit_to: str
) -> None:
    TaskTemplateFactory.create(stage="assessment", role="surgeon", title="Imaging")
    TaskTemplateFactory.create(stage="assessment", role="prosthetist", title="Socket")
    case = move(staff, make_case(staff), "screening", "assessment")
    socket = Task.objects.get(case=case, title="Socket")
    services.task_complete(actor=staff.prosthetist, task=socket)
    manual = services.task_create(
        actor=staff.coordinator,
        case=case,
        title="Letter",
        role="coordinator",
        due_date=date(2026, 3, 9),
    )

    move(staff, case, exit_to, reason="Patient chose to keep the socket")

    imaging = Task.objects.get(case=case, title="Imaging")
    assert imaging.status == TaskStatus.CANCELLED
    assert imaging.status_reason == f"Case {exit_to}: Patient chose to keep the socket"
    socket.refresh_from_db()
    manual.refresh_from_db()
    assert socket.status == TaskStatus.COMPLETED
    assert manual.status == TaskStatus.REQUESTED


def test_discharge_cancels_open_tasks_but_keeps_the_discharge_letter(staff: Staff) -> None:
    TaskTemplateFactory.create(trigger=Trigger.REHAB_MONTHS, stage="", offset_months=24)
    TaskTemplateFactory.create(stage="discharged", title="Discharge letter")
    case = to_rehabilitation(staff, make_case(staff), date(2026, 1, 5), date(2026, 1, 12))
    case = move(staff, case, "follow_up", "discharged")
    statuses = {t.title: t.status for t in generated(case)}
    assert statuses["Discharge letter"] == TaskStatus.REQUESTED
    assert [s for title, s in statuses.items() if title != "Discharge letter"] == ["cancelled"]


def test_explantation_cancels_open_tasks(staff: Staff) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.REHAB_DAYS, stage="", offset_days=7, occurrences=4, repeat_every=1
    )
    case = to_rehabilitation(staff, make_case(staff), date(2026, 1, 5), date(2026, 1, 12))
    case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="removal", performed_date=date(2026, 2, 20)
    )
    move(staff, case, "explanted", reason="Septic loosening")
    assert {t.status for t in generated(case)} == {TaskStatus.CANCELLED}


def test_putting_a_case_on_hold_leaves_its_tasks_open(staff: Staff) -> None:
    TaskTemplateFactory.create(stage="screening")
    case = move(staff, make_case(staff), "screening", "on_hold")
    assert [t.status for t in generated(case)] == ["requested"]


# --- The default templates --------------------------------------------------------------------


def test_the_default_templates_follow_a_single_stage_case_from_referral_to_rehabilitation(
    staff: Staff,
) -> None:
    from scheduling import defaults

    assert defaults.install(TaskTemplate) == len(defaults.DEFAULT_TEMPLATES)
    assert defaults.install(TaskTemplate) == 0
    for template in TaskTemplate.objects.all():
        template.full_clean()
    case = to_rehabilitation(staff, make_case(staff), date(2026, 2, 9), date(2026, 2, 16))
    roles = set(Task.objects.filter(case=case).values_list("role", flat=True))
    assert roles == {
        "coordinator",
        "surgeon",
        "prosthetist",
        "physiotherapist",
        "psychologist",
        "nurse",
    }
    codes = set(Task.objects.filter(case=case).values_list("template__code", flat=True))
    assert {
        "screening-prescreen",
        "assessment-imaging",
        "mdt-review-agenda",
        "stoma-care-teaching",
        "training-prosthesis-fitting",
        "rehab-weekly-review",
        "follow-up-3m-review",
        "follow-up-24m-outcomes",
        "follow-up-yearly-review",
    } <= codes
    assert Task.objects.filter(case=case, template__code="rehab-weekly-review").count() == 12
    assert min(Task.objects.filter(case=case).values_list("due_date", flat=True)) >= REFERRAL


def test_seed_demo_shows_generated_work_and_a_meeting_and_runs_twice_the_same() -> None:
    from django.core.management import call_command

    from scheduling.models import MdtAgendaItem, MdtMeeting

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = (Task.objects.count(), MdtMeeting.objects.count(), MdtAgendaItem.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (Task.objects.count(), MdtMeeting.objects.count(), MdtAgendaItem.objects.count()) == (
        counts
    )
    assert counts[0] > 20
    assert counts[1:] == (1, 1) or not Task.objects.filter(case__stage="mdt_review").exists()
    statuses = set(Task.objects.values_list("status", flat=True))
    assert {"requested", "accepted", "completed"} <= statuses
