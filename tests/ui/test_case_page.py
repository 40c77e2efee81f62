"""The case page (Django test client): the story at a glance, the next-step buttons through
the pathway service, the task buttons through the task services, and quick session entry
through the rehab service. Another team's case is a 404 everywhere."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import AccessLogEntry, Case, RehabSession, SafetyFlag
from scheduling import services as task_services
from scheduling.models import Task, TaskStatus
from tests.ui.builders import Clinic, at_stage, clinic, in_rehabilitation, referred

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(case: Case) -> str:
    return f"/admin/cases/case/{case.pk}/overview/"


def said(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- What the page shows ----------------------------------------------------------------------


def test_the_case_page_tells_the_story_at_a_glance() -> None:
    c = clinic()
    the_case = at_stage(c, "assessment")

    response = logged_in(c.coordinator).get(page(the_case))

    assert response.status_code == 200
    html = response.content.decode()
    patient = the_case.patient
    assert patient.hospital_number in html
    assert patient.family_name.upper() in html
    assert "Left transfemoral" in html
    assert "Assessment" in html  # the stage
    assert 'value="mdt_review"' in html  # the next step, as a button
    assert "Sam Carver" in html and "Phil Walker" in html  # the care team
    assert "Referred -&gt; Screening" in html or "Referred -> Screening" in html  # timeline
    assert "Request X-ray and CT" in html  # an open task generated on entering assessment
    assert f"/admin/cases/case/{the_case.pk}/history/" in html
    assert AccessLogEntry.objects.filter(case=the_case, user=c.coordinator, via="admin").exists()


def test_the_buttons_offer_only_the_moves_this_person_may_try() -> None:
    c = clinic()
    the_case = referred(c)

    physio = logged_in(c.physio).get(page(the_case)).content.decode()
    coordinator = logged_in(c.coordinator).get(page(the_case)).content.decode()

    assert 'value="screening"' in coordinator
    assert 'value="screening"' not in physio
    assert "Screening: coordinator" in physio  # who to ask instead
    assert 'value="on_hold"' in coordinator  # side exits, for coordinators and surgeons
    assert 'value="explanted"' not in coordinator  # the surgeon's move only


def test_the_session_form_is_offered_only_to_those_who_record_sessions() -> None:
    c = clinic()
    the_case = in_rehabilitation(c)

    assert 'id="session"' in logged_in(c.physio).get(page(the_case)).content.decode()
    assert 'id="session"' not in logged_in(c.nurse).get(page(the_case)).content.decode()
    assert 'id="session"' not in logged_in(c.physio).get(page(referred(c))).content.decode()


# --- Next-step buttons ------------------------------------------------------------------------


def test_the_move_button_moves_the_case_through_the_pathway_service() -> None:
    c = clinic()
    the_case = referred(c)

    response = logged_in(c.coordinator).post(
        f"{page(the_case)}move/", {"to": "screening", "from": "referred", "reason": "Letter in"}
    )

    assert response.status_code == 302
    assert response["Location"] == page(the_case)
    the_case.refresh_from_db()
    assert the_case.stage == "screening"
    transition = the_case.transitions.get()
    assert (transition.actor, transition.reason) == (c.coordinator, "Letter in")
    messages = said(response)
    assert "Moved to Screening." in messages
    assert any("Pre-screen the referral" in m for m in messages), messages


def test_a_refused_move_shows_the_guards_reason_and_moves_nothing() -> None:
    c = clinic()
    the_case = at_stage(c, "mdt_review")  # no MDT decision recorded

    response = logged_in(c.coordinator).post(
        f"{page(the_case)}move/", {"to": "awaiting_surgery", "from": "mdt_review"}
    )

    assert response.status_code == 302
    assert Case.objects.get(pk=the_case.pk).stage == "mdt_review"
    assert said(response) == [
        "Not moved: Moving to awaiting_surgery needs an MDT decision 'eligible'; "
        "no MDT decision is recorded."
    ]


def test_a_guarded_move_shows_its_reason_before_it_is_pressed() -> None:
    c = clinic()
    the_case = at_stage(c, "mdt_review")
    html = logged_in(c.coordinator).get(page(the_case)).content.decode()
    assert "needs an MDT decision &#x27;eligible&#x27;" in html


def test_a_move_by_a_role_that_may_not_make_it_is_refused() -> None:
    c = clinic()
    the_case = referred(c)

    response = logged_in(c.physio).post(f"{page(the_case)}move/", {"to": "screening"})

    assert Case.objects.get(pk=the_case.pk).stage == "referred"
    assert said(response) == [
        "Not moved: Only a coordinator may move a case from referred to screening."
    ]


def test_a_second_press_of_the_same_button_does_not_move_the_case_twice() -> None:
    c = clinic()
    the_case = referred(c)
    client = logged_in(c.coordinator)
    client.post(f"{page(the_case)}move/", {"to": "screening", "from": "referred"})

    response = client.post(f"{page(the_case)}move/", {"to": "screening", "from": "referred"})

    assert the_case.transitions.count() == 1
    assert any("someone moved it" in m for m in said(response)), said(response)


def test_the_move_view_takes_only_posts() -> None:
    c = clinic()
    assert logged_in(c.coordinator).get(f"{page(referred(c))}move/").status_code == 405


# --- Task buttons -----------------------------------------------------------------------------


def test_the_complete_button_completes_the_task_through_the_task_service() -> None:
    c = clinic()
    the_case = at_stage(c, "screening")
    task = Task.objects.filter(case=the_case, role="coordinator").first()
    assert task is not None

    response = logged_in(c.coordinator).post(
        f"{page(the_case)}task/", {"task": task.pk, "do": "complete", "note": "Phoned"}
    )

    assert response["Location"] == f"{page(the_case)}#tasks"
    task.refresh_from_db()
    assert (task.status, task.completed_by, task.completion_note) == (
        TaskStatus.COMPLETED,
        c.coordinator,
        "Phoned",
    )


def test_the_assign_and_take_buttons_go_through_the_task_service() -> None:
    c = clinic()
    the_case = at_stage(c, "assessment")
    task = Task.objects.get(case=the_case, role="surgeon", title__startswith="Request X-ray")
    client = logged_in(c.coordinator)

    client.post(
        f"{page(the_case)}task/", {"task": task.pk, "do": "assign", "assignee": c.surgeon.pk}
    )
    task.refresh_from_db()
    assert task.assignee == c.surgeon

    client.post(f"{page(the_case)}task/", {"task": task.pk, "do": "assign", "assignee": ""})
    task.refresh_from_db()
    assert task.assignee is None

    logged_in(c.surgeon).post(f"{page(the_case)}task/", {"task": task.pk, "do": "take"})
    task.refresh_from_db()
    assert task.assignee == c.surgeon


def test_assigning_a_task_to_someone_without_its_role_is_refused_with_the_reason() -> None:
    c = clinic()
    the_case = at_stage(c, "assessment")
    task = Task.objects.get(case=the_case, role="surgeon", title__startswith="Request X-ray")

    response = logged_in(c.coordinator).post(
        f"{page(the_case)}task/", {"task": task.pk, "do": "assign", "assignee": c.nurse.pk}
    )

    task.refresh_from_db()
    assert task.assignee is None
    assert "surgeon" in said(response)[0]


def test_a_task_of_another_case_cannot_be_acted_on_from_this_page() -> None:
    c = clinic()
    here, there = at_stage(c, "screening"), at_stage(c, "screening")
    task = Task.objects.filter(case=there).first()
    assert task is not None
    response = logged_in(c.coordinator).post(
        f"{page(here)}task/", {"task": task.pk, "do": "complete"}
    )
    assert response.status_code == 404


# --- Quick session entry ----------------------------------------------------------------------


def session_form(c: Clinic, **values: Any) -> dict[str, Any]:
    return {
        "session_date": c.today.isoformat(),
        "load_kg": "20",
        "duration_minutes": "30",
        "pain_nrs_before": "2",
        "pain_nrs_after": "3",
        "walking_aid": "static_only",
        "stoma_findings": ["clean"],
        **values,
    }


def test_quick_entry_records_a_session_through_the_rehab_service() -> None:
    c = clinic()
    the_case = in_rehabilitation(c)

    response = logged_in(c.physio).post(f"{page(the_case)}session/", session_form(c))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == f"{page(the_case)}#session"
    session = RehabSession.objects.get(case=the_case)
    assert (session.recorded_by, session.load_kg, session.pain_nrs_after) == (c.physio, 20, 3)
    assert session.stoma_findings == ["clean"]
    assert session.target_kg is not None  # computed by the service
    assert said(response)[0].startswith("Session recorded for ")


def test_a_painful_session_shows_the_pain_gate_flag_and_its_new_task() -> None:
    c = clinic()
    the_case = in_rehabilitation(c)

    response = logged_in(c.physio).post(
        f"{page(the_case)}session/", session_form(c, pain_nrs_after="6")
    )

    flag = SafetyFlag.objects.get(case=the_case, kind="pain_gate")
    messages = said(response)
    assert any(m.startswith("Flag raised: Pain gate") for m in messages), messages
    assert any("Pain gate: plan held" in m and "physiotherapist" in m for m in messages), messages
    assert Task.objects.filter(
        case=the_case, event_key__startswith=f"rehab-flag:{flag.pk}:"
    ).exists()
    html = logged_in(c.physio).get(page(the_case)).content.decode()
    assert 'id="open-flags"' in html and "Pain gate: plan held" in html


def test_quick_entry_shows_the_form_errors_and_records_nothing() -> None:
    c = clinic()
    the_case = in_rehabilitation(c)
    client = logged_in(c.physio)

    out_of_range = client.post(f"{page(the_case)}session/", session_form(c, pain_nrs_after="11"))
    future = client.post(
        f"{page(the_case)}session/",
        session_form(c, session_date=(c.today + timedelta(days=1)).isoformat()),
    )

    assert out_of_range.status_code == 400
    assert "pain_nrs_after" in out_of_range.context["session_form"].errors
    assert future.status_code == 400
    assert "may not be in the future" in str(future.context["session_form"].errors)
    assert not RehabSession.objects.filter(case=the_case).exists()


def test_quick_entry_by_a_role_that_may_not_record_sessions_is_refused() -> None:
    c = clinic()
    the_case = in_rehabilitation(c)

    response = logged_in(c.nurse).post(f"{page(the_case)}session/", session_form(c))

    assert response.status_code == 400
    assert "physiotherapist" in str(response.context["session_form"].non_field_errors())
    assert not RehabSession.objects.filter(case=the_case).exists()


# --- Another team -----------------------------------------------------------------------------


def test_another_teams_case_is_not_found_on_the_case_page_or_its_buttons() -> None:
    c, other = clinic(), clinic()
    theirs = in_rehabilitation(other)
    task = Task.objects.filter(case=theirs).first()
    assert task is not None
    client = logged_in(c.coordinator)

    assert client.get(page(theirs)).status_code == 404
    assert client.post(f"{page(theirs)}move/", {"to": "follow_up"}).status_code == 404
    assert (
        client.post(f"{page(theirs)}task/", {"task": task.pk, "do": "complete"}).status_code == 404
    )
    assert (
        logged_in(c.physio).post(f"{page(theirs)}session/", session_form(other)).status_code == 404
    )
    assert Case.objects.get(pk=theirs.pk).stage == "rehabilitation"
    assert not RehabSession.objects.filter(case=theirs).exists()


# --- Query count ------------------------------------------------------------------------------


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_case_page_takes_the_same_number_of_queries_however_long_the_story() -> None:
    c = clinic()
    the_case = in_rehabilitation(c, surgery_days_ago=12)
    client = logged_in(c.physio)
    client.get(page(the_case))  # warm: content types, sessions
    few = queries_for(client, page(the_case))

    for days_ago in range(1, 9):
        services.rehab_session_record(
            actor=c.physio,
            case=the_case,
            session_date=c.today - timedelta(days=days_ago),
            load_kg=10,
            pain_nrs_after=6 if days_ago == 4 else 2,
        )
    for n in range(5):
        task_services.task_create(
            actor=c.coordinator,
            case=the_case,
            title=f"Extra task {n}",
            role="physiotherapist",
            due_date=c.today,
            assignee=c.physio if n % 2 else None,
        )

    assert queries_for(client, page(the_case)) == few


def test_the_details_form_links_to_the_case_page_and_saving_returns_there() -> None:
    c = clinic()
    the_case = referred(c)
    client = logged_in(c.coordinator)

    form = client.get(f"/admin/cases/case/{the_case.pk}/change/")

    assert form.status_code == 200
    assert page(the_case) in form.content.decode()
    list_html = client.get("/admin/cases/case/").content.decode()
    assert f'href="{page(the_case)}"' in list_html
