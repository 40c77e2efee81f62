"""Task services: who may act (the permission table), the status moves, assignment and
bulk hand-over, and bad input."""

from __future__ import annotations

from datetime import date

import pytest

from cases.errors import Conflict, NotPermitted, RuleViolation
from scheduling import permissions as perms
from scheduling import services
from scheduling.models import Task, TaskStatus, TaskTemplate
from scheduling.permissions import Ground
from tests.factories import TeamFactory, member
from tests.scheduling.factories import Staff, TaskTemplateFactory, make_case, make_task

pytestmark = pytest.mark.django_db

# --- The permission table ---------------------------------------------------------------------

ON_TASK = ["task.accept", "task.start", "task.hold", "task.complete", "task.cancel", "task.assign"]


@pytest.mark.parametrize("action", ON_TASK)
@pytest.mark.parametrize(
    ("grounds", "allowed"),
    [
        ({Ground.TEAM_MEMBER, Ground.ROLE_POOL}, True),
        ({Ground.TEAM_MEMBER, Ground.ASSIGNEE}, True),
        ({Ground.TEAM_MEMBER, Ground.COORDINATOR}, True),
        ({Ground.TEAM_MEMBER, Ground.SURGEON}, False),
        ({Ground.TEAM_MEMBER}, False),
        (set(), False),
    ],
)
def test_the_table_lets_the_pool_the_assignee_and_a_coordinator_act_on_a_task(
    action: str, grounds: set[Ground], allowed: bool
) -> None:
    assert perms.allowed(action, frozenset(grounds)) is allowed


def test_only_a_coordinator_may_reassign_in_bulk() -> None:
    assert perms.allowed("tasks.bulk_reassign", frozenset({Ground.COORDINATOR}))
    assert not perms.allowed("tasks.bulk_reassign", frozenset({Ground.ROLE_POOL, Ground.SURGEON}))


def test_meetings_are_written_by_coordinators_surgeons_and_the_chair() -> None:
    for ground in (Ground.COORDINATOR, Ground.SURGEON, Ground.CHAIR):
        assert perms.allowed("meeting.write", frozenset({ground}))
    assert not perms.allowed("meeting.write", frozenset({Ground.TEAM_MEMBER, Ground.ROLE_POOL}))


@pytest.mark.parametrize(
    ("who", "may"),
    [
        ("nurse", True),  # the task's role pool
        ("coordinator", True),
        ("surgeon", False),
        ("physio", False),
        ("prosthetist", False),
        ("psychologist", False),
    ],
)
def test_completing_a_nurse_task_follows_the_table_for_each_role(
    staff: Staff, who: str, may: bool
) -> None:
    task = make_task(staff, role="nurse")
    actor = getattr(staff, who)
    if may:
        services.task_complete(actor=actor, task=task, note="done")
        task.refresh_from_db()
        assert task.status == TaskStatus.COMPLETED
        assert task.completed_by == actor
    else:
        with pytest.raises(NotPermitted, match="role pool, the assignee or a coordinator"):
            services.task_complete(actor=actor, task=task)


def test_the_assignee_may_act_on_a_task_outside_their_own_roles_pool(staff: Staff) -> None:
    both = member(staff.team, "nurse", "physiotherapist")
    task = make_task(staff, role="nurse", assignee=both)
    member(staff.team, user=both)  # still a member
    from cases.models import MembershipRole

    MembershipRole.objects.filter(membership__user=both, role="nurse").delete()
    from cases import access

    access.forget(both)
    services.task_start(actor=both, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS


def test_someone_from_another_team_may_not_act(staff: Staff) -> None:
    outsider = member(TeamFactory.create(), "coordinator", "nurse")
    task = make_task(staff, role="nurse")
    with pytest.raises(NotPermitted):
        services.task_accept(actor=outsider, task=task)


def test_a_person_who_left_the_team_keeps_no_say_even_as_assignee(staff: Staff) -> None:
    task = make_task(staff, role="nurse", assignee=staff.nurse)
    staff.nurse.memberships.update(is_active=False)
    from cases import access

    access.forget(staff.nurse)
    with pytest.raises(NotPermitted):
        services.task_complete(actor=staff.nurse, task=task)


# --- Status moves -----------------------------------------------------------------------------


def test_accepting_a_pool_task_makes_you_its_assignee(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    services.task_accept(actor=staff.nurse, task=task)
    task.refresh_from_db()
    assert (task.status, task.assignee) == (TaskStatus.ACCEPTED, staff.nurse)


def test_a_coordinator_cannot_take_on_a_task_of_a_role_they_do_not_hold(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    with pytest.raises(RuleViolation) as refused:
        services.task_accept(actor=staff.coordinator, task=task)
    assert "assignee" in refused.value.fields
    assert "does not hold the nurse" in refused.value.message


def test_a_task_goes_from_requested_through_hold_to_completed(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    services.task_accept(actor=staff.nurse, task=task)
    services.task_start(actor=staff.nurse, task=task)
    services.task_hold(actor=staff.nurse, task=task, reason="Waiting for the swab result")
    task.refresh_from_db()
    assert (task.status, task.status_reason) == (TaskStatus.ON_HOLD, "Waiting for the swab result")
    services.task_start(actor=staff.nurse, task=task)
    services.task_complete(actor=staff.nurse, task=task, note="Swab clear")
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert task.completion_note == "Swab clear"
    assert task.completed_at is not None


def test_every_status_change_is_in_the_tasks_history_with_who_made_it(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    services.task_accept(actor=staff.nurse, task=task)
    services.task_complete(actor=staff.coordinator, task=task)
    rows = list(task.history.order_by("history_date").values_list("status", "history_user"))
    assert rows == [
        ("requested", staff.coordinator.pk),
        ("accepted", staff.nurse.pk),
        ("completed", staff.coordinator.pk),
    ]


def test_completing_a_cancelled_task_is_a_conflict_naming_the_reason(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    services.task_cancel(actor=staff.coordinator, task=task, reason="Booked elsewhere")
    with pytest.raises(Conflict, match=r"cancelled \(Booked elsewhere\)"):
        services.task_complete(actor=staff.nurse, task=task)


def test_a_completed_task_cannot_be_completed_again_or_reassigned(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    services.task_complete(actor=staff.nurse, task=task)
    with pytest.raises(Conflict):
        services.task_complete(actor=staff.nurse, task=task)
    with pytest.raises(Conflict):
        services.task_assign(actor=staff.coordinator, task=task, assignee=staff.nurse)


def test_accepting_twice_is_a_conflict(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    services.task_accept(actor=staff.nurse, task=task)
    with pytest.raises(Conflict, match="accepted cannot be accepted"):
        services.task_accept(actor=staff.nurse, task=task)


def test_hold_and_cancel_need_a_reason(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    with pytest.raises(RuleViolation) as refused:
        services.task_hold(actor=staff.nurse, task=task, reason=" ")
    assert "reason" in refused.value.fields
    with pytest.raises(RuleViolation):
        services.task_cancel(actor=staff.nurse, task=task, reason="")


# --- Create, change, assign -------------------------------------------------------------------


def test_a_due_date_before_the_referral_is_refused_naming_the_field(staff: Staff) -> None:
    case = make_case(staff, referral_date=date(2026, 1, 10))
    with pytest.raises(RuleViolation) as refused:
        make_task(staff, case, due_date=date(2026, 1, 9))
    assert "due_date" in refused.value.fields
    assert "2026-01-10" in refused.value.message


def test_assigning_to_someone_without_the_role_is_refused_naming_them(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    with pytest.raises(RuleViolation) as refused:
        services.task_assign(actor=staff.coordinator, task=task, assignee=staff.physio)
    assert list(refused.value.fields) == ["assignee"]
    assert "does not hold the nurse (stoma care) role" in refused.value.fields["assignee"][0]


def test_assigning_to_someone_of_another_team_with_the_role_is_refused(staff: Staff) -> None:
    elsewhere = member(TeamFactory.create(), "nurse")
    task = make_task(staff, role="nurse")
    with pytest.raises(RuleViolation):
        services.task_assign(actor=staff.coordinator, task=task, assignee=elsewhere)


def test_reassigning_an_accepted_task_asks_the_new_person_to_accept_it(staff: Staff) -> None:
    other_nurse = member(staff.team, "nurse")
    task = make_task(staff, role="nurse")
    services.task_accept(actor=staff.nurse, task=task)
    services.task_assign(actor=staff.nurse, task=task, assignee=other_nurse)
    task.refresh_from_db()
    assert (task.assignee, task.status) == (other_nurse, TaskStatus.REQUESTED)


def test_back_to_the_pool_clears_the_assignee(staff: Staff) -> None:
    task = make_task(staff, role="nurse", assignee=staff.nurse)
    services.task_assign(actor=staff.nurse, task=task, assignee=None)
    task.refresh_from_db()
    assert task.assignee is None


def test_changing_a_task_keeps_its_status_and_checks_the_due_date(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    services.task_update(
        actor=staff.nurse, task=task, due_date=date(2026, 3, 20), priority="urgent"
    )
    task.refresh_from_db()
    assert (task.due_date, task.priority, task.status) == (date(2026, 3, 20), "urgent", "requested")
    with pytest.raises(RuleViolation):
        services.task_update(actor=staff.nurse, task=task, due_date=date(2020, 1, 1))
    with pytest.raises(RuleViolation):
        services.task_update(actor=staff.nurse, task=task, status="completed")


# --- Bulk hand-over ---------------------------------------------------------------------------


def test_a_coordinator_hands_over_a_leaving_nurses_open_tasks(staff: Staff) -> None:
    successor = member(staff.team, "nurse")
    open_tasks = [make_task(staff, role="nurse", assignee=staff.nurse) for _ in range(3)]
    done = make_task(staff, role="nurse", assignee=staff.nurse)
    services.task_complete(actor=staff.nurse, task=done)

    moved = services.tasks_bulk_reassign(
        actor=staff.coordinator, team=staff.team, from_user=staff.nurse, to_user=successor
    )

    assert moved == 3
    assert set(Task.objects.filter(assignee=successor).values_list("pk", flat=True)) == {
        t.pk for t in open_tasks
    }
    done.refresh_from_db()
    assert done.assignee == staff.nurse  # history stays with who did it


def test_bulk_hand_over_is_all_or_nothing_when_the_successor_lacks_a_role(staff: Staff) -> None:
    both = member(staff.team, "nurse", "physiotherapist")
    make_task(staff, role="nurse", assignee=both)
    make_task(staff, role="physiotherapist", assignee=both)
    with pytest.raises(RuleViolation, match="physiotherapist"):
        services.tasks_bulk_reassign(
            actor=staff.coordinator, team=staff.team, from_user=both, to_user=staff.nurse
        )
    assert Task.objects.filter(assignee=both).count() == 2


def test_bulk_hand_over_back_to_the_pools(staff: Staff) -> None:
    make_task(staff, role="nurse", assignee=staff.nurse)
    moved = services.tasks_bulk_reassign(
        actor=staff.coordinator, team=staff.team, from_user=staff.nurse, to_user=None
    )
    assert moved == 1
    assert Task.objects.filter(assignee__isnull=True).count() == 1


def test_only_a_coordinator_may_hand_over_in_bulk(staff: Staff) -> None:
    with pytest.raises(NotPermitted):
        services.tasks_bulk_reassign(
            actor=staff.surgeon, team=staff.team, from_user=staff.nurse, to_user=None
        )


# --- Templates --------------------------------------------------------------------------------


@pytest.mark.parametrize("occurrences", [0, 521])
def test_a_template_with_0_or_over_520_occurrences_is_refused(
    staff: Staff, occurrences: int
) -> None:
    template = TaskTemplate(
        team=staff.team,
        code="weekly",
        title="Weekly",
        role="physiotherapist",
        trigger="rehab_days",
        occurrences=occurrences,
        repeat_every=1,
    )
    with pytest.raises(RuleViolation) as refused:
        services.task_template_save(actor=staff.coordinator, template=template)
    assert "occurrences" in refused.value.fields
    assert not TaskTemplate.objects.exists()


def test_only_a_coordinator_changes_the_teams_templates(staff: Staff) -> None:
    template = TaskTemplateFactory.build(team=staff.team)
    with pytest.raises(NotPermitted):
        services.task_template_save(actor=staff.surgeon, template=template)
    services.task_template_save(actor=staff.coordinator, template=template)
    assert template.pk


def test_shared_templates_are_for_administrators(staff: Staff) -> None:
    with pytest.raises(NotPermitted):
        services.task_template_save(actor=staff.coordinator, template=TaskTemplateFactory.build())
