"""Who may read what, the access log, and every error as an OperationOutcome."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from cases.models import AccessLogEntry
from osseo_mdt.fhir.resources import REGISTRY
from tests.factories import PASSWORD, UserFactory

from .conftest import Clinic, valid_r4

pytestmark = pytest.mark.django_db


def outcome(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    body = valid_r4(response.json())
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    assert (issue["severity"], issue["code"]) == ("error", code)
    return str(issue["diagnostics"])


def instances(clinic: Clinic) -> list[str]:
    session = clinic.case.rehab_sessions.first()
    assert session is not None
    return [
        f"Patient/{clinic.patient.pk}",
        f"Practitioner/{clinic.lead.pk}",
        f"EpisodeOfCare/{clinic.case.pk}",
        f"CarePlan/{clinic.case.pk}",
        f"Task/{clinic.tasks[0].pk}",
        f"Procedure/{clinic.case.surgeries.first().pk}",  # type: ignore[union-attr]
        f"Observation/rehab-session-{session.pk}-load",
        f"Observation/outcome-measure-{clinic.outcomes[0].pk}",
        f"Condition/{clinic.complications[0].pk}",
    ]


# --- Authentication ---------------------------------------------------------------------------


def test_it_rejects_an_anonymous_caller_with_401(clinic: Clinic) -> None:
    for path in ["Patient", f"Patient/{clinic.patient.pk}", "Task?status=requested"]:
        response = APIClient().get(f"/fhir/r4/{path}")
        outcome(response, 401, "login")
        assert response["WWW-Authenticate"] == "Token"


def test_it_rejects_a_revoked_or_made_up_token(clinic: Clinic) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    outcome(api.get("/fhir/r4/Patient"), 401, "login")


def test_it_accepts_the_rest_api_token_and_a_session(clinic: Clinic) -> None:
    token = (
        APIClient()
        .post(
            "/api/v1/auth/token/",
            {"username": clinic.lead.username, "password": PASSWORD},
            format="json",
        )
        .json()["token"]
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(f"/fhir/r4/Patient/{clinic.patient.pk}").status_code == 200
    session = APIClient()
    session.force_login(clinic.lead)  # a signed-in admin session
    assert session.get(f"/fhir/r4/Patient/{clinic.patient.pk}").status_code == 200


def test_metadata_is_public_as_fhir_clients_expect(api: APIClient, db: None) -> None:
    response = api.get("/fhir/r4/metadata")
    assert response.status_code == 200
    assert valid_r4(response.json())["resourceType"] == "CapabilityStatement"


# --- Team scoping -----------------------------------------------------------------------------


def test_another_teams_records_are_404_however_they_are_named(
    clinic: Clinic, other_clinic: Clinic
) -> None:
    api = clinic.client()
    for path in instances(other_clinic):
        if path.startswith("Practitioner/"):
            continue  # staff are checked below
        outcome(api.get(f"/fhir/r4/{path}"), 404, "not-found")
    for path in instances(clinic):
        assert api.get(f"/fhir/r4/{path}").status_code == 200, path
    assert api.get(f"/fhir/r4/Patient/{clinic.patient.pk}")["Last-Modified"].endswith(" GMT")


def test_another_teams_records_never_appear_in_a_search(
    clinic: Clinic, other_clinic: Clinic
) -> None:
    api = clinic.client()
    theirs = {path for path in instances(other_clinic)}
    theirs |= {f"Practitioner/{other_clinic.physio.pk}", f"Task/{other_clinic.tasks[1].pk}"}
    for resource_type in REGISTRY:
        found = api.get(f"/fhir/r4/{resource_type}?_count=200").json()
        assert found["total"] == len(found["entry"])
        seen = {f"{resource_type}/{e['resource']['id']}" for e in found["entry"]}
        assert not seen & theirs, resource_type
    # Naming the other team's patient in a search finds nothing, rather than an error.
    found = api.get(f"/fhir/r4/Task?patient={other_clinic.patient.pk}").json()
    assert found["total"] == 0


def test_a_user_in_no_team_sees_nothing(clinic: Clinic) -> None:
    api = APIClient()
    api.force_authenticate(UserFactory.create())
    assert api.get("/fhir/r4/Patient").json()["total"] == 0
    outcome(api.get(f"/fhir/r4/Patient/{clinic.patient.pk}"), 404, "not-found")


# --- Access log -------------------------------------------------------------------------------


def test_reading_a_patient_or_episode_is_access_logged(clinic: Clinic) -> None:
    api = clinic.client()
    api.get(f"/fhir/r4/Patient/{clinic.patient.pk}")
    api.get(f"/fhir/r4/EpisodeOfCare/{clinic.case.pk}")
    entries = list(AccessLogEntry.objects.order_by("id"))
    assert [(e.via, e.user_id, e.patient_id, e.case_id) for e in entries] == [
        ("fhir", clinic.lead.pk, clinic.patient.pk, None),
        ("fhir", clinic.lead.pk, clinic.patient.pk, clinic.case.pk),
    ]
    assert entries[1].path == f"/fhir/r4/EpisodeOfCare/{clinic.case.pk}"


def test_each_patient_a_search_returns_is_access_logged(
    clinic: Clinic, other_clinic: Clinic
) -> None:
    api = clinic.client()
    api.get(f"/fhir/r4/Patient?identifier={clinic.patient.hospital_number}")
    api.get("/fhir/r4/EpisodeOfCare")
    logged = list(AccessLogEntry.objects.order_by("id").values_list("patient_id", "case_id"))
    assert logged == [(clinic.patient.pk, None), (clinic.patient.pk, clinic.case.pk)]


def test_a_refused_read_and_other_resources_are_not_logged(
    clinic: Clinic, other_clinic: Clinic
) -> None:
    api = clinic.client()
    api.get(f"/fhir/r4/Patient/{other_clinic.patient.pk}")
    api.get(f"/fhir/r4/Task/{clinic.tasks[0].pk}")
    assert not AccessLogEntry.objects.exists()


# --- Errors -----------------------------------------------------------------------------------


def test_an_unknown_resource_type_is_404(clinic: Clinic) -> None:
    api = clinic.client()
    message = outcome(api.get("/fhir/r4/MedicationRequest"), 404, "not-found")
    assert "Patient" in message
    outcome(api.get("/fhir/r4/MedicationRequest/1"), 404, "not-found")


def test_an_unknown_id_is_404(clinic: Clinic) -> None:
    api = clinic.client()
    for path in ["Patient/999999", "Patient/abc", "Observation/rehab-session-999-load"]:
        outcome(api.get(f"/fhir/r4/{path}"), 404, "not-found")


def test_a_session_part_that_was_not_measured_is_404(clinic: Clinic) -> None:
    from cases import services

    session = services.rehab_session_record(
        actor=clinic.physio, case=clinic.case, session_date=clinic.case.referral_date.today()
    )
    api = clinic.client()
    outcome(api.get(f"/fhir/r4/Observation/rehab-session-{session.pk}-load"), 404, "not-found")


def test_paths_outside_the_api_are_a_fhir_404(clinic: Clinic) -> None:
    api = clinic.client()
    outcome(api.get("/fhir/r4/Patient/1/_history"), 404, "not-supported")
    outcome(api.get("/fhir/r4/"), 404, "not-supported")


@pytest.mark.parametrize(
    "query",
    [
        "Task?period=yesterday",
        "Task?period=ap2026-01-01",
        "Task?status=done",
        "Task?owner=Patient/1",
        "Task?priority=whenever",
        "EpisodeOfCare?status=open",
        "Observation?category=laboratory",
        "Observation?date=2026-02-30",
        "Patient?_count=-1",
        "Patient?_count=lots",
        "Patient?_offset=x",
        "Task?status=",
        "Procedure?status=done",
        "Condition?clinical-status=inactive",
    ],
)
def test_a_bad_parameter_value_is_400(clinic: Clinic, query: str) -> None:
    outcome(clinic.client().get(f"/fhir/r4/{query}"), 400, "invalid")


def test_an_unknown_parameter_is_400_unless_the_client_asks_for_lenient_handling(
    clinic: Clinic,
) -> None:
    api = clinic.client()
    message = outcome(api.get("/fhir/r4/Task?colour=blue"), 400, "invalid")
    assert "owner" in message and "period" in message
    outcome(api.get("/fhir/r4/Patient?name:fuzzy=alex"), 400, "invalid")
    lenient = api.get("/fhir/r4/Task?colour=blue&status=requested", HTTP_PREFER="handling=lenient")
    assert lenient.status_code == 200
    self_link = lenient.json()["link"][0]["url"]
    assert "colour" not in self_link and "status=requested" in self_link


def test_json_is_the_only_format(clinic: Clinic) -> None:
    api = clinic.client()
    assert api.get("/fhir/r4/Patient?_format=json").status_code == 200
    assert api.get("/fhir/r4/Patient?_format=application/fhir%2Bjson").status_code == 200
    plain = api.get("/fhir/r4/Patient", HTTP_ACCEPT="application/json")
    assert plain.status_code == 200
    outcome(api.get("/fhir/r4/Patient?_format=xml"), 406, "not-supported")
    outcome(api.get("/fhir/r4/Patient", HTTP_ACCEPT="application/fhir+xml"), 406, "not-supported")


def test_writes_are_refused_as_not_supported(clinic: Clinic) -> None:
    api = clinic.client()
    response = api.post("/fhir/r4/Patient", {"resourceType": "Patient"}, format="json")
    outcome(response, 405, "not-supported")
    outcome(api.delete(f"/fhir/r4/Patient/{clinic.patient.pk}"), 405, "not-supported")
