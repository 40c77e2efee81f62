"""Reads, scoped to what the caller may see (their teams), shaped for the API, admin and
digest with constant query counts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from . import access, eligibility, timeline
from .models import (
    Assessment,
    CareTeamMember,
    Case,
    ImplantSystem,
    MdtDecision,
    Patient,
    StageTransition,
    Surgery,
)


def patients_for(user: Any) -> QuerySet[Patient]:
    return Patient.objects.filter(team_id__in=access.team_ids(user), entered_in_error=False)


def cases_for(user: Any) -> QuerySet[Case]:
    return (
        Case.objects.filter(team_id__in=access.team_ids(user), entered_in_error=False)
        .select_related("patient", "team", "implant_system", "lead_clinician")
        .prefetch_related(
            Prefetch("care_team", queryset=CareTeamMember.objects.select_related("user"))
        )
    )


def case_list_for(user: Any) -> QuerySet[Case]:
    """cases_for, with only the related columns a case list shows (the patient's hospital
    number, the team's zone): whole patient and user rows made a page slower to fetch and
    decode than to query. The care teams come with ``attach_care_teams`` once the page is
    cut."""
    own = [f.name for f in Case._meta.concrete_fields]
    return (
        cases_for(user)
        .select_related(None)
        .select_related("patient", "team")
        .only(*own, "patient__hospital_number", "team__time_zone")
        .prefetch_related(None)
    )


CARE_TEAM_ATTR = "care_team_rows"


def attach_care_teams(cases: list[Case]) -> None:
    """Each case's care team as the API shows it ({user, role, name}, in role order), left on
    the case as ``care_team_rows``: one query of plain values for the page (a page of 50
    cases has about 200 members; as model rows with their users they took longer to build
    than the rest of the page)."""
    found: dict[int, list[dict[str, Any]]] = {case.pk: [] for case in cases}
    rows = CareTeamMember.objects.filter(case_id__in=list(found)).values_list(
        "case_id", "user_id", "role", "user__first_name", "user__last_name"
    )
    for case_id, user_id, role, first, last in rows:
        found[case_id].append({"user": user_id, "role": role, "name": f"{first} {last}".strip()})
    for case in cases:
        setattr(case, CARE_TEAM_ATTR, found[case.pk])


def implant_systems_for(user: Any) -> QuerySet[ImplantSystem]:
    from django.db.models import Q

    return ImplantSystem.objects.filter(Q(team__isnull=True) | Q(team_id__in=access.team_ids(user)))


def assessments_for(user: Any) -> QuerySet[Assessment]:
    return access.case_records_for(Assessment, user).select_related(
        "case__implant_system", "case__patient"
    )


def decisions_for(user: Any) -> QuerySet[MdtDecision]:
    return (
        access.case_records_for(MdtDecision, user)
        .select_related("decided_by")
        .prefetch_related("attendees")
    )


def surgeries_for(user: Any) -> QuerySet[Surgery]:
    return (
        access.case_records_for(Surgery, user)
        .select_related("case")
        .prefetch_related("surgeons", "components")
    )


def _own_entries(case: Case) -> list[timeline.TimelineEntry]:
    entries = [
        timeline.TimelineEntry(
            kind="transition",
            at=t.recorded_at,
            title=f"{t.get_from_stage_display()} -> {t.get_to_stage_display()}",
            detail=t.reason,
            record_id=t.pk,
            actor=t.actor.get_full_name() or t.actor.get_username(),
            extra={"effective_date": t.effective_date.isoformat()},
        )
        for t in StageTransition.objects.filter(case=case).select_related("actor")
    ]
    for s in Surgery.objects.filter(case=case, entered_in_error=False):
        when = s.performed_date or s.planned_date
        assert when is not None
        entries.append(
            timeline.TimelineEntry(
                kind="surgery",
                at=when,
                title=f"{s.get_kind_display()} ({'performed' if s.performed_date else 'planned'})",
                detail=s.notes,
                record_id=s.pk,
            )
        )
    for d in MdtDecision.objects.filter(case=case, entered_in_error=False).select_related(
        "decided_by"
    ):
        entries.append(
            timeline.TimelineEntry(
                kind="decision",
                at=d.meeting_date,
                title=f"MDT decision: {d.get_outcome_display()}",
                detail=d.reasons,
                record_id=d.pk,
                actor=d.decided_by.get_full_name() or d.decided_by.get_username(),
            )
        )
    return entries


def case_timeline(case: Case) -> list[timeline.TimelineEntry]:
    """Everything that happened to a case, oldest first."""
    entries = _own_entries(case)
    for provider in timeline.providers():
        entries.extend(provider(case))
    return sorted(entries, key=lambda e: e.sort_key())


def eligibility_summary(assessment: Assessment) -> eligibility.EligibilitySummary:
    """The MDT's eligibility summary for an assessment (informs; never decides)."""
    case = assessment.case
    dob = case.patient.date_of_birth
    on = assessment.assessed_on
    age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    implant = case.implant_system

    def num(value: Any) -> float | None:
        return None if value is None else float(value)

    facts = eligibility.AssessmentFacts(
        prosthesis_wear_hours_per_week=num(assessment.prosthesis_wear_hours_per_week),
        continuous_walking_km=num(assessment.continuous_walking_km),
        socket_loosens_weekly=assessment.socket_loosens_weekly,
        blisters_or_pressure_sores=assessment.blisters_or_pressure_sores,
        poor_sitting_comfort=assessment.poor_sitting_comfort,
        heavy_socket_sweating=assessment.heavy_socket_sweating,
        age_years=age,
        skeletally_mature=assessment.skeletally_mature,
        diabetes=assessment.diabetes,
        peripheral_vascular_disease=assessment.peripheral_vascular_disease,
        smoker=assessment.smoker,
        bmi=num(assessment.bmi),
        metabolic_bone_disease=assessment.metabolic_bone_disease,
        dexa_t_score=num(assessment.dexa_t_score),
        limb_radiation_or_chemotherapy=assessment.limb_radiation_or_chemotherapy,
        immunosuppression=assessment.immunosuppression,
        active_infection=assessment.active_infection,
        active_malignancy=assessment.active_malignancy,
        can_follow_rehabilitation=assessment.can_follow_rehabilitation,
        residual_bone_length_mm=case.residual_bone_length_mm,
        implant_min_bone_length_mm=implant.min_residual_bone_length_mm if implant else None,
        implant_name=str(implant) if implant else None,
        xray_done=assessment.xray_done,
        ct_done=assessment.ct_done,
        dexa_done=assessment.dexa_done,
        psychological_assessment_done=assessment.psychological_assessment_done,
        funding_approved=assessment.funding_approved,
        peer_contact_made=assessment.peer_contact_made,
    )
    thresholds = eligibility.EligibilityThresholds(**dict(settings.ELIGIBILITY_THRESHOLDS))
    return eligibility.summarise(facts, thresholds)
