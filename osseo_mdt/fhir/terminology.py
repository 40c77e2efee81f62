"""Code systems and the codes the FHIR API emits.

Standard codes where one exists and was checked (LOINC, SNOMED CT, UCUM, HL7's own code
systems); otherwise a local code system under ``{SITE_URL}/fhir/CodeSystem/osseo-mdt-*``,
listed in the README. Local URLs are functions of SITE_URL so a deployment names them with
its own address.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from cases.models import ComplicationKind, KLevel, OutcomeKind, Severity, TimePoint
from cases.pathway import Stage, SurgeryKind
from cases.roles import Role

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"


def site_url() -> str:
    return str(settings.SITE_URL).rstrip("/")


def local_system(name: str) -> str:
    """A local code system, e.g. ``local_system("observation")``."""
    return f"{site_url()}/fhir/CodeSystem/osseo-mdt-{name}"


def local_extension(name: str) -> str:
    return f"{site_url()}/fhir/StructureDefinition/{name}"


def patient_identifier_system() -> str:
    """The hospital number's system: the hospital's own (FHIR_PATIENT_IDENTIFIER_SYSTEM)."""
    configured = getattr(settings, "FHIR_PATIENT_IDENTIFIER_SYSTEM", "")
    return configured or f"{site_url()}/fhir/sid/hospital-number"


def staff_identifier_system() -> str:
    return f"{site_url()}/fhir/sid/username"


def team_identifier_system() -> str:
    return f"{site_url()}/fhir/sid/team"


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


# --- Pathway ----------------------------------------------------------------------------------

# EpisodeOfCare.status (http://hl7.org/fhir/episode-of-care-status, required binding).
# Before the MDT accepts a patient the episode waits; from awaiting surgery on the team is
# actively caring for them.
EPISODE_STATUS_BY_STAGE: dict[str, str] = {
    Stage.REFERRED: "waitlist",
    Stage.SCREENING: "waitlist",
    Stage.ASSESSMENT: "waitlist",
    Stage.MDT_REVIEW: "waitlist",
    Stage.AWAITING_SURGERY: "active",
    Stage.STAGE1_SURGERY: "active",
    Stage.INTERSTAGE: "active",
    Stage.STAGE2_SURGERY: "active",
    Stage.REHABILITATION: "active",
    Stage.FOLLOW_UP: "active",
    Stage.ON_HOLD: "onhold",
    Stage.DISCHARGED: "finished",
    Stage.EXPLANTED: "finished",
    Stage.DECLINED: "cancelled",
    Stage.WITHDRAWN: "cancelled",
}
EPISODE_STATUSES = ("planned", "waitlist", "active", "onhold", "finished", "cancelled")

# CarePlan.status (http://hl7.org/fhir/request-status, required binding). An explanted case's
# plan stopped before it was achieved: revoked, like declined and withdrawn.
CAREPLAN_STATUS_BY_STAGE: dict[str, str] = {
    **{stage: "active" for stage in Stage.values},
    Stage.ON_HOLD: "on-hold",
    Stage.DISCHARGED: "completed",
    Stage.EXPLANTED: "revoked",
    Stage.DECLINED: "revoked",
    Stage.WITHDRAWN: "revoked",
}
CAREPLAN_STATUSES = ("active", "on-hold", "revoked", "completed")


def stages_with(status_by_stage: dict[str, str], statuses: set[str]) -> list[str]:
    return sorted(stage for stage, status in status_by_stage.items() if status in statuses)


def stage_coding(stage: str) -> dict[str, str]:
    return coding(local_system("pathway-stage"), stage, Stage(stage).label)


def surgery_kind_coding(kind: str) -> dict[str, str]:
    return coding(local_system("surgery-kind"), kind, SurgeryKind(kind).label)


EPISODE_TYPE_CODE = "osseointegration"


def episode_type_coding() -> dict[str, str]:
    return coding(local_system("episode-type"), EPISODE_TYPE_CODE, "Osseointegration pathway")


# --- Roles ------------------------------------------------------------------------------------

# SNOMED CT occupations (the performer-role value set) where the role has one in the
# international edition; every role also carries its local code.
ROLE_SNOMED: dict[str, tuple[str, str]] = {
    Role.SURGEON: ("304292004", "Surgeon"),
    Role.PHYSIOTHERAPIST: ("36682004", "Physiotherapist"),
    Role.NURSE: ("224535009", "Registered nurse"),
    Role.PSYCHOLOGIST: ("59944000", "Psychologist"),
}


def role_concept(role: str) -> dict[str, object]:
    codings = []
    if role in ROLE_SNOMED:
        code, display = ROLE_SNOMED[role]
        codings.append(coding(SNOMED, code, display))
    codings.append(coding(local_system("role"), role, Role(role).label))
    return {"coding": codings, "text": Role(role).label}


def roles_for_token(system: str | None, code: str) -> set[str]:
    """The roles a performer token names (SNOMED or local code; no system: either)."""
    found = set()
    for role in Role.values:
        snomed = ROLE_SNOMED.get(role)
        if system in (None, SNOMED) and snomed and snomed[0] == code:
            found.add(role)
        if system in (None, local_system("role")) and role == code:
            found.add(role)
    return found


# --- Tasks ------------------------------------------------------------------------------------

# Task.priority (http://hl7.org/fhir/request-priority): ours has three steps, FHIR four.
TASK_PRIORITY: dict[str, str] = {"routine": "routine", "soon": "urgent", "urgent": "asap"}


# --- Observations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservationCode:
    """What one kind of observation is called, where it files, and its unit."""

    local_code: str
    display: str
    category: str
    loinc: tuple[str, str] | None = None
    unit: tuple[str, str] | None = None  # (human unit, UCUM code)

    def concept(self) -> dict[str, object]:
        codings = []
        if self.loinc:
            codings.append(coding(LOINC, *self.loinc))
        codings.append(coding(local_system("observation"), self.local_code, self.display))
        return {"coding": codings, "text": self.display}

    def codes(self) -> set[tuple[str, str]]:
        found = {(local_system("observation"), self.local_code)}
        if self.loinc:
            found.add((LOINC, self.loinc[0]))
        return found


PAIN_LOINC = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
SCORE = ("score", "{score}")

# Rehab session parts: one Observation each (id rehab-session-<pk>-<part>).
SESSION_OBSERVATIONS: dict[str, ObservationCode] = {
    "load": ObservationCode(
        "axial-load", "Peak axial load on the implant", "therapy", unit=("kg", "kg")
    ),
    "pain-before": ObservationCode(
        "pain-nrs-before-session",
        "Pain NRS before the loading session",
        "survey",
        loinc=PAIN_LOINC,
        unit=SCORE,
    ),
    "pain-after": ObservationCode(
        "pain-nrs-after-session",
        "Pain NRS after the loading session",
        "survey",
        loinc=PAIN_LOINC,
        unit=SCORE,
    ),
    "wear": ObservationCode(
        "prosthesis-wear-hours", "Prosthesis wear per day", "activity", unit=("h", "h")
    ),
}
SESSION_FIELD = {
    "load": "load_kg",
    "pain-before": "pain_nrs_before",
    "pain-after": "pain_nrs_after",
    "wear": "wear_hours_per_day",
}
TARGET_LOAD = ObservationCode(
    "axial-load-target", "Target axial load for the day", "therapy", unit=("kg", "kg")
)

OUTCOME_OBSERVATIONS: dict[str, ObservationCode] = {
    OutcomeKind.QTFA: ObservationCode(
        "qtfa", "Questionnaire for persons with a transfemoral amputation (Q-TFA)", "survey"
    ),
    OutcomeKind.SIX_MINUTE_WALK: ObservationCode(
        "six-minute-walk",
        "6-minute walk test distance",
        "exam",
        loinc=("64098-7", "Six minute walk test"),
        unit=("m", "m"),
    ),
    OutcomeKind.TIMED_UP_AND_GO: ObservationCode(
        "timed-up-and-go", "Timed Up and Go", "exam", unit=("s", "s")
    ),
    OutcomeKind.K_LEVEL: ObservationCode(
        "k-level", "Medicare functional classification level (K-level)", "exam"
    ),
    OutcomeKind.SF36_PCS: ObservationCode(
        "sf36-pcs", "SF-36 physical component summary score", "survey", unit=SCORE
    ),
    OutcomeKind.WEAR_HOURS: ObservationCode(
        "prosthesis-wear-hours", "Prosthesis wear per day", "activity", unit=("h/d", "h/d")
    ),
    OutcomeKind.PAIN_NRS: ObservationCode(
        "pain-nrs", "Pain NRS", "survey", loinc=PAIN_LOINC, unit=SCORE
    ),
    OutcomeKind.FALLS: ObservationCode(
        "falls", "Falls since the last review", "survey", unit=("falls", "{#}")
    ),
}
QTFA_COMPONENTS: dict[str, ObservationCode] = {
    "qtfa_prosthetic_use": ObservationCode("qtfa-prosthetic-use", "Q-TFA prosthetic use", ""),
    "qtfa_mobility": ObservationCode("qtfa-mobility", "Q-TFA mobility", ""),
    "qtfa_problem": ObservationCode("qtfa-problem", "Q-TFA problem (higher is worse)", ""),
    "qtfa_global": ObservationCode("qtfa-global", "Q-TFA global", ""),
}
OBSERVATION_CATEGORIES = ("survey", "exam", "therapy", "activity")
CATEGORY_DISPLAY = {
    "survey": "Survey",
    "exam": "Exam",
    "therapy": "Therapy",
    "activity": "Activity",
}


def category_concept(code: str) -> dict[str, object]:
    return {"coding": [coding(OBSERVATION_CATEGORY, code, CATEGORY_DISPLAY[code])]}


def k_level_coding(level: str) -> dict[str, str]:
    return coding(local_system("k-level"), level, KLevel(level).label)


def time_point_coding(time_point: str) -> dict[str, str]:
    return coding(local_system("time-point"), time_point, TimePoint(time_point).label)


# --- Conditions -------------------------------------------------------------------------------

# Condition.severity: the R4 condition-severity value set (SNOMED CT qualifiers) plus SNOMED's
# life-threatening severity.
SEVERITY_SNOMED: dict[str, tuple[str, str]] = {
    Severity.MILD: ("255604002", "Mild"),
    Severity.MODERATE: ("6736007", "Moderate"),
    Severity.SEVERE: ("24484000", "Severe"),
    Severity.LIFE_THREATENING: ("442452003", "Life threatening severity"),
}


def complication_kind_coding(kind: str) -> dict[str, str]:
    return coding(local_system("complication"), kind, ComplicationKind(kind).label)


def infection_grade_coding(grade: int) -> dict[str, str]:
    from cases.models import InfectionGrade

    return coding(local_system("infection-grade"), str(grade), InfectionGrade(grade).label)
