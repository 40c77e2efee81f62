"""Every write to the clinical record that matters: atomic, permission-checked, locked where
two people could race, signalled so that scheduling can react in the same transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import access, pathway, rehab
from .errors import Conflict, NotPermitted, RuleViolation
from .models import (
    OUTCOME_VALUE_RANGES,
    QTFA_SCORES,
    Assessment,
    CareTeamMember,
    Case,
    Complication,
    ComplicationKind,
    ImplantComponent,
    MdtDecision,
    Membership,
    OutcomeKind,
    OutcomeMeasure,
    Patient,
    PatientWeight,
    ProsthesisSetting,
    RehabPhase,
    RehabPlan,
    RehabProtocol,
    RehabSession,
    SafetyFlag,
    StageTransition,
    Surgery,
    Team,
)
from .pathway import RefusalKind, StagingPlan, SurgeryKind, TransitionRefused
from .permissions import require_write
from .signals import (
    case_stage_changed,
    complication_recorded,
    outcome_measure_recorded,
    prosthesis_setting_changed,
    rehab_flag_raised,
    rehab_flag_resolved,
    rehab_plan_started,
    rehab_session_recorded,
    surgery_recorded,
)

# Before any record: "no re-entry" in case_facts.
EPOCH = datetime(1900, 1, 1, tzinfo=UTC)

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


def require_members(team_id: int, users: Iterable[Any], field: str) -> None:
    """400 on `field` unless every user is an active member of the team."""
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
        require_members(case.team_id, [case.lead_clinician], "lead_clinician")


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
    require_members(case.team_id, [user for user, _ in care_team], "care_team")
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


def case_facts(case: Case, moving_to: str | None = None) -> pathway.CaseFacts:
    """What the pathway guards need. After an explantation and re-entry to assessment only the
    new episode's decisions and surgeries count, so the old ones open no gate. Given
    ``moving_to``, the decisions and surgeries are read only if that move's guards ask for
    them (most moves do not: two reads saved)."""
    facts = pathway.CaseFacts(
        stage=case.stage,
        staging_plan=case.staging_plan,
        stage_before_hold=case.stage_before_hold or None,
    )
    if moving_to is not None and not pathway.needs_evidence(facts, moving_to):
        return facts
    # The latest re-entry as a subquery of each of the two reads (not a read of its own): a
    # stage move runs this, and its query count is a target (bench/RESULTS.md).
    reentry = Coalesce(
        Subquery(
            StageTransition.objects.filter(
                case=case, from_stage=pathway.Stage.EXPLANTED, to_stage=pathway.Stage.ASSESSMENT
            )
            .order_by("-recorded_at")
            .values("recorded_at")[:1]
        ),
        Value(EPOCH),
    )
    decisions = MdtDecision.objects.filter(
        case=case, entered_in_error=False, created_at__gt=reentry
    )
    surgeries = Surgery.objects.filter(
        case=case, entered_in_error=False, performed_date__isnull=False, created_at__gt=reentry
    )
    latest = decisions.order_by("-meeting_date", "-id").values_list("outcome", flat=True).first()
    performed = frozenset(surgeries.values_list("kind", flat=True).distinct())
    return dataclasses.replace(
        facts, latest_decision_outcome=latest, performed_surgery_kinds=performed
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

    facts = case_facts(case, moving_to=to)
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
    require_members(case.team_id, attendees, "attendees")
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
    require_members(case.team_id, surgeons, "surgeons")
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
        require_members(surgery.case.team_id, surgeons, "surgeons")
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


# =============================================================================================
# --- Rehabilitation and monitoring -----------------------------------------------------------
# Protocol versions, plans, sessions and the safety flags they raise, complications, outcome
# measures and prosthesis settings. Flags are computed in one place (_session_flags) with the
# pure rules of cases/rehab.py; a flag is raised once per episode (SafetyFlag's partial unique
# constraint), and each newly raised flag is announced with `rehab_flag_raised`.

# Sessions are recorded while a case is in rehabilitation, or just after it moved on.
SESSION_STAGES = frozenset({pathway.Stage.REHABILITATION, pathway.Stage.FOLLOW_UP})
# The surgery that makes the stoma, from which rehabilitation is counted.
STOMA_MAKING_KIND = {
    StagingPlan.TWO_STAGE: SurgeryKind.STAGE2,
    StagingPlan.SINGLE_STAGE: SurgeryKind.SINGLE_STAGE,
}
# How far ahead a plan may be scheduled to start.
MAX_PLAN_LEAD_DAYS = 180

ERROR_MARKABLE.update(
    {
        RehabPlan: "rehab_plan",
        RehabSession: "rehab_session",
        Complication: "complication",
        OutcomeMeasure: "outcome_measure",
    }
)


def _decimal(value: Any) -> Any:
    """Floats from code (44.1) as the decimals the fields hold; anything else unchanged."""
    return Decimal(str(value)) if isinstance(value, float) else value


def stoma_surgery_for(case: Case) -> Surgery | None:
    """The latest performed stoma-making surgery of the case (stage 2, or single-stage)."""
    kind = STOMA_MAKING_KIND.get(StagingPlan(case.staging_plan))
    return (
        Surgery.objects.filter(
            case=case, kind=kind, entered_in_error=False, performed_date__isnull=False
        )
        .order_by("-performed_date", "-id")
        .first()
    )


def current_plan(case: Case, *, lock: bool = False) -> RehabPlan | None:
    plans = RehabPlan.objects.filter(case=case, ended_on__isnull=True, entered_in_error=False)
    if lock:
        plans = plans.select_for_update(of=("self",))
    return plans.select_related("protocol").prefetch_related("protocol__phases").first()


def held_dates(plan: RehabPlan, before: date | None = None) -> set[date]:
    """Days held by the pain gate: a session that day reached the protocol's pain gate."""
    sessions = RehabSession.objects.filter(plan=plan, entered_in_error=False, holds_plan=True)
    if before is not None:
        sessions = sessions.filter(session_date__lt=before)
    return set(sessions.values_list("session_date", flat=True))


def plan_target_kg(plan: RehabPlan, on: date, held: Collection[date]) -> float:
    """The target load on a date of a plan, with its held days (cases.rehab.target_load_kg)."""
    return rehab.target_load_kg(
        plan.protocol.phase_specs(),
        float(plan.body_weight_kg),
        (on - plan.start_date).days,
        [(held_day - plan.start_date).days for held_day in held],
        plan.load_cap,
    )


def _flag_raise(
    *,
    case: Case,
    kind: rehab.FlagKind,
    raised_on: date,
    detail: str,
    session: RehabSession | None = None,
    actor: Any = None,
) -> SafetyFlag | None:
    """Raise a flag unless one of its kind is already open on the case: once per episode.
    Returns the new flag, or None when the episode was already flagged."""
    if SafetyFlag.objects.filter(case=case, kind=kind, resolved_at__isnull=True).exists():
        return None
    try:
        # A savepoint: a racing raise of the same episode hits safetyflag_one_open_per_kind.
        with transaction.atomic():
            flag = SafetyFlag.objects.create(
                case=case, kind=kind, raised_on=raised_on, session=session, detail=detail[:500]
            )
    except IntegrityError:
        return None
    rehab_flag_raised.send(sender=SafetyFlag, flag=flag, case=case, actor=actor)
    return flag


def _flag_detail(kind: str, session: RehabSession, protocol: RehabProtocol) -> str:
    if kind == rehab.FlagKind.OVERLOAD:
        return (
            f"Load {session.load_kg} kg on {session.session_date}, target {session.target_kg} kg "
            f"(tolerance {protocol.overload_tolerance_pct}%)."
        )
    if kind == rehab.FlagKind.PAIN_GATE:
        return (
            f"Pain NRS {session.max_pain_nrs} on {session.session_date} (gate "
            f"{protocol.pain_gate_nrs}): the plan holds at {session.target_kg} kg."
        )
    findings = ", ".join(session.stoma_findings)
    return f"Stoma on {session.session_date}: {findings}."


def _session_flags(session: RehabSession, protocol: RehabProtocol) -> list[rehab.FlagKind]:
    """The one place a session's flags are computed."""
    facts = rehab.SessionFacts(
        load_kg=None if session.load_kg is None else float(session.load_kg),
        pain_nrs_before=session.pain_nrs_before,
        pain_nrs_after=session.pain_nrs_after,
        stoma_findings=frozenset(session.stoma_findings),
    )
    target = None if session.target_kg is None else float(session.target_kg)
    return rehab.session_flags(facts, target, protocol.thresholds)


@transaction.atomic
def rehab_protocol_new_version(
    *, actor: Any, protocol: RehabProtocol, team: Team | None = None
) -> RehabProtocol:
    """Copy a protocol as a new, editable version. A team's protocol gets version + 1, which
    supersedes (and retires) it; a shared example is copied into ``team`` as version 1 of the
    team's own protocol. Plans keep the version they started on."""
    source = RehabProtocol.objects.select_for_update().get(pk=protocol.pk)
    target_team_id = source.team_id or (team.pk if team else None)
    if target_team_id is None:
        raise RuleViolation.on("team", "Say which team the copy of a shared protocol is for.")
    require_write(actor, target_team_id, "rehab_protocol")
    copy = RehabProtocol(
        team_id=target_team_id,
        code=source.code,
        name=source.name,
        description=source.description,
        start_delay_days=source.start_delay_days,
        pain_gate_nrs=source.pain_gate_nrs,
        overload_tolerance_pct=source.overload_tolerance_pct,
        missed_session_days=source.missed_session_days,
        is_example=False,
        created_by=actor,
    )
    if source.team_id is not None:
        if RehabProtocol.objects.filter(supersedes=source).exists():
            raise Conflict("This version already has a newer version: copy that one.")
        copy.version = source.version + 1
        copy.supersedes = source
        source.is_active = False
        source.save(update_fields=["is_active"])
    else:
        latest = RehabProtocol.objects.filter(team_id=target_team_id, code=source.code).aggregate(
            Max("version")
        )["version__max"]
        copy.version = (latest or 0) + 1
    try:
        with transaction.atomic():
            copy.save()
    except IntegrityError as exc:
        raise Conflict("Someone made a new version of this protocol at the same time.") from exc
    RehabPhase.objects.bulk_create(
        [
            RehabPhase(
                protocol=copy,
                position=phase.position,
                name=phase.name,
                length_days=phase.length_days,
                start_load_pct=phase.start_load_pct,
                end_load_pct=phase.end_load_pct,
                sessions_per_day=phase.sessions_per_day,
                walking_aid=phase.walking_aid,
                instructions=phase.instructions,
            )
            for phase in source.phases.all()
        ]
    )
    return copy


def require_protocol_editable(protocol: RehabProtocol) -> None:
    """A protocol version a plan uses is never changed: make a new version instead."""
    if protocol.is_in_use:
        raise Conflict(
            f"{protocol} is used by rehabilitation plans and cannot change; make a new version."
        )


@transaction.atomic
def rehab_plan_start(
    *,
    actor: Any,
    case: Case,
    protocol: RehabProtocol,
    start_date: date | None = None,
    load_cap_kg: Any = None,
    notes: str = "",
    replace_current: bool = False,
) -> RehabPlan:
    """Start a case's rehabilitation on a protocol version. The start date defaults to the
    stoma-making surgery's date plus the protocol's delay; the body weight is the latest
    recorded one."""
    require_write(actor, case.team_id, "rehab_plan")
    # The case row lock makes two people starting a plan at once run one after the other.
    case = Case.objects.select_for_update().select_related("team", "patient").get(pk=case.pk)
    if not pathway.is_open(case.stage) or case.stage == pathway.Stage.ON_HOLD:
        raise Conflict(f"A case in {case.stage} cannot start rehabilitation.")
    if protocol.team_id not in (None, case.team_id):
        raise RuleViolation.on("protocol", "is not one of this team's protocols.")
    if not protocol.is_active:
        raise RuleViolation.on("protocol", "is retired: use its current version.")
    phases = protocol.phase_specs()
    if not phases:
        raise RuleViolation.on("protocol", "has no phases.")
    surgery = stoma_surgery_for(case)
    if surgery is None or surgery.performed_date is None:
        kind = STOMA_MAKING_KIND[StagingPlan(case.staging_plan)]
        raise Conflict(f"Rehabilitation needs a performed {kind} surgery; none is recorded.")
    start = start_date or surgery.performed_date + timedelta(days=protocol.start_delay_days)
    if start < surgery.performed_date:
        raise RuleViolation.on(
            "start_date",
            f"may not be before the stoma-making surgery ({surgery.performed_date.isoformat()}).",
        )
    if start > team_today(case.team) + timedelta(days=MAX_PLAN_LEAD_DAYS):
        raise RuleViolation.on("start_date", f"may be at most {MAX_PLAN_LEAD_DAYS} days ahead.")
    weight = (
        PatientWeight.objects.filter(patient=case.patient, entered_in_error=False)
        .order_by("-measured_on", "-id")
        .first()
    )
    if weight is None:
        raise RuleViolation.on("body_weight", "Record the patient's body weight first.")
    previous = current_plan(case, lock=True)
    if previous is not None:
        if not replace_current:
            raise Conflict(
                f"This case already has a current plan ({previous}); replace it explicitly.",
                extra={"current_plan": previous.pk},
            )
        previous.ended_on = max(previous.start_date, start - timedelta(days=1))
        previous.save(update_fields=["ended_on", "updated_at"])
    plan = RehabPlan(
        case=case,
        protocol=protocol,
        start_date=start,
        stoma_surgery=surgery,
        body_weight_kg=weight.weight_kg,
        body_weight_measured_on=weight.measured_on,
        load_cap_kg=_decimal(load_cap_kg),
        started_by=actor,
        notes=notes,
    )
    _validated(plan, exclude=["case", "protocol", "stoma_surgery", "started_by"])
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:
        raise Conflict("This case already has a current rehabilitation plan.") from exc
    rehab_plan_started.send(sender=RehabPlan, plan=plan, case=case, actor=actor)
    return plan


@transaction.atomic
def rehab_session_record(
    *,
    actor: Any,
    case: Case,
    session_date: date,
    load_kg: Any = None,
    load_leg: str = "",
    load_measured_with: str = "scale",
    duration_minutes: int | None = None,
    pain_nrs_before: int | None = None,
    pain_nrs_after: int | None = None,
    walking_aid: str = "",
    stoma_findings: Iterable[str] = (),
    wear_hours_per_day: Any = None,
    notes: str = "",
) -> RehabSession:
    """Record a session, compute its target and flags, and raise the flags whose episode is
    not already open. The new flags are on ``session.raised_flags``."""
    require_write(actor, case.team_id, "rehab_session")
    case = Case.objects.select_related("team").get(pk=case.pk)
    # Locking the plan makes one case's sessions evaluated one after the other: each sees the
    # holds and open flags the previous one left.
    plan = current_plan(case, lock=True)
    if plan is None:
        raise Conflict("This case has no current rehabilitation plan: start one first.")
    if case.stage not in SESSION_STAGES:
        raise Conflict(f"Sessions are recorded in rehabilitation; this case is in {case.stage}.")
    if session_date > team_today(case.team):
        raise RuleViolation.on("session_date", "may not be in the future.")
    if session_date < plan.start_date:
        raise RuleViolation.on(
            "session_date",
            f"may not be before the rehabilitation plan starts ({plan.start_date.isoformat()}).",
        )
    target = plan_target_kg(plan, session_date, held_dates(plan, before=session_date))
    session = RehabSession(
        case=case,
        plan=plan,
        session_date=session_date,
        load_kg=_decimal(load_kg),
        load_leg=load_leg or case.side,
        load_measured_with=load_measured_with,
        duration_minutes=duration_minutes,
        pain_nrs_before=pain_nrs_before,
        pain_nrs_after=pain_nrs_after,
        walking_aid=walking_aid,
        stoma_findings=sorted(set(stoma_findings)),
        wear_hours_per_day=_decimal(wear_hours_per_day),
        notes=notes,
        recorded_by=actor,
        target_kg=Decimal(str(target)),
    )
    _validated(session, exclude=["case", "plan", "recorded_by", "flag_kinds", "holds_plan"])
    kinds = _session_flags(session, plan.protocol)
    session.flag_kinds = [str(kind) for kind in kinds]
    session.holds_plan = rehab.FlagKind.PAIN_GATE in kinds
    session.save()
    raised = []
    for kind in kinds:
        flag = _flag_raise(
            case=case,
            kind=kind,
            raised_on=session_date,
            detail=_flag_detail(kind, session, plan.protocol),
            session=session,
            actor=actor,
        )
        if flag is not None:
            raised.append(flag)
    # A session ends a missed-sessions episode (and so the tasks it raised).
    ended = list(
        SafetyFlag.objects.select_for_update(of=("self",)).filter(
            case=case, kind=rehab.FlagKind.MISSED_SESSIONS, resolved_at__isnull=True
        )
    )
    for flag in ended:
        flag.resolved_at = timezone.now()
        flag.resolved_by = actor
        flag.resolution_note = f"Session recorded for {session_date.isoformat()}."
        flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
        rehab_flag_resolved.send(sender=SafetyFlag, flag=flag, case=case, actor=actor)
    session.raised_flags = raised
    rehab_session_recorded.send(
        sender=RehabSession, session=session, case=case, actor=actor, flags=raised
    )
    return session


@transaction.atomic
def flag_resolve(*, actor: Any, flag: SafetyFlag | int, note: str = "") -> SafetyFlag:
    """Close a flag's episode: the next occurrence raises a new flag (and new tasks)."""
    pk = flag if isinstance(flag, int) else flag.pk
    locked = SafetyFlag.objects.select_for_update(of=("self",)).select_related("case").get(pk=pk)
    require_write(actor, locked.case.team_id, "safety_flag")
    if locked.resolved_at is not None:
        raise Conflict("This flag is already resolved.")
    locked.resolved_at = timezone.now()
    locked.resolved_by = actor
    locked.resolution_note = note.strip()[:500]
    locked.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    rehab_flag_resolved.send(sender=SafetyFlag, flag=locked, case=locked.case, actor=actor)
    return locked


def missed_sessions_check(*, today: date | None = None) -> list[SafetyFlag]:
    """The daily job: a missed-sessions flag for each case in rehabilitation with no session
    for the protocol's number of days (counted in the team's time zone). Idempotent: an open
    flag is not raised again. Each case commits on its own, so one failure stops no other."""
    open_missed = SafetyFlag.objects.filter(
        case_id=OuterRef("case_id"),
        kind=rehab.FlagKind.MISSED_SESSIONS,
        resolved_at__isnull=True,
    )
    plans = (
        RehabPlan.objects.filter(
            ended_on__isnull=True,
            entered_in_error=False,
            case__stage=pathway.Stage.REHABILITATION,
            case__entered_in_error=False,
            case__team__is_active=True,
        )
        .filter(~Exists(open_missed))
        .select_related("case__team", "protocol")
        .prefetch_related("protocol__phases")
        .annotate(
            last_session=Max("sessions__session_date", filter=Q(sessions__entered_in_error=False))
        )
        .order_by("pk")
    )
    raised = []
    for plan in plans:
        day = today or team_today(plan.case.team)
        last: date | None = plan.last_session
        days = rehab.days_without_session(plan.protocol.phase_specs(), plan.start_date, last, day)
        if not rehab.missed_sessions(days, plan.protocol.thresholds):
            continue
        since = last.isoformat() if last else "none yet"
        with transaction.atomic():
            flag = _flag_raise(
                case=plan.case,
                kind=rehab.FlagKind.MISSED_SESSIONS,
                raised_on=day,
                detail=f"No session for {days} days (last session: {since}).",
            )
        if flag is not None:
            raised.append(flag)
    return raised


def complication_suggests_on_hold(complication: Complication, case: Case) -> bool:
    """A serious complication offers the case on_hold; the team decides (nothing moves)."""
    return (
        complication.is_serious
        and complication.resolved_on is None
        and pathway.is_open(case.stage)
        and case.stage != pathway.Stage.ON_HOLD
    )


@transaction.atomic
def complication_record(
    *,
    actor: Any,
    case: Case,
    kind: str,
    onset_date: date,
    severity: str,
    infection_grade: int | None = None,
    treatments: Iterable[str] = (),
    surgery: Surgery | None = None,
    description: str = "",
    resolved_on: date | None = None,
) -> Complication:
    require_write(actor, case.team_id, "complication")
    case = Case.objects.select_related("team").get(pk=case.pk)
    if kind == ComplicationKind.INFECTION and infection_grade is None:
        raise RuleViolation.on("infection_grade", "An infection needs a grade (1-4).")
    if kind != ComplicationKind.INFECTION and infection_grade is not None:
        raise RuleViolation.on("infection_grade", "Only an infection has a grade.")
    today = team_today(case.team)
    if onset_date > today:
        raise RuleViolation.on("onset_date", "may not be in the future.")
    if onset_date < case.referral_date:
        raise RuleViolation.on("onset_date", "may not be before the referral date.")
    if resolved_on is not None and not onset_date <= resolved_on <= today:
        raise RuleViolation.on("resolved_on", "must be between the onset and today.")
    if surgery is not None and surgery.case_id != case.pk:
        raise RuleViolation.on("surgery", "must be a surgery of this case.")
    complication = Complication(
        case=case,
        kind=kind,
        infection_grade=infection_grade,
        onset_date=onset_date,
        severity=severity,
        treatments=sorted(set(treatments)),
        surgery=surgery,
        description=description,
        resolved_on=resolved_on,
        recorded_by=actor,
    )
    _validated(complication, exclude=["case", "surgery", "recorded_by"])
    complication.save()
    complication_recorded.send(
        sender=Complication, complication=complication, case=case, actor=actor
    )
    return complication


@transaction.atomic
def complication_resolve(
    *, actor: Any, complication: Complication, resolved_on: date, note: str = ""
) -> Complication:
    require_write(actor, complication.case.team_id, "complication")
    locked = (
        Complication.objects.select_for_update(of=("self",))
        .select_related("case__team")
        .get(pk=complication.pk)
    )
    if locked.resolved_on is not None:
        raise Conflict(f"This complication was resolved on {locked.resolved_on.isoformat()}.")
    if not locked.onset_date <= resolved_on <= team_today(locked.case.team):
        raise RuleViolation.on("resolved_on", "must be between the onset and today.")
    locked.resolved_on = resolved_on
    locked.resolution_note = note.strip()[:500]
    locked.save(update_fields=["resolved_on", "resolution_note", "updated_at"])
    return locked


@transaction.atomic
def outcome_measure_record(
    *,
    actor: Any,
    case: Case,
    kind: str,
    time_point: str,
    measured_on: date,
    value: Any = None,
    k_level: str = "",
    qtfa_prosthetic_use: Any = None,
    qtfa_mobility: Any = None,
    qtfa_problem: Any = None,
    qtfa_global: Any = None,
    notes: str = "",
) -> OutcomeMeasure:
    require_write(actor, case.team_id, "outcome_measure")
    case = Case.objects.select_related("team").get(pk=case.pk)
    measure = OutcomeMeasure(
        case=case,
        kind=kind,
        time_point=time_point,
        measured_on=measured_on,
        value=_decimal(value),
        k_level=k_level,
        qtfa_prosthetic_use=_decimal(qtfa_prosthetic_use),
        qtfa_mobility=_decimal(qtfa_mobility),
        qtfa_problem=_decimal(qtfa_problem),
        qtfa_global=_decimal(qtfa_global),
        notes=notes,
        recorded_by=actor,
    )
    # The shape first, so that a missing or out-of-range value names its field.
    _check_outcome_shape(measure)
    _validated(measure, exclude=["case", "recorded_by"])
    if measured_on > team_today(case.team):
        raise RuleViolation.on("measured_on", "may not be in the future.")
    measure.save()
    outcome_measure_recorded.send(sender=OutcomeMeasure, measure=measure, case=case, actor=actor)
    return measure


def _check_outcome_shape(measure: OutcomeMeasure) -> None:
    """Each kind carries its own value: the four Q-TFA scores, a K-level, or one number in
    the kind's range. (The database holds the same rule: outcome_value_fits_kind.)"""
    label = OutcomeKind(measure.kind).label
    qtfa = {name: getattr(measure, name) for name in QTFA_SCORES}
    if measure.kind == OutcomeKind.QTFA:
        for name, score in qtfa.items():
            if score is None:
                raise RuleViolation.on(name, "Q-TFA needs all four scores (0-100).")
        if measure.value is not None or measure.k_level:
            raise RuleViolation.on("value", "Q-TFA is recorded as its four scores only.")
        return
    for name, score in qtfa.items():
        if score is not None:
            raise RuleViolation.on(name, f"Only Q-TFA has this score, not {label}.")
    if measure.kind == OutcomeKind.K_LEVEL:
        if not measure.k_level:
            raise RuleViolation.on("k_level", "Give the K-level (K0-K4).")
        if measure.value is not None:
            raise RuleViolation.on("value", "A K-level is recorded in k_level, not value.")
        return
    if measure.k_level:
        raise RuleViolation.on("k_level", f"Only a K-level measure has a K-level, not {label}.")
    if measure.value is None:
        raise RuleViolation.on("value", f"{label} needs a value.")
    low, high, whole = OUTCOME_VALUE_RANGES[measure.kind]
    value = Decimal(str(measure.value))
    if not low <= value <= high:
        raise RuleViolation.on("value", f"{label} must be between {low} and {high}.")
    if whole and value != value.to_integral_value():
        raise RuleViolation.on("value", f"{label} is a whole number.")


@transaction.atomic
class StaleSetting(Conflict):
    """Optimistic concurrency: the change was based on a setting that is no longer current."""

    status_code = 412
    code = "precondition_failed"


def prosthesis_setting_change(
    *,
    actor: Any,
    case: Case,
    component: str,
    parameters: dict[str, Any],
    reason: str,
    component_model: str = "",
    set_on: date | None = None,
    expected_previous_id: int | object | None = ...,
) -> ProsthesisSetting:
    """Record a new setting of a component (the prosthetist's alone). The previous setting is
    kept and superseded: every change stays with who, when and why."""
    require_write(actor, case.team_id, "prosthesis_setting")
    case = Case.objects.select_related("team").get(pk=case.pk)
    if not reason.strip():
        raise RuleViolation.on("reason", "Say why the setting changed.")
    set_on = set_on or team_today(case.team)
    if set_on > team_today(case.team):
        raise RuleViolation.on("set_on", "may not be in the future.")
    previous = (
        ProsthesisSetting.objects.select_for_update(of=("self",))
        .filter(case=case, component=component, superseded_by__isnull=True)
        .order_by("-id")
        .first()
    )
    if expected_previous_id is not ... and (previous.pk if previous else None) != (
        expected_previous_id
    ):
        raise StaleSetting(
            "The setting changed since you read it: fetch the current one and try again."
        )
    if (
        previous is not None
        and previous.parameters == parameters
        and previous.component_model == (component_model or previous.component_model)
    ):
        raise RuleViolation.on("parameters", "are the same as the current setting.")
    setting = ProsthesisSetting(
        case=case,
        component=component,
        component_model=component_model or (previous.component_model if previous else ""),
        parameters=parameters,
        reason=reason.strip()[:500],
        set_on=set_on,
        set_by=actor,
        supersedes=previous,
    )
    _validated(setting, exclude=["case", "set_by", "supersedes"])
    try:
        # Two prosthetists changing one component at once: both would supersede the same
        # setting (or both be the first), and the one-to-one / partial unique refuses one.
        with transaction.atomic():
            setting.save()
    except IntegrityError as exc:
        raise Conflict(
            "Someone changed this component's setting at the same time: reload and try again."
        ) from exc
    prosthesis_setting_changed.send(
        sender=ProsthesisSetting, setting=setting, previous=previous, case=case, actor=actor
    )
    return setting
