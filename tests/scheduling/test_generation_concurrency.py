"""What only PostgreSQL can show: two workers generating the same tasks at the same moment
still leave one copy, because the natural key is a unique index and the insert is
ON CONFLICT DO NOTHING."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from cases import services as case_services
from cases.models import StageTransition
from scheduling import services
from scheduling.models import Task, Trigger
from tests.scheduling.factories import Staff, TaskTemplateFactory, make_case, move

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(work: Callable[[], Any], threads: int = 4) -> list[str]:
    """Run `work` in `threads` threads at once, each in its own transaction held open a
    moment after the work, so the inserts overlap."""
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []

    def run() -> None:
        close_old_connections()
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                work()
                time.sleep(0.2)
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


def test_concurrent_generation_for_one_transition_makes_one_set_of_tasks(staff: Staff) -> None:
    TaskTemplateFactory.create(stage="screening", occurrences=3, repeat_every=1)
    TaskTemplateFactory.create(stage="screening", role="nurse")
    case = move(staff, make_case(staff), "screening")
    transition = StageTransition.objects.get(case=case, to_stage="screening")
    Task.objects.filter(case=case).delete()  # as if the signal's work had been lost

    outcomes = race(lambda: services.tasks_generate_for_transition(transition=transition))

    assert outcomes == ["ok"] * 4
    assert Task.objects.filter(case=case).count() == 4


def test_concurrent_generation_for_one_surgery_makes_one_task(staff: Staff) -> None:
    TaskTemplateFactory.create(
        trigger=Trigger.SURGERY_PERFORMED, stage="", surgery_kinds=["single_stage"]
    )
    case = make_case(staff)
    surgery = case_services.surgery_record(
        actor=staff.surgeon, case=case, kind="single_stage", performed_date=date(2026, 2, 10)
    )
    outcomes = race(lambda: services.tasks_generate_for_surgery(surgery=surgery))
    assert outcomes == ["ok"] * 4
    assert Task.objects.filter(case=case).count() == 1


def test_concurrent_event_tasks_for_one_event_make_one_task(staff: Staff) -> None:
    case = make_case(staff)

    def raise_flag() -> None:
        services.task_create_for_event(
            case=case,
            role="physiotherapist",
            title="Overload: review loading",
            due=date(2026, 3, 2),
            event_key="rehab-flag:7:physiotherapist",
        )

    assert race(raise_flag) == ["ok"] * 4
    assert Task.objects.filter(case=case).count() == 1


def test_the_database_refuses_a_second_copy_of_a_generated_task(staff: Staff) -> None:
    from django.db import IntegrityError

    template = TaskTemplateFactory.create(stage="screening")
    case = move(staff, make_case(staff), "screening")
    original = Task.objects.get(case=case)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            case=case,
            title="copy",
            role="coordinator",
            due_date=original.due_date,
            template=template,
            anchor=original.anchor,
            occurrence=1,
        )
