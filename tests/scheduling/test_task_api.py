"""The task API: lists with filters and a constant query count, the actions, bulk hand-over,
templates, errors in the one shape, other teams and anonymous callers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from scheduling.models import Task
from tests.factories import TeamFactory, member
from tests.scheduling.factories import Staff, make_case, make_staff, make_task

pytestmark = pytest.mark.django_db


def as_user(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


# --- Listing ----------------------------------------------------------------------------------


def test_anonymous_callers_get_401_in_the_error_shape(api: APIClient) -> None:
    for url in ("/api/v1/tasks/", "/api/v1/mdt-meetings/", "/api/v1/appointments/"):
        response = api.get(url)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    assert api.post("/api/v1/tasks/1/complete/").status_code == 401


def test_the_list_shows_only_the_callers_teams_tasks(staff: Staff) -> None:
    mine = [make_task(staff), make_task(staff)]
    theirs = make_task(make_staff())
    found = ids(as_user(staff.nurse).get("/api/v1/tasks/"))
    assert sorted(found) == sorted(t.pk for t in mine)
    assert theirs.pk not in found


def test_a_task_of_another_team_is_404_for_reading_and_acting(staff: Staff) -> None:
    task = make_task(staff)
    outsider = as_user(member(TeamFactory.create(), "coordinator", "nurse"))
    assert outsider.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    response = outsider.post(f"/api/v1/tasks/{task.pk}/complete/", {})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_filters_mine_unassigned_role_and_open(staff: Staff) -> None:
    case = make_case(staff)
    mine = make_task(staff, case, role="nurse", assignee=staff.nurse)
    pool = make_task(staff, case, role="nurse")
    physio = make_task(staff, case, role="physiotherapist")
    done = make_task(staff, case, role="nurse", assignee=staff.nurse)
    as_user(staff.nurse).post(f"/api/v1/tasks/{done.pk}/complete/", {})
    client = as_user(staff.nurse)

    assert set(ids(client.get("/api/v1/tasks/?mine=true"))) == {mine.pk, done.pk}
    assert set(ids(client.get("/api/v1/tasks/?mine=true&status=open"))) == {mine.pk}
    assert set(ids(client.get("/api/v1/tasks/?unassigned=true"))) == {pool.pk, physio.pk}
    assert set(ids(client.get("/api/v1/tasks/?unassigned=true&role=nurse"))) == {pool.pk}
    assert set(ids(client.get("/api/v1/tasks/?my_pools=true&status=open"))) == {mine.pk, pool.pk}
    assert set(ids(client.get("/api/v1/tasks/?status=completed"))) == {done.pk}
    assert set(ids(client.get(f"/api/v1/tasks/?case={case.pk}"))) == {
        mine.pk,
        pool.pk,
        physio.pk,
        done.pk,
    }


def test_overdue_means_open_and_due_before_today_in_the_teams_zone(staff: Staff) -> None:
    # Frozen at Monday 2 March 2026, 09:00 UTC.
    late = make_task(staff, due_date=date(2026, 3, 1))
    today = make_task(staff, due_date=date(2026, 3, 2))
    late_but_done = make_task(staff, due_date=date(2026, 2, 20))
    as_user(staff.coordinator).post(f"/api/v1/tasks/{late_but_done.pk}/complete/", {})
    response = as_user(staff.nurse).get("/api/v1/tasks/?overdue=true")
    assert ids(response) == [late.pk]
    assert response.json()["results"][0]["is_overdue"] is True
    detail = as_user(staff.nurse).get(f"/api/v1/tasks/{today.pk}/").json()
    assert detail["is_overdue"] is False


def test_overdue_follows_the_teams_time_zone_not_the_servers(staff: Staff) -> None:
    # At 09:00 UTC on 2 March it is already 22:00 on 2 March in Auckland: a task due on
    # 1 March is overdue there; in Honolulu (23:00 on 1 March) it is not yet.
    staff.team.time_zone = "Pacific/Honolulu"
    staff.team.save()
    task = make_task(staff, due_date=date(2026, 3, 1))
    assert ids(as_user(staff.nurse).get("/api/v1/tasks/?overdue=true")) == []
    staff.team.time_zone = "Pacific/Auckland"
    staff.team.save()
    assert ids(as_user(staff.nurse).get("/api/v1/tasks/?overdue=true")) == [task.pk]


def test_due_before_and_after_are_inclusive(staff: Staff) -> None:
    a = make_task(staff, due_date=date(2026, 3, 5))
    b = make_task(staff, due_date=date(2026, 3, 10))
    client = as_user(staff.nurse)
    assert ids(client.get("/api/v1/tasks/?due_before=2026-03-05")) == [a.pk]
    assert ids(client.get("/api/v1/tasks/?due_after=2026-03-06")) == [b.pk]
    assert ids(client.get("/api/v1/tasks/?due_after=2026-03-05&due_before=2026-03-10")) == [
        a.pk,
        b.pk,
    ]


def test_ordering_by_priority_puts_urgent_first(staff: Staff) -> None:
    routine = make_task(staff, priority="routine")
    urgent = make_task(staff, priority="urgent")
    soon = make_task(staff, priority="soon")
    client = as_user(staff.nurse)
    assert ids(client.get("/api/v1/tasks/?ordering=-priority")) == [urgent.pk, soon.pk, routine.pk]
    assert ids(client.get("/api/v1/tasks/?ordering=priority")) == [routine.pk, soon.pk, urgent.pk]


def test_the_default_order_is_due_date_then_priority(staff: Staff) -> None:
    later = make_task(staff, due_date=date(2026, 3, 20))
    soon_routine = make_task(staff, due_date=date(2026, 3, 5), priority="routine")
    soon_urgent = make_task(staff, due_date=date(2026, 3, 5), priority="urgent")
    assert ids(as_user(staff.nurse).get("/api/v1/tasks/")) == [
        soon_urgent.pk,
        soon_routine.pk,
        later.pk,
    ]


def test_a_bad_filter_value_is_400_naming_the_filter(staff: Staff) -> None:
    response = as_user(staff.nurse).get("/api/v1/tasks/?status=finished")
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


@pytest.mark.parametrize("count", [5, 50])
def test_the_task_list_costs_the_same_queries_for_5_and_50_tasks(staff: Staff, count: int) -> None:
    cases = [make_case(staff) for _ in range(3)]
    for n in range(count):
        make_task(
            staff,
            cases[n % 3],
            role="nurse",
            assignee=staff.nurse if n % 2 else None,
            priority="urgent" if n % 5 == 0 else "routine",
        )
    client = as_user(staff.nurse)
    client.get("/api/v1/tasks/")  # warm the per-process caches (content types)
    from cases import access

    access.forget(staff.nurse)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/tasks/?status=open&overdue=false&mine=false")
    assert response.status_code == 200
    assert response.json()["count"] == count - count // 2
    # 1. the caller's teams and roles (cases.access)
    # 2. the teams' time zones, for the overdue filter
    # 3. the page count
    # 4. the page of tasks as rows with their case's label and team zone, the assignee's name
    #    and the template's code (is_overdue reads the zone from the row: no query)
    assert len(queries) == 4, [q["sql"] for q in queries]


def test_the_task_list_rows_read_as_the_task_serializer_would(staff: Staff) -> None:
    from scheduling.api.serializers import TaskSerializer

    case = make_case(staff)
    make_task(staff, case, role="nurse", assignee=staff.nurse)
    make_task(staff, case, role="surgeon", priority="urgent")
    response = as_user(staff.nurse).get("/api/v1/tasks/")
    assert response.status_code == 200
    listed = response.json()["results"]
    assert len(listed) >= 2
    for row in listed:
        task = Task.objects.get(pk=row["id"])
        serializer = TaskSerializer(task, context={"todays": {}})
        assert row == serializer.field_by_field(task) == serializer.data


def test_the_task_list_costs_the_same_queries_for_a_page_of_2_or_40(staff: Staff) -> None:
    case = make_case(staff)
    for _ in range(40):
        make_task(staff, case, role="nurse", assignee=staff.nurse)
    client = as_user(staff.nurse)
    client.get("/api/v1/tasks/")
    counts = []
    from cases import access

    for size in (2, 40):
        access.forget(staff.nurse)  # as on a fresh request
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/tasks/?mine=true&status=open&page_size={size}")
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    # teams and roles, count, page
    assert counts == [3, 3]
    # The count joins only what the filters need (the case, for the team scope); the tables
    # the rows show (patient, team, assignee, template) are joined for the page alone.
    count_sql = queries.captured_queries[1]["sql"]
    assert count_sql.startswith("SELECT COUNT(*)")
    for shown in ("cases_patient", "auth_user", "scheduling_tasktemplate", "cases_team"):
        assert shown not in count_sql, count_sql
        assert shown in queries.captured_queries[2]["sql"]


# --- Actions ----------------------------------------------------------------------------------


def test_accept_start_hold_complete_through_the_api(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    client = as_user(staff.nurse)
    accepted = client.post(f"/api/v1/tasks/{task.pk}/accept/")
    assert accepted.status_code == 200
    assert (accepted.json()["status"], accepted.json()["assignee"]) == ("accepted", staff.nurse.pk)
    assert client.post(f"/api/v1/tasks/{task.pk}/start/").json()["status"] == "in-progress"
    held = client.post(f"/api/v1/tasks/{task.pk}/hold/", {"reason": "Patient in hospital"})
    assert (held.json()["status"], held.json()["status_reason"]) == (
        "on-hold",
        "Patient in hospital",
    )
    done = client.post(f"/api/v1/tasks/{task.pk}/complete/", {"note": "Taught daily care"})
    assert done.json()["status"] == "completed"
    assert done.json()["completion_note"] == "Taught daily care"
    assert done.json()["completed_by"] == staff.nurse.pk


def test_a_role_outside_the_table_gets_403_in_the_error_shape(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    response = as_user(staff.surgeon).post(f"/api/v1/tasks/{task.pk}/complete/", {})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "coordinator" in error["message"]


def test_completing_a_cancelled_task_is_409(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    client = as_user(staff.coordinator)
    assert (
        client.post(f"/api/v1/tasks/{task.pk}/cancel/", {"reason": "Duplicate"}).status_code == 200
    )
    response = client.post(f"/api/v1/tasks/{task.pk}/complete/", {})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "cancelled (Duplicate)" in response.json()["error"]["message"]


def test_cancelling_without_a_reason_is_400_naming_reason(staff: Staff) -> None:
    task = make_task(staff)
    response = as_user(staff.coordinator).post(f"/api/v1/tasks/{task.pk}/cancel/", {})
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]


def test_assigning_to_someone_without_the_role_is_400_naming_assignee(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    response = as_user(staff.coordinator).post(
        f"/api/v1/tasks/{task.pk}/assign/", {"assignee": staff.physio.pk}
    )
    assert response.status_code == 400
    assert "assignee" in response.json()["error"]["fields"]


def test_assigning_to_a_stranger_is_400_without_saying_they_exist(staff: Staff) -> None:
    stranger = member(TeamFactory.create(), "nurse")
    task = make_task(staff, role="nurse")
    response = as_user(staff.coordinator).post(
        f"/api/v1/tasks/{task.pk}/assign/", {"assignee": stranger.pk}
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["error"]["fields"]["assignee"][0]


def test_assign_then_back_to_the_pool(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    client = as_user(staff.coordinator)
    assigned = client.post(f"/api/v1/tasks/{task.pk}/assign/", {"assignee": staff.nurse.pk})
    assert assigned.json()["assignee_name"] == staff.nurse.get_full_name()
    pooled = client.post(f"/api/v1/tasks/{task.pk}/assign/", {"assignee": None}, format="json")
    assert pooled.json()["assignee"] is None


def test_creating_a_task_by_api(staff: Staff) -> None:
    case = make_case(staff)
    response = as_user(staff.surgeon).post(
        "/api/v1/tasks/",
        {
            "case": case.pk,
            "title": "Review the CT with radiology",
            "role": "surgeon",
            "due_date": "2026-03-12",
            "priority": "soon",
            "assignee": staff.surgeon.pk,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["created_by"], body["is_generated"]) == (
        "requested",
        staff.surgeon.pk,
        False,
    )


def test_a_due_date_before_the_referral_is_400_naming_due_date(staff: Staff) -> None:
    case = make_case(staff, referral_date=date(2026, 2, 1))
    response = as_user(staff.surgeon).post(
        "/api/v1/tasks/",
        {"case": case.pk, "title": "x", "role": "surgeon", "due_date": "2026-01-31"},
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["due_date"]


def test_a_task_on_another_teams_case_cannot_be_created(staff: Staff) -> None:
    outsider = member(TeamFactory.create(), "coordinator")
    case = make_case(staff)
    response = as_user(outsider).post(
        "/api/v1/tasks/", {"case": case.pk, "title": "x", "role": "nurse", "due_date": "2026-03-12"}
    )
    assert response.status_code == 400
    assert "case" in response.json()["error"]["fields"]


def test_status_is_not_writable_through_patch(staff: Staff) -> None:
    task = make_task(staff, role="nurse")
    response = as_user(staff.nurse).patch(
        f"/api/v1/tasks/{task.pk}/", {"status": "completed", "title": "Call the patient today"}
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["title"]) == (
        "requested",
        "Call the patient today",
    )


def test_put_is_not_offered(staff: Staff) -> None:
    task = make_task(staff)
    assert as_user(staff.nurse).put(f"/api/v1/tasks/{task.pk}/", {}).status_code == 405


def test_bulk_reassign_through_the_api(staff: Staff) -> None:
    successor = member(staff.team, "nurse")
    for _ in range(2):
        make_task(staff, role="nurse", assignee=staff.nurse)
    payload = {"team": staff.team.pk, "from_user": staff.nurse.pk, "to_user": successor.pk}
    response = as_user(staff.coordinator).post("/api/v1/tasks/bulk-reassign/", payload)
    assert response.status_code == 200
    assert response.json() == {"reassigned": 2}
    assert Task.objects.filter(assignee=successor).count() == 2
    refused = as_user(staff.nurse).post("/api/v1/tasks/bulk-reassign/", payload)
    assert refused.status_code == 403


# --- Templates --------------------------------------------------------------------------------


def template_payload(staff: Staff, **fields: Any) -> dict[str, Any]:
    return {
        "team": staff.team.pk,
        "code": "weekly-review",
        "title": "Weekly review",
        "role": "physiotherapist",
        "trigger": "rehab_days",
        "offset_days": 7,
        "occurrences": 12,
        "repeat_every": 1,
        "repeat_unit": "weeks",
        **fields,
    }


def test_a_coordinator_creates_a_team_template(staff: Staff) -> None:
    response = as_user(staff.coordinator).post(
        "/api/v1/task-templates/", template_payload(staff), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["description"] == (
        "7 days after rehabilitation starts, then every week, 12 times in all"
    )


@pytest.mark.parametrize("occurrences", [0, 521])
def test_a_template_recurrence_of_0_or_over_520_is_400_naming_occurrences(
    staff: Staff, occurrences: int
) -> None:
    response = as_user(staff.coordinator).post(
        "/api/v1/task-templates/", template_payload(staff, occurrences=occurrences), format="json"
    )
    assert response.status_code == 400
    assert "occurrences" in response.json()["error"]["fields"]


def test_a_stage_template_without_a_stage_is_400_naming_stage(staff: Staff) -> None:
    response = as_user(staff.coordinator).post(
        "/api/v1/task-templates/",
        template_payload(staff, trigger="stage_entered", occurrences=1, offset_days=3),
        format="json",
    )
    assert response.status_code == 400
    assert "stage" in response.json()["error"]["fields"]


def test_a_surgeon_may_read_but_not_write_templates(staff: Staff) -> None:
    client = as_user(staff.surgeon)
    assert client.get("/api/v1/task-templates/").status_code == 200
    response = client.post("/api/v1/task-templates/", template_payload(staff), format="json")
    assert response.status_code == 403
