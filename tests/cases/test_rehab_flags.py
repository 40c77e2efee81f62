"""Rehab sessions raise safety flags, once per episode, and each flag gives the right people
a task; the daily job finds missed sessions; serious complications reach the surgeon."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from cases import services, tasks
from cases.errors import Conflict
from cases.models import Case, RehabSession, SafetyFlag
from scheduling.models import Task
from tests.cases.rehab_factories import rehab_case

pytestmark = pytest.mark.django_db


def flag_tasks(case: Case) -> set[tuple[str, str]]:
    """(role, priority) of the tasks raised for the case's flags and complications."""
    return set(Task.objects.filter(case=case).exclude(event_key="").values_list("role", "priority"))


def test_a_quiet_session_at_target_raises_nothing() -> None:
    r = rehab_case()
    session = r.session(load_kg=40, pain_nrs_before=1, pain_nrs_after=2, stoma_findings=["clean"])
    assert session.target_kg == Decimal("40.0")  # day 10 of the standard protocol, 80 kg: 50%
    assert session.flag_kinds == []
    assert not SafetyFlag.objects.filter(case=r.case).exists()
    assert flag_tasks(r.case) == set()


def test_an_overload_gives_the_physiotherapist_and_the_surgeon_an_urgent_task() -> None:
    r = rehab_case()
    session = r.session(load_kg=44.1)  # more than 10% over a 40 kg target
    assert [f.kind for f in session.raised_flags] == ["overload"]
    assert flag_tasks(r.case) == {("physiotherapist", "urgent"), ("surgeon", "urgent")}


def test_a_load_exactly_at_the_tolerance_is_not_an_overload() -> None:
    r = rehab_case()
    assert r.session(load_kg=44).flag_kinds == []


def test_the_pain_gate_gives_the_physiotherapist_a_task_and_holds_the_plan() -> None:
    r = rehab_case(surgery_days_ago=7)
    held = r.session(r.today - timedelta(days=1), load_kg=20, pain_nrs_after=5)
    assert held.holds_plan and held.flag_kinds == ["pain_gate"]
    assert flag_tasks(r.case) == {("physiotherapist", "soon")}
    # Day 6 was held, so today (day 7) asks for day 6's load, not day 7's.
    today = r.session(load_kg=20)
    assert today.target_kg == held.target_kg
    assert r.plan is not None
    unheld = services.plan_target_kg(r.plan, r.today, held=set())
    assert today.target_kg is not None and float(today.target_kg) < unheld


def test_a_stoma_concern_gives_the_nurse_and_the_surgeon_an_urgent_task() -> None:
    r = rehab_case()
    session = r.session(stoma_findings=["discharge", "redness"])
    assert session.flag_kinds == ["stoma_concern"]
    assert flag_tasks(r.case) == {("nurse", "urgent"), ("surgeon", "urgent")}


def test_a_flag_is_raised_once_per_episode_not_once_per_session() -> None:
    r = rehab_case()
    first = r.session(r.today - timedelta(days=1), load_kg=60)
    second = r.session(load_kg=60)
    assert [f.kind for f in first.raised_flags] == ["overload"]
    assert second.raised_flags == []
    assert second.flag_kinds == ["overload"]  # the session still shows what happened
    assert SafetyFlag.objects.filter(case=r.case, kind="overload").count() == 1
    assert Task.objects.filter(case=r.case).exclude(event_key="").count() == 2


def test_after_a_flag_is_resolved_the_next_occurrence_is_a_new_episode() -> None:
    r = rehab_case()
    first = r.session(r.today - timedelta(days=1), load_kg=60).raised_flags[0]
    services.flag_resolve(actor=r.physio, flag=first, note="Discussed loading.")
    again = r.session(load_kg=60).raised_flags
    assert [f.kind for f in again] == ["overload"] and again[0].pk != first.pk
    assert Task.objects.filter(case=r.case).exclude(event_key="").count() == 4


def test_resolving_a_flag_completes_the_tasks_it_raised() -> None:
    r = rehab_case()
    flag = r.session(load_kg=60).raised_flags[0]
    open_before = Task.objects.filter(case=r.case, status="requested").exclude(event_key="")
    assert open_before.count() == 2
    services.flag_resolve(actor=r.physio, flag=flag, note="Load reviewed, X-ray normal.")
    closed = Task.objects.filter(case=r.case).exclude(event_key="")
    assert {t.status for t in closed} == {"completed"}
    assert all("X-ray normal" in t.completion_note for t in closed)


def test_a_resolved_flag_cannot_be_resolved_twice() -> None:
    r = rehab_case()
    flag = r.session(load_kg=60).raised_flags[0]
    services.flag_resolve(actor=r.physio, flag=flag)
    with pytest.raises(Conflict):
        services.flag_resolve(actor=r.lead, flag=flag)


@pytest.mark.postgres
def test_the_database_holds_one_open_flag_per_kind_per_case() -> None:
    from django.db import IntegrityError, transaction

    r = rehab_case()
    SafetyFlag.objects.create(case=r.case, kind="overload", raised_on=r.today)
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyFlag.objects.create(case=r.case, kind="overload", raised_on=r.today)


# --- Missed sessions --------------------------------------------------------------------------


def test_three_days_without_a_session_raise_a_missed_sessions_flag_and_a_physio_task() -> None:
    r = rehab_case()
    r.session(r.today - timedelta(days=3), load_kg=20)
    raised = services.missed_sessions_check()
    assert [(f.case_id, f.kind) for f in raised] == [(r.case.pk, "missed_sessions")]
    assert flag_tasks(r.case) == {("physiotherapist", "soon")}


def test_the_next_session_ends_the_missed_sessions_episode_and_its_task() -> None:
    r = rehab_case()
    r.session(r.today - timedelta(days=3), load_kg=20)
    services.missed_sessions_check()
    r.session(load_kg=20)
    flag = SafetyFlag.objects.get(case=r.case, kind="missed_sessions")
    assert flag.resolved_at is not None
    task = Task.objects.get(case=r.case, event_key__startswith="rehab-flag:")
    assert task.status == "completed"
    assert "Session recorded" in task.completion_note


def test_two_days_without_a_session_are_not_yet_missed() -> None:
    r = rehab_case()
    r.session(r.today - timedelta(days=2), load_kg=20)
    assert services.missed_sessions_check() == []


def test_the_missed_sessions_job_is_idempotent() -> None:
    r = rehab_case()
    r.session(r.today - timedelta(days=5), load_kg=10)
    assert len(services.missed_sessions_check()) == 1
    assert services.missed_sessions_check() == []
    assert SafetyFlag.objects.filter(case=r.case).count() == 1


def test_rest_days_without_sessions_are_not_missed() -> None:
    # The standard protocol's first three days are post-operative rest (no sessions).
    rehab_case(surgery_days_ago=2)
    assert services.missed_sessions_check() == []


def test_a_plan_with_no_session_since_loading_began_is_flagged() -> None:
    r = rehab_case(surgery_days_ago=5)  # loading began on day 3: days 3, 4, 5 without one
    assert [f.case_id for f in services.missed_sessions_check()] == [r.case.pk]


def test_a_new_session_ends_the_missed_sessions_episode() -> None:
    r = rehab_case()
    flag = services.missed_sessions_check()[0]
    r.session(load_kg=35)
    flag.refresh_from_db()
    assert flag.resolved_at is not None and flag.resolved_by == r.physio


def test_cases_no_longer_in_rehabilitation_are_not_checked() -> None:
    r = rehab_case()
    services.case_transition(actor=r.lead, case_id=r.case.pk, to="on_hold", reason="Infection")
    assert services.missed_sessions_check() == []


def test_the_daily_celery_task_runs_the_check() -> None:
    rehab_case()
    assert tasks.missed_sessions_check.delay().get() == 1


def test_the_daily_job_counts_days_in_the_teams_time_zone() -> None:
    r = rehab_case()
    r.session(r.today - timedelta(days=2), load_kg=20)
    tomorrow = r.today + timedelta(days=1)
    with time_machine.travel(f"{tomorrow.isoformat()} 06:00 +00:00", tick=False):
        assert len(services.missed_sessions_check()) == 1


def test_the_beat_schedule_runs_the_check_daily_at_six() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["rehab-missed-sessions-check"]
    assert entry["task"] == "cases.missed_sessions_check"
    assert str(entry["schedule"]).startswith("<crontab: 0 6 * * *")


# --- Complications ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "grade"),
    [
        ("infection", 3),
        ("infection", 4),
        ("periprosthetic_fracture", None),
        ("implant_breakage", None),
        ("connector_breakage", None),
        ("loosening", None),
    ],
)
def test_a_serious_complication_gives_the_surgeon_an_urgent_task_offering_on_hold(
    kind: str, grade: int | None
) -> None:
    r = rehab_case()
    complication = services.complication_record(
        actor=r.nurse,
        case=r.case,
        kind=kind,
        infection_grade=grade,
        onset_date=r.today,
        severity="severe",
    )
    task = Task.objects.get(case=r.case, event_key=f"complication:{complication.pk}:surgeon")
    assert task.priority == "urgent"
    assert "on hold" in task.title and "on hold" in task.details
    assert services.complication_suggests_on_hold(complication, r.case)
    assert Case.objects.get(pk=r.case.pk).stage == "rehabilitation"  # offered, not moved


@pytest.mark.parametrize(("kind", "grade"), [("infection", 1), ("infection", 2), ("fall", None)])
def test_a_minor_complication_raises_no_task(kind: str, grade: int | None) -> None:
    r = rehab_case()
    complication = services.complication_record(
        actor=r.nurse,
        case=r.case,
        kind=kind,
        infection_grade=grade,
        onset_date=r.today,
        severity="mild",
    )
    assert not services.complication_suggests_on_hold(complication, r.case)
    assert flag_tasks(r.case) == set()


def test_recording_a_session_and_its_flags_is_all_or_nothing(monkeypatch) -> None:
    r = rehab_case()

    def broken(**_: object) -> None:
        raise RuntimeError("task service down")

    monkeypatch.setattr("scheduling.services.task_create_for_event", broken)
    with pytest.raises(RuntimeError):
        r.session(load_kg=60)
    assert not RehabSession.objects.filter(case=r.case).exists()
    assert not SafetyFlag.objects.filter(case=r.case).exists()
