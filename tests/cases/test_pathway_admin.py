"""The admin goes through the same services as the API: the 'move to stage' action, the
eligibility summary on an assessment, and team scoping of the lists."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from cases.models import Assessment, Case, StageTransition
from tests.factories import TeamFactory, case, member

pytestmark = pytest.mark.django_db


def test_the_move_action_moves_a_case_through_the_pathway_service(client) -> None:
    team = TeamFactory.create()
    coordinator = member(team, "coordinator")
    c = case(team, coordinator)
    client.force_login(coordinator)
    response = client.post(
        "/admin/cases/case/",
        {
            "action": "move_to_stage",
            "_selected_action": [c.pk],
            "to": "screening",
            "reason": "Letter in",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Case.objects.get(pk=c.pk).stage == "screening"
    assert StageTransition.objects.get(case=c).actor == coordinator


def test_a_refused_move_in_the_admin_shows_the_guards_reason(client) -> None:
    team = TeamFactory.create()
    coordinator = member(team, "coordinator")
    c = case(team, coordinator)
    client.force_login(coordinator)
    response = client.post(
        "/admin/cases/case/",
        {"action": "move_to_stage", "_selected_action": [c.pk], "to": "rehabilitation"},
        follow=True,
    )
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("rehabilitation" in m for m in messages), messages
    assert Case.objects.get(pk=c.pk).stage == "referred"


def test_the_case_list_in_the_admin_shows_only_the_users_teams(client) -> None:
    team, other = TeamFactory.create(), TeamFactory.create()
    coordinator = member(team, "coordinator")
    mine, theirs = case(team, coordinator), case(other)
    client.force_login(coordinator)
    response = client.get("/admin/cases/case/")
    assert response.status_code == 200
    assert mine.patient.hospital_number in response.content.decode()
    assert theirs.patient.hospital_number not in response.content.decode()
    assert client.get(f"/admin/cases/case/{theirs.pk}/change/").status_code in (302, 404)


def test_an_assessment_page_shows_the_eligibility_summary(client) -> None:
    team = TeamFactory.create()
    coordinator = member(team, "coordinator")
    c = case(team, coordinator)
    assessment = Assessment.objects.create(case=c, active_infection=True)
    client.force_login(coordinator)
    response = client.get(f"/admin/cases/assessment/{assessment.pk}/change/")
    assert response.status_code == 200
    assert "Absolute contraindications" in response.content.decode()
    assert "infection" in response.content.decode().lower()
