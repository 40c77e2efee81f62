"""Turns domain signals into webhook events (scheduling/webhooks.py), inside the transaction
of the change: the outbox row commits or rolls back with it.

Payloads carry ids and the fields that changed, in codes: never a patient's name, date of
birth or free text (reasons, titles, descriptions may name people). A receiver that needs
more reads the record over the REST or FHIR API with the ids.

=======================  =====================================  =========================
event                    sent when                              key (once per ...)
=======================  =====================================  =========================
case.stage_changed       a case moves to another stage           stage transition
task.created             a task is created (by hand, a           task
                         template or a rehab flag)
task.completed           a task is completed (or auto-completed) task
task.overdue             the hourly check finds an open task     task and due date
                         due before the team's today
rehab.flag_raised        a rehabilitation safety flag is raised  flag
complication.recorded    a complication is recorded              complication
=======================  =====================================  =========================
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from cases.signals import case_stage_changed, complication_recorded, rehab_flag_raised

from .models import WebhookEventType
from .signals import task_completed, task_created
from .webhooks import emit, emit_many, task_data


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@receiver(case_stage_changed, dispatch_uid="scheduling.webhooks.on_case_stage_changed")
def on_case_stage_changed(sender: Any, *, case: Any, transition: Any, actor: Any, **_: Any) -> None:
    emit(
        WebhookEventType.CASE_STAGE_CHANGED,
        team_id=case.team_id,
        key=f"case.stage_changed:{transition.pk}",
        data={
            "case": case.pk,
            "patient": case.patient_id,
            "transition": transition.pk,
            "from_stage": transition.from_stage,
            "to_stage": transition.to_stage,
            "effective_date": _iso(transition.effective_date),
            "actor": getattr(actor, "pk", None),
        },
    )


@receiver(task_created, dispatch_uid="scheduling.webhooks.on_task_created")
def on_task_created(sender: Any, *, tasks: list[Any], actor: Any = None, **_: Any) -> None:
    by_team: dict[int, list[Any]] = {}
    for task in tasks:
        by_team.setdefault(task.case.team_id, []).append(task)
    for team_id, team_tasks in by_team.items():
        emit_many(
            WebhookEventType.TASK_CREATED,
            team_id=team_id,
            occurrences=[
                (f"task.created:{t.pk}", task_data(t, created_by=getattr(actor, "pk", None)))
                for t in team_tasks
            ],
        )


@receiver(task_completed, dispatch_uid="scheduling.webhooks.on_task_completed")
def on_task_completed(sender: Any, *, tasks: list[Any], actor: Any = None, **_: Any) -> None:
    by_team: dict[int, list[Any]] = {}
    for task in tasks:
        by_team.setdefault(task.case.team_id, []).append(task)
    for team_id, team_tasks in by_team.items():
        emit_many(
            WebhookEventType.TASK_COMPLETED,
            team_id=team_id,
            occurrences=[
                (
                    f"task.completed:{t.pk}",
                    task_data(
                        t,
                        completed_at=_iso(t.completed_at),
                        completed_by=t.completed_by_id,
                    ),
                )
                for t in team_tasks
            ],
        )


@receiver(rehab_flag_raised, dispatch_uid="scheduling.webhooks.on_rehab_flag_raised")
def on_rehab_flag_raised(sender: Any, *, flag: Any, case: Any, actor: Any, **_: Any) -> None:
    emit(
        WebhookEventType.REHAB_FLAG_RAISED,
        team_id=case.team_id,
        key=f"rehab.flag_raised:{flag.pk}",
        data={
            "flag": flag.pk,
            "case": case.pk,
            "patient": case.patient_id,
            "kind": flag.kind,
            "raised_on": _iso(flag.raised_on),
            "session": flag.session_id,
        },
    )


@receiver(complication_recorded, dispatch_uid="scheduling.webhooks.on_complication_recorded")
def on_complication_recorded(
    sender: Any, *, complication: Any, case: Any, actor: Any, **_: Any
) -> None:
    emit(
        WebhookEventType.COMPLICATION_RECORDED,
        team_id=case.team_id,
        key=f"complication.recorded:{complication.pk}",
        data={
            "complication": complication.pk,
            "case": case.pk,
            "patient": case.patient_id,
            "kind": complication.kind,
            "severity": complication.severity,
            "serious": complication.is_serious,
            "infection_grade": complication.infection_grade,
            "onset_date": _iso(complication.onset_date),
            "surgery": complication.surgery_id,
            "treatments": list(complication.treatments or []),
            "recorded_by": getattr(actor, "pk", None),
        },
    )
