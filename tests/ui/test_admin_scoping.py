"""Nobody reaches another team's records through the admin: not by URL (case, patient,
task, session, meeting, flag, and the history pages), not in a form's choices, not in a list
filter. Menus follow the roles: prosthesis settings are the prosthetist's to add."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cases import services
from cases.models import ImplantSystem, ProsthesisSetting, RehabSession
from scheduling import services as task_services
from scheduling.models import Task
from tests.ui.builders import at_stage, clinic, in_rehabilitation

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_another_teams_case_task_session_and_meeting_are_not_reachable_by_url() -> None:
    mine, other = clinic(), clinic()
    theirs = in_rehabilitation(other)
    session = services.rehab_session_record(
        actor=other.physio, case=theirs, session_date=other.today, load_kg=10, pain_nrs_after=7
    )
    flag = session.raised_flags[0]
    task = Task.objects.filter(case=theirs).first()
    assert task is not None
    meeting = task_services.mdt_meeting_create(
        actor=other.coordinator, team=other.team, starts_at=timezone.now()
    )
    case_version = theirs.history.first().history_id
    urls = [
        f"/admin/cases/case/{theirs.pk}/overview/",
        f"/admin/cases/case/{theirs.pk}/change/",
        f"/admin/cases/case/{theirs.pk}/history/",
        f"/admin/cases/case/{theirs.pk}/history/{case_version}/",
        f"/admin/cases/patient/{theirs.patient_id}/change/",
        f"/admin/cases/patient/{theirs.patient_id}/history/",
        f"/admin/scheduling/task/{task.pk}/change/",
        f"/admin/scheduling/task/{task.pk}/history/",
        f"/admin/cases/rehabsession/{session.pk}/change/",
        f"/admin/cases/rehabsession/{session.pk}/history/",
        f"/admin/cases/safetyflag/{flag.pk}/change/",
        f"/admin/scheduling/mdtmeeting/{meeting.pk}/change/",
        f"/admin/scheduling/mdtmeeting/{meeting.pk}/print/",
        f"/api/v1/cases/{theirs.pk}/rehab/chart.svg",
    ]
    for user in (mine.coordinator, mine.physio):
        client = logged_in(user)
        for url in urls:
            response = client.get(url)
            # Not found, or (the stock change pages) sent home with "does not exist".
            assert response.status_code in (302, 404), (url, response.status_code)
            if response.status_code == 302:
                assert response["Location"] == "/admin/", url
                home = client.get("/admin/").content.decode()
                assert theirs.patient.hospital_number not in home


def test_the_history_of_a_record_of_my_own_team_is_shown() -> None:
    c = clinic()
    the_case = at_stage(c, "screening")
    response = logged_in(c.coordinator).get(f"/admin/cases/case/{the_case.pk}/history/")
    assert response.status_code == 200


def test_forms_offer_only_my_teams_people_and_implant_systems() -> None:
    mine, other = clinic(), clinic()
    ImplantSystem.objects.create(
        team=other.team,
        manufacturer="North",
        name="Private press-fit stem",
        fixation="press_fit",
        usual_staging="single_stage",
        min_residual_bone_length_mm=100,
        bones="femur",
    )
    client = logged_in(mine.coordinator)
    for url in (
        "/admin/cases/case/add/",
        "/admin/cases/surgery/add/",
        "/admin/cases/mdtdecision/add/",
        "/admin/scheduling/task/add/",
        "/admin/scheduling/mdtmeeting/add/",
        "/admin/scheduling/appointment/add/",
    ):
        html = client.get(url).content.decode()
        assert mine.surgeon.username in html or "Sam Carver" in html or url.endswith("task/add/")
        for stranger in (other.surgeon, other.coordinator, other.physio):
            assert f">{stranger.username}<" not in html, (url, stranger.username)
        assert "Private press-fit stem" not in html, url
        assert other.team.name not in html, url


def test_list_filters_name_only_my_teams() -> None:
    mine, other = clinic(), clinic()
    in_rehabilitation(other)
    in_rehabilitation(mine)
    client = logged_in(mine.coordinator)
    for url in (
        "/admin/cases/case/",
        "/admin/cases/patient/",
        "/admin/cases/rehabplan/",
        "/admin/scheduling/task/",
        "/admin/scheduling/mdtmeeting/",
        "/admin/cases/membership/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert other.team.name not in html, url
        assert other.surgeon.get_full_name() not in html or (
            other.surgeon.get_full_name() == mine.surgeon.get_full_name()
        ), url


def test_prosthesis_settings_are_added_by_prosthetists_and_read_by_everyone_else() -> None:
    c = clinic()
    the_case = in_rehabilitation(c)
    setting = services.prosthesis_setting_change(
        actor=c.prosthetist,
        case=the_case,
        component="knee",
        component_model="Constant-friction knee (example)",
        parameters={"friction_level": 3},
        reason="Initial fitting",
        set_on=c.today,
    )
    prosthetist, physio = logged_in(c.prosthetist), logged_in(c.physio)

    assert prosthetist.get("/admin/cases/prosthesissetting/add/").status_code == 200
    assert physio.get("/admin/cases/prosthesissetting/add/").status_code == 403
    assert (
        "/admin/cases/prosthesissetting/add/"
        in prosthetist.get("/admin/cases/prosthesissetting/").content.decode()
    )
    assert (
        "/admin/cases/prosthesissetting/add/"
        not in physio.get("/admin/cases/prosthesissetting/").content.decode()
    )
    # A setting is never edited (a change is a new setting): its page has no save button.
    page = physio.get(f"/admin/cases/prosthesissetting/{setting.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert ProsthesisSetting.objects.count() == 1


def test_operations_pages_are_hidden_from_clinicians() -> None:
    c = clinic()
    client = logged_in(c.coordinator)
    assert client.get("/admin/scheduling/workerheartbeat/").status_code == 403
    assert "workerheartbeat" not in client.get("/admin/models/").content.decode()


def test_a_session_of_another_team_is_not_listed() -> None:
    mine, other = clinic(), clinic()
    theirs = in_rehabilitation(other)
    services.rehab_session_record(
        actor=other.physio, case=theirs, session_date=other.today, load_kg=10
    )
    response = logged_in(mine.physio).get("/admin/cases/rehabsession/")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert RehabSession.objects.count() == 1
