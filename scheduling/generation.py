"""Which generated tasks an event calls for, and when each is due.

Pure rules: plain values in, plain values out, no database. ``services`` turns the pathway's
signals into events, asks :func:`plan` which occurrences the team's templates call for, and
inserts them under the natural key (case, template, anchor, occurrence).

Triggers, and the date each hangs on (the anchor):

===================  ==========================================================================
trigger              anchor
===================  ==========================================================================
stage_entered        the effective date of the move into ``stage``
surgery_planned      the planned date of a surgery of one of ``surgery_kinds`` (offset may be
                     negative: "14 days before")
surgery_performed    the performed date of a surgery of one of ``surgery_kinds``
rehab_days           the day rehabilitation starts (entering ``rehabilitation`` from a surgery
                     stage; coming back from follow-up for retraining is not a new start)
rehab_months         the same day; the offset is in months (follow-up reviews)
===================  ==========================================================================

Occurrence n (1-based) is due at ``anchor + offset_months + offset_days + (n - 1) * interval``.
Every occurrence is computed from the anchor, not from the previous one, so month-end
clamping (31 Jan + 1 month = 28/29 Feb) never drifts.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models

from cases.pathway import Stage, SurgeryKind

MAX_OCCURRENCES = 520  # ten years of weekly tasks
MAX_OFFSET_DAYS = 3650
MAX_OFFSET_MONTHS = 240
# No occurrence may fall further than this after its anchor: keeps dates far from year 9999
# and catches typos such as "every 52 months".
MAX_SPAN_DAYS = 25 * 366


class Trigger(models.TextChoices):
    STAGE_ENTERED = "stage_entered", "On entering a stage"
    SURGERY_PLANNED = "surgery_planned", "Days before/after a planned surgery"
    SURGERY_PERFORMED = "surgery_performed", "Days after a surgery is performed"
    REHAB_DAYS = "rehab_days", "Days after rehabilitation starts"
    REHAB_MONTHS = "rehab_months", "Months after rehabilitation starts"


class RepeatUnit(models.TextChoices):
    DAYS = "days", "Days"
    WEEKS = "weeks", "Weeks"
    MONTHS = "months", "Months"


SURGERY_TRIGGERS = frozenset({Trigger.SURGERY_PLANNED, Trigger.SURGERY_PERFORMED})
REHAB_TRIGGERS = frozenset({Trigger.REHAB_DAYS, Trigger.REHAB_MONTHS})
# Entering rehabilitation from one of these is the start of rehabilitation.
REHAB_START_FROM = frozenset({Stage.STAGE1_SURGERY, Stage.STAGE2_SURGERY})


@dataclass(frozen=True)
class TemplateSpec:
    template_id: int
    trigger: str
    stage: str = ""
    surgery_kinds: frozenset[str] = frozenset()
    offset_days: int = 0
    offset_months: int = 0
    occurrences: int = 1
    repeat_every: int | None = None
    repeat_unit: str = RepeatUnit.WEEKS


@dataclass(frozen=True)
class StageEntered:
    from_stage: str
    to_stage: str
    on: date


@dataclass(frozen=True)
class SurgeryDated:
    kind: str
    on: date
    performed: bool


Event = StageEntered | SurgeryDated


@dataclass(frozen=True)
class Occurrence:
    template_id: int
    occurrence: int
    due: date


def is_rehab_start(from_stage: str, to_stage: str) -> bool:
    return to_stage == Stage.REHABILITATION and from_stage in REHAB_START_FROM


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def fires(spec: TemplateSpec, event: Event) -> bool:
    if isinstance(event, StageEntered):
        if spec.trigger == Trigger.STAGE_ENTERED:
            return spec.stage == event.to_stage
        if spec.trigger in REHAB_TRIGGERS:
            return is_rehab_start(event.from_stage, event.to_stage)
        return False
    wanted = Trigger.SURGERY_PERFORMED if event.performed else Trigger.SURGERY_PLANNED
    return spec.trigger == wanted and event.kind in spec.surgery_kinds


def due_dates(spec: TemplateSpec, anchor: date) -> list[date]:
    """The due date of each occurrence, first to last."""
    step = spec.repeat_every or 0
    dates = []
    for n in range(spec.occurrences):
        if spec.repeat_unit == RepeatUnit.MONTHS:
            due = add_months(anchor, spec.offset_months + n * step)
            due += timedelta(days=spec.offset_days)
        else:
            days = n * step * (7 if spec.repeat_unit == RepeatUnit.WEEKS else 1)
            due = add_months(anchor, spec.offset_months) + timedelta(days=spec.offset_days + days)
        dates.append(due)
    return dates


def plan(
    specs: list[TemplateSpec], event: Event, not_before: date | None = None
) -> list[Occurrence]:
    """Every occurrence the event calls for. A due date before `not_before` (the case's
    referral date) is moved up to it: nothing may fall due before the case existed."""
    found = []
    for spec in specs:
        if not fires(spec, event):
            continue
        for n, due in enumerate(due_dates(spec, event.on), start=1):
            if not_before is not None and due < not_before:
                due = not_before
            found.append(Occurrence(spec.template_id, n, due))
    return found


def moved(due: date, old_anchor: date, new_anchor: date, not_before: date | None = None) -> date:
    """Where a task follows its anchor when the anchor moves (a surgery rescheduled)."""
    new_due = due + (new_anchor - old_anchor)
    return max(new_due, not_before) if not_before is not None else new_due


def _span_days(spec: TemplateSpec) -> int:
    """A generous upper bound of how far after the anchor the last occurrence falls."""
    per_step: dict[str, int] = {RepeatUnit.DAYS: 1, RepeatUnit.WEEKS: 7, RepeatUnit.MONTHS: 31}
    repeats = (spec.occurrences - 1) * (spec.repeat_every or 0)
    unit = per_step.get(spec.repeat_unit, 31)
    return spec.offset_months * 31 + abs(spec.offset_days) + repeats * unit


def spec_errors(spec: TemplateSpec) -> dict[str, list[str]]:
    """What is wrong with a template, by field (empty when nothing is)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if spec.trigger not in Trigger.values:
        add("trigger", f"'{spec.trigger}' is not a trigger.")
    if not 1 <= spec.occurrences <= MAX_OCCURRENCES:
        add("occurrences", f"must be between 1 and {MAX_OCCURRENCES}; got {spec.occurrences}.")
    if spec.repeat_every is not None and spec.repeat_every < 1:
        add("repeat_every", "must be at least 1.")
    if spec.occurrences > 1 and not spec.repeat_every:
        add("repeat_every", "is needed when the task repeats (more than one occurrence).")
    if spec.repeat_unit not in RepeatUnit.values:
        add("repeat_unit", f"'{spec.repeat_unit}' is not days, weeks or months.")
    if spec.trigger == Trigger.STAGE_ENTERED:
        if spec.stage not in Stage.values:
            add("stage", "Choose the stage whose entry creates the task.")
    elif spec.stage:
        add("stage", "Only an 'on entering a stage' template names a stage.")
    if spec.trigger in SURGERY_TRIGGERS:
        if not spec.surgery_kinds:
            add("surgery_kinds", "Choose at least one surgery kind.")
        unknown = sorted(set(spec.surgery_kinds) - set(SurgeryKind.values))
        if unknown:
            add("surgery_kinds", f"Unknown surgery kinds: {', '.join(unknown)}.")
    elif spec.surgery_kinds:
        add("surgery_kinds", "Only a surgery template names surgery kinds.")
    if spec.trigger == Trigger.REHAB_MONTHS:
        if not 1 <= spec.offset_months <= MAX_OFFSET_MONTHS:
            add("offset_months", f"must be between 1 and {MAX_OFFSET_MONTHS}.")
    elif spec.offset_months:
        add("offset_months", "Only a 'months after rehabilitation starts' template uses months.")
    if not -MAX_OFFSET_DAYS <= spec.offset_days <= MAX_OFFSET_DAYS:
        add("offset_days", f"must be between -{MAX_OFFSET_DAYS} and {MAX_OFFSET_DAYS}.")
    elif spec.offset_days < 0 and spec.trigger != Trigger.SURGERY_PLANNED:
        add("offset_days", "may be negative only before a planned surgery.")
    if not errors and _span_days(spec) > MAX_SPAN_DAYS:
        add(
            "repeat_every",
            "The last occurrence would fall more than 25 years after the anchor; "
            "fewer occurrences or a shorter interval.",
        )
    return errors
