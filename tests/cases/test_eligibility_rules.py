"""The eligibility summary the MDT reads: indications, contraindications, what is missing."""

import dataclasses
import json
from typing import Any

import pytest

from cases.eligibility import (
    AssessmentFacts,
    EligibilityThresholds,
    Finding,
    summarise,
)

# A fully worked-up candidate with no contraindication and a clear socket failure.
CLEAR = AssessmentFacts(
    prosthesis_wear_hours_per_week=20,
    continuous_walking_km=0.5,
    socket_loosens_weekly=True,
    blisters_or_pressure_sores=True,
    poor_sitting_comfort=True,
    heavy_socket_sweating=True,
    age_years=45,
    skeletally_mature=True,
    diabetes=False,
    peripheral_vascular_disease=False,
    smoker=False,
    bmi=25.0,
    metabolic_bone_disease=False,
    dexa_t_score=-1.0,
    limb_radiation_or_chemotherapy=False,
    immunosuppression=False,
    active_infection=False,
    active_malignancy=False,
    residual_bone_length_mm=180,
    implant_min_bone_length_mm=160,
    implant_name="OGAP-OPL",
    xray_done=True,
    ct_done=True,
    dexa_done=True,
    psychological_assessment_done=True,
    funding_approved=True,
    peer_contact_made=True,
    can_follow_rehabilitation=True,
)
NO_SOCKET_PROBLEMS = dataclasses.replace(
    CLEAR,
    prosthesis_wear_hours_per_week=90,
    continuous_walking_km=5.0,
    socket_loosens_weekly=False,
    blisters_or_pressure_sores=False,
    poor_sitting_comfort=False,
    heavy_socket_sweating=False,
)


def with_(**changes: Any) -> AssessmentFacts:
    return dataclasses.replace(CLEAR, **changes)


def absolute_codes(facts: AssessmentFacts) -> list[str]:
    return [finding.code for finding in summarise(facts).absolute_contraindications]


def relative_codes(facts: AssessmentFacts) -> list[str]:
    return [finding.code for finding in summarise(facts).relative_contraindications]


def test_a_clear_candidate_has_no_findings_and_nothing_missing():
    summary = summarise(CLEAR)
    assert summary.absolute_contraindications == []
    assert summary.relative_contraindications == []
    assert summary.socket_failure_met is True
    assert summary.missing_items == []


# Socket failure (the indication).

INDICATORS: dict[str, Any] = {
    "prosthesis_wear_hours_per_week": 49.9,
    "continuous_walking_km": 1.9,
    "socket_loosens_weekly": True,
    "blisters_or_pressure_sores": True,
    "poor_sitting_comfort": True,
    "heavy_socket_sweating": True,
}


@pytest.mark.parametrize("indicator", INDICATORS)
def test_one_socket_indicator_alone_is_not_socket_failure(indicator):
    summary = summarise(
        dataclasses.replace(NO_SOCKET_PROBLEMS, **{indicator: INDICATORS[indicator]})
    )
    assert summary.socket_criteria_met == [indicator]
    assert summary.socket_failure_met is False


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (a, b)
        for a in INDICATORS
        for b in INDICATORS
        if list(INDICATORS).index(a) < list(INDICATORS).index(b)
    ],
)
def test_any_two_socket_indicators_make_socket_failure(first, second):
    facts = dataclasses.replace(
        NO_SOCKET_PROBLEMS, **{first: INDICATORS[first], second: INDICATORS[second]}
    )
    summary = summarise(facts)
    assert summary.socket_criteria_met == [first, second]
    assert summary.socket_failure_met is True


def test_wearing_the_prosthesis_exactly_50_hours_a_week_is_not_low_wear():
    facts = dataclasses.replace(NO_SOCKET_PROBLEMS, prosthesis_wear_hours_per_week=50)
    assert summarise(facts).socket_criteria_met == []


def test_walking_exactly_2_km_is_not_short_walking():
    facts = dataclasses.replace(NO_SOCKET_PROBLEMS, continuous_walking_km=2.0)
    assert summarise(facts).socket_criteria_met == []


def test_a_clinic_may_ask_for_three_socket_indicators():
    facts = dataclasses.replace(
        NO_SOCKET_PROBLEMS, socket_loosens_weekly=True, heavy_socket_sweating=True
    )
    strict = EligibilityThresholds(min_socket_criteria=3)
    summary = summarise(facts, strict)
    assert summary.socket_failure_met is False
    assert summary.socket_criteria_required == 3


def test_unknown_socket_indicators_are_missing_while_the_indication_is_undecided():
    facts = dataclasses.replace(
        NO_SOCKET_PROBLEMS,
        socket_loosens_weekly=True,
        continuous_walking_km=None,
        poor_sitting_comfort=None,
    )
    summary = summarise(facts)
    assert summary.socket_failure_met is False
    assert summary.missing_items == ["continuous_walking_km", "poor_sitting_comfort"]


def test_unknown_socket_indicators_are_not_chased_once_the_indication_is_met():
    facts = with_(prosthesis_wear_hours_per_week=None, heavy_socket_sweating=None)
    summary = summarise(facts)
    assert summary.socket_failure_met is True
    assert summary.missing_items == []


def test_an_unknown_indicator_never_counts_towards_socket_failure():
    facts = AssessmentFacts(socket_loosens_weekly=True)
    assert summarise(facts).socket_criteria_met == ["socket_loosens_weekly"]
    assert summarise(facts).socket_failure_met is False


# Absolute contraindications.


def test_a_17_year_old_is_under_age():
    summary = summarise(with_(age_years=17))
    assert summary.absolute_contraindications == [
        Finding("under_adult_age", "Age 17 is under 18 years.")
    ]


def test_an_18_year_old_is_of_age():
    assert absolute_codes(with_(age_years=18)) == []


def test_an_immature_skeleton_is_an_absolute_contraindication_at_any_age():
    assert absolute_codes(with_(age_years=30, skeletally_mature=False)) == ["skeletally_immature"]


def test_an_active_infection_is_an_absolute_contraindication():
    assert absolute_codes(with_(active_infection=True)) == ["active_infection"]


def test_an_active_malignancy_is_an_absolute_contraindication():
    assert absolute_codes(with_(active_malignancy=True)) == ["active_malignancy"]


def test_residual_bone_shorter_than_the_implant_minimum_is_an_absolute_contraindication():
    summary = summarise(with_(residual_bone_length_mm=150, implant_min_bone_length_mm=160))
    assert summary.absolute_contraindications == [
        Finding(
            "residual_bone_too_short",
            "Residual bone of 150 mm is shorter than the 160 mm OGAP-OPL needs.",
        )
    ]


def test_residual_bone_exactly_the_implant_minimum_is_long_enough():
    assert absolute_codes(with_(residual_bone_length_mm=160)) == []


def test_it_speaks_of_the_chosen_implant_when_the_implant_has_no_name():
    summary = summarise(with_(residual_bone_length_mm=100, implant_name=None))
    assert summary.absolute_contraindications[0].message.endswith("the chosen implant needs.")


def test_all_absolute_contraindications_are_listed_in_a_fixed_order():
    facts = with_(
        age_years=16,
        skeletally_mature=False,
        active_infection=True,
        active_malignancy=True,
        residual_bone_length_mm=90,
    )
    assert absolute_codes(facts) == [
        "under_adult_age",
        "skeletally_immature",
        "active_infection",
        "active_malignancy",
        "residual_bone_too_short",
    ]


# Relative contraindications.


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"diabetes": True}, "diabetes"),
        ({"peripheral_vascular_disease": True}, "peripheral_vascular_disease"),
        ({"smoker": True}, "smoker"),
        ({"bmi": 30.1}, "high_bmi"),
        ({"metabolic_bone_disease": True}, "metabolic_bone_disease"),
        ({"dexa_t_score": -2.5}, "metabolic_bone_disease"),
        ({"limb_radiation_or_chemotherapy": True}, "limb_radiation_or_chemotherapy"),
        ({"immunosuppression": True}, "immunosuppression"),
        ({"age_years": 71}, "older_age"),
        ({"can_follow_rehabilitation": False}, "cannot_follow_rehabilitation"),
    ],
)
def test_each_relative_contraindication_is_reported_on_its_own(changes, code):
    summary = summarise(with_(**changes))
    assert [finding.code for finding in summary.relative_contraindications] == [code]
    assert summary.absolute_contraindications == []


@pytest.mark.parametrize(
    "changes",
    [{"bmi": 30.0}, {"dexa_t_score": -2.4}, {"age_years": 70}],
)
def test_values_at_the_threshold_are_not_relative_contraindications(changes):
    assert relative_codes(with_(**changes)) == []


def test_the_bmi_finding_says_the_value_and_the_limit():
    summary = summarise(with_(bmi=34.5))
    assert summary.relative_contraindications == [Finding("high_bmi", "BMI 34.5 is over 30.")]


def test_metabolic_bone_disease_and_a_low_dexa_make_one_finding_with_both_reasons():
    summary = summarise(with_(metabolic_bone_disease=True, dexa_t_score=-3.1))
    assert summary.relative_contraindications == [
        Finding(
            "metabolic_bone_disease",
            "Metabolic bone disease. DEXA T-score -3.1 is at or below -2.5.",
        )
    ]


def test_a_clinic_may_tune_the_relative_thresholds():
    lenient = EligibilityThresholds(bmi_above=35, age_over=75, dexa_t_score_at_or_below=-3.0)
    facts = with_(bmi=33, age_years=73, dexa_t_score=-2.7)
    assert summarise(facts, lenient).relative_contraindications == []
    assert [f.code for f in summarise(facts).relative_contraindications] == [
        "high_bmi",
        "metabolic_bone_disease",
        "older_age",
    ]


def test_a_clinic_may_tune_the_adult_age():
    assert absolute_codes(with_(age_years=20)) == []
    codes = [
        f.code
        for f in summarise(
            with_(age_years=20), EligibilityThresholds(adult_age=21)
        ).absolute_contraindications
    ]
    assert codes == ["under_adult_age"]


# Missing items: unknown is never read as "no".


@pytest.mark.parametrize(
    "name",
    [
        "diabetes",
        "peripheral_vascular_disease",
        "smoker",
        "bmi",
        "metabolic_bone_disease",
        "limb_radiation_or_chemotherapy",
        "immunosuppression",
        "active_infection",
        "active_malignancy",
        "can_follow_rehabilitation",
        "age_years",
        "residual_bone_length_mm",
        "implant_min_bone_length_mm",
    ],
)
def test_an_unknown_value_that_matters_is_missing_and_raises_no_finding(name):
    summary = summarise(with_(**{name: None}))
    assert summary.missing_items == [name]
    assert summary.absolute_contraindications == []
    assert summary.relative_contraindications == []


@pytest.mark.parametrize(
    "name",
    [
        "xray_done",
        "ct_done",
        "dexa_done",
        "psychological_assessment_done",
        "funding_approved",
        "peer_contact_made",
    ],
)
@pytest.mark.parametrize("value", [None, False])
def test_a_workup_item_not_done_is_missing(name, value):
    assert summarise(with_(**{name: value})).missing_items == [name]


def test_skeletal_maturity_is_missing_for_a_young_adult_but_not_for_an_older_one():
    assert summarise(with_(age_years=22, skeletally_mature=None)).missing_items == [
        "skeletally_mature"
    ]
    assert summarise(with_(age_years=25, skeletally_mature=None)).missing_items == []


def test_skeletal_maturity_is_missing_when_the_age_is_unknown_too():
    summary = summarise(with_(age_years=None, skeletally_mature=None))
    assert summary.missing_items == ["age_years", "skeletally_mature"]


def test_a_dexa_scan_done_without_its_t_score_is_missing_the_score():
    assert summarise(with_(dexa_t_score=None)).missing_items == ["dexa_t_score"]


def test_a_dexa_scan_not_done_is_listed_once_as_the_workup_item():
    assert summarise(with_(dexa_done=None, dexa_t_score=None)).missing_items == ["dexa_done"]


def test_an_empty_assessment_lists_everything_in_a_fixed_order():
    summary = summarise(AssessmentFacts())
    assert summary.socket_failure_met is False
    assert summary.absolute_contraindications == []
    assert summary.relative_contraindications == []
    assert summary.missing_items == [
        "prosthesis_wear_hours_per_week",
        "continuous_walking_km",
        "socket_loosens_weekly",
        "blisters_or_pressure_sores",
        "poor_sitting_comfort",
        "heavy_socket_sweating",
        "age_years",
        "skeletally_mature",
        "active_infection",
        "active_malignancy",
        "residual_bone_length_mm",
        "implant_min_bone_length_mm",
        "diabetes",
        "peripheral_vascular_disease",
        "smoker",
        "bmi",
        "metabolic_bone_disease",
        "limb_radiation_or_chemotherapy",
        "immunosuppression",
        "can_follow_rehabilitation",
        "xray_done",
        "ct_done",
        "dexa_done",
        "psychological_assessment_done",
        "funding_approved",
        "peer_contact_made",
    ]


def test_every_missing_item_names_an_assessment_field():
    fields = {field.name for field in dataclasses.fields(AssessmentFacts)}
    assert set(summarise(AssessmentFacts()).missing_items) <= fields


# JSON.


def test_the_summary_turns_into_plain_json():
    summary = summarise(with_(smoker=True, age_years=17, ct_done=False))
    as_json = json.loads(json.dumps(summary.to_dict()))
    assert as_json == {
        "absolute_contraindications": [
            {"code": "under_adult_age", "message": "Age 17 is under 18 years."}
        ],
        "relative_contraindications": [{"code": "smoker", "message": "Smokes."}],
        "socket_failure_met": True,
        "socket_criteria_met": list(INDICATORS),
        "socket_criteria_required": 2,
        "missing_items": ["ct_done"],
    }
