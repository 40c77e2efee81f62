"""Records to FHIR R4 resources: one builder per resource, record in, JSON-ready dict out.

Builders read only what the caller prefetched (see ``resources``), so a page of results costs
the same number of queries however long it is. Every resource passes through
:func:`validated` (the fhir.resources model of its type) before it leaves the server.

References between our resources are relative (``Patient/12``); the team is named by a
logical reference (identifier + display), since the API does not serve Organization.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from cases.models import (
    Case,
    Complication,
    OutcomeKind,
    OutcomeMeasure,
    Patient,
    RehabPlan,
    RehabSession,
    StageTransition,
    Surgery,
    SurgeryOutcome,
    Team,
    Treatment,
)
from cases.pathway import CLOSED_STAGES, Stage, StagingPlan, SurgeryKind
from cases.roles import Role
from scheduling.models import Task, TaskStatus

from . import terminology as t

Resource = dict[str, Any]

# fhir.resources 8 ships R5 by default; R4B is wire-compatible with R4 (4.0.1) for every
# element we emit, which tests/fhir checks against the R4 structures as well.
FHIR_VERSION = "4.0.1"


def validated(resource: Resource) -> Resource:
    """The resource, after its fhir.resources model accepted it (raises if not)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def compact(value: Any) -> Any:
    """Drop None, empty strings, lists and dicts: FHIR forbids empty elements."""
    if isinstance(value, dict):
        members = {key: compact(item) for key, item in value.items()}
        return {key: item for key, item in members.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        items = [compact(item) for item in value]
        return [item for item in items if item not in (None, "", [], {})]
    return value


def _date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _number(value: Decimal | int | float) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _meta(record: Any) -> dict[str, Any] | None:
    updated = getattr(record, "updated_at", None)
    return {"lastUpdated": _instant(updated)} if updated else None


def reference(resource_type: str, pk: Any, display: str | None = None) -> dict[str, str]:
    found = {"reference": f"{resource_type}/{pk}"}
    if display:
        found["display"] = display
    return found


def _person(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def practitioner_reference(user: Any) -> dict[str, str] | None:
    return reference("Practitioner", user.pk, _person(user)) if user is not None else None


def team_reference(team: Team) -> dict[str, Any]:
    return {
        "type": "Organization",
        "identifier": {"system": t.team_identifier_system(), "value": team.slug},
        "display": team.name,
    }


def _quantity(value: Any, unit: tuple[str, str] | None) -> dict[str, Any]:
    found: dict[str, Any] = {"value": _number(value)}
    if unit:
        found.update({"unit": unit[0], "system": t.UCUM, "code": unit[1]})
    return found


def _limb(case: Case) -> str:
    return f"{case.get_side_display()} {case.get_amputation_level_display()}".lower()


# --- Patient and Practitioner -----------------------------------------------------------------


def patient(record: Patient) -> Resource:
    telecom = []
    if record.phone:
        telecom.append({"system": "phone", "value": record.phone})
    if record.email:
        telecom.append({"system": "email", "value": record.email})
    return validated(
        compact(
            {
                "resourceType": "Patient",
                "id": str(record.pk),
                "meta": _meta(record),
                "identifier": [
                    {
                        "use": "usual",
                        "type": {
                            "coding": [t.coding(t.IDENTIFIER_TYPE, "MR", "Medical record number")],
                            "text": "Hospital number",
                        },
                        "system": t.patient_identifier_system(),
                        "value": record.hospital_number,
                    }
                ],
                "active": True,
                "name": [
                    {
                        "use": "official",
                        "text": record.full_name,
                        "family": record.family_name,
                        "given": [record.given_name],
                    }
                ],
                "telecom": telecom,
                "gender": record.sex,
                "birthDate": _date(record.date_of_birth),
                "address": [{"text": record.address}] if record.address else None,
                "managingOrganization": team_reference(record.team),
            }
        )
    )


def practitioner(user: Any) -> Resource:
    return validated(
        compact(
            {
                "resourceType": "Practitioner",
                "id": str(user.pk),
                "identifier": [
                    {"system": t.staff_identifier_system(), "value": user.get_username()}
                ],
                "active": bool(user.is_active),
                "name": [
                    {
                        "text": _person(user),
                        "family": user.last_name,
                        "given": [user.first_name] if user.first_name else None,
                    }
                ],
                "telecom": [{"system": "email", "value": user.email, "use": "work"}]
                if user.email
                else None,
            }
        )
    )


# --- EpisodeOfCare and CarePlan (both one per case) --------------------------------------------


def _closed_on(case: Case, transitions: list[StageTransition]) -> date | None:
    if case.stage not in CLOSED_STAGES or not transitions:
        return None
    return transitions[-1].effective_date


def _period(case: Case, transitions: list[StageTransition]) -> dict[str, Any]:
    return {"start": _date(case.referral_date), "end": _date(_closed_on(case, transitions))}


def status_history(
    referral_date: date, transitions: Iterable[StageTransition]
) -> list[dict[str, Any]]:
    """EpisodeOfCare.statusHistory from the transition log: one entry per run of stages with
    the same FHIR status, the current one open-ended."""
    history: list[dict[str, Any]] = []
    status, start = t.EPISODE_STATUS_BY_STAGE[Stage.REFERRED], referral_date
    for transition in transitions:
        new_status = t.EPISODE_STATUS_BY_STAGE[transition.to_stage]
        if new_status == status:
            continue
        # A backdated move never makes a period end before it starts.
        end = max(start, transition.effective_date)
        history.append({"status": status, "period": {"start": _date(start), "end": _date(end)}})
        status, start = new_status, end
    history.append({"status": status, "period": {"start": _date(start)}})
    return history


def _stage_extension(case: Case) -> list[dict[str, Any]]:
    return [{"url": t.local_extension("pathway-stage"), "valueCoding": t.stage_coding(case.stage)}]


def episode_of_care(case: Case) -> Resource:
    """Needs prefetched ``transitions``, ``care_team`` (with users) and ``complications``."""
    transitions = list(case.transitions.all())
    care_team = list(case.care_team.all())
    patient_ref = reference("Patient", case.patient_id)
    contained = []
    if care_team:
        contained.append(
            {
                "resourceType": "CareTeam",
                "id": "care-team",
                "status": "active",
                "subject": patient_ref,
                "participant": [
                    {"role": [t.role_concept(m.role)], "member": practitioner_reference(m.user)}
                    for m in care_team
                ],
                "managingOrganization": [team_reference(case.team)],
            }
        )
    complications = [c for c in case.complications.all() if not c.entered_in_error]
    return validated(
        compact(
            {
                "resourceType": "EpisodeOfCare",
                "id": str(case.pk),
                "meta": _meta(case),
                "contained": contained,
                "extension": _stage_extension(case),
                "status": t.EPISODE_STATUS_BY_STAGE[case.stage],
                "statusHistory": status_history(case.referral_date, transitions),
                "type": [
                    {
                        "coding": [t.episode_type_coding()],
                        "text": f"Osseointegration, {_limb(case)}",
                    }
                ],
                "diagnosis": [
                    {"condition": reference("Condition", c.pk, c.get_kind_display())}
                    for c in complications
                ],
                "patient": patient_ref,
                "managingOrganization": team_reference(case.team),
                "period": _period(case, transitions),
                "careManager": practitioner_reference(case.lead_clinician),
                "team": [{"reference": "#care-team"}] if contained else None,
            }
        )
    )


def _surgery_activity_status(surgery: Surgery) -> str:
    if surgery.outcome == SurgeryOutcome.ABANDONED:
        return "stopped" if surgery.performed_date else "cancelled"
    return "completed" if surgery.performed_date else "scheduled"


def _rehab_activity(plan: RehabPlan) -> dict[str, Any]:
    protocol = plan.protocol
    phases = sorted(protocol.phases.all(), key=lambda p: p.position)
    steps = "; ".join(
        f"{p.position}. {p.name}: {p.length_days} days, {_number(p.start_load_pct)}% to "
        f"{_number(p.end_load_pct)}% body weight, {p.get_walking_aid_display().lower()}"
        for p in phases
    )
    cap = f" Load capped at {_number(plan.load_cap_kg)} kg." if plan.load_cap_kg else ""
    return {
        "detail": {
            "kind": "ServiceRequest",
            "code": {
                "coding": [
                    t.coding(
                        t.local_system("careplan-activity"),
                        "rehabilitation",
                        "Rehabilitation on a loading protocol",
                    )
                ],
                "text": f"{protocol.name} v{protocol.version}",
            },
            "status": "completed" if plan.ended_on else "in-progress",
            "scheduledPeriod": {"start": _date(plan.start_date), "end": _date(plan.ended_on)},
            "performer": [practitioner_reference(plan.started_by)],
            "description": (
                f"{protocol.name} v{protocol.version} from {plan.start_date}, body weight "
                f"{_number(plan.body_weight_kg)} kg.{cap} Phases: {steps}."
            ),
        }
    }


def care_plan(case: Case) -> Resource:
    """Needs prefetched ``transitions``, ``surgeries`` (with surgeons), ``tasks`` and
    ``rehab_plans`` (with protocol phases and started_by)."""
    transitions = list(case.transitions.all())
    activities: list[dict[str, Any]] = []
    for surgery in case.surgeries.all():
        if surgery.entered_in_error:
            continue
        when = surgery.performed_date or surgery.planned_date
        activities.append(
            {
                "outcomeReference": [reference("Procedure", surgery.pk)]
                if surgery.performed_date
                else None,
                "detail": {
                    "kind": "ServiceRequest",
                    "code": {
                        "coding": [t.surgery_kind_coding(surgery.kind)],
                        "text": surgery.get_kind_display(),
                    },
                    "status": _surgery_activity_status(surgery),
                    "scheduledPeriod": {"start": _date(when)},
                    "performer": [practitioner_reference(s) for s in surgery.surgeons.all()],
                },
            }
        )
    for plan in case.rehab_plans.all():
        if not plan.entered_in_error:
            activities.append(_rehab_activity(plan))
    for task in case.tasks.all():
        activities.append({"reference": reference("Task", task.pk, task.title)})
    plan_label = StagingPlan(case.staging_plan).label.lower()
    return validated(
        compact(
            {
                "resourceType": "CarePlan",
                "id": str(case.pk),
                "meta": _meta(case),
                "extension": _stage_extension(case),
                "status": t.CAREPLAN_STATUS_BY_STAGE[case.stage],
                "intent": "plan",
                "category": [{"coding": [t.episode_type_coding()]}],
                "title": f"Osseointegration pathway, {_limb(case)}",
                "description": (
                    f"{plan_label.capitalize()} osseointegration pathway; current stage: "
                    f"{Stage(case.stage).label}."
                ),
                "subject": reference("Patient", case.patient_id),
                "period": _period(case, transitions),
                "created": _instant(case.created_at),
                "author": practitioner_reference(case.lead_clinician),
                "supportingInfo": [reference("EpisodeOfCare", case.pk)],
                "activity": activities,
            }
        )
    )


# --- Task -------------------------------------------------------------------------------------


def task(record: Task) -> Resource:
    notes: list[dict[str, Any]] = []
    if record.details:
        notes.append({"text": record.details})
    if record.completion_note:
        notes.append({"text": record.completion_note, "time": _instant(record.completed_at)})
    completed = record.status == TaskStatus.COMPLETED
    return validated(
        compact(
            {
                "resourceType": "Task",
                "id": str(record.pk),
                "meta": _meta(record),
                "basedOn": [reference("CarePlan", record.case_id)],
                "status": record.status,
                "statusReason": {"text": record.status_reason} if record.status_reason else None,
                "intent": "order",
                "priority": t.TASK_PRIORITY[record.priority],
                "description": record.title,
                "focus": reference("EpisodeOfCare", record.case_id),
                "for": reference("Patient", record.case.patient_id),
                "executionPeriod": {"end": _instant(record.completed_at)} if completed else None,
                "authoredOn": _instant(record.created_at),
                "lastModified": _instant(record.updated_at),
                "requester": practitioner_reference(record.created_by),
                "performerType": [t.role_concept(record.role)],
                "owner": practitioner_reference(record.assignee),
                "note": notes,
                "restriction": {"period": {"end": _date(record.due_date)}},
            }
        )
    )


# --- Procedure --------------------------------------------------------------------------------


def procedure_status(surgery: Surgery) -> str:
    if surgery.outcome == SurgeryOutcome.ABANDONED:
        return "stopped" if surgery.performed_date else "not-done"
    return "completed" if surgery.performed_date else "preparation"


def procedure(surgery: Surgery) -> Resource:
    """Needs ``case__patient`` and prefetched ``surgeons`` and ``components``."""
    case = surgery.case
    patient_ref = reference("Patient", case.patient_id)
    removed = surgery.kind == SurgeryKind.REMOVAL
    devices = [
        {
            "resourceType": "Device",
            "id": f"device-{component.pk}",
            "status": "inactive" if removed else "active",
            "manufacturer": component.manufacturer,
            "lotNumber": component.lot_number,
            "serialNumber": component.serial_number,
            "deviceName": [{"name": component.model, "type": "model-name"}],
            "property": [{"type": {"text": "Size"}, "valueCode": [{"text": component.size}]}]
            if component.size
            else None,
            "patient": patient_ref,
        }
        for component in surgery.components.all()
    ]
    planned = (
        [{"url": t.local_extension("planned-date"), "valueDate": _date(surgery.planned_date)}]
        if surgery.planned_date
        else None
    )
    outcome = None
    if surgery.outcome != SurgeryOutcome.PENDING:
        outcome = {
            "coding": [
                t.coding(
                    t.local_system("surgery-outcome"),
                    surgery.outcome,
                    surgery.get_outcome_display(),
                )
            ],
            "text": surgery.get_outcome_display(),
        }
    return validated(
        compact(
            {
                "resourceType": "Procedure",
                "id": str(surgery.pk),
                "meta": _meta(surgery),
                "contained": devices,
                "extension": planned,
                "basedOn": [reference("CarePlan", case.pk)],
                "status": procedure_status(surgery),
                "code": {
                    "coding": [t.surgery_kind_coding(surgery.kind)],
                    "text": surgery.get_kind_display(),
                },
                "subject": patient_ref,
                "performedDateTime": _date(surgery.performed_date),
                "performer": [
                    {"function": t.role_concept(Role.SURGEON), "actor": practitioner_reference(s)}
                    for s in surgery.surgeons.all()
                ],
                "bodySite": [
                    {"text": f"{case.get_side_display()} {case.get_bone_display().lower()}"}
                ],
                "outcome": outcome,
                "note": [{"text": surgery.notes}] if surgery.notes else None,
                "focalDevice": [
                    {
                        "action": {"text": "Removed" if removed else "Implanted"},
                        "manipulated": {"reference": f"#{device['id']}"},
                    }
                    for device in devices
                ],
            }
        )
    )


# --- Condition --------------------------------------------------------------------------------


def condition(record: Complication) -> Resource:
    """Needs ``case`` and ``recorded_by``."""
    resolved = record.resolved_on is not None
    severity_code, severity_display = t.SEVERITY_SNOMED[record.severity]
    notes = []
    if record.description:
        notes.append({"text": record.description})
    if record.treatments:
        labels = ", ".join(
            Treatment(item).label.lower() if item in Treatment.values else item
            for item in record.treatments
        )
        notes.append({"text": f"Treatments: {labels}."})
    if record.resolution_note:
        notes.append({"text": f"Resolution: {record.resolution_note}"})
    stage = None
    if record.infection_grade:
        stage = [
            {
                "summary": {
                    "coding": [t.infection_grade_coding(record.infection_grade)],
                    "text": record.get_infection_grade_display(),
                },
                "type": {"text": "Osseointegration Group of Australia infection grade"},
            }
        ]
    return validated(
        compact(
            {
                "resourceType": "Condition",
                "id": str(record.pk),
                "meta": _meta(record),
                "clinicalStatus": {
                    "coding": [
                        t.coding(
                            t.CONDITION_CLINICAL,
                            "resolved" if resolved else "active",
                            "Resolved" if resolved else "Active",
                        )
                    ]
                },
                "verificationStatus": {
                    "coding": [t.coding(t.CONDITION_VERIFICATION, "confirmed", "Confirmed")]
                },
                "category": [
                    {
                        "coding": [
                            t.coding(t.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
                        ]
                    }
                ],
                "severity": {
                    "coding": [t.coding(t.SNOMED, severity_code, severity_display)],
                    "text": record.get_severity_display(),
                },
                "code": {
                    "coding": [t.complication_kind_coding(record.kind)],
                    "text": record.get_kind_display(),
                },
                "subject": reference("Patient", record.case.patient_id),
                "onsetDateTime": _date(record.onset_date),
                "abatementDateTime": _date(record.resolved_on),
                "recordedDate": _instant(record.created_at),
                "recorder": practitioner_reference(record.recorded_by),
                "stage": stage,
                "note": notes,
            }
        )
    )


# --- Observation ------------------------------------------------------------------------------


def session_observation_id(session_pk: int, part: str) -> str:
    return f"rehab-session-{session_pk}-{part}"


def outcome_observation_id(measure_pk: int) -> str:
    return f"outcome-measure-{measure_pk}"


def _observation_base(
    record: RehabSession | OutcomeMeasure, obs_id: str, code: t.ObservationCode, on: date
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "meta": _meta(record),
        "status": "final",
        "basedOn": [reference("CarePlan", record.case_id)],
        "category": [t.category_concept(code.category)],
        "code": code.concept(),
        "subject": reference("Patient", record.case.patient_id),
        "effectiveDateTime": _date(on),
        "issued": _instant(record.created_at),
        "performer": [practitioner_reference(record.recorded_by)],
    }


def session_observation(session: RehabSession, part: str) -> Resource:
    """One part (load, pain-before, pain-after, wear) of a rehab session. Needs
    ``case`` and ``recorded_by``."""
    code = t.SESSION_OBSERVATIONS[part]
    value = getattr(session, t.SESSION_FIELD[part])
    resource = _observation_base(
        session, session_observation_id(session.pk, part), code, session.session_date
    )
    resource["valueQuantity"] = _quantity(value, code.unit)
    if part == "load":
        resource["method"] = {
            "coding": [
                t.coding(
                    t.local_system("load-measurement"),
                    session.load_measured_with,
                    session.get_load_measured_with_display(),
                )
            ]
        }
        if session.load_leg:
            resource["bodySite"] = {"text": f"{session.get_load_leg_display()} leg"}
        if session.target_kg is not None:
            resource["component"] = [
                {
                    "code": t.TARGET_LOAD.concept(),
                    "valueQuantity": _quantity(session.target_kg, t.TARGET_LOAD.unit),
                }
            ]
    return validated(compact(resource))


def outcome_observation(measure: OutcomeMeasure) -> Resource:
    """Needs ``case`` and ``recorded_by``."""
    code = t.OUTCOME_OBSERVATIONS[measure.kind]
    resource = _observation_base(
        measure, outcome_observation_id(measure.pk), code, measure.measured_on
    )
    resource["extension"] = [
        {
            "url": t.local_extension("review-time-point"),
            "valueCoding": t.time_point_coding(measure.time_point),
        }
    ]
    if measure.kind == OutcomeKind.QTFA:
        resource["component"] = [
            {
                "code": component.concept(),
                "valueQuantity": _quantity(getattr(measure, field), t.SCORE),
            }
            for field, component in t.QTFA_COMPONENTS.items()
            if getattr(measure, field) is not None
        ]
    elif measure.kind == OutcomeKind.K_LEVEL:
        level = t.k_level_coding(measure.k_level)
        resource["valueCodeableConcept"] = {"coding": [level], "text": level["display"]}
    elif measure.value is not None:
        resource["valueQuantity"] = _quantity(measure.value, code.unit)
    if measure.notes:
        resource["note"] = [{"text": measure.notes}]
    return validated(compact(resource))
