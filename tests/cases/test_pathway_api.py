"""The pathway over the API: transitions (200/409/403/400), guards, the timeline, and the
records the guards look at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from cases import services
from cases.demo import walk_case
from cases.models import Case, StageTransition
from tests.factories import TeamFactory, case, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Any:
    return TeamFactory.create()


@pytest.fixture
def coordinator(team: Any) -> Any:
    return member(team, "coordinator")


@pytest.fixture
def surgeon(team: Any) -> Any:
    return member(team, "surgeon")


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def move(user: Any, case_id: int, to: str, **extra: Any) -> Any:
    return client_for(user).post(f"/api/v1/cases/{case_id}/transition/", {"to": to, **extra})


def test_a_coordinator_moves_a_referral_to_screening(team, coordinator) -> None:
    c = case(team, coordinator)
    response = move(coordinator, c.pk, "screening", reason="Referral letter received")
    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "screening"
    log = StageTransition.objects.get(case=c)
    assert (log.from_stage, log.to_stage, log.actor, log.reason) == (
        "referred",
        "screening",
        coordinator,
        "Referral letter received",
    )
    assert log.effective_date == services.team_today(team)


def test_a_move_that_does_not_exist_is_409_with_the_allowed_stages(team, coordinator) -> None:
    c = case(team, coordinator)
    response = move(coordinator, c.pk, "rehabilitation")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert "screening" in error["allowed"]
    assert "rehabilitation" not in error["allowed"]
    assert Case.objects.get(pk=c.pk).stage == "referred"
    assert not StageTransition.objects.exists()


def test_awaiting_surgery_without_an_eligible_decision_is_409_naming_it(
    team, coordinator, surgeon
) -> None:
    c = walk_case(case(team, coordinator), "mdt_review", coordinator=coordinator, surgeon=surgeon)
    services.mdt_decision_record(
        actor=coordinator,
        case=c,
        meeting_date=c.referral_date,
        outcome="more_information",
        reasons="Needs DEXA",
    )
    response = move(coordinator, c.pk, "awaiting_surgery")
    assert response.status_code == 409
    message = response.json()["error"]["message"]
    assert "eligible" in message
    assert response.json()["error"]["reason"] == "guard"


def test_an_eligible_decision_opens_the_awaiting_surgery_gate(team, coordinator, surgeon) -> None:
    c = walk_case(case(team, coordinator), "mdt_review", coordinator=coordinator, surgeon=surgeon)
    decision = client_for(coordinator).post(
        "/api/v1/mdt-decisions/",
        {
            "case": c.pk,
            "meeting_date": str(c.referral_date),
            "outcome": "eligible",
            "reasons": "Socket failure, bone length adequate",
            "attendees": [coordinator.pk, surgeon.pk],
        },
    )
    assert decision.status_code == 201, decision.json()
    assert Case.objects.get(pk=c.pk).stage == "mdt_review"  # the decision moves nothing
    assert move(coordinator, c.pk, "awaiting_surgery").status_code == 200


def test_a_physiotherapist_may_not_make_a_surgical_move(team, coordinator, surgeon) -> None:
    c = walk_case(
        case(team, coordinator), "awaiting_surgery", coordinator=coordinator, surgeon=surgeon
    )
    physio = member(team, "physiotherapist")
    response = move(physio, c.pk, "stage1_surgery")
    assert response.status_code == 403
    assert "surgeon" in response.json()["error"]["message"]
    assert Case.objects.get(pk=c.pk).stage == "awaiting_surgery"


def test_interstage_needs_the_stage1_surgery_performed(team, coordinator, surgeon) -> None:
    c = walk_case(
        case(team, coordinator), "stage1_surgery", coordinator=coordinator, surgeon=surgeon
    )
    refused = move(surgeon, c.pk, "interstage")
    assert refused.status_code == 409
    assert "stage1" in refused.json()["error"]["message"]
    surgery = client_for(surgeon).post(
        "/api/v1/surgeries/",
        {
            "case": c.pk,
            "kind": "stage1",
            "performed_date": str(services.team_today(team)),
            "surgeons": [surgeon.pk],
            "components": [
                {
                    "manufacturer": "Integrum",
                    "model": "Fixture",
                    "size": "16 mm",
                    "lot_number": "L123",
                }
            ],
        },
    )
    assert surgery.status_code == 201, surgery.json()
    assert surgery.json()["components"][0]["lot_number"] == "L123"
    assert move(surgeon, c.pk, "interstage").status_code == 200


def test_on_hold_returns_to_the_stage_it_left(team, coordinator, surgeon) -> None:
    c = walk_case(case(team, coordinator), "assessment", coordinator=coordinator, surgeon=surgeon)
    assert move(coordinator, c.pk, "on_hold", reason="Patient abroad").status_code == 200
    back_elsewhere = move(coordinator, c.pk, "mdt_review")
    assert back_elsewhere.status_code == 409
    assert back_elsewhere.json()["error"]["allowed"][0] == "assessment"
    response = move(coordinator, c.pk, "assessment")
    assert response.status_code == 200
    assert response.json()["stage"] == "assessment"
    assert response.json()["stage_before_hold"] == ""


def test_explanted_needs_a_performed_removal(team, coordinator, surgeon) -> None:
    c = walk_case(
        case(team, coordinator, staging_plan="single_stage"),
        "rehabilitation",
        coordinator=coordinator,
        surgeon=surgeon,
    )
    assert move(surgeon, c.pk, "explanted").status_code == 409
    services.surgery_record(
        actor=surgeon, case=c, kind="removal", performed_date=services.team_today(team)
    )
    assert move(surgeon, c.pk, "explanted").status_code == 200


def test_an_unknown_stage_is_400_naming_the_field(team, coordinator) -> None:
    c = case(team, coordinator)
    response = move(coordinator, c.pk, "teleported")
    assert response.status_code == 400
    assert "to" in response.json()["error"]["fields"]


def test_a_future_effective_date_is_400(team, coordinator) -> None:
    c = case(team, coordinator)
    tomorrow = services.team_today(team) + timedelta(days=1)
    response = move(coordinator, c.pk, "screening", effective_date=str(tomorrow))
    assert response.status_code == 400
    assert "effective_date" in response.json()["error"]["fields"]


def test_a_stale_expected_stage_is_409(team, coordinator) -> None:
    c = case(team, coordinator)
    move(coordinator, c.pk, "screening")
    response = move(coordinator, c.pk, "assessment", expected_stage="referred")
    assert response.status_code == 409
    assert response.json()["error"]["stage"] == "screening"


def test_the_stage_cannot_be_written_through_the_case_endpoint(team, coordinator) -> None:
    c = case(team, coordinator)
    client = client_for(coordinator)
    etag = client.get(f"/api/v1/cases/{c.pk}/").headers["ETag"]
    response = client.patch(
        f"/api/v1/cases/{c.pk}/",
        {"stage": "discharged", "referral_source": "GP"},
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200
    assert response.json()["stage"] == "referred"
    assert response.json()["referral_source"] == "GP"


def test_another_teams_case_is_404_and_absent_from_lists(team, coordinator) -> None:
    c = case(team, coordinator)
    stranger = member(TeamFactory.create(), "coordinator")
    client = client_for(stranger)
    assert client.get(f"/api/v1/cases/{c.pk}/").status_code == 404
    assert move(stranger, c.pk, "screening").status_code == 404
    assert client.get("/api/v1/cases/").json()["count"] == 0
    assert client.get(f"/api/v1/patients/{c.patient_id}/").status_code == 404


def test_anonymous_callers_get_401(team, coordinator) -> None:
    c = case(team, coordinator)
    assert APIClient().get(f"/api/v1/cases/{c.pk}/").status_code == 401
    assert (
        APIClient().post(f"/api/v1/cases/{c.pk}/transition/", {"to": "screening"}).status_code
        == 401
    )


def test_the_timeline_lists_transitions_surgeries_and_decisions_in_date_order(
    team, coordinator, surgeon
) -> None:
    c = walk_case(case(team, coordinator), "interstage", coordinator=coordinator, surgeon=surgeon)
    response = client_for(coordinator).get(f"/api/v1/cases/{c.pk}/timeline/")
    assert response.status_code == 200
    kinds = [entry["kind"] for entry in response.json()]
    assert {"transition", "surgery", "decision"} <= set(kinds)
    dates = [entry["at"][:10] for entry in response.json()]
    assert dates == sorted(dates)


def test_case_filters_by_stage_and_team_member(team, coordinator, surgeon) -> None:
    first = case(team, coordinator)
    second = case(team, coordinator, care_team=[(surgeon, "surgeon")])
    move(coordinator, second.pk, "screening")
    client = client_for(coordinator)
    by_stage = client.get("/api/v1/cases/", {"stage": "screening"}).json()
    assert [row["id"] for row in by_stage["results"]] == [second.pk]
    by_member = client.get("/api/v1/cases/", {"team_member": surgeon.pk}).json()
    assert [row["id"] for row in by_member["results"]] == [second.pk]
    assert client.get("/api/v1/cases/", {"stage": "nowhere"}).status_code == 400
    assert first.pk in [row["id"] for row in client.get("/api/v1/cases/").json()["results"]]


def test_the_case_list_query_count_does_not_grow_with_the_page(
    team, coordinator, django_assert_num_queries
) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(coordinator)[1]}")
    for _ in range(3):
        case(team, coordinator)
    # 1 token with its user and the user's teams and roles, 2 count, 3 page of cases with
    # patient, team and open safety flags, 4 current rehab plans with their held days, 5 care
    # teams with names
    with django_assert_num_queries(5):
        client.get("/api/v1/cases/")
    for _ in range(7):
        case(team, coordinator)
    with django_assert_num_queries(5):
        assert client.get("/api/v1/cases/").json()["count"] == 10
