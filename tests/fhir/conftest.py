"""A clinic with one case of every kind of record the FHIR API serves, built through the
services as a team would, and helpers that check what the server emits against R4."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fhir.resources.R4B import get_fhir_model_class
from fhirclient.models.fhirelementfactory import FHIRElementFactory
from rest_framework.test import APIClient

from cases import services
from cases.demo import walk_case
from cases.models import Case, Complication, OutcomeMeasure, Patient, RehabProtocol, Team
from scheduling import services as scheduling_services
from scheduling.models import Task
from tests.factories import TeamFactory, case, member, patient

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _frozen_today() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def valid_r4(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after both model libraries accepted it: fhir.resources' R4B models
    (strict types, cardinality, choice types, no unknown elements) and the SMART client's
    R4 4.0.1 models (no element R4 lacks), so fhirVersion 4.0.1 is true."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    FHIRElementFactory.instantiate(resource["resourceType"], resource)
    return resource


@dataclass
class Clinic:
    team: Team
    lead: Any  # coordinator and surgeon, the case's lead clinician
    physio: Any
    nurse: Any
    patient: Patient
    case: Case
    tasks: list[Task]
    complications: list[Complication]
    outcomes: list[OutcomeMeasure]

    def client(self, user: Any = None) -> APIClient:
        api = APIClient()
        api.force_authenticate(user or self.lead)
        return api


def build_clinic(team: Team | None = None, *, sessions: int = 2) -> Clinic:
    team = team or TeamFactory.create()
    lead = member(team, "coordinator", "surgeon", first_name="Sam", last_name="Carver")
    physio = member(team, "physiotherapist", first_name="Phil", last_name="Walker")
    nurse = member(team, "nurse")
    person = patient(
        team,
        lead,
        given_name="Alex",
        family_name="Example",
        phone="+44 20 7946 0000",
        email="alex@example.test",
        weight_kg=80,
    )
    the_case = case(
        team,
        lead,
        patient=person,
        staging_plan="single_stage",
        lead_clinician=lead,
        care_team=[(lead, "surgeon"), (physio, "physiotherapist")],
    )
    the_case = walk_case(
        the_case,
        "rehabilitation",
        coordinator=lead,
        surgeon=lead,
        start=TODAY - timedelta(days=60),
        step_days=5,
    )
    services.surgery_record(
        actor=lead,
        case=the_case,
        kind="abutment_exchange",
        performed_date=TODAY - timedelta(days=20),
        surgeons=[lead],
        outcome="uneventful",
        components=[
            {
                "manufacturer": "Integrum",
                "model": "OPRA abutment",
                "size": "40 mm",
                "lot_number": "LOT-123",
                "serial_number": "SN-456",
            }
        ],
    )
    services.surgery_record(
        actor=lead, case=the_case, kind="debridement", planned_date=TODAY + timedelta(days=30)
    )
    protocol = RehabProtocol.objects.get(team=None, code="standard-6-week-fwb", version=1)
    services.rehab_plan_start(actor=physio, case=the_case, protocol=protocol)
    for n in range(sessions):
        services.rehab_session_record(
            actor=physio,
            case=the_case,
            session_date=TODAY - timedelta(days=n + 1),
            load_kg=20 + n,
            load_leg="left",
            duration_minutes=30,
            pain_nrs_before=1,
            pain_nrs_after=3,
            wear_hours_per_day=4,
        )
    measured = TODAY - timedelta(days=40)
    outcomes = [
        services.outcome_measure_record(
            actor=physio,
            case=the_case,
            kind="qtfa",
            time_point="baseline",
            measured_on=measured,
            qtfa_prosthetic_use=35,
            qtfa_mobility=40,
            qtfa_problem=55,
            qtfa_global=33,
        ),
        services.outcome_measure_record(
            actor=physio,
            case=the_case,
            kind="six_minute_walk",
            time_point="baseline",
            measured_on=measured,
            value=210,
        ),
        services.outcome_measure_record(
            actor=physio,
            case=the_case,
            kind="k_level",
            time_point="baseline",
            measured_on=measured,
            k_level="K2",
        ),
        services.outcome_measure_record(
            actor=physio,
            case=the_case,
            kind="pain_nrs",
            time_point="baseline",
            measured_on=measured,
            value=4,
        ),
    ]
    complications = [
        services.complication_record(
            actor=nurse,
            case=the_case,
            kind="infection",
            infection_grade=2,
            onset_date=TODAY - timedelta(days=3),
            severity="moderate",
            treatments=["oral_antibiotics"],
            description="Redness and discharge at the stoma.",
        ),
        services.complication_record(
            actor=nurse,
            case=the_case,
            kind="hypergranulation",
            onset_date=TODAY - timedelta(days=15),
            severity="mild",
            treatments=["silver_nitrate"],
            resolved_on=TODAY - timedelta(days=10),
        ),
    ]
    tasks = [
        scheduling_services.task_create(
            actor=lead,
            case=the_case,
            title="Review stoma swab",
            role="nurse",
            due_date=TODAY + timedelta(days=2),
            priority="urgent",
            assignee=nurse,
            details="Swab taken on Monday.",
        ),
        scheduling_services.task_create(
            actor=lead,
            case=the_case,
            title="Check loading diary",
            role="physiotherapist",
            due_date=TODAY + timedelta(days=10),
            assignee=physio,
        ),
    ]
    the_case = Case.objects.get(pk=the_case.pk)
    return Clinic(
        team=team,
        lead=lead,
        physio=physio,
        nurse=nurse,
        patient=person,
        case=the_case,
        tasks=tasks,
        complications=complications,
        outcomes=outcomes,
    )


@pytest.fixture
def clinic(db: None) -> Clinic:
    return build_clinic()


@pytest.fixture
def other_clinic(db: None) -> Clinic:
    """Another team's clinic: nothing of it may show to the first."""
    return build_clinic()
