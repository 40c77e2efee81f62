"""MDT meetings: the agenda, the coordinator's agenda task, decisions that move nothing but
open the pathway's gate, actions from the meeting, and the API."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from cases import services as case_services
from cases.errors import Conflict, NotPermitted
from cases.models import MdtDecision
from scheduling import services
from scheduling.models import MdtMeeting, Task, TaskStatus
from tests.factories import TeamFactory, member
from tests.scheduling.factories import Staff, TaskTemplateFactory, make_case, move, to_mdt_review

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
LAST_TUESDAY = datetime(2026, 2, 24, 16, 0, tzinfo=LONDON)


def as_user(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def meeting(staff: Staff, **fields: Any) -> MdtMeeting:
    defaults: dict[str, Any] = {
        "starts_at": LAST_TUESDAY,
        "chair": staff.surgeon,
        "attendees": [staff.surgeon, staff.coordinator, staff.physio],
    }
    return services.mdt_meeting_create(
        actor=staff.coordinator, team=staff.team, **{**defaults, **fields}
    )


def test_putting_a_case_on_the_agenda_completes_the_coordinators_agenda_task(
    staff: Staff,
) -> None:
    TaskTemplateFactory.create(
        stage="mdt_review", role="coordinator", auto_complete_on="mdt_agenda", title="Agenda"
    )
    TaskTemplateFactory.create(stage="mdt_review", role="surgeon", title="Prepare summary")
    case = to_mdt_review(staff, make_case(staff))
    services.mdt_agenda_add(actor=staff.coordinator, meeting=meeting(staff), case=case)
    agenda = Task.objects.get(case=case, title="Agenda")
    assert agenda.status == TaskStatus.COMPLETED
    assert agenda.completed_by == staff.coordinator
    assert agenda.completion_note == "On the agenda of the MDT 24 Feb 2026"
    assert Task.objects.get(case=case, title="Prepare summary").status == TaskStatus.REQUESTED


def test_only_a_case_in_mdt_review_can_go_on_the_agenda(staff: Staff) -> None:
    case = move(staff, make_case(staff), "screening")
    with pytest.raises(Conflict, match="Only a case in MDT review"):
        services.mdt_agenda_add(actor=staff.coordinator, meeting=meeting(staff), case=case)


def test_a_case_goes_on_a_meetings_agenda_once(staff: Staff) -> None:
    case = to_mdt_review(staff, make_case(staff))
    mdt = meeting(staff)
    services.mdt_agenda_add(actor=staff.coordinator, meeting=mdt, case=case)
    with pytest.raises(Conflict, match="already on"):
        services.mdt_agenda_add(actor=staff.coordinator, meeting=mdt, case=case)


def test_a_decision_from_the_meeting_moves_nothing_but_opens_the_gate(staff: Staff) -> None:
    case = to_mdt_review(staff, make_case(staff))
    mdt = meeting(staff)
    item = services.mdt_agenda_add(actor=staff.coordinator, meeting=mdt, case=case)
    with pytest.raises(Conflict, match="needs an MDT decision"):
        case_services.case_transition(actor=staff.surgeon, case_id=case.pk, to="awaiting_surgery")

    decision = services.mdt_decision_record_from_meeting(
        actor=staff.surgeon, item=item, outcome="eligible", reasons="Meets the socket criteria."
    )

    case.refresh_from_db()
    assert case.stage == "mdt_review"  # nothing moved by itself
    assert decision.meeting_date == date(2026, 2, 24)
    assert set(decision.attendees.all()) == {staff.surgeon, staff.coordinator, staff.physio}
    item.refresh_from_db()
    assert item.decision == decision
    moved = case_services.case_transition(
        actor=staff.surgeon, case_id=case.pk, to="awaiting_surgery"
    )
    assert moved.stage == "awaiting_surgery"


def test_an_agenda_item_takes_one_decision(staff: Staff) -> None:
    case = to_mdt_review(staff, make_case(staff))
    item = services.mdt_agenda_add(actor=staff.coordinator, meeting=meeting(staff), case=case)
    services.mdt_decision_record_from_meeting(
        actor=staff.surgeon, item=item, outcome="more_information", reasons="Needs DEXA."
    )
    with pytest.raises(Conflict):
        services.mdt_decision_record_from_meeting(
            actor=staff.surgeon, item=item, outcome="eligible", reasons="Changed our mind."
        )
    assert MdtDecision.objects.filter(case=case).count() == 1


def test_a_decision_for_a_meeting_not_yet_held_is_refused(staff: Staff) -> None:
    from cases.errors import RuleViolation

    case = to_mdt_review(staff, make_case(staff))
    future = meeting(staff, starts_at=datetime(2026, 3, 10, 16, 0, tzinfo=LONDON))
    item = services.mdt_agenda_add(actor=staff.coordinator, meeting=future, case=case)
    with pytest.raises(RuleViolation, match="meeting_date"):
        services.mdt_decision_record_from_meeting(
            actor=staff.surgeon, item=item, outcome="eligible", reasons="Too early."
        )


def test_an_action_from_the_meeting_is_a_task_with_an_owner(staff: Staff) -> None:
    case = to_mdt_review(staff, make_case(staff))
    item = services.mdt_agenda_add(actor=staff.coordinator, meeting=meeting(staff), case=case)
    task = services.mdt_action_create(
        actor=staff.surgeon,
        item=item,
        title="Request a DEXA scan",
        role="surgeon",
        assignee=staff.surgeon,
        due_date=date(2026, 3, 16),
    )
    assert (task.agenda_item, task.case, task.assignee) == (item, case, staff.surgeon)
    with pytest.raises(Conflict, match="decision or actions"):
        services.mdt_agenda_remove(actor=staff.coordinator, item=item)


def test_a_nurse_may_not_run_a_meeting_unless_chairing_it(staff: Staff) -> None:
    with pytest.raises(NotPermitted):
        services.mdt_meeting_create(actor=staff.nurse, team=staff.team, starts_at=LAST_TUESDAY)
    chaired = services.mdt_meeting_create(
        actor=staff.nurse, team=staff.team, starts_at=LAST_TUESDAY, chair=staff.nurse
    )
    services.mdt_meeting_update(actor=staff.nurse, meeting=chaired, location="Room 4")


def test_attendees_must_be_members_of_the_team(staff: Staff) -> None:
    from cases.errors import RuleViolation

    stranger = member(TeamFactory.create(), "surgeon")
    with pytest.raises(RuleViolation, match="attendees"):
        meeting(staff, attendees=[staff.surgeon, stranger])


# --- API --------------------------------------------------------------------------------------


def test_running_a_meeting_through_the_api(staff: Staff) -> None:
    case = to_mdt_review(staff, make_case(staff))
    client = as_user(staff.coordinator)
    created = client.post(
        "/api/v1/mdt-meetings/",
        {
            "team": staff.team.pk,
            "starts_at": "2026-02-24T16:00:00Z",
            "location": "Seminar room 2",
            "chair": staff.surgeon.pk,
            "attendees": [staff.surgeon.pk, staff.coordinator.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    meeting_id = created.json()["id"]
    base = f"/api/v1/mdt-meetings/{meeting_id}/agenda-items/"

    added = client.post(base, {"case": case.pk, "question": "Eligible?"}, format="json")
    assert added.status_code == 201, added.json()
    item_id = added.json()["agenda"][0]["id"]

    minutes = client.patch(f"{base}{item_id}/", {"minutes": "Good bone stock."}, format="json")
    assert minutes.json()["agenda"][0]["minutes"] == "Good bone stock."

    decided = as_user(staff.surgeon).post(
        f"{base}{item_id}/decision/", {"outcome": "eligible", "reasons": "Criteria met."}
    )
    assert decided.status_code == 201, decided.json()
    assert decided.json()["agenda"][0]["decision"]["outcome"] == "eligible"

    action = client.post(
        f"{base}{item_id}/actions/",
        {"title": "Book surgery", "role": "coordinator", "due_date": "2026-03-09"},
    )
    assert action.status_code == 201, action.json()
    assert action.json()["agenda_item"] == item_id

    detail = client.get(f"/api/v1/mdt-meetings/{meeting_id}/").json()
    assert detail["agenda"][0]["actions"][0]["title"] == "Book surgery"
    assert client.delete(f"{base}{item_id}/").status_code == 409


def test_adding_a_case_not_in_review_through_the_api_is_409(staff: Staff) -> None:
    mdt = meeting(staff)
    case = make_case(staff)
    response = as_user(staff.coordinator).post(
        f"/api/v1/mdt-meetings/{mdt.pk}/agenda-items/", {"case": case.pk}
    )
    assert response.status_code == 409
    assert response.json()["error"]["stage"] == "referred"


def test_another_teams_meeting_is_404(staff: Staff) -> None:
    mdt = meeting(staff)
    outsider = as_user(member(TeamFactory.create(), "coordinator"))
    assert outsider.get(f"/api/v1/mdt-meetings/{mdt.pk}/").status_code == 404
    assert outsider.patch(f"/api/v1/mdt-meetings/{mdt.pk}/", {"location": "x"}).status_code == 404


def test_an_agenda_item_of_another_meeting_is_404(staff: Staff) -> None:
    case = to_mdt_review(staff, make_case(staff))
    first, second = meeting(staff), meeting(staff)
    item = services.mdt_agenda_add(actor=staff.coordinator, meeting=first, case=case)
    response = as_user(staff.coordinator).patch(
        f"/api/v1/mdt-meetings/{second.pk}/agenda-items/{item.pk}/", {"minutes": "x"}
    )
    assert response.status_code == 404


def test_a_physiotherapist_reads_meetings_but_may_not_change_them(staff: Staff) -> None:
    mdt = meeting(staff)
    client = as_user(staff.physio)
    assert client.get("/api/v1/mdt-meetings/").json()["count"] == 1
    assert client.patch(f"/api/v1/mdt-meetings/{mdt.pk}/", {"notes": "x"}).status_code == 403
