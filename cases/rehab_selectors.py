"""Reads for rehabilitation and monitoring, scoped to the caller's teams and shaped for the
API, the chart, the admin and the case timeline with a constant number of queries."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, prefetch_related_objects

from osseo_mdt.db import joined_values, split_joined

from . import access, rehab, services, timeline
from .models import (
    Case,
    Complication,
    OutcomeMeasure,
    ProsthesisSetting,
    RehabPhase,
    RehabPlan,
    RehabProtocol,
    RehabSession,
    SafetyFlag,
)

# The series and the chart cover at most this many days (the latest ones).
MAX_SERIES_DAYS = 366


# --- Phases of the protocol versions plans use ------------------------------------------------


# A protocol version a plan uses never changes (services.require_protocol_editable, the admin),
# so its phases are read once per process, not on every case list and rehab page. Keyed by the
# version's id and creation time, so an id a test database hands out again after a rollback
# is a new entry; any phase or protocol written in this process clears the cache anyway.
@dataclass
class InUsePhases:
    """The phases of one protocol version in use: rows, pure-rule values, and the API's
    representation once a serializer has written it (cases.api.rehab)."""

    rows: list[RehabPhase]
    specs: list[rehab.PhaseSpec]
    shown: list[dict[str, Any]] | None = None


_PHASES_IN_USE: dict[tuple[int, Any], InUsePhases] = {}
_PHASES_IN_USE_MAX = 1024
PHASES_ATTR = "in_use_phases"


def in_use_phases(protocol: RehabProtocol) -> InUsePhases:
    """The phases of a protocol version a plan uses; also left on the protocol as
    ``in_use_phases`` for the serializers (cases.api.rehab.RehabProtocolSerializer)."""
    key = (protocol.pk, protocol.created_at)
    found = _PHASES_IN_USE.get(key)
    if found is None:
        rows = sorted(protocol.phases.all(), key=lambda p: p.position)
        found = InUsePhases(rows=rows, specs=[phase.as_spec() for phase in rows])
        if len(_PHASES_IN_USE) >= _PHASES_IN_USE_MAX:
            _PHASES_IN_USE.clear()
        _PHASES_IN_USE[key] = found
    setattr(protocol, PHASES_ATTR, found)
    return found


def attach_plan_phases(cases: list[Case]) -> None:
    """Before a list is written: the phases of the protocol versions its cases' current plans
    (``with_rehab_status``) use that this process has not read yet, in one query."""
    protocols = [
        plan.protocol for case in cases for plan in getattr(case, "current_plans", None) or ()
    ]
    unread = list({(p.pk, p.created_at): p for p in protocols if not _is_read(p)}.values())
    if unread:
        prefetch_related_objects(unread, "phases")
    for protocol in [*unread, *protocols]:  # the prefetched ones first: they fill the cache
        in_use_phases(protocol)


def _is_read(protocol: RehabProtocol) -> bool:
    return (protocol.pk, protocol.created_at) in _PHASES_IN_USE


def plan_phases(plan: RehabPlan) -> list[rehab.PhaseSpec]:
    """The phases of the plan's protocol version as pure-rule values."""
    return in_use_phases(plan.protocol).specs


def forget_plan_phases(**_: Any) -> None:
    """Signal receiver (connected in cases.apps): a protocol or phase was saved or deleted."""
    _PHASES_IN_USE.clear()


def _person(user: Any) -> str:
    return "" if user is None else (user.get_full_name() or user.get_username())


# --- Scoped querysets -------------------------------------------------------------------------


def protocols_for(user: Any) -> QuerySet[RehabProtocol]:
    return RehabProtocol.objects.filter(
        Q(team__isnull=True) | Q(team_id__in=access.team_ids(user))
    ).prefetch_related(Prefetch("phases", queryset=RehabPhase.objects.order_by("position")))


def plans_for(user: Any) -> QuerySet[RehabPlan]:
    return access.case_records_for(RehabPlan, user).select_related("protocol", "started_by")


def sessions_for(user: Any) -> QuerySet[RehabSession]:
    return (
        access.case_records_for(RehabSession, user)
        .select_related("recorded_by")
        .prefetch_related("safety_flags")
    )


def flags_for(user: Any) -> QuerySet[SafetyFlag]:
    return SafetyFlag.objects.filter(case__team_id__in=access.team_ids(user)).select_related(
        "resolved_by", "case__patient"
    )


def complications_for(user: Any) -> QuerySet[Complication]:
    return access.case_records_for(Complication, user).select_related("recorded_by", "case")


def outcomes_for(user: Any) -> QuerySet[OutcomeMeasure]:
    return access.case_records_for(OutcomeMeasure, user).select_related("recorded_by")


def prosthesis_settings_for(user: Any) -> QuerySet[ProsthesisSetting]:
    return access.case_records_for(ProsthesisSetting, user).select_related(
        "set_by", "superseded_by"
    )


@functools.cache
def _rehab_status_parts() -> tuple[QuerySet[RehabPlan], Subquery]:
    """The current plans' queryset and the open flags' subquery of ``with_rehab_status``,
    built once per process (building them cost more than running them); each list takes a
    copy of the queryset, and Django resolves a copy of the subquery into each query."""
    # Only the columns today's target needs: whole plan and protocol rows were most of the
    # time of a page's prefetches.
    held = RehabSession.objects.filter(
        plan_id=OuterRef("pk"), holds_plan=True, entered_in_error=False
    )
    current = (
        RehabPlan.objects.filter(ended_on__isnull=True, entered_in_error=False)
        .select_related("protocol")
        .only(
            "id",
            "case_id",
            "protocol_id",
            "start_date",
            "body_weight_kg",
            "load_cap_kg",
            "protocol__id",
            "protocol__created_at",
        )
        .annotate(held_days=joined_values(held, "plan_id", "session_date"))
    )
    flags = SafetyFlag.objects.filter(case_id=OuterRef("pk"), resolved_at__isnull=True)
    return current, joined_values(flags, "case_id", "id", "kind", "raised_on")


def with_rehab_status(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with what a case list shows of their rehabilitation (``open_flags`` and
    ``target_today_kg``): the open flags are read with the cases, the current plans (with
    their protocol and held days) in one more query, whatever the page size; the protocols'
    phases come from ``in_use_phases``."""
    current, flags = _rehab_status_parts()
    return cases.annotate(open_flags_joined=flags).prefetch_related(
        Prefetch("rehab_plans", queryset=current.all(), to_attr="current_plans")
    )


def open_flags(case: Case) -> list[dict[str, Any]]:
    """The case's open flags as a case list shows them ({id, kind, raised_on}), newest
    first."""
    if hasattr(case, "open_flags_joined"):
        found = [
            {"id": int(pk), "kind": kind, "raised_on": raised_on}
            for pk, kind, raised_on in split_joined(case.open_flags_joined)
        ]
    else:
        found = [
            {"id": flag.pk, "kind": flag.kind, "raised_on": flag.raised_on.isoformat()}
            for flag in SafetyFlag.objects.filter(case=case, resolved_at__isnull=True)
        ]
    return sorted(found, key=lambda f: (f["raised_on"], f["id"]), reverse=True)


def target_today_kg(case: Case, today: date) -> float | None:
    """Today's target load of the case's current plan (as ``rehab_summary`` gives it), or
    None without a current plan or before it starts."""
    plans = getattr(case, "current_plans", None)
    plan = (plans[0] if plans else None) if plans is not None else services.current_plan(case)
    if plan is None or today < plan.start_date:
        return None
    if hasattr(plan, "held_days"):
        held = {date.fromisoformat(day) for (day,) in split_joined(plan.held_days)}
    else:
        held = services.held_dates(plan)
    return rehab.target_load_kg(
        plan_phases(plan),
        float(plan.body_weight_kg),
        (today - plan.start_date).days,
        [(day - plan.start_date).days for day in held],
        plan.load_cap,
    )


def rehab_case_for(user: Any, case_id: int) -> Case:
    """The case if the caller may see it (Case.DoesNotExist otherwise: a 404)."""
    return Case.objects.select_related("team").get(
        pk=case_id, team_id__in=access.team_ids(user), entered_in_error=False
    )


# --- The progress summary ---------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesPoint:
    date: date
    plan_day: int
    target_kg: float
    achieved_kg: float | None
    pain_nrs: int | None
    sessions: int
    held: bool


@dataclass(frozen=True)
class Marker:
    """A flag or complication, for the chart and the summary."""

    kind: str
    title: str
    on: date
    record_id: int
    detail: str = ""


@dataclass
class RehabSummary:
    case: Case
    today: date
    plan: RehabPlan | None = None
    target_today_kg: float | None = None
    plan_day_today: int | None = None
    phase_today: dict[str, Any] | None = None
    days_without_session: int | None = None
    series: list[SeriesPoint] = field(default_factory=list)
    open_flags: list[SafetyFlag] = field(default_factory=list)
    flag_markers: list[Marker] = field(default_factory=list)
    complication_markers: list[Marker] = field(default_factory=list)
    open_complications: list[Complication] = field(default_factory=list)
    suggest_on_hold: bool = False


def rehab_summary(case: Case, today: date | None = None) -> RehabSummary:
    """Plan, today's target, the day-by-day series and open flags of a case.

    Queries, whatever the number of sessions: the current plan with its protocol (1), the
    protocol's phases (1), the plan's sessions as plain values (1), the case's flags (1), the
    case's complications (1).
    """
    today = today or services.team_today(case.team)
    summary = RehabSummary(case=case, today=today)
    flags = list(SafetyFlag.objects.filter(case=case).select_related("resolved_by"))
    complications = list(Complication.objects.filter(case=case, entered_in_error=False))
    summary.open_flags = [flag for flag in flags if flag.is_open]
    summary.flag_markers = [
        Marker(flag.kind, flag.get_kind_display(), flag.raised_on, flag.pk, flag.detail)
        for flag in flags
    ]
    summary.complication_markers = [
        Marker(c.kind, str(c), c.onset_date, c.pk, c.description) for c in complications
    ]
    summary.open_complications = [c for c in complications if c.resolved_on is None]
    summary.suggest_on_hold = any(
        services.complication_suggests_on_hold(c, case) for c in complications
    )
    plan = (
        RehabPlan.objects.filter(case=case, ended_on__isnull=True, entered_in_error=False)
        .select_related("protocol")
        .first()
    )
    if plan is None:
        return summary
    summary.plan = plan
    phases = plan_phases(plan)
    rows = list(
        RehabSession.objects.filter(plan=plan, entered_in_error=False).values_list(
            "session_date", "load_kg", "pain_nrs_before", "pain_nrs_after", "holds_plan"
        )
    )
    achieved: dict[date, float] = {}
    pain: dict[date, int] = {}
    count: dict[date, int] = defaultdict(int)
    held: set[date] = set()
    for on, load, before, after, holds in rows:
        count[on] += 1
        if load is not None:
            achieved[on] = max(achieved.get(on, 0.0), float(load))
        pains = [p for p in (before, after) if p is not None]
        if pains:
            pain[on] = max(pain.get(on, 0), *pains)
        if holds:
            held.add(on)

    start = plan.start_date
    planned_end = start + timedelta(
        days=rehab.protocol_length_days(phases) + len([d for d in held if d >= start]) - 1
    )
    end = plan.ended_on or max(today, planned_end, max(count, default=start))
    first = max(start, end - timedelta(days=MAX_SERIES_DAYS - 1))
    held_days = [(day - start).days for day in held]
    for on, target in rehab.plan_series(
        phases, float(plan.body_weight_kg), start, end, held, plan.load_cap
    ):
        if on < first:
            continue
        summary.series.append(
            SeriesPoint(
                date=on,
                plan_day=(on - start).days,
                target_kg=target,
                achieved_kg=achieved.get(on),
                pain_nrs=pain.get(on),
                sessions=count.get(on, 0),
                held=on in held,
            )
        )
    if today >= start:
        day = (today - start).days
        summary.plan_day_today = day
        summary.target_today_kg = rehab.target_load_kg(
            phases, float(plan.body_weight_kg), day, held_days, plan.load_cap
        )
        found = rehab.phase_for_day(phases, rehab.effective_plan_day(day, held_days))
        if found is not None:
            phase, day_in_phase = found
            summary.phase_today = {
                "name": phase.name,
                "day_in_phase": day_in_phase,
                "length_days": phase.length_days,
                "sessions_per_day": phase.sessions_per_day,
                "walking_aid": phase.walking_aid,
            }
        summary.days_without_session = rehab.days_without_session(
            phases, start, max(count, default=None), today
        )
    return summary


# --- The case timeline ------------------------------------------------------------------------


def rehab_timeline_entries(case: Case) -> list[timeline.TimelineEntry]:
    """Sessions, flags, complications, outcome measures and prosthesis setting changes."""
    entries: list[timeline.TimelineEntry] = []
    for plan in RehabPlan.objects.filter(case=case, entered_in_error=False).select_related(
        "protocol", "started_by"
    ):
        entries.append(
            timeline.TimelineEntry(
                kind="rehab_plan",
                at=plan.start_date,
                title=f"Rehabilitation plan: {plan.protocol}",
                detail=plan.notes,
                record_id=plan.pk,
                actor=_person(plan.started_by),
                extra={"body_weight_kg": str(plan.body_weight_kg)},
            )
        )
    for session in RehabSession.objects.filter(case=case, entered_in_error=False).select_related(
        "recorded_by"
    ):
        load = f"{session.load_kg} kg" if session.load_kg is not None else "no load"
        entries.append(
            timeline.TimelineEntry(
                kind="rehab_session",
                at=session.session_date,
                title=f"Rehab session: {load} (target {session.target_kg} kg)",
                detail=session.notes,
                record_id=session.pk,
                actor=_person(session.recorded_by),
                extra={
                    "pain_nrs": session.max_pain_nrs,
                    "flags": list(session.flag_kinds),
                },
            )
        )
    for flag in SafetyFlag.objects.filter(case=case).select_related("resolved_by"):
        entries.append(
            timeline.TimelineEntry(
                kind="safety_flag",
                at=flag.raised_on,
                title=f"Flag: {flag.get_kind_display()}"
                + (" (resolved)" if flag.resolved_at else ""),
                detail=flag.detail,
                record_id=flag.pk,
                extra={
                    "resolved_at": flag.resolved_at.isoformat() if flag.resolved_at else None,
                    "resolved_by": _person(flag.resolved_by),
                },
            )
        )
    for complication in Complication.objects.filter(
        case=case, entered_in_error=False
    ).select_related("recorded_by"):
        entries.append(
            timeline.TimelineEntry(
                kind="complication",
                at=complication.onset_date,
                title=f"Complication: {complication}",
                detail=complication.description,
                record_id=complication.pk,
                actor=_person(complication.recorded_by),
                extra={
                    "severity": complication.severity,
                    "resolved_on": complication.resolved_on.isoformat()
                    if complication.resolved_on
                    else None,
                },
            )
        )
    for measure in OutcomeMeasure.objects.filter(case=case, entered_in_error=False).select_related(
        "recorded_by"
    ):
        entries.append(
            timeline.TimelineEntry(
                kind="outcome_measure",
                at=measure.measured_on,
                title=f"Outcome: {measure}",
                detail=measure.notes,
                record_id=measure.pk,
                actor=_person(measure.recorded_by),
                extra={"time_point": measure.time_point},
            )
        )
    for setting in ProsthesisSetting.objects.filter(
        case=case, entered_in_error=False
    ).select_related("set_by"):
        entries.append(
            timeline.TimelineEntry(
                kind="prosthesis_setting",
                at=setting.created_at,
                title=f"Prosthesis setting: {setting.get_component_display()}",
                detail=setting.reason,
                record_id=setting.pk,
                actor=_person(setting.set_by),
                extra={"parameters": setting.parameters, "set_on": setting.set_on.isoformat()},
            )
        )
    return entries


timeline.register(rehab_timeline_entries)
