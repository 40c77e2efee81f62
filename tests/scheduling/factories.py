"""Builders for scheduling tests. Cases are made and moved through the cases services, as a
clinician would, so that the pathway's signals fire for real."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

import factory

from cases import services as case_services
from cases.models import Team
from scheduling.models import Priority, Task, TaskTemplate, Trigger
from tests.factories import TeamFactory, member

REFERRAL = date(2025, 9, 1)
_numbers = itertools.count(1)


class TaskTemplateFactory(factory.django.DjangoModelFactory[TaskTemplate]):
    class Meta:
        model = TaskTemplate

    team = None
    code = factory.Sequence(lambda n: f"template-{n}")
    title = factory.Sequence(lambda n: f"Template task {n}")
    role = "coordinator"
    priority = Priority.ROUTINE
    trigger = Trigger.STAGE_ENTERED
    stage = "screening"
    offset_days = 7


@dataclass
class Staff:
    team: Team
    coordinator: Any
    surgeon: Any
    nurse: Any
    physio: Any
    prosthetist: Any
    psychologist: Any


def make_staff(team: Team | None = None) -> Staff:
    team = team or TeamFactory.create()
    return Staff(
        team=team,
        coordinator=member(team, "coordinator"),
        surgeon=member(team, "surgeon"),
        nurse=member(team, "nurse"),
        physio=member(team, "physiotherapist"),
        prosthetist=member(team, "prosthetist"),
        psychologist=member(team, "psychologist"),
    )


def make_case(staff: Staff, **fields: Any) -> Any:
    n = next(_numbers)
    patient = case_services.patient_create(
        actor=staff.coordinator,
        team=staff.team,
        hospital_number=f"S{staff.team.pk:03d}{n:05d}",
        given_name="Alex",
        family_name=f"Sched{n}",
        date_of_birth=date(1975, 4, 3),
    )
    defaults = {
        "side": "left",
        "amputation_level": "transfemoral",
        "bone": "femur",
        "staging_plan": "single_stage",
        "referral_date": REFERRAL,
    }
    return case_services.case_create(
        actor=staff.coordinator, team=staff.team, patient=patient, **{**defaults, **fields}
    )


def move(staff: Staff, case: Any, *stages: str, on: date | None = None, reason: str = "") -> Any:
    """Move a case through `stages` in order, each by someone allowed to."""
    for stage in stages:
        actor = staff.coordinator if case.stage == "referred" else staff.surgeon
        case = case_services.case_transition(
            actor=actor, case_id=case.pk, to=stage, effective_date=on, reason=reason
        )
    return case


def decide(staff: Staff, case: Any, outcome: str = "eligible", on: date | None = None) -> Any:
    return case_services.mdt_decision_record(
        actor=staff.surgeon,
        case=case,
        meeting_date=on or date(2026, 2, 3),
        outcome=outcome,
        reasons="Discussed at the MDT.",
    )


def to_mdt_review(staff: Staff, case: Any, on: date | None = None) -> Any:
    return move(staff, case, "screening", "assessment", "mdt_review", on=on)


def to_rehabilitation(staff: Staff, case: Any, surgery_on: date, rehab_on: date) -> Any:
    """A single-stage case from referral to the start of rehabilitation."""
    case = to_mdt_review(staff, case, on=surgery_on)
    decide(staff, case, on=surgery_on)
    case = move(staff, case, "awaiting_surgery", "stage1_surgery", on=surgery_on)
    case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", performed_date=surgery_on
    )
    return move(staff, case, "rehabilitation", on=rehab_on)


def make_task(staff: Staff, case: Any = None, **fields: Any) -> Task:
    from scheduling import services

    defaults: dict[str, Any] = {
        "title": "Phone the patient",
        "role": "nurse",
        "due_date": date(2026, 3, 9),
    }
    return services.task_create(
        actor=staff.coordinator,
        case=case or make_case(staff),
        **{**defaults, **fields},
    )
