"""The load-data generator (bench/): every stage, valid rows, the benchmark's fixed points."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import Case, Patient, RehabSession, StageTransition
from cases.pathway import Stage
from scheduling.management.commands.generate_load_data import (
    BENCH_REHAB_MARKER,
    BENCH_REHAB_SESSIONS,
    BUSY_CLINICIAN,
)
from scheduling.models import OPEN_STATUSES, Task

pytestmark = pytest.mark.django_db


def generate(**sizes: int) -> None:
    args = [f"--{name}={value}" for name, value in sizes.items()]
    call_command("generate_load_data", *args, "--no-progress", stdout=StringIO())


def test_it_fills_every_stage_with_tasks_sessions_and_the_benchmarks_fixed_points() -> None:
    generate(teams=2, cases=300, staff=40, seed=7)
    assert Case.objects.count() == 300
    assert set(Case.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert not Patient.objects.exclude(given_name="Patient").exists()  # no real names
    tasks = Task.objects.count()
    assert 16 * 300 <= tasks <= 26 * 300
    assert Task.objects.filter(status="completed").count() > tasks / 2
    busy = get_user_model().objects.get(username=BUSY_CLINICIAN)
    assert busy.memberships.get().roles.get().role == "physiotherapist"
    assert Task.objects.filter(assignee=busy, status__in=OPEN_STATUSES).count() >= 50
    rehab = Case.objects.get(referral_source=BENCH_REHAB_MARKER)
    assert rehab.stage == Stage.REHABILITATION
    assert RehabSession.objects.filter(case=rehab).count() == BENCH_REHAB_SESSIONS
    # Each case's log ends where the case is.
    for case in Case.objects.exclude(stage=Stage.REFERRED)[:50]:
        last = StageTransition.objects.filter(case=case).order_by("recorded_at", "pk").last()
        assert last is not None and last.to_stage == case.stage


def test_it_refuses_a_database_that_already_holds_generated_data() -> None:
    generate(teams=1, cases=20, staff=12)
    with pytest.raises(CommandError, match="already holds generated data"):
        generate(teams=1, cases=20, staff=12)
