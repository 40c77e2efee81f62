"""The admin's home page is the team member's dashboard: my overdue tasks, due this week, my
role pools, my cases by stage, open safety flags and the next MDT meeting's agenda, in a
constant number of queries. The stock list of records stays one click away."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from scheduling import services as task_services
from tests.ui.builders import Clinic, at_stage, clinic, in_rehabilitation, referred

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def task(c: Clinic, case: Any, title: str, due_in_days: int, **fields: Any) -> Any:
    return task_services.task_create(
        actor=c.coordinator,
        case=case,
        title=title,
        role=fields.pop("role", "coordinator"),
        due_date=c.today + timedelta(days=due_in_days),
        **fields,
    )


def meeting_with(c: Clinic, *cases: Any, in_days: int = 2) -> Any:
    meeting = task_services.mdt_meeting_create(
        actor=c.coordinator,
        team=c.team,
        starts_at=timezone.now() + timedelta(days=in_days),
        location="Seminar room 3",
        chair=c.surgeon,
    )
    for case in cases:
        task_services.mdt_agenda_add(
            actor=c.coordinator, meeting=meeting, case=case, question="Eligible for OI?"
        )
    return meeting


def test_the_admin_home_page_is_my_dashboard() -> None:
    c = clinic()
    case = referred(c)
    late = task(c, case, "Chase the GP letter", -3, assignee=c.coordinator)
    soon = task(c, case, "Book the peer conversation", 0, assignee=c.coordinator)
    pooled = task(c, case, "Anyone: send the questionnaire", 1)
    task(c, case, "The surgeon's pool", 1, role="surgeon")
    rehab = in_rehabilitation(c)
    services.rehab_session_record(
        actor=c.physio, case=rehab, session_date=c.today, load_kg=10, pain_nrs_after=7
    )
    review = at_stage(c, "mdt_review")
    meeting_with(c, review)

    response = logged_in(c.coordinator).get("/admin/")

    assert response.status_code == 200
    board = response.context["board"]
    assert [t.pk for t in board.work.overdue] == [late.pk]
    assert soon.pk in [t.pk for t in board.work.this_week]
    assert [t.title for t in board.work.pool if t.case_id == case.pk] == [pooled.title]
    assert {row.stage: (row.mine, row.team) for row in board.stages} == {
        "referred": (1, 1),
        "mdt_review": (1, 1),
        "rehabilitation": (1, 1),
    }
    assert [f.kind for f in board.flags] == ["pain_gate"]
    assert board.meeting is not None and [i.case_id for i in board.agenda] == [review.pk]
    html = response.content.decode()
    assert "Chase the GP letter" in html
    assert "The surgeon&#x27;s pool" not in html
    assert f"/admin/cases/case/{rehab.pk}/overview/" in html  # the flag, one click from its case
    assert f"/admin/cases/case/{review.pk}/overview/" in html  # the agenda item
    assert "Seminar room 3" in html
    assert "/admin/models/" in html  # every record type, one click away


def test_my_cases_are_those_i_lead_or_am_on_the_care_team_of() -> None:
    c = clinic()
    referred(c)
    referred(c, care_team=[(c.coordinator, "coordinator")], lead_clinician=c.coordinator)

    board = logged_in(c.nurse).get("/admin/").context["board"]

    assert [(row.stage, row.mine, row.team) for row in board.stages] == [("referred", 0, 2)]


def test_the_dashboard_shows_nothing_of_another_team() -> None:
    c, other = clinic(), clinic()
    theirs = in_rehabilitation(other)
    services.rehab_session_record(
        actor=other.physio, case=theirs, session_date=other.today, pain_nrs_after=8
    )
    task(other, theirs, "Their task", -1, assignee=other.coordinator)
    meeting_with(other, at_stage(other, "mdt_review"))

    response = logged_in(c.coordinator).get("/admin/")

    board = response.context["board"]
    assert (board.work.overdue, board.work.pool, board.stages, board.flags) == ([], [], [], [])
    assert board.meeting is None
    assert theirs.patient.hospital_number not in response.content.decode()


def test_the_shortcuts_follow_the_roles() -> None:
    c = clinic()

    def links(user: Any) -> set[str]:
        return {link.label for link in logged_in(user).get("/admin/").context["board"].links}

    assert {"New patient", "New case", "MDT meetings"} <= links(c.coordinator)
    assert "Cases in rehabilitation" in links(c.physio)
    assert not {"New case", "Prosthesis settings"} & links(c.physio)
    assert "Prosthesis settings" in links(c.prosthetist)


def test_the_stock_list_of_records_stays_reachable() -> None:
    c = clinic()
    response = logged_in(c.coordinator).get("/admin/models/")
    assert response.status_code == 200
    assert "/admin/cases/case/" in response.content.decode()


def test_the_dashboard_needs_a_login() -> None:
    response = Client().get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def queries_for(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/admin/").status_code == 200
    return len(captured)


def test_the_dashboard_takes_the_same_number_of_queries_however_much_there_is() -> None:
    c = clinic()
    client = logged_in(c.coordinator)
    first = referred(c)
    task(c, first, "One task", -1, assignee=c.coordinator)
    meeting_with(c, at_stage(c, "mdt_review"))
    client.get("/admin/")  # warm: content types
    few = queries_for(client)

    for n in range(4):
        case = referred(c)
        task(c, case, f"Late {n}", -2, assignee=c.coordinator)
        task(c, case, f"This week {n}", 1, assignee=c.coordinator)
        task(c, case, f"Pool {n}", 2)
    for stage in ("screening", "assessment", "mdt_review"):
        at_stage(c, stage)
    for _ in range(2):
        rehab = in_rehabilitation(c)
        services.rehab_session_record(
            actor=c.physio, case=rehab, session_date=c.today, load_kg=200, pain_nrs_after=9
        )

    # The session and user (2), roles (1), team time zones (2: my work's and the page's
    # today), my open tasks (1), my pools (1), open flags (1) and their count (1), the next
    # meeting (1) with its attendees (1) and agenda (1), cases by stage (1), the sidebar's
    # permissions (2).
    assert queries_for(client) == few == 15
