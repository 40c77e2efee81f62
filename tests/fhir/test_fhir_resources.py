"""What each resource says: every type the server emits is valid R4, and maps the record the
way the README's mapping table says."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from cases import services
from cases.models import StageTransition
from osseo_mdt.fhir import mapping
from osseo_mdt.fhir import terminology as t
from osseo_mdt.fhir.resources import REGISTRY
from tests.factories import TeamFactory, case, member

from .conftest import TODAY, Clinic, valid_r4

pytestmark = pytest.mark.django_db


def read(clinic: Clinic, path: str) -> dict[str, Any]:
    response = clinic.client().get(f"/fhir/r4/{path}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return valid_r4(response.json())


def search(clinic: Clinic, query: str) -> list[dict[str, Any]]:
    bundle = read(clinic, query)
    return [valid_r4(entry["resource"]) for entry in bundle["entry"]]


def test_every_resource_type_the_server_emits_is_valid_r4(clinic: Clinic) -> None:
    for resource_type in REGISTRY:
        resources = search(clinic, resource_type)
        assert resources, f"the clinic has no {resource_type}"
        for resource in resources:
            assert resource["resourceType"] == resource_type
            # A read returns exactly what the search returned.
            assert read(clinic, f"{resource_type}/{resource['id']}") == resource


def test_a_searchset_bundle_round_trips_through_the_model_library(clinic: Clinic) -> None:
    bundle = read(clinic, "Observation?_count=5")
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "searchset"
    assert parsed.total == 12
    again = Bundle.model_validate_json(parsed.model_dump_json())
    assert again.model_dump() == parsed.model_dump()
    assert again.entry is not None
    round_tripped = [e.resource.id for e in again.entry if e.resource is not None]
    assert round_tripped == [e["resource"]["id"] for e in bundle["entry"]]


def test_the_patient_carries_the_hospital_number_under_the_configured_system(
    clinic: Clinic, settings: Any
) -> None:
    settings.FHIR_PATIENT_IDENTIFIER_SYSTEM = "https://trust.example.nhs.uk/Id/mrn"
    patient = read(clinic, f"Patient/{clinic.patient.pk}")
    assert patient["identifier"][0]["system"] == "https://trust.example.nhs.uk/Id/mrn"
    assert patient["identifier"][0]["value"] == clinic.patient.hospital_number
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert patient["name"] == [
        {"use": "official", "text": "Alex Example", "family": "Example", "given": ["Alex"]}
    ]
    assert patient["gender"] == "female"
    assert patient["birthDate"] == "1970-05-17"
    assert {"system": "phone", "value": "+44 20 7946 0000"} in patient["telecom"]
    assert {"system": "email", "value": "alex@example.test"} in patient["telecom"]


def test_the_episode_of_care_maps_the_stage_team_and_lead_clinician(clinic: Clinic) -> None:
    episode = read(clinic, f"EpisodeOfCare/{clinic.case.pk}")
    assert episode["status"] == "active"
    assert episode["extension"][0]["valueCoding"]["code"] == "rehabilitation"
    assert episode["patient"] == {"reference": f"Patient/{clinic.patient.pk}"}
    assert episode["careManager"] == {
        "reference": f"Practitioner/{clinic.lead.pk}",
        "display": "Sam Carver",
    }
    assert episode["managingOrganization"]["identifier"]["value"] == clinic.team.slug
    care_team = episode["contained"][0]
    assert episode["team"] == [{"reference": "#care-team"}]
    assert {p["member"]["reference"] for p in care_team["participant"]} == {
        f"Practitioner/{clinic.lead.pk}",
        f"Practitioner/{clinic.physio.pk}",
    }
    assert {d["condition"]["reference"] for d in episode["diagnosis"]} == {
        f"Condition/{c.pk}" for c in clinic.complications
    }
    assert episode["type"][0]["text"] == "Osseointegration, left transfemoral"


def test_status_history_follows_the_transition_log_one_entry_per_fhir_status(
    clinic: Clinic,
) -> None:
    moves = list(StageTransition.objects.filter(case=clinic.case))
    entered_awaiting = next(m for m in moves if m.to_stage == "awaiting_surgery")
    episode = read(clinic, f"EpisodeOfCare/{clinic.case.pk}")
    assert episode["statusHistory"] == [
        {
            "status": "waitlist",
            "period": {
                "start": clinic.case.referral_date.isoformat(),
                "end": entered_awaiting.effective_date.isoformat(),
            },
        },
        {"status": "active", "period": {"start": entered_awaiting.effective_date.isoformat()}},
    ]


@pytest.mark.parametrize(
    ("stage", "episode_status", "care_plan_status"),
    [
        ("referred", "waitlist", "active"),
        ("mdt_review", "waitlist", "active"),
        ("awaiting_surgery", "active", "active"),
        ("follow_up", "active", "active"),
        ("on_hold", "onhold", "on-hold"),
        ("discharged", "finished", "completed"),
        ("explanted", "finished", "revoked"),
        ("declined", "cancelled", "revoked"),
        ("withdrawn", "cancelled", "revoked"),
    ],
)
def test_each_stage_maps_to_an_episode_and_care_plan_status(
    stage: str, episode_status: str, care_plan_status: str
) -> None:
    assert t.EPISODE_STATUS_BY_STAGE[stage] == episode_status
    assert t.CAREPLAN_STATUS_BY_STAGE[stage] == care_plan_status


def test_a_closed_case_has_an_ended_period_and_a_finished_history() -> None:
    moves = [
        StageTransition(to_stage="screening", effective_date=date(2025, 1, 10)),
        StageTransition(to_stage="assessment", effective_date=date(2025, 2, 1)),
        StageTransition(to_stage="on_hold", effective_date=date(2025, 3, 1)),
        StageTransition(to_stage="assessment", effective_date=date(2025, 4, 1)),
        StageTransition(to_stage="withdrawn", effective_date=date(2025, 5, 1)),
    ]
    assert mapping.status_history(date(2025, 1, 1), moves) == [
        {"status": "waitlist", "period": {"start": "2025-01-01", "end": "2025-03-01"}},
        {"status": "onhold", "period": {"start": "2025-03-01", "end": "2025-04-01"}},
        {"status": "waitlist", "period": {"start": "2025-04-01", "end": "2025-05-01"}},
        {"status": "cancelled", "period": {"start": "2025-05-01"}},
    ]


def test_a_withdrawn_case_reads_as_a_cancelled_episode_with_an_end(db: None) -> None:
    team = TeamFactory.create()
    lead = member(team, "coordinator", "surgeon")
    withdrawn = case(team, lead)
    services.case_transition(
        actor=lead, case_id=withdrawn.pk, to="withdrawn", effective_date=TODAY, reason="Moved"
    )
    api = Clinic(team, lead, lead, lead, withdrawn.patient, withdrawn, [], [], []).client()
    episode = valid_r4(api.get(f"/fhir/r4/EpisodeOfCare/{withdrawn.pk}").json())
    assert episode["status"] == "cancelled"
    assert episode["period"] == {
        "start": withdrawn.referral_date.isoformat(),
        "end": TODAY.isoformat(),
    }
    plan = valid_r4(api.get(f"/fhir/r4/CarePlan/{withdrawn.pk}").json())
    assert plan["status"] == "revoked"


def test_the_care_plan_lists_surgeries_the_rehab_plan_and_every_task(clinic: Clinic) -> None:
    plan = read(clinic, f"CarePlan/{clinic.case.pk}")
    assert plan["intent"] == "plan"
    assert plan["subject"] == {"reference": f"Patient/{clinic.patient.pk}"}
    details = [a["detail"] for a in plan["activity"] if "detail" in a]
    statuses = {d["code"]["coding"][0]["code"]: d["status"] for d in details}
    assert statuses == {
        "single_stage": "completed",
        "abutment_exchange": "completed",
        "debridement": "scheduled",
        "rehabilitation": "in-progress",
    }
    rehab = next(d for d in details if d["code"]["coding"][0]["code"] == "rehabilitation")
    assert "Static axial loading" in rehab["description"]
    task_refs = {a["reference"]["reference"] for a in plan["activity"] if "reference" in a}
    assert {f"Task/{task.pk}" for task in clinic.tasks} <= task_refs
    performed = [a for a in plan["activity"] if "outcomeReference" in a]
    assert len(performed) == 2


def test_a_task_maps_status_owner_role_due_date_patient_and_case(clinic: Clinic) -> None:
    swab = clinic.tasks[0]
    task = read(clinic, f"Task/{swab.pk}")
    assert task["status"] == "requested"
    assert task["intent"] == "order"
    assert task["priority"] == "asap"  # ours: urgent
    assert task["owner"]["reference"] == f"Practitioner/{clinic.nurse.pk}"
    assert task["restriction"]["period"]["end"] == (TODAY + timedelta(days=2)).isoformat()
    assert task["for"] == {"reference": f"Patient/{clinic.patient.pk}"}
    assert task["focus"] == {"reference": f"EpisodeOfCare/{clinic.case.pk}"}
    assert task["requester"]["reference"] == f"Practitioner/{clinic.lead.pk}"
    assert task["performerType"][0]["coding"][0] == {
        "system": t.SNOMED,
        "code": "224535009",
        "display": "Registered nurse",
    }
    assert task["note"] == [{"text": "Swab taken on Monday."}]


def test_a_role_without_a_snomed_occupation_carries_only_its_local_code() -> None:
    concept = t.role_concept("coordinator")
    assert concept["coding"] == [
        {
            "system": t.local_system("role"),
            "code": "coordinator",
            "display": "Coordinator",
        }
    ]


def test_a_procedure_carries_its_implant_components_as_contained_devices(clinic: Clinic) -> None:
    procedures = search(clinic, f"Procedure?patient={clinic.patient.pk}")
    exchange = next(p for p in procedures if p["code"]["coding"][0]["code"] == "abutment_exchange")
    assert exchange["status"] == "completed"
    assert exchange["performedDateTime"] == (TODAY - timedelta(days=20)).isoformat()
    device = exchange["contained"][0]
    assert device["resourceType"] == "Device"
    assert (device["lotNumber"], device["serialNumber"]) == ("LOT-123", "SN-456")
    assert device["manufacturer"] == "Integrum"
    assert exchange["focalDevice"] == [
        {"action": {"text": "Implanted"}, "manipulated": {"reference": f"#{device['id']}"}}
    ]
    planned = next(p for p in procedures if p["code"]["coding"][0]["code"] == "debridement")
    assert planned["status"] == "preparation"
    assert "performedDateTime" not in planned
    assert planned["extension"][0]["valueDate"] == (TODAY + timedelta(days=30)).isoformat()


def test_pain_uses_loinc_and_a_local_code_with_ucum_units(clinic: Clinic) -> None:
    pains = search(clinic, f"Observation?code={t.LOINC}|72514-3")
    assert len(pains) == 5  # before and after each of two sessions, and the baseline NRS
    after = next(p for p in pains if p["id"].endswith("-pain-after"))
    assert after["code"]["coding"][0]["code"] == "72514-3"
    assert after["code"]["coding"][1]["code"] == "pain-nrs-after-session"
    assert after["category"][0]["coding"][0]["code"] == "survey"
    assert after["valueQuantity"] == {
        "value": 3,
        "unit": "score",
        "system": t.UCUM,
        "code": "{score}",
    }


def test_a_rehab_load_is_a_therapy_observation_with_its_target(clinic: Clinic) -> None:
    session = clinic.case.rehab_sessions.order_by("session_date").first()
    assert session is not None
    load = read(clinic, f"Observation/rehab-session-{session.pk}-load")
    assert load["category"][0]["coding"][0]["code"] == "therapy"
    assert load["valueQuantity"]["code"] == "kg"
    assert load["valueQuantity"]["value"] == float(session.load_kg or 0)
    assert load["component"][0]["code"]["coding"][0]["code"] == "axial-load-target"
    assert load["basedOn"] == [{"reference": f"CarePlan/{clinic.case.pk}"}]


def test_outcome_measures_map_to_loinc_or_local_codes_with_their_time_point(
    clinic: Clinic,
) -> None:
    qtfa, walk, k_level, _ = clinic.outcomes
    walked = read(clinic, f"Observation/outcome-measure-{walk.pk}")
    assert walked["code"]["coding"][0] == {
        "system": t.LOINC,
        "code": "64098-7",
        "display": "Six minute walk test",
    }
    assert walked["valueQuantity"]["value"] == 210
    assert walked["valueQuantity"]["code"] == "m"
    assert walked["extension"][0]["valueCoding"]["code"] == "baseline"
    questionnaire = read(clinic, f"Observation/outcome-measure-{qtfa.pk}")
    assert "valueQuantity" not in questionnaire
    assert [c["valueQuantity"]["value"] for c in questionnaire["component"]] == [35, 40, 55, 33]
    level = read(clinic, f"Observation/outcome-measure-{k_level.pk}")
    assert level["valueCodeableConcept"]["coding"][0]["code"] == "K2"


def test_a_complication_is_a_condition_with_severity_grade_onset_and_abatement(
    clinic: Clinic,
) -> None:
    infection, hypergranulation = clinic.complications
    condition = read(clinic, f"Condition/{infection.pk}")
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    assert condition["severity"]["coding"][0]["code"] == "6736007"  # moderate
    assert condition["stage"][0]["summary"]["coding"][0]["code"] == "2"
    assert condition["onsetDateTime"] == (TODAY - timedelta(days=3)).isoformat()
    assert "abatementDateTime" not in condition
    assert {"text": "Treatments: oral antibiotics."} in condition["note"]
    resolved = read(clinic, f"Condition/{hypergranulation.pk}")
    assert resolved["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert resolved["abatementDateTime"] == (TODAY - timedelta(days=10)).isoformat()
    assert "stage" not in resolved


def test_the_capability_statement_lists_exactly_what_is_supported(api: Any, db: None) -> None:
    statement = valid_r4(api.get("/fhir/r4/metadata").json())
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert "application/fhir+json" in statement["format"]
    served = statement["rest"][0]["resource"]
    assert [r["type"] for r in served] == sorted(REGISTRY)
    for entry in served:
        assert [i["code"] for i in entry["interaction"]] == ["read", "search-type"]
        assert [p["name"] for p in entry["searchParam"]] == list(REGISTRY[entry["type"]].params)
    task = next(r for r in served if r["type"] == "Task")
    assert {"owner", "status", "period", "patient"} <= {p["name"] for p in task["searchParam"]}
