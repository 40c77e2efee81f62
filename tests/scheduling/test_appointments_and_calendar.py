"""Appointments, booking a review task into one, the case timeline, and the calendar feed."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Any

import icalendar
import pytest
from rest_framework.test import APIClient

from cases import selectors as case_selectors
from cases.errors import Conflict, RuleViolation
from scheduling import services
from scheduling.models import CalendarFeed
from tests.factories import TeamFactory, member
from tests.scheduling.factories import Staff, make_case, make_task

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


def as_user(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def clinic(staff: Staff, case: Any = None, **fields: Any) -> Any:
    defaults: dict[str, Any] = {
        "kind": "clinic_review",
        "starts_at": datetime(2026, 3, 10, 9, 30, tzinfo=LONDON),
        "ends_at": datetime(2026, 3, 10, 10, 0, tzinfo=LONDON),
        "location": "OI clinic, room 3",
        "clinicians": [staff.surgeon, staff.physio],
    }
    return services.appointment_book(
        actor=staff.coordinator, case=case or make_case(staff), **{**defaults, **fields}
    )


# --- Appointments -----------------------------------------------------------------------------


def test_an_appointment_must_end_after_it_starts(staff: Staff) -> None:
    with pytest.raises(RuleViolation) as refused:
        clinic(staff, ends_at=datetime(2026, 3, 10, 9, 0, tzinfo=LONDON))
    assert "ends_at" in refused.value.fields


def test_a_review_task_is_booked_into_an_appointment_of_its_case(staff: Staff) -> None:
    case = make_case(staff)
    review = make_task(staff, case, role="surgeon", title="3-month review")
    appointment = clinic(staff, case)
    services.task_book(actor=staff.surgeon, task=review, appointment=appointment)
    review.refresh_from_db()
    assert review.appointment == appointment

    other_case_appointment = clinic(staff)
    with pytest.raises(RuleViolation, match="another case"):
        services.task_book(actor=staff.surgeon, task=review, appointment=other_case_appointment)


def test_cancelling_an_appointment_unbooks_its_open_tasks(staff: Staff) -> None:
    case = make_case(staff)
    review = make_task(staff, case, role="surgeon")
    appointment = clinic(staff, case)
    services.task_book(actor=staff.surgeon, task=review, appointment=appointment)
    services.appointment_set_status(
        actor=staff.coordinator, appointment=appointment, status="cancelled", reason="Snow"
    )
    review.refresh_from_db()
    assert review.appointment is None
    with pytest.raises(Conflict):
        services.appointment_set_status(
            actor=staff.coordinator, appointment=appointment, status="fulfilled"
        )


def test_booking_an_appointment_through_the_api(staff: Staff) -> None:
    case = make_case(staff)
    client = as_user(staff.physio)
    response = client.post(
        "/api/v1/appointments/",
        {
            "case": case.pk,
            "kind": "rehab_session",
            "starts_at": "2026-03-11T10:00:00Z",
            "ends_at": "2026-03-11T11:00:00Z",
            "clinicians": [staff.physio.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    appointment_id = response.json()["id"]
    assert client.get("/api/v1/appointments/?mine=true").json()["count"] == 1
    assert as_user(staff.surgeon).get("/api/v1/appointments/?mine=true").json()["count"] == 0
    attended = client.post(
        f"/api/v1/appointments/{appointment_id}/status/", {"status": "fulfilled"}
    )
    assert attended.json()["status"] == "fulfilled"
    again = client.post(f"/api/v1/appointments/{appointment_id}/status/", {"status": "noshow"})
    assert again.status_code == 409


def test_an_appointment_ending_before_it_starts_is_400_through_the_api(staff: Staff) -> None:
    response = as_user(staff.physio).post(
        "/api/v1/appointments/",
        {
            "case": make_case(staff).pk,
            "kind": "imaging",
            "starts_at": "2026-03-11T10:00:00Z",
            "ends_at": "2026-03-11T09:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "ends_at" in response.json()["error"]["fields"]


def test_another_teams_appointment_is_404(staff: Staff) -> None:
    appointment = clinic(staff)
    outsider = as_user(member(TeamFactory.create(), "coordinator"))
    assert outsider.get(f"/api/v1/appointments/{appointment.pk}/").status_code == 404


# --- The case timeline ------------------------------------------------------------------------


def test_tasks_and_appointments_join_the_case_timeline(staff: Staff) -> None:
    case = make_case(staff)
    task = make_task(staff, case, title="Phone the patient")
    services.task_complete(actor=staff.nurse, task=task, note="Spoke to them")
    clinic(staff, case)
    entries = case_selectors.case_timeline(case)
    kinds = {e.kind: e for e in entries}
    assert kinds["task"].title == "Task: Phone the patient (completed)"
    assert kinds["task"].detail == "Spoke to them"
    assert kinds["appointment"].title == "Clinic review (booked)"


# --- The calendar feed ------------------------------------------------------------------------


def issue(client: APIClient) -> str:
    response = client.post("/api/v1/calendar-feed/")
    assert response.status_code == 201
    url = response.json()["url"]
    assert url.endswith(".ics")
    return "/" + url.split("/", 3)[3]


def test_the_calendar_feed_has_my_open_tasks_appointments_and_meetings(
    staff: Staff, client: Any
) -> None:
    case = make_case(staff)
    mine = make_task(staff, case, role="surgeon", assignee=staff.surgeon, title="Review CT")
    done = make_task(staff, case, role="surgeon", assignee=staff.surgeon, title="Old")
    services.task_complete(actor=staff.surgeon, task=done)
    make_task(staff, case, role="nurse", assignee=staff.nurse, title="Not mine")
    appointment = clinic(staff, case)
    meeting = services.mdt_meeting_create(
        actor=staff.coordinator,
        team=staff.team,
        starts_at=datetime(2026, 3, 3, 16, 0, tzinfo=LONDON),
        location="Seminar room 2",
    )
    path = issue(as_user(staff.surgeon))

    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["uid"]).split("@")[0]: e for e in calendar.walk("VEVENT")}
    assert set(events) == {
        f"task-{mine.pk}",
        f"appointment-{appointment.pk}",
        f"mdt-meeting-{meeting.pk}",
    }
    task_event = events[f"task-{mine.pk}"]
    assert task_event.decoded("dtstart") == mine.due_date  # an all-day item on the due date
    assert str(task_event["summary"]) == f"Review CT (case {case.pk})"
    assert case.patient.family_name not in response.content.decode()
    appt_event = events[f"appointment-{appointment.pk}"]
    assert appt_event.decoded("dtstart") == appointment.starts_at
    assert str(appt_event["location"]) == "OI clinic, room 3"
    assert str(events[f"mdt-meeting-{meeting.pk}"]["summary"]) == f"MDT meeting: {staff.team.name}"


def test_a_wrong_token_is_404(client: Any, staff: Staff) -> None:
    issue(as_user(staff.surgeon))
    assert client.get("/calendar/not-the-token.ics").status_code == 404


def test_a_revoked_token_is_404(client: Any, staff: Staff) -> None:
    api = as_user(staff.surgeon)
    path = issue(api)
    assert client.get(path).status_code == 200
    revoked = api.post("/api/v1/calendar-feed/revoke/")
    assert revoked.json()["active"] is False
    assert client.get(path).status_code == 404


def test_issuing_a_new_address_stops_the_old_one(client: Any, staff: Staff) -> None:
    api = as_user(staff.surgeon)
    old, new = issue(api), issue(api)
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert CalendarFeed.objects.filter(user=staff.surgeon, revoked_at__isnull=True).count() == 1


def test_only_a_hash_of_the_token_is_stored(staff: Staff) -> None:
    issued = services.calendar_feed_issue(user=staff.surgeon)
    assert issued.token not in issued.feed.token_hash
    assert len(issued.feed.token_hash) == 64


def test_the_feed_of_a_deactivated_user_is_404(client: Any, staff: Staff) -> None:
    path = issue(as_user(staff.surgeon))
    staff.surgeon.is_active = False
    staff.surgeon.save()
    assert client.get(path).status_code == 404


def test_the_calendar_address_is_shown_only_when_issued(staff: Staff) -> None:
    api = as_user(staff.surgeon)
    issue(api)
    state = api.get("/api/v1/calendar-feed/").json()
    assert state["active"] is True and state["url"] is None


def test_the_feed_records_when_it_was_last_fetched(client: Any, staff: Staff) -> None:
    path = issue(as_user(staff.surgeon))
    client.get(path)
    feed = CalendarFeed.objects.get(user=staff.surgeon, revoked_at__isnull=True)
    assert feed.last_used_at is not None
    assert feed.last_used_at.date() == date(2026, 3, 2)
