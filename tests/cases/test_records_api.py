"""Patients, cases, surgeries and assessments over the API: bad input is a 400 naming the
field and saves nothing; the eligibility summary comes with each assessment."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from cases import services
from cases.models import Case, Patient, PatientWeight, Surgery
from tests.factories import TeamFactory, case, member, patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Any:
    return TeamFactory.create()


@pytest.fixture
def coordinator(team: Any) -> Any:
    return member(team, "coordinator")


@pytest.fixture
def client(coordinator: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(coordinator)
    return client


def new_patient(**overrides: Any) -> dict[str, Any]:
    return {
        "hospital_number": "RX1234",
        "given_name": "Jo",
        "family_name": "Bloggs",
        "date_of_birth": "1975-03-02",
        "sex": "male",
        "weight_kg": "82.5",
        **overrides,
    }


def assert_field_error(response: Any, field: str) -> None:
    assert response.status_code == 400, response.json()
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert field in body["fields"], body
    assert field in body["message"]


def test_a_patient_is_created_with_a_dated_weight(client) -> None:
    response = client.post("/api/v1/patients/", new_patient())
    assert response.status_code == 201, response.json()
    assert response.json()["latest_weight"]["weight_kg"] == "82.5"
    assert PatientWeight.objects.get().patient.hospital_number == "RX1234"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", str(date.today() + timedelta(days=2))),
        ("date_of_birth", "1899-12-31"),
        ("weight_kg", "19.9"),
        ("weight_kg", "300.1"),
        ("sex", "unicorn"),
    ],
)
def test_bad_patient_input_is_400_naming_the_field_and_saves_nothing(client, field, value) -> None:
    assert_field_error(client.post("/api/v1/patients/", new_patient(**{field: value})), field)
    assert not Patient.objects.exists()
    assert not PatientWeight.objects.exists()


def test_a_duplicate_hospital_number_in_a_team_is_400(client) -> None:
    assert client.post("/api/v1/patients/", new_patient()).status_code == 201
    assert_field_error(client.post("/api/v1/patients/", new_patient()), "hospital_number")


def test_the_same_hospital_number_may_exist_in_another_team(client) -> None:
    other = TeamFactory.create()
    patient(other, hospital_number="RX1234")
    assert client.post("/api/v1/patients/", new_patient()).status_code == 201


@pytest.mark.parametrize("length", [0, -5, 601, 5000])
def test_an_absurd_residual_bone_length_is_400(client, team, coordinator, length) -> None:
    p = patient(team, coordinator)
    response = client.post(
        "/api/v1/cases/",
        {
            "patient": p.pk,
            "side": "left",
            "amputation_level": "transfemoral",
            "bone": "femur",
            "staging_plan": "two_stage",
            "residual_bone_length_mm": length,
        },
    )
    assert_field_error(response, "residual_bone_length_mm")
    assert not Case.objects.exists()


def test_a_second_open_case_on_the_same_side_is_400(client, team, coordinator) -> None:
    first = case(team, coordinator)
    body = {
        "patient": first.patient_id,
        "side": "left",
        "amputation_level": "transfemoral",
        "bone": "femur",
        "staging_plan": "two_stage",
    }
    assert_field_error(client.post("/api/v1/cases/", body), "side")
    assert client.post("/api/v1/cases/", {**body, "side": "right"}).status_code == 201


def test_a_case_may_not_point_at_another_teams_patient(client) -> None:
    theirs = patient(TeamFactory.create())
    response = client.post(
        "/api/v1/cases/",
        {
            "patient": theirs.pk,
            "side": "left",
            "amputation_level": "transfemoral",
            "bone": "femur",
            "staging_plan": "two_stage",
        },
    )
    assert_field_error(response, "patient")


def test_a_stage2_surgery_on_a_single_stage_case_is_400(client, team, coordinator) -> None:
    c = case(team, coordinator, staging_plan="single_stage")
    response = client.post(
        "/api/v1/surgeries/", {"case": c.pk, "kind": "stage2", "planned_date": str(date.today())}
    )
    assert_field_error(response, "kind")
    assert not Surgery.objects.exists()


def test_a_surgery_performed_in_the_future_is_400(client, team, coordinator) -> None:
    c = case(team, coordinator)
    tomorrow = services.team_today(team) + timedelta(days=1)
    response = client.post(
        "/api/v1/surgeries/", {"case": c.pk, "kind": "stage1", "performed_date": str(tomorrow)}
    )
    assert_field_error(response, "performed_date")


def test_a_nurse_may_not_record_a_surgery(team, coordinator) -> None:
    c = case(team, coordinator)
    nurse = APIClient()
    nurse.force_authenticate(member(team, "nurse"))
    response = nurse.post(
        "/api/v1/surgeries/", {"case": c.pk, "kind": "stage1", "planned_date": str(date.today())}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_an_assessment_comes_with_its_eligibility_summary(client, team, coordinator) -> None:
    implant = client.post(
        "/api/v1/implant-systems/",
        {
            "manufacturer": "Acme",
            "name": "Long stem",
            "fixation": "press_fit",
            "usual_staging": "single_stage",
            "min_residual_bone_length_mm": 250,
            "bones": "femur",
        },
    )
    assert implant.status_code == 201, implant.json()
    c = case(team, coordinator, residual_bone_length_mm=200, implant_system_id=implant.json()["id"])
    response = client.post(
        "/api/v1/assessments/",
        {
            "case": c.pk,
            "prosthesis_wear_hours_per_week": 20,
            "socket_loosens_weekly": True,
            "smoker": True,
            "active_infection": False,
            "active_malignancy": False,
            "skeletally_mature": True,
        },
    )
    assert response.status_code == 201, response.json()
    summary = response.json()["eligibility"]
    assert summary["socket_failure_met"] is True
    assert any("bone" in f["code"] for f in summary["absolute_contraindications"])
    assert any(f["code"] == "smoking" for f in summary["relative_contraindications"]) or any(
        "smok" in f["code"] for f in summary["relative_contraindications"]
    )
    assert summary["missing_items"]


def test_a_record_entered_in_error_is_hidden_but_kept(client, team, coordinator) -> None:
    c = case(team, coordinator)
    response = client.post(f"/api/v1/cases/{c.pk}/entered-in-error/", {"reason": "Wrong patient"})
    assert response.status_code == 204
    assert client.get(f"/api/v1/cases/{c.pk}/").status_code == 404
    kept = Case.objects.get(pk=c.pk)
    assert kept.entered_in_error and kept.entered_in_error_reason == "Wrong patient"
    assert kept.history.count() >= 2
    assert client.delete(f"/api/v1/cases/{c.pk}/").status_code in (404, 405)
