"""The admin: the "My work" page and its buttons, the task list with its filters and the
bulk hand-over action, the printable agenda, templates and meetings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from scheduling import services
from scheduling.models import CalendarFeed, Task, TaskStatus
from tests.factories import member
from tests.scheduling.factories import Staff, make_case, make_task, to_mdt_review

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_work_shows_overdue_this_week_next_week_and_my_pools(staff: Staff) -> None:
    # Today is Monday 2 March 2026.
    make_task(
        staff, role="nurse", assignee=staff.nurse, title="Late dressing", due_date=date(2026, 2, 27)
    )
    make_task(
        staff, role="nurse", assignee=staff.nurse, title="Thursday call", due_date=date(2026, 3, 5)
    )
    make_task(
        staff, role="nurse", assignee=staff.nurse, title="Next Monday", due_date=date(2026, 3, 9)
    )
    make_task(staff, role="nurse", title="Anyone's swab", due_date=date(2026, 3, 4))
    make_task(staff, role="surgeon", title="Not my pool", due_date=date(2026, 3, 4))

    response = logged_in(staff.nurse).get("/admin/scheduling/mywork/")

    assert response.status_code == 200
    work = response.context["work"]
    assert [t.title for t in work.overdue] == ["Late dressing"]
    assert [t.title for t in work.this_week] == ["Thursday call"]
    assert [t.title for t in work.next_week] == ["Next Monday"]
    assert [t.title for t in work.pool] == ["Anyone's swab"]
    assert b"Not my pool" not in response.content


def test_taking_a_pool_task_and_completing_it_from_my_work(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    client = logged_in(staff.nurse)
    client.post("/admin/scheduling/mywork/", {"do": "accept", "task": task.pk})
    task.refresh_from_db()
    assert (task.status, task.assignee) == (TaskStatus.ACCEPTED, staff.nurse)
    client.post("/admin/scheduling/mywork/", {"do": "complete", "task": task.pk, "note": "ok"})
    task.refresh_from_db()
    assert (task.status, task.completion_note) == (TaskStatus.COMPLETED, "ok")


def test_my_work_issues_a_calendar_address_once(staff: Staff) -> None:
    response = logged_in(staff.nurse).post("/admin/scheduling/mywork/", {"do": "calendar-issue"})
    assert response.status_code == 200
    assert response.context["calendar_url"].endswith(".ics")
    assert CalendarFeed.objects.filter(user=staff.nurse, revoked_at__isnull=True).exists()


def test_the_task_list_filters_by_overdue_role_status_and_team(staff: Staff) -> None:
    late = make_task(staff, role="nurse", due_date=date(2026, 2, 27))
    make_task(staff, role="surgeon", due_date=date(2026, 3, 20))
    client = logged_in(staff.coordinator)
    response = client.get("/admin/scheduling/task/?overdue=yes")
    assert response.status_code == 200
    assert [t.pk for t in response.context["cl"].result_list] == [late.pk]
    for query in (
        "role__exact=nurse",
        "status__exact=requested",
        f"case__team__id__exact={staff.team.pk}",
        "open=yes",
    ):
        assert client.get(f"/admin/scheduling/task/?{query}").status_code == 200


def test_bulk_hand_over_from_the_task_list_goes_through_the_service(staff: Staff) -> None:
    successor = member(staff.team, "nurse")
    tasks = [make_task(staff, role="nurse", assignee=staff.nurse) for _ in range(2)]
    client = logged_in(staff.coordinator)
    form = {"action": "bulk_reassign", "_selected_action": [t.pk for t in tasks]}
    confirm = client.post("/admin/scheduling/task/", form)
    assert confirm.status_code == 200
    assert b"Hand over" in confirm.content
    client.post("/admin/scheduling/task/", {**form, "apply": "1", "to_user": successor.pk})
    assert Task.objects.filter(assignee=successor).count() == 2
    history = tasks[0].history.first()
    assert history.history_user == staff.coordinator


def test_a_nurse_cannot_hand_over_in_bulk_from_the_admin(staff: Staff) -> None:
    task = make_task(staff, role="nurse", assignee=staff.nurse)
    other = member(staff.team, "nurse")
    logged_in(staff.nurse).post(
        "/admin/scheduling/task/",
        {
            "action": "bulk_reassign",
            "_selected_action": [task.pk],
            "apply": "1",
            "to_user": other.pk,
        },
    )
    task.refresh_from_db()
    assert task.assignee == staff.nurse


def test_adding_a_task_in_the_admin_uses_the_service_rules(staff: Staff) -> None:
    case = make_case(staff, referral_date=date(2026, 2, 1))
    client = logged_in(staff.coordinator)
    fields = {"case": case.pk, "title": "Call", "role": "nurse", "priority": "routine"}
    client.post("/admin/scheduling/task/add/", {**fields, "due_date": "2026-01-15"})
    assert not Task.objects.exists()  # before the referral: refused
    client.post("/admin/scheduling/task/add/", {**fields, "due_date": "2026-03-15"})
    assert Task.objects.get().created_by == staff.coordinator


def test_the_printable_agenda_and_minutes(staff: Staff) -> None:
    case = to_mdt_review(staff, make_case(staff))
    meeting = services.mdt_meeting_create(
        actor=staff.coordinator,
        team=staff.team,
        starts_at=datetime(2026, 2, 24, 16, 0, tzinfo=ZoneInfo("Europe/London")),
        attendees=[staff.surgeon],
    )
    item = services.mdt_agenda_add(actor=staff.coordinator, meeting=meeting, case=case)
    services.mdt_agenda_update(actor=staff.surgeon, item=item, minutes="Bone stock good.")
    services.mdt_decision_record_from_meeting(
        actor=staff.surgeon, item=item, outcome="eligible", reasons="Criteria met."
    )
    response = logged_in(staff.physio).get(f"/admin/scheduling/mdtmeeting/{meeting.pk}/print/")
    assert response.status_code == 200
    page = response.content.decode()
    assert case.patient.hospital_number in page
    assert "Bone stock good." in page
    assert "Eligible" in page and "Criteria met." in page


def test_recording_a_decision_from_the_meeting_page(staff: Staff) -> None:
    case = to_mdt_review(staff, make_case(staff))
    meeting = services.mdt_meeting_create(
        actor=staff.coordinator,
        team=staff.team,
        starts_at=datetime(2026, 2, 24, 16, 0, tzinfo=ZoneInfo("Europe/London")),
    )
    item = services.mdt_agenda_add(actor=staff.coordinator, meeting=meeting, case=case)
    client = logged_in(staff.surgeon)
    page = client.get(f"/admin/scheduling/mdtmeeting/{meeting.pk}/change/")
    assert page.status_code == 200
    form = {
        "team": staff.team.pk,
        "starts_at_0": "24/02/2026",
        "starts_at_1": "16:00:00",
        "agenda_items-TOTAL_FORMS": "1",
        "agenda_items-INITIAL_FORMS": "1",
        "agenda_items-MIN_NUM_FORMS": "0",
        "agenda_items-MAX_NUM_FORMS": "1000",
        "agenda_items-0-id": item.pk,
        "agenda_items-0-meeting": meeting.pk,
        "agenda_items-0-case": case.pk,
        "agenda_items-0-position": "1",
        "agenda_items-0-minutes": "Discussed.",
        "agenda_items-0-decision_outcome": "eligible",
        "agenda_items-0-decision_reasons": "All criteria met.",
    }
    response = client.post(f"/admin/scheduling/mdtmeeting/{meeting.pk}/change/", form)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    item.refresh_from_db()
    assert item.minutes == "Discussed."
    assert item.decision is not None and item.decision.outcome == "eligible"
    case.refresh_from_db()
    assert case.stage == "mdt_review"


def test_templates_are_listed_with_their_rule_in_words(staff: Staff) -> None:
    from scheduling import defaults
    from scheduling.models import TaskTemplate

    defaults.install(TaskTemplate)
    response = logged_in(staff.coordinator).get("/admin/scheduling/tasktemplate/")
    assert response.status_code == 200
    assert b"14 days before the planned date" in response.content


def test_the_admin_index_offers_my_work_to_every_member(staff: Staff) -> None:
    response = logged_in(staff.psychologist).get("/admin/")
    assert response.status_code == 200
    assert b"/admin/scheduling/mywork/" in response.content
