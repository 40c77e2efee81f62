"""Turns an eligibility assessment into the summary the MDT reads before it decides.

It informs, it never decides: the MDT records the decision. Every value the assessor has not
entered is ``None`` and shows up in ``missing_items``; an unknown is never read as "no".
The numbers come from published centre rules (DOMAIN.md) and are clinic-tunable through
:class:`EligibilityThresholds`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class AssessmentFacts:
    # Indication: failure of socket prosthesis use.
    prosthesis_wear_hours_per_week: float | None = None
    continuous_walking_km: float | None = None
    socket_loosens_weekly: bool | None = None
    blisters_or_pressure_sores: bool | None = None
    poor_sitting_comfort: bool | None = None
    heavy_socket_sweating: bool | None = None
    # Patient.
    age_years: int | None = None
    skeletally_mature: bool | None = None
    diabetes: bool | None = None
    peripheral_vascular_disease: bool | None = None
    smoker: bool | None = None
    bmi: float | None = None
    metabolic_bone_disease: bool | None = None
    dexa_t_score: float | None = None
    limb_radiation_or_chemotherapy: bool | None = None
    immunosuppression: bool | None = None
    active_infection: bool | None = None
    active_malignancy: bool | None = None
    can_follow_rehabilitation: bool | None = None
    # Residual bone against the chosen implant system's instructions for use.
    residual_bone_length_mm: int | None = None
    implant_min_bone_length_mm: int | None = None
    implant_name: str | None = None
    # Workup.
    xray_done: bool | None = None
    ct_done: bool | None = None
    dexa_done: bool | None = None
    psychological_assessment_done: bool | None = None
    funding_approved: bool | None = None
    peer_contact_made: bool | None = None


@dataclass(frozen=True)
class EligibilityThresholds:
    min_socket_criteria: int = 2
    wear_hours_per_week_below: float = 50
    walking_km_below: float = 2.0
    bmi_above: float = 30
    dexa_t_score_at_or_below: float = -2.5
    age_over: int = 70
    adult_age: int = 18
    # From this age an unrecorded skeletal maturity is not worth chasing.
    skeletal_maturity_assumed_at_age: int = 25


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


@dataclass(frozen=True)
class EligibilitySummary:
    absolute_contraindications: list[Finding]
    relative_contraindications: list[Finding]
    socket_failure_met: bool
    socket_criteria_met: list[str]
    socket_criteria_required: int
    missing_items: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The workup items, in the order the summary lists them when not done.
WORKUP_ITEMS: tuple[str, ...] = (
    "xray_done",
    "ct_done",
    "dexa_done",
    "psychological_assessment_done",
    "funding_approved",
    "peer_contact_made",
)


DEFAULT_THRESHOLDS = EligibilityThresholds()


def summarise(
    facts: AssessmentFacts, thresholds: EligibilityThresholds = DEFAULT_THRESHOLDS
) -> EligibilitySummary:
    """Findings in a fixed order; ``missing_items`` names the ``AssessmentFacts`` fields to fill."""
    unknown_indicators: list[str] = []
    socket_criteria_met = _socket_criteria(facts, thresholds, unknown_indicators)
    socket_failure_met = len(socket_criteria_met) >= thresholds.min_socket_criteria
    # Once the indication is met, the remaining unknown indicators cannot change it.
    missing = [] if socket_failure_met else unknown_indicators
    absolute = _absolute_contraindications(facts, thresholds, missing)
    relative = _relative_contraindications(facts, thresholds, missing)
    missing.extend(item for item in WORKUP_ITEMS if getattr(facts, item) is not True)
    return EligibilitySummary(
        absolute_contraindications=absolute,
        relative_contraindications=relative,
        socket_failure_met=socket_failure_met,
        socket_criteria_met=socket_criteria_met,
        socket_criteria_required=thresholds.min_socket_criteria,
        missing_items=missing,
    )


def _socket_criteria(
    facts: AssessmentFacts, thresholds: EligibilityThresholds, missing: list[str]
) -> list[str]:
    met: list[str] = []
    wear = facts.prosthesis_wear_hours_per_week
    if wear is None:
        missing.append("prosthesis_wear_hours_per_week")
    elif wear < thresholds.wear_hours_per_week_below:
        met.append("prosthesis_wear_hours_per_week")
    walking = facts.continuous_walking_km
    if walking is None:
        missing.append("continuous_walking_km")
    elif walking < thresholds.walking_km_below:
        met.append("continuous_walking_km")
    for name in (
        "socket_loosens_weekly",
        "blisters_or_pressure_sores",
        "poor_sitting_comfort",
        "heavy_socket_sweating",
    ):
        value = getattr(facts, name)
        if value is None:
            missing.append(name)
        elif value:
            met.append(name)
    return met


def _absolute_contraindications(
    facts: AssessmentFacts, thresholds: EligibilityThresholds, missing: list[str]
) -> list[Finding]:
    found: list[Finding] = []
    age = facts.age_years
    if age is None:
        missing.append("age_years")
    elif age < thresholds.adult_age:
        found.append(
            Finding("under_adult_age", f"Age {age} is under {thresholds.adult_age} years.")
        )
    if facts.skeletally_mature is False:
        found.append(Finding("skeletally_immature", "The skeleton is not yet mature."))
    elif facts.skeletally_mature is None and (
        age is None or age < thresholds.skeletal_maturity_assumed_at_age
    ):
        missing.append("skeletally_mature")
    if _flag(facts, "active_infection", missing):
        found.append(Finding("active_infection", "Active infection: treat it first."))
    if _flag(facts, "active_malignancy", missing):
        found.append(Finding("active_malignancy", "Active malignancy: treat it first."))
    bone, minimum = facts.residual_bone_length_mm, facts.implant_min_bone_length_mm
    if bone is None:
        missing.append("residual_bone_length_mm")
    if minimum is None:
        missing.append("implant_min_bone_length_mm")
    if bone is not None and minimum is not None and bone < minimum:
        implant = facts.implant_name or "the chosen implant"
        found.append(
            Finding(
                "residual_bone_too_short",
                f"Residual bone of {bone} mm is shorter than the {minimum} mm {implant} needs.",
            )
        )
    return found


def _relative_contraindications(
    facts: AssessmentFacts, thresholds: EligibilityThresholds, missing: list[str]
) -> list[Finding]:
    found: list[Finding] = []
    if _flag(facts, "diabetes", missing):
        found.append(Finding("diabetes", "Diabetes."))
    if _flag(facts, "peripheral_vascular_disease", missing):
        found.append(Finding("peripheral_vascular_disease", "Peripheral vascular disease."))
    if _flag(facts, "smoker", missing):
        found.append(Finding("smoker", "Smokes."))
    if facts.bmi is None:
        missing.append("bmi")
    elif facts.bmi > thresholds.bmi_above:
        found.append(Finding("high_bmi", f"BMI {facts.bmi:g} is over {thresholds.bmi_above:g}."))
    bone_evidence = _metabolic_bone_evidence(facts, thresholds, missing)
    if bone_evidence:
        found.append(Finding("metabolic_bone_disease", " ".join(bone_evidence)))
    if _flag(facts, "limb_radiation_or_chemotherapy", missing):
        found.append(
            Finding("limb_radiation_or_chemotherapy", "Radiation or chemotherapy to the limb.")
        )
    if _flag(facts, "immunosuppression", missing):
        found.append(Finding("immunosuppression", "Immunosuppression."))
    if facts.age_years is not None and facts.age_years > thresholds.age_over:
        found.append(
            Finding("older_age", f"Age {facts.age_years} is over {thresholds.age_over} years.")
        )
    if facts.can_follow_rehabilitation is None:
        missing.append("can_follow_rehabilitation")
    elif not facts.can_follow_rehabilitation:
        found.append(
            Finding("cannot_follow_rehabilitation", "Unable to follow the long rehabilitation.")
        )
    return found


def _metabolic_bone_evidence(
    facts: AssessmentFacts, thresholds: EligibilityThresholds, missing: list[str]
) -> list[str]:
    evidence: list[str] = []
    if _flag(facts, "metabolic_bone_disease", missing):
        evidence.append("Metabolic bone disease.")
    score = facts.dexa_t_score
    if score is None:
        # A DEXA not yet done is listed once, as the workup item.
        if facts.dexa_done is True:
            missing.append("dexa_t_score")
    elif score <= thresholds.dexa_t_score_at_or_below:
        evidence.append(
            f"DEXA T-score {score:g} is at or below {thresholds.dexa_t_score_at_or_below:g}."
        )
    return evidence


def _flag(facts: AssessmentFacts, name: str, missing: list[str]) -> bool:
    value: bool | None = getattr(facts, name)
    if value is None:
        missing.append(name)
    return value is True
