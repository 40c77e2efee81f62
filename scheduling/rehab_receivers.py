"""Tasks for rehabilitation safety flags and serious complications (cases/signals.py).

Runs inside the transaction that recorded the session or complication, so a flag and its
tasks commit or roll back together. Each task is keyed on (case, event_key): a retried or
repeated signal never duplicates it, and a flag is raised once per episode anyway.

===============  =========================================  ========  ===================
flag             who                                        priority  due
===============  =========================================  ========  ===================
overload         physiotherapist and surgeon                urgent    the day it is raised
pain_gate        physiotherapist                            soon      the next day
stoma_concern    nurse and surgeon                          urgent    the day it is raised
missed_sessions  physiotherapist                            soon      the day it is raised
===============  =========================================  ========  ===================

A grade 3-4 infection, periprosthetic fracture, implant or connector breakage or loosening:
an urgent surgeon task that offers the case on_hold (the stage is never moved from here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.dispatch import receiver

from cases.rehab import FlagKind
from cases.roles import Role
from cases.services import complication_suggests_on_hold, team_today
from cases.signals import (
    complication_recorded,
    outcome_measure_recorded,
    rehab_flag_raised,
    rehab_flag_resolved,
)

from . import services
from .models import Priority


@dataclass(frozen=True)
class FlagTask:
    role: str
    title: str
    priority: str
    due_in_days: int = 0


FLAG_TASKS: dict[str, list[FlagTask]] = {
    FlagKind.OVERLOAD: [
        FlagTask(
            Role.PHYSIOTHERAPIST,
            "Overload: review loading with the patient before the next session",
            Priority.URGENT,
        ),
        FlagTask(
            Role.SURGEON,
            "Overload: decide whether to image the implant and bone",
            Priority.URGENT,
        ),
    ],
    FlagKind.PAIN_GATE: [
        FlagTask(
            Role.PHYSIOTHERAPIST,
            "Pain gate: plan held at today's load; review pain and progression",
            Priority.SOON,
            due_in_days=1,
        ),
    ],
    FlagKind.STOMA_CONCERN: [
        FlagTask(Role.NURSE, "Stoma concern: review the stoma, consider a swab", Priority.URGENT),
        FlagTask(
            Role.SURGEON,
            "Stoma concern: assess for infection (CRP, white cells, X-ray)",
            Priority.URGENT,
        ),
    ],
    FlagKind.MISSED_SESSIONS: [
        FlagTask(
            Role.PHYSIOTHERAPIST,
            "Missed rehab sessions: contact the patient",
            Priority.SOON,
        ),
    ],
}


def flag_event_key(flag: Any, role: str) -> str:
    return f"rehab-flag:{flag.pk}:{role}"


def complication_event_key(complication: Any, role: str) -> str:
    return f"complication:{complication.pk}:{role}"


@receiver(rehab_flag_raised, dispatch_uid="scheduling.on_rehab_flag_raised")
def on_rehab_flag_raised(sender: Any, *, flag: Any, case: Any, actor: Any, **_: Any) -> None:
    today = team_today(case.team)
    for spec in FLAG_TASKS.get(flag.kind, []):
        services.task_create_for_event(
            case=case,
            role=spec.role,
            title=spec.title,
            due=today + timedelta(days=spec.due_in_days),
            event_key=flag_event_key(flag, spec.role),
            priority=spec.priority,
            details=f"{flag.get_kind_display()} flag raised on {flag.raised_on}: {flag.detail}",
            actor=actor,
        )


@receiver(complication_recorded, dispatch_uid="scheduling.on_complication_recorded")
def on_complication_recorded(
    sender: Any, *, complication: Any, case: Any, actor: Any, **_: Any
) -> None:
    if not complication.is_serious:
        return
    details = f"{complication} ({complication.get_severity_display().lower()})."
    if complication_suggests_on_hold(complication, case):
        details += (
            " This complication threatens the implant: consider putting the case on hold "
            "(the stage has not been changed)."
        )
    if complication.description:
        details += f"\n\n{complication.description}"
    services.task_create_for_event(
        case=case,
        role=Role.SURGEON,
        title=f"Serious complication: {complication.get_kind_display().lower()}; "
        "review and consider on hold",
        due=team_today(case.team),
        event_key=complication_event_key(complication, Role.SURGEON),
        priority=Priority.URGENT,
        details=details,
        actor=actor,
    )


@receiver(outcome_measure_recorded, dispatch_uid="scheduling-outcome-set-tasks")
def complete_outcome_set_tasks(*, measure: Any, case: Any, actor: Any, **_: Any) -> None:
    """A follow-up task asking for an outcome set completes once the set is recorded."""
    services.tasks_complete_for_outcome_set(case=case, time_point=measure.time_point, actor=actor)


@receiver(rehab_flag_resolved, dispatch_uid="scheduling.on_rehab_flag_resolved")
def on_rehab_flag_resolved(sender: Any, *, flag: Any, case: Any, actor: Any, **_: Any) -> None:
    """Resolving a flag closes the tasks it raised, with the resolution as their note."""
    keys = [flag_event_key(flag, spec.role) for spec in FLAG_TASKS.get(flag.kind, [])]
    note = f"{flag.get_kind_display()} flag resolved" + (
        f": {flag.resolution_note}" if flag.resolution_note else "."
    )
    services.tasks_complete_for_events(case=case, event_keys=keys, actor=actor, note=note)
