"""Every write to the clinical record that matters: atomic, permission-checked, locked where
two people could race, signalled so that scheduling can react in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from . import access, pathway
from .errors import Conflict, NotPermitted, RuleViolation
from .models import (
    Assessment,
    CareTeamMember,
    Case,
    ImplantComponent,
    MdtDecision,
    Membership,
    Patient,
    PatientWeight,
    StageTransition,
    Surgery,
    Team,
)
from .pathway import RefusalKind, StagingPlan, SurgeryKind, TransitionRefused
from .permissions import require_write
from .signals import case_stage_changed, surgery_recorded

# Which surgery kinds fit which staging plan; other kinds fit any plan.
PLAN_ONLY_KINDS = {
    SurgeryKind.STAGE1: StagingPlan.TWO_STAGE,
    SurgeryKind.STAGE2: StagingPlan.TWO_STAGE,
    SurgeryKind.SINGLE_STAGE: StagingPlan.SINGLE_STAGE,
}


def team_today(team: Team) -> date:
    """Today in the team's time zone."""
    import zoneinfo

    return timezone.localdate(timezone=zoneinfo.ZoneInfo(team.time_zone))


def _validated(obj: models.Model, exclude: Iterable[str] = ()) -> None:
    """Run the model's field validators and constraints; a failure is a 400 naming the field."""
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        fields = exc.message_dict
        first = next(iter(fields.items()))
        name = "non_field_errors" if first[0] == "__all__" else first[0]
        raise RuleViolation(f"{name}: {first[1][0]}", fields=fields) from exc


def _require_members(team_id: int, users: Iterable[Any], field: str) -> None:
    ids = {u.pk for u in users}
    if not ids:
        return
    found = set(
        Membership.objects.filter(team_id=team_id, user_id__in=ids, is_active=True).values_list(
            "user_id", flat=True
        )
    )
    if found != ids:
        raise RuleViolation.on(field, "must be active members of the case's team.")


def _mark_clean_and_save(obj: models.Model, exclude: Iterable[str] = ()) -> None:
    _validated(obj, exclude)
    obj.save()


# --- Patients ---------------------------------------------------------------------------------


def _check_hospital_number(patient: Patient) -> None:
    # The unique constraint is the backstop for a race (IntegrityError -> 409).
    taken = Patient.objects.filter(team_id=patient.team_id, hospital_number=patient.hospital_number)
    if taken.exclude(pk=patient.pk).exists():
        raise RuleViolation.on("hospital_number", "is already used by a patient of this team.")


@transaction.atomic
def patient_create(*, actor: Any, team: Team, weight_kg: Any = None, **fields: Any) -> Patient:
    require_write(actor, team.pk, "patient")
    patient = Patient(team=team, **fields)
    _check_hospital_number(patient)
    _mark_clean_and_save(patient)
    if weight_kg is not None:
        patient_weight_record(actor=actor, patient=patient, weight_kg=weight_kg)
    return patient


@transaction.atomic
def patient_update(*, actor: Any, patient: Patient, **changes: Any) -> Patient:
    require_write(actor, patient.team_id, "patient")
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    for name, value in changes.items():
        setattr(patient, name, value)
    _check_hospital_number(patient)
    _mark_clean_and_save(patient)
    return patient


@transaction.atomic
def patient_weight_record(
    *, actor: Any, patient: Patient, weight_kg: Any, measured_on: date | None = None
) -> PatientWeight:
    require_write(actor, patient.team_id, "patient_weight")
    weight = PatientWeight(
        patient=patient,
        weight_kg=weight_kg,
        measured_on=measured_on or team_today(patient.team),
        recorded_by=actor,
    )
    _mark_clean_and_save(weight)
    return weight


# --- Cases ------------------------------------------------------------------------------------


def _check_case_fields(case: Case) -> None:
    if case.patient.team_id != case.team_id:
        raise RuleViolation.on("patient", "must belong to the case's team.")
    if case.implant_system and case.implant_system.team_id not in (None, case.team_id):
        raise RuleViolation.on("implant_system", "is not in this team's catalogue.")
    if case.lead_clinician_id:
        _require_members(case.team_id, [case.lead_clinician], "lead_clinician")


def _save_case(case: Case) -> None:
    _validated(case, exclude=["stage", "stage_before_hold"])
    try:
        # A savepoint: a racing second open case on the same limb is refused by the database.
        with transaction.atomic():
            case.save()
    except IntegrityError as exc:
        raise RuleViolation.on(
            "side", "This patient already has an open case on that side."
        ) from exc


def _set_care_team(case: Case, care_team: Sequence[tuple[Any, str]]) -> None:
    _require_members(case.team_id, [user for user, _ in care_team], "care_team")
    CareTeamMember.objects.filter(case=case).delete()
    CareTeamMember.objects.bulk_create(
        [CareTeamMember(case=case, user=user, role=role) for user, role in care_team]
    )


@transaction.atomic
def case_create(
    *, actor: Any, team: Team, care_team: Sequence[tuple[Any, str]] = (), **fields: Any
) -> Case:
    require_write(actor, team.pk, "case")
    case = Case(team=team, stage=pathway.Stage.REFERRED, **fields)
    _check_case_fields(case)
    _save_case(case)
    _set_care_team(case, care_team)
    return case


@transaction.atomic
def case_update(
    *, actor: Any, case: Case, care_team: Sequence[tuple[Any, str]] | None = None, **changes: Any
) -> Case:
    require_write(actor, case.team_id, "case")
    case = Case.objects.select_for_update().select_related("patient").get(pk=case.pk)
    for name, value in changes.items():
        setattr(case, name, value)
    _check_case_fields(case)
    _save_case(case)
    if care_team is not None:
        _set_care_team(case, care_team)
    return case


def case_facts(case: Case) -> pathway.CaseFacts:
    """What the pathway guards need. After an explantation and re-entry to assessment only the
    new episode's decisions and surgeries count, so the old ones open no gate."""
    reentry = (
        StageTransition.objects.filter(
            case=case, from_stage=pathway.Stage.EXPLANTED, to_stage=pathway.Stage.ASSESSMENT
        )
        .order_by("-recorded_at")
        .values_list("recorded_at", flat=True)
        .first()
    )
    decisions = MdtDecision.objects.filter(case=case, entered_in_error=False)
    surgeries = Surgery.objects.filter(
        case=case, entered_in_error=False, performed_date__isnull=False
    )
    if reentry is not None:
        decisions = decisions.filter(created_at__gt=reentry)
        surgeries = surgeries.filter(created_at__gt=reentry)
    latest = decisions.order_by("-meeting_date", "-id").values_list("outcome", flat=True).first()
    performed = frozenset(surgeries.values_list("kind", flat=True).distinct())
    return pathway.CaseFacts(
        stage=case.stage,
        staging_plan=case.staging_plan,
        stage_before_hold=case.stage_before_hold or None,
        latest_decision_outcome=latest,
        performed_surgery_kinds=performed,
    )


@transaction.atomic
def case_transition(
    *,
    actor: Any,
    case_id: int,
    to: str,
    reason: str = "",
    effective_date: date | None = None,
    expected_stage: str | None = None,
) -> Case:
    """Move a case to another stage. The row lock makes two concurrent moves of one case run
    one after the other; the second re-checks against the stage the first left, so it is
    refused (409) rather than applied twice."""
    case = Case.objects.select_for_update().select_related("team").get(pk=case_id)
    roles = access.roles_in(actor, case.team_id)
    if not roles:
        raise NotPermitted("You are not a member of this case's team.")
    if expected_stage and expected_stage != case.stage:
        raise Conflict(
            f"The case is now in '{case.stage}', not '{expected_stage}': someone moved it.",
            extra={"stage": case.stage},
        )
    today = team_today(case.team)
    effective_date = effective_date or today
    if effective_date > today:
        raise RuleViolation.on("effective_date", "may not be in the future.")
    if effective_date < case.referral_date:
        raise RuleViolation.on("effective_date", "may not be before the referral date.")

    facts = case_facts(case)
    try:
        pathway.check_transition(facts, to, roles)
    except TransitionRefused as refused:
        extra = {"allowed": refused.allowed, "stage": case.stage}
        if refused.kind == RefusalKind.UNKNOWN_STAGE:
            raise RuleViolation(refused.message, fields={"to": [refused.message]}) from refused
        if refused.kind == RefusalKind.ROLE:
            raise NotPermitted(refused.message, extra=extra) from refused
        raise Conflict(refused.message, extra={**extra, "reason": str(refused.kind)}) from refused

    from_stage = case.stage
    if to == pathway.Stage.ON_HOLD:
        case.stage_before_hold = from_stage
    elif from_stage == pathway.Stage.ON_HOLD:
        case.stage_before_hold = ""
    case.stage = to
    case.stage_changed_at = timezone.now()
    case.status_reason = reason
    case.save(
        update_fields=[
            "stage",
            "stage_before_hold",
            "stage_changed_at",
            "status_reason",
            "updated_at",
        ]
    )
    transition = StageTransition.objects.create(
        case=case,
        from_stage=from_stage,
        to_stage=to,
        actor=actor,
        effective_date=effective_date,
        reason=reason,
    )
    case_stage_changed.send(sender=Case, case=case, transition=transition, actor=actor)
    return case


# --- Assessments and decisions ----------------------------------------------------------------


@transaction.atomic
def assessment_save(*, actor: Any, assessment: Assessment) -> Assessment:
    require_write(actor, assessment.case.team_id, "assessment")
    if not assessment.pk:
        assessment.assessed_by = assessment.assessed_by or actor
    _mark_clean_and_save(assessment)
    return assessment


@transaction.atomic
def mdt_decision_record(
    *,
    actor: Any,
    case: Case,
    meeting_date: date,
    outcome: str,
    reasons: str,
    attendees: Iterable[Any] = (),
) -> MdtDecision:
    """Record the MDT's decision. It moves nothing by itself: it is what the
    mdt_review -> awaiting_surgery guard looks for."""
    require_write(actor, case.team_id, "mdt_decision")
    attendees = list(attendees)
    _require_members(case.team_id, attendees, "attendees")
    decision = MdtDecision(
        case=case, meeting_date=meeting_date, outcome=outcome, reasons=reasons, decided_by=actor
    )
    _mark_clean_and_save(decision)
    decision.attendees.set(attendees)
    return decision


# --- Surgeries --------------------------------------------------------------------------------


def _check_surgery(surgery: Surgery, case: Case) -> None:
    needed_plan = PLAN_ONLY_KINDS.get(SurgeryKind(surgery.kind))
    if needed_plan and case.staging_plan != needed_plan:
        raise RuleViolation.on(
            "kind",
            f"A {surgery.kind} surgery does not fit a {case.staging_plan} case.",
        )
    if surgery.performed_date and surgery.performed_date > team_today(case.team):
        raise RuleViolation.on("performed_date", "may not be in the future.")
    if surgery.performed_date and surgery.performed_date < case.referral_date:
        raise RuleViolation.on("performed_date", "may not be before the referral date.")
    if not surgery.performed_date and not surgery.planned_date:
        raise RuleViolation.on("planned_date", "A surgery needs a planned or a performed date.")


@transaction.atomic
def surgery_record(
    *,
    actor: Any,
    case: Case,
    surgeons: Iterable[Any] = (),
    components: Iterable[dict[str, Any]] = (),
    **fields: Any,
) -> Surgery:
    require_write(actor, case.team_id, "surgery")
    case = Case.objects.select_related("team").get(pk=case.pk)
    surgery = Surgery(case=case, **fields)
    _check_surgery(surgery, case)
    surgeons = list(surgeons)
    _require_members(case.team_id, surgeons, "surgeons")
    _mark_clean_and_save(surgery)
    surgery.surgeons.set(surgeons)
    ImplantComponent.objects.bulk_create(
        [ImplantComponent(surgery=surgery, **component) for component in components]
    )
    surgery_recorded.send(
        sender=Surgery,
        surgery=surgery,
        actor=actor,
        created=True,
        previous_performed_date=None,
        previous_planned_date=None,
    )
    return surgery


@transaction.atomic
def surgery_update(
    *, actor: Any, surgery: Surgery, surgeons: Iterable[Any] | None = None, **changes: Any
) -> Surgery:
    require_write(actor, surgery.case.team_id, "surgery")
    surgery = Surgery.objects.select_for_update().select_related("case__team").get(pk=surgery.pk)
    previous_performed, previous_planned = surgery.performed_date, surgery.planned_date
    for name, value in changes.items():
        setattr(surgery, name, value)
    _check_surgery(surgery, surgery.case)
    _mark_clean_and_save(surgery)
    if surgeons is not None:
        surgeons = list(surgeons)
        _require_members(surgery.case.team_id, surgeons, "surgeons")
        surgery.surgeons.set(surgeons)
    surgery_recorded.send(
        sender=Surgery,
        surgery=surgery,
        actor=actor,
        created=False,
        previous_performed_date=previous_performed,
        previous_planned_date=previous_planned,
    )
    return surgery


# --- Entered in error -------------------------------------------------------------------------

ERROR_MARKABLE = {
    Patient: "patient",
    Case: "case",
    Assessment: "assessment",
    MdtDecision: "mdt_decision",
    Surgery: "surgery",
    PatientWeight: "patient_weight",
}


def _team_id_of(record: Any) -> int:
    if hasattr(record, "team_id"):
        return int(record.team_id)
    if hasattr(record, "case"):
        return int(record.case.team_id)
    return int(record.patient.team_id)


@transaction.atomic
def record_mark_entered_in_error(*, actor: Any, record: Any, reason: str) -> Any:
    """Clinical records are never deleted: a record entered in error is marked so, with the
    reason, hidden from normal lists, and kept (with its history)."""
    kind = ERROR_MARKABLE.get(type(record))
    if kind is None:
        raise RuleViolation(f"{type(record).__name__} records cannot be marked entered in error.")
    require_write(actor, _team_id_of(record), kind)
    if not reason.strip():
        raise RuleViolation.on("reason", "Say why the record was entered in error.")
    locked = type(record).objects.select_for_update().get(pk=record.pk)
    if locked.entered_in_error:
        raise Conflict("The record is already marked entered in error.")
    locked.entered_in_error = True
    locked.entered_in_error_reason = reason.strip()[:500]
    locked.save(update_fields=["entered_in_error", "entered_in_error_reason", "updated_at"])
    return locked
