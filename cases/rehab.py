"""Rehabilitation rules: the target axial load for a day, and the flags a session raises.

A protocol is a sequence of phases (data the clinic edits, e.g. "static loading, 8 days,
10% -> 50% body weight, 3 sessions a day, parallel bars"). Within a phase the target rises
in a straight line from its start to its end percentage, reaching the end on the phase's
last day; after the last phase its end percentage holds.

The pain gate: load may rise only while pain NRS is below the gate. A day held by the pain
gate does not advance the plan, so the day after it has the same target as the held day;
the service passes the held days (days with a ``pain_gate`` flag) to :func:`target_load_kg`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db import models

_TENTH_KG = Decimal("0.1")


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    length_days: int
    start_load_pct: float
    end_load_pct: float
    sessions_per_day: int
    walking_aid: str

    def __post_init__(self) -> None:
        if self.length_days < 1:
            raise ValueError(f"Phase {self.name!r} must last at least one day.")
        if self.start_load_pct < 0 or self.end_load_pct < 0:
            raise ValueError(f"Phase {self.name!r} has a negative load percentage.")
        if self.sessions_per_day < 0:
            raise ValueError(f"Phase {self.name!r} has a negative number of sessions.")


class StomaFinding(models.TextChoices):
    CLEAN = "clean", "Clean"
    DISCHARGE = "discharge", "Discharge"
    REDNESS = "redness", "Redness"
    HYPERGRANULATION = "hypergranulation", "Hypergranulation"
    SUSPECTED_INFECTION = "suspected_infection", "Suspected infection"


class FlagKind(models.TextChoices):
    OVERLOAD = "overload", "Overload"
    PAIN_GATE = "pain_gate", "Pain gate"
    STOMA_CONCERN = "stoma_concern", "Stoma concern"
    MISSED_SESSIONS = "missed_sessions", "Missed sessions"


@dataclass(frozen=True)
class FlagThresholds:
    # A load more than this fraction above the target is an overload.
    overload_tolerance: float = 0.10
    # Pain NRS at or above this holds the load where it is.
    pain_gate_nrs: int = 5
    # This many days since the last session raises a missed-sessions flag.
    missed_session_days: int = 3


DEFAULT_FLAG_THRESHOLDS = FlagThresholds()


@dataclass(frozen=True)
class SessionFacts:
    load_kg: float | None = None
    pain_nrs_before: int | None = None
    pain_nrs_after: int | None = None
    stoma_findings: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for pain in (self.pain_nrs_before, self.pain_nrs_after):
            if pain is not None and not 0 <= pain <= 10:
                raise ValueError(f"Pain NRS {pain} is outside 0-10.")
        unknown = self.stoma_findings - set(StomaFinding.values)
        if unknown:
            raise ValueError(f"Unknown stoma findings: {', '.join(sorted(unknown))}.")
        if self.load_kg is not None and self.load_kg < 0:
            raise ValueError(f"Load {self.load_kg} kg is negative.")


def effective_plan_day(day: int, held_days: Collection[int] = ()) -> int:
    """The day of the plan reached on ``day``: each held day before it sets the plan back one."""
    return day - len({held for held in held_days if 0 <= held < day})


def phase_for_day(phases: Sequence[PhaseSpec], plan_day: int) -> tuple[PhaseSpec, int] | None:
    """The phase a plan day falls in and the day within it; None before the plan starts.

    After the last phase the last phase goes on (its end load holds).
    """
    if not phases:
        raise ValueError("A protocol needs at least one phase.")
    if plan_day < 0:
        return None
    first_day = 0
    for phase in phases:
        if plan_day < first_day + phase.length_days:
            return phase, plan_day - first_day
        first_day += phase.length_days
    last = phases[-1]
    return last, last.length_days - 1


def target_load_kg(
    phases: Sequence[PhaseSpec],
    body_weight_kg: float,
    day: int,
    held_days: Collection[int] = (),
    load_cap_kg: float | None = None,
) -> float:
    """The axial load to aim for on ``day`` (0 = the plan's first day), to 0.1 kg.

    Before the plan starts (negative day) no load is prescribed: 0.0. Never above body weight
    nor above ``load_cap_kg`` (e.g. the slow protocol's 50% for short or weak bone).
    """
    if body_weight_kg <= 0:
        raise ValueError(f"Body weight {body_weight_kg} kg must be positive.")
    if load_cap_kg is not None and load_cap_kg < 0:
        raise ValueError(f"Load cap {load_cap_kg} kg is negative.")
    found = phase_for_day(phases, effective_plan_day(day, held_days))
    if found is None:
        return 0.0
    phase, day_in_phase = found
    if phase.length_days == 1:
        load_pct = phase.end_load_pct
    else:
        rise = phase.end_load_pct - phase.start_load_pct
        load_pct = phase.start_load_pct + rise * day_in_phase / (phase.length_days - 1)
    limit_kg = body_weight_kg if load_cap_kg is None else min(body_weight_kg, load_cap_kg)
    target = Decimal(min(load_pct * body_weight_kg / 100, limit_kg))
    rounded = target.quantize(_TENTH_KG, rounding=ROUND_HALF_UP)
    if rounded > Decimal(limit_kg):
        # Rounding must never lift the target over the cap or body weight.
        rounded = Decimal(limit_kg).quantize(_TENTH_KG, rounding=ROUND_FLOOR)
    return float(rounded)


def plan_series(
    phases: Sequence[PhaseSpec],
    body_weight_kg: float,
    start: date,
    end: date,
    held_days: Collection[date] = (),
    load_cap_kg: float | None = None,
) -> list[tuple[date, float]]:
    """(date, target kg) for every date from the plan's ``start`` to ``end`` inclusive."""
    held = [(held_date - start).days for held_date in held_days]
    series = []
    for day in range((end - start).days + 1):
        target = target_load_kg(phases, body_weight_kg, day, held, load_cap_kg)
        series.append((start + timedelta(days=day), target))
    return series


def session_flags(
    facts: SessionFacts,
    target_kg: float | None,
    thresholds: FlagThresholds = DEFAULT_FLAG_THRESHOLDS,
) -> list[FlagKind]:
    """The flags one rehab session raises, in ``FlagKind`` order. No target: no overload check."""
    flags: list[FlagKind] = []
    if (
        facts.load_kg is not None
        and target_kg is not None
        # The small margin keeps float noise (50 * 1.1 = 55.000...01) off the boundary.
        and facts.load_kg > target_kg * (1 + thresholds.overload_tolerance) + 1e-9
    ):
        flags.append(FlagKind.OVERLOAD)
    pains = [p for p in (facts.pain_nrs_before, facts.pain_nrs_after) if p is not None]
    if pains and max(pains) >= thresholds.pain_gate_nrs:
        flags.append(FlagKind.PAIN_GATE)
    findings = facts.stoma_findings
    if (
        StomaFinding.SUSPECTED_INFECTION in findings
        or {
            StomaFinding.DISCHARGE,
            StomaFinding.REDNESS,
        }
        <= findings
    ):
        flags.append(FlagKind.STOMA_CONCERN)
    return flags


def missed_sessions(
    days_since_last: int, thresholds: FlagThresholds = DEFAULT_FLAG_THRESHOLDS
) -> bool:
    """True once ``missed_session_days`` days have passed since the last recorded session."""
    return days_since_last >= thresholds.missed_session_days


def first_session_day(phases: Sequence[PhaseSpec]) -> int:
    """The first plan day on which sessions are expected (after rest phases with none).

    A protocol with no sessions in any phase gives its length (nothing expected before).
    """
    day = 0
    for phase in phases:
        if phase.sessions_per_day > 0:
            return day
        day += phase.length_days
    return day


def protocol_length_days(phases: Sequence[PhaseSpec]) -> int:
    return sum(phase.length_days for phase in phases)


def days_without_session(
    phases: Sequence[PhaseSpec], plan_start: date, last_session: date | None, today: date
) -> int:
    """Days since the last session, or since sessions were first expected if there is none
    yet; 0 while the plan is still in its rest phases. Feed it to :func:`missed_sessions`."""
    expected_from = plan_start + timedelta(days=first_session_day(phases))
    if today < expected_from:
        return 0
    # Before the first expected day, the day before it stands in for the last session.
    reference = expected_from - timedelta(days=1)
    if last_session is not None and last_session > reference:
        reference = last_session
    return max(0, (today - reference).days)
