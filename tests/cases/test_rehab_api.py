"""Rehabilitation over the API: sessions with their flags, complications, outcome measures,
prosthesis settings (prosthetists only), flags, the progress summary and chart; bad input is
a 400 naming the field with nothing saved; other teams get 404, strangers 401."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cases import access, services
from cases.models import (
    Complication,
    OutcomeMeasure,
    ProsthesisSetting,
    RehabSession,
    SafetyFlag,
)
from scheduling.models import Task
from tests.cases.rehab_factories import RehabCase, protocol, rehab_case
from tests.factories import TeamFactory, member

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_session(r: RehabCase, user: Any = None, **body: Any) -> Any:
    data = {"case": r.case.pk, "session_date": r.today.isoformat(), **body}
    return client_for(user or r.physio).post("/api/v1/rehab-sessions/", data, format="json")


# --- Sessions ---------------------------------------------------------------------------------


def test_a_physiotherapist_records_a_session_and_sees_the_flags_it_raised() -> None:
    r = rehab_case()
    response = post_session(
        r, load_kg="52.0", pain_nrs_before=2, pain_nrs_after=3, stoma_findings=["clean"]
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["target_kg"] == "40.0"
    assert body["flag_kinds"] == ["overload"]
    assert [flag["kind"] for flag in body["raised_flags"]] == ["overload"]
    assert body["recorded_by"] == r.physio.pk
    assert body["load_leg"] == r.case.side


def test_server_owned_session_fields_cannot_be_written() -> None:
    r = rehab_case()
    response = post_session(r, load_kg="10", target_kg="200", holds_plan=True, flag_kinds=[])
    assert response.status_code == 201
    assert response.json()["target_kg"] == "40.0"
    assert response.json()["holds_plan"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"load_kg": "-1"}, "load_kg"),
        ({"load_kg": "300.1"}, "load_kg"),
        ({"pain_nrs_before": -1}, "pain_nrs_before"),
        ({"pain_nrs_after": 11}, "pain_nrs_after"),
        ({"stoma_findings": ["oozing"]}, "stoma_findings"),
        ({"stoma_findings": ["clean", "redness"]}, "stoma_findings"),
        ({"wear_hours_per_day": "25"}, "wear_hours_per_day"),
    ],
)
def test_a_session_with_an_impossible_value_is_400_naming_the_field(body, field) -> None:
    r = rehab_case()
    response = post_session(r, **body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not RehabSession.objects.exists()
    assert not SafetyFlag.objects.exists()


def test_a_session_in_the_future_is_400() -> None:
    r = rehab_case()
    response = post_session(r, session_date=(r.today + timedelta(days=1)).isoformat())
    assert response.status_code == 400
    assert "session_date" in response.json()["error"]["fields"]
    assert not RehabSession.objects.exists()


def test_a_session_before_the_plan_starts_is_400() -> None:
    r = rehab_case()
    assert r.plan is not None
    before = r.plan.start_date - timedelta(days=1)
    response = post_session(r, session_date=before.isoformat(), load_kg="0")
    assert response.status_code == 400
    assert "before the rehabilitation plan starts" in response.json()["error"]["message"]
    assert not RehabSession.objects.exists()


def test_a_session_without_a_plan_is_409() -> None:
    r = rehab_case(with_plan=False)
    assert post_session(r, load_kg="10").status_code == 409


def test_only_physiotherapists_and_rehab_physicians_record_sessions() -> None:
    r = rehab_case()
    assert post_session(r, r.nurse, load_kg="10").status_code == 403
    rehab_doc = member(r.team, "rehab_physician")
    assert post_session(r, rehab_doc, load_kg="10").status_code == 201


def test_another_teams_session_and_case_are_404() -> None:
    r = rehab_case()
    session = r.session(load_kg=10)
    stranger = member(TeamFactory.create(), "physiotherapist")
    client = client_for(stranger)
    assert client.get(f"/api/v1/rehab-sessions/{session.pk}/").status_code == 404
    assert client.get("/api/v1/rehab-sessions/").json()["count"] == 0
    assert client.get(f"/api/v1/cases/{r.case.pk}/rehab/").status_code == 404
    assert client.get(f"/api/v1/cases/{r.case.pk}/rehab/chart.svg").status_code == 404
    response = post_session(r, stranger, load_kg="10")
    assert response.status_code == 400  # the case is not one they can name
    assert "case" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/rehab-sessions/",
        "/api/v1/complications/",
        "/api/v1/outcome-measures/",
        "/api/v1/prosthesis-settings/",
        "/api/v1/rehab-protocols/",
        "/api/v1/safety-flags/",
        "/api/v1/cases/1/rehab/",
        "/api/v1/cases/1/rehab/chart.svg",
    ],
)
def test_anonymous_callers_get_401(path: str) -> None:
    assert APIClient().get(path).status_code == 401


def test_a_session_marked_entered_in_error_no_longer_holds_the_plan() -> None:
    r = rehab_case(surgery_days_ago=7)
    held = r.session(r.today - timedelta(days=1), load_kg=10, pain_nrs_after=7)
    response = client_for(r.physio).post(
        f"/api/v1/rehab-sessions/{held.pk}/entered-in-error/", {"reason": "Wrong patient"}
    )
    assert response.status_code == 204
    assert r.session(load_kg=10).target_kg == Decimal("26.3")  # day 7 unheld


# --- Flags ------------------------------------------------------------------------------------


def test_flags_are_listed_open_first_and_resolved_through_the_api() -> None:
    r = rehab_case()
    r.session(load_kg=60, pain_nrs_after=6)
    client = client_for(r.lead)
    open_flags = client.get(f"/api/v1/safety-flags/?case={r.case.pk}&open=true").json()
    assert sorted(f["kind"] for f in open_flags["results"]) == ["overload", "pain_gate"]
    flag_id = open_flags["results"][0]["id"]
    response = client.post(f"/api/v1/safety-flags/{flag_id}/resolve/", {"note": "Reviewed"})
    assert response.status_code == 200
    assert response.json()["is_open"] is False
    assert response.json()["resolution_note"] == "Reviewed"
    assert client.post(f"/api/v1/safety-flags/{flag_id}/resolve/").status_code == 409
    prosthetist = client_for(r.prosthetist)
    other = open_flags["results"][1]["id"]
    assert prosthetist.post(f"/api/v1/safety-flags/{other}/resolve/").status_code == 403


# --- Complications ----------------------------------------------------------------------------


def post_complication(r: RehabCase, user: Any = None, **body: Any) -> Any:
    data = {
        "case": r.case.pk,
        "kind": "infection",
        "infection_grade": 3,
        "onset_date": r.today.isoformat(),
        "severity": "severe",
        "treatments": ["iv_antibiotics", "debridement"],
        **body,
    }
    return client_for(user or r.nurse).post("/api/v1/complications/", data, format="json")


def test_a_grade_3_infection_answers_suggest_on_hold_and_tasks_the_surgeon() -> None:
    r = rehab_case()
    response = post_complication(r)
    assert response.status_code == 201, response.json()
    assert response.json()["suggest_on_hold"] is True
    assert response.json()["is_serious"] is True
    assert Task.objects.get(case=r.case, role="surgeon", priority="urgent")
    summary = client_for(r.lead).get(f"/api/v1/cases/{r.case.pk}/rehab/").json()
    assert summary["suggest_on_hold"] is True


def test_an_infection_without_a_grade_is_400_and_nothing_is_saved() -> None:
    r = rehab_case()
    response = post_complication(r, infection_grade=None)
    assert response.status_code == 400
    assert "infection_grade" in response.json()["error"]["fields"]
    assert not Complication.objects.exists()
    assert not Task.objects.filter(case=r.case).exclude(event_key="").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"infection_grade": 5}, "infection_grade"),
        ({"kind": "fall", "infection_grade": 2}, "infection_grade"),
        ({"treatments": ["leeches"]}, "treatments"),
        ({"severity": "catastrophic"}, "severity"),
        ({"onset_date": "2999-01-01"}, "onset_date"),
    ],
)
def test_a_complication_that_makes_no_sense_is_400_naming_the_field(body, field) -> None:
    r = rehab_case()
    response = post_complication(r, **body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Complication.objects.exists()


def test_a_complication_is_resolved_once() -> None:
    r = rehab_case()
    complication_id = post_complication(r).json()["id"]
    client = client_for(r.lead)
    url = f"/api/v1/complications/{complication_id}/resolve/"
    response = client.post(url, {"resolved_on": r.today.isoformat(), "note": "Settled"})
    assert response.status_code == 200
    assert response.json()["suggest_on_hold"] is False
    assert client.post(url, {"resolved_on": r.today.isoformat()}).status_code == 409


# --- Outcome measures -------------------------------------------------------------------------


def post_outcome(r: RehabCase, user: Any = None, **body: Any) -> Any:
    data = {"case": r.case.pk, "time_point": "baseline", "measured_on": r.today.isoformat()}
    return client_for(user or r.physio).post(
        "/api/v1/outcome-measures/", {**data, **body}, format="json"
    )


def test_a_q_tfa_is_recorded_with_its_four_scores() -> None:
    r = rehab_case()
    scores = {"qtfa_prosthetic_use": "55", "qtfa_mobility": "60.5", "qtfa_problem": "30"}
    response = post_outcome(r, kind="qtfa", qtfa_global="50", **scores)
    assert response.status_code == 201, response.json()
    assert response.json()["qtfa_mobility"] == "60.5"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "qtfa", "qtfa_prosthetic_use": "101", "qtfa_mobility": "1",
          "qtfa_problem": "1", "qtfa_global": "1"}, "qtfa_prosthetic_use"),
        ({"kind": "qtfa", "qtfa_prosthetic_use": "50", "qtfa_mobility": "-1",
          "qtfa_problem": "1", "qtfa_global": "1"}, "qtfa_mobility"),
        ({"kind": "qtfa", "qtfa_prosthetic_use": "50", "qtfa_mobility": "50",
          "qtfa_problem": "50"}, "qtfa_global"),
        ({"kind": "six_minute_walk"}, "value"),
        ({"kind": "six_minute_walk", "value": "-5"}, "value"),
        ({"kind": "pain_nrs", "value": "11"}, "value"),
        ({"kind": "falls", "value": "1.5"}, "value"),
        ({"kind": "k_level"}, "k_level"),
        ({"kind": "k_level", "k_level": "K5"}, "k_level"),
        ({"kind": "timed_up_and_go", "value": "12", "k_level": "K2"}, "k_level"),
    ],
)  # fmt: skip
def test_an_outcome_that_does_not_fit_its_kind_is_400_naming_the_field(body, field) -> None:
    r = rehab_case()
    response = post_outcome(r, **body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not OutcomeMeasure.objects.exists()


def test_coordinators_do_not_record_outcome_measures() -> None:
    r = rehab_case()
    coordinator = member(r.team, "coordinator")
    assert post_outcome(r, coordinator, kind="k_level", k_level="K2").status_code == 403
    assert post_outcome(r, r.nurse, kind="k_level", k_level="K2").status_code == 201


# --- Prosthesis settings ----------------------------------------------------------------------


def post_setting(r: RehabCase, user: Any, if_match: str | None = None, **body: Any) -> Any:
    data = {
        "case": r.case.pk,
        "component": "knee",
        "component_model": "Constant-friction knee (example)",
        "parameters": {"friction_level": 3, "extension_assist": "medium"},
        "reason": "Initial fitting",
        **body,
    }
    headers: dict[str, Any] = {"HTTP_IF_MATCH": if_match} if if_match else {}
    return client_for(user).post("/api/v1/prosthesis-settings/", data, format="json", **headers)


def etag(user: Any, setting_id: int) -> str:
    return str(client_for(user).get(f"/api/v1/prosthesis-settings/{setting_id}/").headers["ETag"])


@pytest.mark.parametrize(
    "roles", [("physiotherapist",), ("surgeon",), ("coordinator",), ("rehab_physician",)]
)
def test_only_a_prosthetist_may_change_a_prosthesis_setting(roles: tuple[str, ...]) -> None:
    r = rehab_case()
    response = post_setting(r, member(r.team, *roles))
    assert response.status_code == 403
    assert "prosthetist" in response.json()["error"]["message"]
    assert not ProsthesisSetting.objects.exists()


def test_every_setting_change_is_kept_with_who_when_and_why() -> None:
    r = rehab_case()
    first = post_setting(r, r.prosthetist)
    assert first.status_code == 201, first.json()
    second = post_setting(
        r,
        r.prosthetist,
        if_match=etag(r.prosthetist, first.json()["id"]),
        parameters={"friction_level": 4},
        reason="Knee swings too fast",
    )
    assert second.status_code == 201
    assert second.json()["supersedes"] == first.json()["id"]
    assert second.json()["component_model"] == "Constant-friction knee (example)"
    everyone = client_for(r.physio).get(f"/api/v1/prosthesis-settings/?case={r.case.pk}").json()
    assert [(s["reason"], s["is_current"], s["set_by"]) for s in everyone["results"]] == [
        ("Knee swings too fast", True, r.prosthetist.pk),
        ("Initial fitting", False, r.prosthetist.pk),
    ]
    current = client_for(r.physio).get("/api/v1/prosthesis-settings/?current=true").json()
    assert [s["id"] for s in current["results"]] == [second.json()["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"parameters": {}}, "parameters"),
        ({"parameters": {"friction": {"nested": 1}}}, "parameters"),
        ({"component": "wheel"}, "component"),
    ],
)
def test_a_setting_without_a_reason_or_parameters_is_400(body, field) -> None:
    r = rehab_case()
    response = post_setting(r, r.prosthetist, **body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]


def test_an_unchanged_setting_is_not_a_change() -> None:
    r = rehab_case()
    first = post_setting(r, r.prosthetist).json()["id"]
    again = post_setting(r, r.prosthetist, if_match=etag(r.prosthetist, first), reason="Again")
    assert again.status_code == 400


def test_changing_a_setting_needs_the_current_versions_etag() -> None:
    r = rehab_case()
    first = post_setting(r, r.prosthetist).json()["id"]
    stale = etag(r.prosthetist, first)
    missing = post_setting(r, r.prosthetist, parameters={"friction_level": 5}, reason="Faster")
    assert missing.status_code == 428
    ok = post_setting(
        r, r.prosthetist, if_match=stale, parameters={"friction_level": 5}, reason="Faster"
    )
    assert ok.status_code == 201
    late = post_setting(
        r, r.prosthetist, if_match=stale, parameters={"friction_level": 2}, reason="Slower"
    )
    assert late.status_code == 412
    assert late.json()["error"]["code"] == "precondition_failed"


@pytest.mark.postgres
def test_two_first_settings_of_one_component_cannot_both_exist() -> None:
    from django.db import IntegrityError, transaction

    r = rehab_case()
    services.prosthesis_setting_change(
        actor=r.prosthetist, case=r.case, component="knee", parameters={"a": 1}, reason="x"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ProsthesisSetting.objects.create(
            case=r.case,
            component="knee",
            parameters={"a": 2},
            reason="racing",
            set_on=r.today,
            set_by=r.prosthetist,
        )


# --- Protocols and plans ----------------------------------------------------------------------


def test_the_three_example_protocols_are_seeded_and_labelled_as_examples() -> None:
    r = rehab_case(with_plan=False)
    body = client_for(r.physio).get("/api/v1/rehab-protocols/").json()
    examples = {p["code"]: p for p in body["results"] if p["is_example"]}
    assert set(examples) == {
        "standard-6-week-fwb",
        "slow-12-week",
        "two-stage-training-prosthesis",
    }
    standard = examples["standard-6-week-fwb"]
    assert [phase["length_days"] for phase in standard["phases"]] == [3, 8, 24, 7]
    assert standard["pain_gate_nrs"] == 5 and standard["overload_tolerance_pct"] == 10


def test_a_plan_starts_from_the_stoma_surgery_plus_the_protocol_delay() -> None:
    r = rehab_case(with_plan=False, weight_kg=72)
    slow = protocol("two-stage-training-prosthesis")
    response = client_for(r.physio).post(
        "/api/v1/rehab-plans/",
        {"case": r.case.pk, "protocol": slow.pk, "load_cap_kg": "50"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    surgery = services.stoma_surgery_for(r.case)
    assert surgery is not None and surgery.performed_date is not None
    expected = surgery.performed_date + timedelta(days=slow.start_delay_days)
    assert response.json()["start_date"] == expected.isoformat()
    assert response.json()["body_weight_kg"] == "72.0"
    again = client_for(r.physio).post(
        "/api/v1/rehab-plans/", {"case": r.case.pk, "protocol": slow.pk}, format="json"
    )
    assert again.status_code == 409


def test_a_case_keeps_the_protocol_version_it_started_on() -> None:
    r = rehab_case()
    assert r.plan is not None
    team_copy = services.rehab_protocol_new_version(
        actor=member(r.team, "rehab_physician"), protocol=r.plan.protocol, team=r.team
    )
    newer = services.rehab_protocol_new_version(actor=r.physio, protocol=team_copy)
    assert (team_copy.version, newer.version, newer.supersedes_id) == (1, 2, team_copy.pk)
    team_copy.refresh_from_db()
    assert team_copy.is_active is False
    r.plan.refresh_from_db()
    assert r.plan.protocol.code == "standard-6-week-fwb" and r.plan.protocol.team_id is None


def test_a_protocol_in_use_cannot_be_edited() -> None:
    r = rehab_case()
    assert r.plan is not None
    with pytest.raises(services.Conflict):
        services.require_protocol_editable(r.plan.protocol)


# --- Progress summary and chart ---------------------------------------------------------------


def add_sessions(r: RehabCase, count: int) -> None:
    """`count` sessions on the plan's days (bulk, as a fixture: the service is tested above)."""
    assert r.plan is not None
    RehabSession.objects.bulk_create(
        [
            RehabSession(
                case=r.case,
                plan=r.plan,
                session_date=r.plan.start_date + timedelta(days=n % 60),
                load_kg=Decimal(20 + n % 30),
                pain_nrs_after=n % 7,
                holds_plan=n % 7 >= 5,
                recorded_by=r.physio,
                target_kg=Decimal(20),
            )
            for n in range(count)
        ]
    )


def summary_queries(count: int) -> tuple[int, Any]:
    r = rehab_case(surgery_days_ago=60)
    add_sessions(r, count)
    r.session(load_kg=80, pain_nrs_after=6)  # open flags to list
    client = client_for(r.lead)
    client.get(f"/api/v1/cases/{r.case.pk}/rehab/")  # the protocol's phases, once per process
    access.forget(r.lead)  # as on a fresh request: the caller's roles are looked up once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/cases/{r.case.pk}/rehab/")
    assert response.status_code == 200
    return len(queries), response.json()


def test_the_rehab_summary_takes_the_same_queries_for_5_or_50_sessions() -> None:
    few, few_body = summary_queries(5)
    many, many_body = summary_queries(50)
    # 1 the caller's teams and roles, 2 the case, 3 the case's flags (with who resolved
    # them), 4 its complications, 5 the current plan with its protocol, 6 the plan's sessions
    # (plain values); the protocol version's phases are read once per process.
    assert few == many == 6
    assert sum(point["sessions"] for point in few_body["series"]) == 6
    assert sum(point["sessions"] for point in many_body["series"]) == 51


def test_the_rehab_summary_gives_the_plan_todays_target_the_series_and_open_flags() -> None:
    r = rehab_case()
    r.session(r.today - timedelta(days=1), load_kg=36, pain_nrs_after=2)
    r.session(load_kg=39, pain_nrs_before=6)
    body = client_for(r.nurse).get(f"/api/v1/cases/{r.case.pk}/rehab/").json()
    assert body["plan"]["protocol"]["code"] == "standard-6-week-fwb"
    assert body["target_today_kg"] == 40.0
    assert body["plan_day_today"] == 10
    assert body["phase_today"]["name"] == "Static axial loading"
    assert [f["kind"] for f in body["open_flags"]] == ["pain_gate"]
    by_date = {point["date"]: point for point in body["series"]}
    today = by_date[r.today.isoformat()]
    assert (today["target_kg"], today["achieved_kg"], today["pain_nrs"], today["held"]) == (
        40.0,
        39.0,
        6,
        True,
    )
    # The series runs to the end of the protocol (42 days) plus the held day.
    assert len(body["series"]) == 43


def test_a_case_without_a_plan_has_an_empty_summary_and_chart() -> None:
    r = rehab_case(with_plan=False)
    client = client_for(r.physio)
    body = client.get(f"/api/v1/cases/{r.case.pk}/rehab/").json()
    assert body["plan"] is None and body["series"] == []
    response = client.get(f"/api/v1/cases/{r.case.pk}/rehab/chart.svg")
    assert response.status_code == 200
    assert b"No rehabilitation plan yet" in response.content


def groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g") if g.get("id")}


def test_the_chart_is_a_valid_svg_with_the_series_flags_and_complications() -> None:
    r = rehab_case()
    for days_ago, load in [(3, 20), (2, 28), (1, 31)]:
        r.session(r.today - timedelta(days=days_ago), load_kg=load, pain_nrs_after=3)
    r.session(load_kg=55, pain_nrs_after=6)  # overload and pain gate
    services.complication_record(
        actor=r.nurse, case=r.case, kind="infection", infection_grade=1,
        onset_date=r.today, severity="mild",
    )  # fmt: skip
    response = client_for(r.physio).get(
        f"/api/v1/cases/{r.case.pk}/rehab/chart.svg", HTTP_ACCEPT="image/svg+xml,*/*"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)  # noqa: S314 (our own server's output)
    assert root.tag == f"{SVG}svg"
    found = groups(root)
    for gid in ("target-load", "achieved-load", "pain-nrs", "pain-gate", "held-days", "today"):
        assert gid in found, sorted(found)
    assert {"flag-overload", "flag-pain_gate", "complication-infection"} <= set(found)
    # One marker per day with a load; the target line runs through every day of the series.
    assert len(list(found["achieved-load"].iter(f"{SVG}use"))) == 4
    text = "".join(root.itertext())
    assert "Target load (kg)" in text and "Pain NRS" in text


def test_an_image_tag_asking_for_the_chart_of_a_hidden_case_gets_a_json_404() -> None:
    stranger = member(TeamFactory.create(), "nurse")
    response = client_for(stranger).get(
        "/api/v1/cases/999999/rehab/chart.svg", HTTP_ACCEPT="image/svg+xml,image/*"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_rehab_records_join_the_case_timeline() -> None:
    r = rehab_case()
    r.session(load_kg=60)
    services.complication_record(
        actor=r.nurse, case=r.case, kind="fall", onset_date=r.today, severity="mild"
    )
    services.outcome_measure_record(
        actor=r.physio, case=r.case, kind="k_level", k_level="K2",
        time_point="baseline", measured_on=r.today,
    )  # fmt: skip
    services.prosthesis_setting_change(
        actor=r.prosthetist, case=r.case, component="safety_adapter",
        parameters={"release_setting": "medium"}, reason="Fitted",
    )  # fmt: skip
    entries = client_for(r.physio).get(f"/api/v1/cases/{r.case.pk}/timeline/").json()
    kinds = {entry["kind"] for entry in entries}
    assert {
        "rehab_plan",
        "rehab_session",
        "safety_flag",
        "complication",
        "outcome_measure",
        "prosthesis_setting",
    } <= kinds
