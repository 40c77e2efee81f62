"""Listens to the domain signals of `cases` (cases/signals.py) and generates tasks in the same
transaction: the sender's transaction.atomic is still open when a receiver runs, so a stage
move and its tasks commit or roll back together."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from cases import timeline
from cases.pathway import CLOSED_STAGES
from cases.signals import case_stage_changed, surgery_recorded

from . import selectors, services


@receiver(case_stage_changed, dispatch_uid="scheduling.on_case_stage_changed")
def on_case_stage_changed(sender: Any, *, case: Any, transition: Any, actor: Any, **_: Any) -> None:
    if transition.to_stage in CLOSED_STAGES:
        # Cancel first: a template for the closed stage itself (a discharge letter) must
        # survive its own transition.
        services.tasks_cancel_for_closed_case(case=case, actor=actor, transition=transition)
    services.tasks_generate_for_transition(transition=transition)


@receiver(surgery_recorded, dispatch_uid="scheduling.on_surgery_recorded")
def on_surgery_recorded(
    sender: Any,
    *,
    surgery: Any,
    actor: Any,
    previous_performed_date: Any = None,
    previous_planned_date: Any = None,
    **_: Any,
) -> None:
    services.tasks_generate_for_surgery(
        surgery=surgery,
        actor=actor,
        previous_performed_date=previous_performed_date,
        previous_planned_date=previous_planned_date,
    )


timeline.register(selectors.case_timeline_entries)
