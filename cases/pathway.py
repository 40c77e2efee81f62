"""The case pathway: which stage a case may move to next, on whose word, and on what evidence.

Pure rules: plain values in, plain values out, no database. ``services.case_transition``
gathers the facts, calls :func:`check_transition`, and writes the move.

Main path::

    referred -> screening -> assessment -> mdt_review -> awaiting_surgery -> stage1_surgery
      two-stage:    stage1_surgery -> interstage -> stage2_surgery -> rehabilitation
      single-stage: stage1_surgery -> rehabilitation
    rehabilitation -> follow_up -> discharged

Side exits from every open stage: on_hold, declined, withdrawn, explanted. A case on hold
returns only to the stage it left (``stage_before_hold``) or takes a side exit. Closed
stages (discharged, declined, withdrawn, explanted) are final, except that an explanted
case may re-enter assessment for re-implantation. A declined or discharged patient who
comes back gets a new case.

Backward steps, for when the clinic needs to look again:

- mdt_review -> assessment: the MDT asks for more information.
- awaiting_surgery -> mdt_review: the patient's health changed before surgery.
- follow_up -> rehabilitation: retraining after a complication or a new prosthesis.

Who may move a case (a person with any listed role may):

============================================  ===============================================
Move                                          Roles
============================================  ===============================================
referred -> screening                         coordinator
screening -> assessment                       coordinator, surgeon
assessment -> mdt_review                      coordinator, surgeon
mdt_review -> assessment                      coordinator, surgeon
mdt_review -> awaiting_surgery                coordinator, surgeon
awaiting_surgery -> mdt_review                coordinator, surgeon
awaiting_surgery -> stage1_surgery            surgeon, coordinator
stage1_surgery -> interstage                  surgeon
stage1_surgery -> rehabilitation              surgeon
interstage -> stage2_surgery                  surgeon, coordinator
stage2_surgery -> rehabilitation              surgeon
rehabilitation -> follow_up                   surgeon, physiotherapist, rehab_physician
follow_up -> rehabilitation                   surgeon, physiotherapist, rehab_physician
follow_up -> discharged                       surgeon, rehab_physician
any open stage -> on_hold                     coordinator, surgeon
on_hold -> stage_before_hold                  coordinator, surgeon
any open stage -> declined                    coordinator, surgeon
any open stage -> withdrawn                   coordinator, surgeon
any open stage -> explanted                   surgeon
explanted -> assessment                       coordinator, surgeon
============================================  ===============================================

Guards (evidence a move needs, whoever makes it):

- -> awaiting_surgery: the latest MDT decision is "eligible".
- stage1_surgery -> interstage: a two_stage plan and a performed stage1 surgery.
- stage1_surgery -> rehabilitation: a single_stage plan and a performed single_stage surgery.
- interstage -> stage2_surgery: a two_stage plan.
- stage2_surgery -> rehabilitation: a performed stage2 surgery.
- -> explanted: a performed removal surgery.

:func:`check_transition` checks in this order: unknown stage, not allowed, role, guard. Role
comes before guard so that someone who may not make a move learns nothing about the case's
evidence from the refusal. The API answers "not_allowed" and "guard" with 409, "role" with
403, "unknown_stage" with 400.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models

from .roles import Role


class Stage(models.TextChoices):
    REFERRED = "referred", "Referred"
    SCREENING = "screening", "Screening"
    ASSESSMENT = "assessment", "Assessment"
    MDT_REVIEW = "mdt_review", "MDT review"
    AWAITING_SURGERY = "awaiting_surgery", "Awaiting surgery"
    STAGE1_SURGERY = "stage1_surgery", "Stage 1 (or single-stage) surgery"
    INTERSTAGE = "interstage", "Inter-stage healing"
    STAGE2_SURGERY = "stage2_surgery", "Stage 2 surgery"
    REHABILITATION = "rehabilitation", "Rehabilitation"
    FOLLOW_UP = "follow_up", "Follow-up"
    DISCHARGED = "discharged", "Discharged"
    ON_HOLD = "on_hold", "On hold"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPLANTED = "explanted", "Explanted"


class StagingPlan(models.TextChoices):
    SINGLE_STAGE = "single_stage", "Single-stage"
    TWO_STAGE = "two_stage", "Two-stage"


class SurgeryKind(models.TextChoices):
    STAGE1 = "stage1", "Stage 1 (fixture)"
    STAGE2 = "stage2", "Stage 2 (abutment and stoma)"
    SINGLE_STAGE = "single_stage", "Single-stage (implant and stoma)"
    DEBRIDEMENT = "debridement", "Debridement"
    SOFT_TISSUE_REVISION = "soft_tissue_revision", "Soft-tissue revision"
    ABUTMENT_EXCHANGE = "abutment_exchange", "Abutment exchange"
    REVISION = "revision", "Revision"
    REMOVAL = "removal", "Implant removal (explantation)"


class DecisionOutcome(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    MORE_INFORMATION = "more_information", "More information needed"


CLOSED_STAGES: frozenset[Stage] = frozenset(
    {Stage.DISCHARGED, Stage.DECLINED, Stage.WITHDRAWN, Stage.EXPLANTED}
)
OPEN_STAGES: frozenset[Stage] = frozenset(set(Stage) - CLOSED_STAGES)
SIDE_EXITS: tuple[Stage, ...] = (Stage.ON_HOLD, Stage.DECLINED, Stage.WITHDRAWN, Stage.EXPLANTED)


def is_open(stage: str) -> bool:
    """True for a stage the team is still working on (on_hold counts as open)."""
    return stage in OPEN_STAGES


@dataclass(frozen=True)
class CaseFacts:
    """What the pathway needs to know about a case.

    ``performed_surgery_kinds`` should hold the surgeries performed in the current episode
    (since the latest re-entry to assessment, if any), so that the surgeries before an
    explantation do not open the gates of the next attempt.
    """

    stage: str
    staging_plan: str
    stage_before_hold: str | None = None
    latest_decision_outcome: str | None = None
    performed_surgery_kinds: frozenset[str] = field(default_factory=frozenset)


class RefusalKind(enum.StrEnum):
    UNKNOWN_STAGE = "unknown_stage"
    NOT_ALLOWED = "not_allowed"
    ROLE = "role"
    GUARD = "guard"


class TransitionRefused(Exception):
    """A move the pathway does not allow; ``allowed`` lists the moves that exist from here."""

    def __init__(self, kind: RefusalKind, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.allowed = allowed


@dataclass(frozen=True)
class NextStep:
    """One move from the current stage, as the UI shows it: a button, maybe greyed out."""

    to: str
    permitted: bool
    refusal: str | None = None
    refusal_kind: RefusalKind | None = None


# A guard returns None when the evidence is there, else the sentence naming what is missing.
Guard = Callable[[CaseFacts], str | None]


@dataclass(frozen=True)
class _Move:
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()


# Guards that read the case's evidence (MDT decisions, performed surgeries), which costs the
# caller a read: ``needs_evidence`` tells it when the move asks for them.
_EVIDENCE_GUARDS: set[Guard] = set()


def _reads_evidence(guard: Guard) -> Guard:
    _EVIDENCE_GUARDS.add(guard)
    return guard


@_reads_evidence
def _needs_eligible_decision(facts: CaseFacts) -> str | None:
    outcome = facts.latest_decision_outcome
    if outcome == DecisionOutcome.ELIGIBLE:
        return None
    latest = "no MDT decision is recorded" if outcome is None else f"the latest is '{outcome}'"
    return f"Moving to awaiting_surgery needs an MDT decision 'eligible'; {latest}."


def _needs_plan(plan: StagingPlan, to: Stage) -> Guard:
    def guard(facts: CaseFacts) -> str | None:
        if facts.staging_plan == plan:
            return None
        actual = f"'{facts.staging_plan}'" if facts.staging_plan else "not chosen yet"
        return f"Moving to {to} needs a {plan} plan; this case's plan is {actual}."

    return guard


def _needs_performed(kind: SurgeryKind, to: Stage) -> Guard:
    @_reads_evidence
    def guard(facts: CaseFacts) -> str | None:
        if kind in facts.performed_surgery_kinds:
            return None
        return f"Moving to {to} needs a performed {kind} surgery; none is recorded."

    return guard


_COORDINATOR_OR_SURGEON = frozenset({Role.COORDINATOR, Role.SURGEON})
_REHAB_TEAM = frozenset({Role.SURGEON, Role.PHYSIOTHERAPIST, Role.REHAB_PHYSICIAN})
_SURGEON = frozenset({Role.SURGEON})

_PATH_MOVES: dict[tuple[Stage, Stage], _Move] = {
    (Stage.REFERRED, Stage.SCREENING): _Move(frozenset({Role.COORDINATOR})),
    (Stage.SCREENING, Stage.ASSESSMENT): _Move(_COORDINATOR_OR_SURGEON),
    (Stage.ASSESSMENT, Stage.MDT_REVIEW): _Move(_COORDINATOR_OR_SURGEON),
    (Stage.MDT_REVIEW, Stage.ASSESSMENT): _Move(_COORDINATOR_OR_SURGEON),
    (Stage.MDT_REVIEW, Stage.AWAITING_SURGERY): _Move(
        _COORDINATOR_OR_SURGEON, (_needs_eligible_decision,)
    ),
    (Stage.AWAITING_SURGERY, Stage.MDT_REVIEW): _Move(_COORDINATOR_OR_SURGEON),
    (Stage.AWAITING_SURGERY, Stage.STAGE1_SURGERY): _Move(_COORDINATOR_OR_SURGEON),
    (Stage.STAGE1_SURGERY, Stage.INTERSTAGE): _Move(
        _SURGEON,
        (
            _needs_plan(StagingPlan.TWO_STAGE, Stage.INTERSTAGE),
            _needs_performed(SurgeryKind.STAGE1, Stage.INTERSTAGE),
        ),
    ),
    (Stage.STAGE1_SURGERY, Stage.REHABILITATION): _Move(
        _SURGEON,
        (
            _needs_plan(StagingPlan.SINGLE_STAGE, Stage.REHABILITATION),
            _needs_performed(SurgeryKind.SINGLE_STAGE, Stage.REHABILITATION),
        ),
    ),
    (Stage.INTERSTAGE, Stage.STAGE2_SURGERY): _Move(
        _COORDINATOR_OR_SURGEON, (_needs_plan(StagingPlan.TWO_STAGE, Stage.STAGE2_SURGERY),)
    ),
    (Stage.STAGE2_SURGERY, Stage.REHABILITATION): _Move(
        _SURGEON, (_needs_performed(SurgeryKind.STAGE2, Stage.REHABILITATION),)
    ),
    (Stage.REHABILITATION, Stage.FOLLOW_UP): _Move(_REHAB_TEAM),
    (Stage.FOLLOW_UP, Stage.REHABILITATION): _Move(_REHAB_TEAM),
    (Stage.FOLLOW_UP, Stage.DISCHARGED): _Move(frozenset({Role.SURGEON, Role.REHAB_PHYSICIAN})),
    (Stage.EXPLANTED, Stage.ASSESSMENT): _Move(_COORDINATOR_OR_SURGEON),
}

_SIDE_EXIT_MOVES: dict[Stage, _Move] = {
    Stage.ON_HOLD: _Move(_COORDINATOR_OR_SURGEON),
    Stage.DECLINED: _Move(_COORDINATOR_OR_SURGEON),
    Stage.WITHDRAWN: _Move(_COORDINATOR_OR_SURGEON),
    Stage.EXPLANTED: _Move(_SURGEON, (_needs_performed(SurgeryKind.REMOVAL, Stage.EXPLANTED),)),
}

_RESUME_FROM_HOLD = _Move(_COORDINATOR_OR_SURGEON)


_STAGE_VALUES = frozenset(Stage.values)


def _moves_from(facts: CaseFacts) -> dict[Stage, _Move]:
    if facts.stage not in _STAGE_VALUES:
        raise ValueError(f"Unknown current stage {facts.stage!r}.")
    here = Stage(facts.stage)
    moves = {to: move for (origin, to), move in _PATH_MOVES.items() if origin == here}
    if here in OPEN_STAGES:
        moves.update(_SIDE_EXIT_MOVES)
        if here == Stage.ON_HOLD:
            del moves[Stage.ON_HOLD]
    resume_to = facts.stage_before_hold
    if here == Stage.ON_HOLD and resume_to in OPEN_STAGES and resume_to != Stage.ON_HOLD:
        moves[Stage(resume_to)] = _RESUME_FROM_HOLD
    return {stage: moves[stage] for stage in Stage if stage in moves}


def allowed_next_stages(facts: CaseFacts) -> list[str]:
    """The stages this case has a move to, whatever its evidence and whoever asks.

    In ``Stage`` declaration order: the main path first, then the side exits.
    """
    return [str(stage) for stage in _moves_from(facts)]


def needs_evidence(facts: CaseFacts, to: str) -> bool:
    """Whether ``check_transition`` to ``to`` looks at ``latest_decision_outcome`` or
    ``performed_surgery_kinds``; when not, ``facts`` may leave them out (a stage move then
    skips reading them). Unknown stages and moves that do not exist need none."""
    if to not in _STAGE_VALUES:
        return False
    move = _moves_from(facts).get(Stage(to))
    return move is not None and any(guard in _EVIDENCE_GUARDS for guard in move.guards)


def _roles_in_order(move: _Move) -> list[Role]:
    return [role for role in Role if role in move.roles]


def _role_refusal(here: str, to: Stage, move: _Move, actor_roles: frozenset[str]) -> str | None:
    if any(role in actor_roles for role in move.roles):
        return None
    names = [role.label.lower() for role in _roles_in_order(move)]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"Only a {who} may move a case from {here} to {to}."


def _guard_refusal(facts: CaseFacts, move: _Move) -> str | None:
    missing = [message for guard in move.guards if (message := guard(facts)) is not None]
    return " ".join(missing) or None


def check_transition(facts: CaseFacts, to: str, actor_roles: frozenset[str]) -> None:
    """Raise :class:`TransitionRefused` unless someone with ``actor_roles`` may move the case."""
    moves = _moves_from(facts)
    allowed = [str(stage) for stage in moves]
    if to not in Stage.values:
        raise TransitionRefused(RefusalKind.UNKNOWN_STAGE, f"'{to}' is not a stage.", allowed)
    target = Stage(to)
    move = moves.get(target)
    if move is None:
        raise TransitionRefused(RefusalKind.NOT_ALLOWED, _not_allowed(facts, target), allowed)
    if (refusal := _role_refusal(facts.stage, target, move, actor_roles)) is not None:
        raise TransitionRefused(RefusalKind.ROLE, refusal, allowed)
    if (refusal := _guard_refusal(facts, move)) is not None:
        raise TransitionRefused(RefusalKind.GUARD, refusal, allowed)


def _not_allowed(facts: CaseFacts, to: Stage) -> str:
    if facts.stage == Stage.ON_HOLD and to in OPEN_STAGES and to != Stage.ON_HOLD:
        return (
            f"A case on hold returns only to the stage it left "
            f"({facts.stage_before_hold or 'not recorded'}), not to {to}."
        )
    if facts.stage in CLOSED_STAGES:
        return f"A case in {facts.stage} is closed; it cannot move to {to}."
    return f"A case cannot move from {facts.stage} to {to}."


def next_steps(facts: CaseFacts, actor_roles: frozenset[str]) -> list[NextStep]:
    """Every move from here, each saying whether this person may make it now and if not, why."""
    steps = []
    for to, move in _moves_from(facts).items():
        refusal_kind: RefusalKind | None = None
        refusal = _role_refusal(facts.stage, to, move, actor_roles)
        if refusal is not None:
            refusal_kind = RefusalKind.ROLE
        else:
            refusal = _guard_refusal(facts, move)
            refusal_kind = RefusalKind.GUARD if refusal is not None else None
        steps.append(NextStep(str(to), refusal is None, refusal, refusal_kind))
    return steps


def roles_allowed(from_stage: str, to: str, stage_before_hold: str | None = None) -> list[str]:
    """The roles that may make a move (empty when the move does not exist), for docs and UI."""
    facts = CaseFacts(stage=from_stage, staging_plan="", stage_before_hold=stage_before_hold)
    move = _moves_from(facts).get(Stage(to)) if to in Stage.values else None
    return [] if move is None else [str(role) for role in _roles_in_order(move)]
