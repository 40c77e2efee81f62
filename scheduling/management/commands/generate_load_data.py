"""Synthetic data at national-network scale, for the benchmark (bench/) and for trying the
service under load: teams, staff with roles, patients, cases spread over every stage with
their transition logs, assessments, MDT decisions, surgeries, care teams, rehab plans with
daily sessions, safety flags, complications, outcome measures and about 20 tasks per case.

Rows go in with bulk_create, bypassing the services (and their history rows) for speed;
every database constraint still holds. Names are synthetic ("Patient 000123", "Staff 0042").
The same --seed on the same day gives the same data (dates count back from today).

Two fixed points the benchmark looks for:
- ``busy-clinician``: a physiotherapist of the first team with hundreds of open tasks;
- the case whose referral source is ``BENCH_REHAB_MARKER``: in rehabilitation with exactly
  ``BENCH_REHAB_SESSIONS`` sessions.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.utils import timezone
from tqdm import tqdm

from cases import rehab
from cases.models import (
    Assessment,
    CareTeamMember,
    Case,
    Complication,
    ComplicationKind,
    MdtDecision,
    Membership,
    MembershipRole,
    OutcomeKind,
    OutcomeMeasure,
    Patient,
    RehabPlan,
    RehabProtocol,
    RehabSession,
    SafetyFlag,
    Severity,
    StageTransition,
    Surgery,
    SurgeryOutcome,
    Team,
    TimePoint,
)
from cases.pathway import DecisionOutcome, Stage, StagingPlan, SurgeryKind
from cases.rehab import FlagKind
from cases.roles import Role
from scheduling.models import Priority, Task, TaskStatus, TaskTemplate

BUSY_CLINICIAN = "busy-clinician"
BENCH_REHAB_MARKER = "benchmark: 120 sessions"
BENCH_REHAB_SESSIONS = 120
TEAM_SLUG_PREFIX = "load-"

# Share of cases by current stage (sums to 100).
STAGE_WEIGHTS: dict[str, int] = {
    Stage.REFERRED: 4,
    Stage.SCREENING: 5,
    Stage.ASSESSMENT: 7,
    Stage.MDT_REVIEW: 4,
    Stage.AWAITING_SURGERY: 6,
    Stage.STAGE1_SURGERY: 2,
    Stage.INTERSTAGE: 4,
    Stage.STAGE2_SURGERY: 1,
    Stage.REHABILITATION: 15,
    Stage.FOLLOW_UP: 28,
    Stage.DISCHARGED: 10,
    Stage.ON_HOLD: 4,
    Stage.DECLINED: 5,
    Stage.WITHDRAWN: 3,
    Stage.EXPLANTED: 2,
}
TWO_STAGE_PATH: list[str] = [
    Stage.REFERRED,
    Stage.SCREENING,
    Stage.ASSESSMENT,
    Stage.MDT_REVIEW,
    Stage.AWAITING_SURGERY,
    Stage.STAGE1_SURGERY,
    Stage.INTERSTAGE,
    Stage.STAGE2_SURGERY,
    Stage.REHABILITATION,
    Stage.FOLLOW_UP,
    Stage.DISCHARGED,
]
SINGLE_STAGE_PATH: list[str] = [
    s for s in TWO_STAGE_PATH if s not in (Stage.INTERSTAGE, Stage.STAGE2_SURGERY)
]
# Days a case usually stays in a stage: (shortest, longest).
STAGE_DAYS: dict[str, tuple[int, int]] = {
    Stage.REFERRED: (3, 21),
    Stage.SCREENING: (7, 30),
    Stage.ASSESSMENT: (14, 60),
    Stage.MDT_REVIEW: (7, 28),
    Stage.AWAITING_SURGERY: (30, 120),
    Stage.STAGE1_SURGERY: (2, 5),
    Stage.INTERSTAGE: (60, 120),
    Stage.STAGE2_SURGERY: (2, 5),
    Stage.REHABILITATION: (42, 84),  # 6-12 weeks of daily sessions
    Stage.FOLLOW_UP: (120, 900),
    Stage.DISCHARGED: (30, 900),
    Stage.ON_HOLD: (7, 90),
    Stage.DECLINED: (7, 400),
    Stage.WITHDRAWN: (7, 400),
    Stage.EXPLANTED: (7, 400),
}
# Where side exits leave from.
EXIT_FROM: dict[str, list[str]] = {
    Stage.ON_HOLD: [Stage.SCREENING, Stage.ASSESSMENT, Stage.AWAITING_SURGERY, Stage.INTERSTAGE],
    Stage.DECLINED: [Stage.MDT_REVIEW],
    Stage.WITHDRAWN: [Stage.SCREENING, Stage.ASSESSMENT, Stage.AWAITING_SURGERY],
    Stage.EXPLANTED: [Stage.FOLLOW_UP],
}
ROLE_CYCLE = [
    Role.SURGEON,
    Role.PHYSIOTHERAPIST,
    Role.PROSTHETIST,
    Role.NURSE,
    Role.PHYSIOTHERAPIST,
    Role.COORDINATOR,
    Role.SURGEON,
    Role.PROSTHETIST,
    Role.NURSE,
    Role.PSYCHOLOGIST,
    Role.REHAB_PHYSICIAN,
    Role.PHYSIOTHERAPIST,
]
OPEN_TASK_STATUSES = [TaskStatus.REQUESTED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS]
MINOR_COMPLICATIONS = [
    ComplicationKind.INFECTION,
    ComplicationKind.HYPERGRANULATION,
    ComplicationKind.REDUNDANT_SOFT_TISSUE,
    ComplicationKind.FALL,
    ComplicationKind.FAILSAFE_RELEASE,
]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


@dataclass
class Staffing:
    """A team's staff by role (user ids)."""

    team_id: int
    by_role: dict[str, list[int]] = field(default_factory=dict)

    def pick(self, rng: random.Random, role: str) -> int:
        return rng.choice(self.by_role[role])


@dataclass
class PlannedCase:
    """One case as generated: its pathway so far, before it has a primary key."""

    case: Case
    staffing: Staffing
    moves: list[tuple[str, str, date]]  # (from, to, effective date)
    care: dict[str, int]
    rehab_start: date | None = None
    rehab_end: date | None = None
    stoma_surgery_on: date | None = None


class Command(BaseCommand):
    help = "Generate synthetic load-test data (bulk inserts; use a database of its own)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--teams", type=int, default=5)
        parser.add_argument("--cases", type=int, default=5000)
        parser.add_argument("--staff", type=int, default=500)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        teams, cases, staff = options["teams"], options["cases"], options["staff"]
        if teams < 1 or cases < 1 or staff < teams * len(set(ROLE_CYCLE)):
            raise CommandError(
                f"Need at least one team, one case and {len(set(ROLE_CYCLE))} staff per team."
            )
        if Team.objects.filter(slug__startswith=TEAM_SLUG_PREFIX).exists():
            raise CommandError("This database already holds generated data; use a fresh one.")
        self.rng = random.Random(options["seed"])
        self.batch = options["batch_size"]
        self.today = timezone.localdate()
        self.bar = tqdm(
            total=10,
            unit="step",
            disable=options["no_progress"] or options["verbosity"] == 0,
            bar_format="{desc:<34}{bar}| {n_fmt}/{total_fmt} [{elapsed}]",
        )
        with transaction.atomic():
            staffings = self._staff(teams, staff)
            planned = self._cases(staffings, cases)
            self._record(planned)
            self._tasks(planned)
        self._step("vacuum analyze")
        self._vacuum()  # outside the transaction: VACUUM cannot run inside one
        self.bar.set_description("done")
        self.bar.close()
        if options["verbosity"]:
            counts = ", ".join(
                f"{model.__name__} {model.objects.count()}"
                for model in (Case, StageTransition, Task, RehabSession, Complication)
            )
            self.stdout.write(self.style.SUCCESS(f"Generated: {counts}."))

    # --- helpers -------------------------------------------------------------------------------

    def _step(self, label: str) -> None:
        self.bar.set_description(label)
        self.bar.update(1)

    def _insert(self, model: type[models.Model], rows: Sequence[Any]) -> list[Any]:
        return model.objects.bulk_create(rows, batch_size=self.batch)  # type: ignore[attr-defined]

    # --- teams and staff -----------------------------------------------------------------------

    def _staff(self, n_teams: int, n_staff: int) -> list[Staffing]:
        self._step("teams and staff")
        teams = self._insert(
            Team,
            [
                Team(name=f"Load network hospital {i + 1}", slug=f"{TEAM_SLUG_PREFIX}{i + 1}")
                for i in range(n_teams)
            ],
        )
        User = get_user_model()
        password = make_password(None)  # unusable: benchmark clients use API tokens
        users = []
        for n in range(1, n_staff + 1):
            # n_teams + 1: the first team's first physiotherapist (see the role cycle below).
            username = BUSY_CLINICIAN if n == n_teams + 1 else f"staff{n:04d}"
            users.append(
                User(
                    username=username,
                    first_name="Staff",
                    last_name=f"{n:04d}",
                    email=f"{username}@load.invalid",
                    password=password,
                )
            )
        users = self._insert(User, users)
        memberships = self._insert(
            Membership,
            [Membership(team=teams[i % n_teams], user=user) for i, user in enumerate(users)],
        )
        staffings = [Staffing(team_id=t.pk, by_role={r: [] for r in Role.values}) for t in teams]
        roles = []
        for i, membership in enumerate(memberships):
            role = ROLE_CYCLE[(i // n_teams) % len(ROLE_CYCLE)]
            held = {role}
            if role == Role.SURGEON and self.rng.random() < 0.2:
                held.add(Role.COORDINATOR)  # some surgeons also coordinate
            for r in sorted(held):
                roles.append(MembershipRole(membership=membership, role=r))
                staffings[i % n_teams].by_role[r].append(membership.user_id)
        self._insert(MembershipRole, roles)
        return staffings

    # --- the pathway of each case --------------------------------------------------------------

    def _path(self, stage: str, plan: str) -> tuple[list[str], str | None]:
        """The stages a case went through to reach `stage`, and the one it left sideways."""
        path = TWO_STAGE_PATH if plan == StagingPlan.TWO_STAGE else SINGLE_STAGE_PATH
        if stage in EXIT_FROM:
            left = self.rng.choice([s for s in EXIT_FROM[stage] if s in path] or [Stage.SCREENING])
            return path[: path.index(left) + 1], left
        return path[: path.index(stage) + 1], None

    def _cases(self, staffings: list[Staffing], n_cases: int) -> list[PlannedCase]:
        self._step("patients and cases")
        rng, today = self.rng, self.today
        stages, weights = zip(*STAGE_WEIGHTS.items(), strict=True)
        patients, planned = [], []
        for i in range(n_cases):
            staffing = staffings[i % len(staffings)]
            if i == 0:
                stage, plan = Stage.REHABILITATION, StagingPlan.SINGLE_STAGE
            else:
                stage = rng.choices(stages, weights)[0]
                plan = StagingPlan.TWO_STAGE if rng.random() < 0.6 else StagingPlan.SINGLE_STAGE
                if stage in (Stage.INTERSTAGE, Stage.STAGE2_SURGERY):
                    plan = StagingPlan.TWO_STAGE
            path, left_from = self._path(stage, plan)
            stays = [rng.randint(*STAGE_DAYS[s]) for s in path]
            if left_from is not None:
                stays[-1] = rng.randint(*STAGE_DAYS[left_from])
                stays.append(rng.randint(1, STAGE_DAYS[stage][1]))
                path = [*path, stage]
            else:
                stays[-1] = rng.randint(0, STAGE_DAYS[stage][1])  # still in it
            if i == 0:  # the benchmark's case: day 122 of its rehabilitation
                stays[-1] = BENCH_REHAB_SESSIONS + 2
            referral = today - timedelta(days=sum(stays))
            moves, day = [], referral
            for before, after, stay in zip(path, path[1:], stays, strict=False):
                day += timedelta(days=stay)
                moves.append((before, after, day))
            care: dict[str, int] = {
                role: staffing.pick(rng, role)
                for role in (Role.SURGEON, Role.PHYSIOTHERAPIST, Role.PROSTHETIST, Role.NURSE)
            }
            patient = Patient(
                team_id=staffing.team_id,
                hospital_number=f"LD{i + 1:07d}",
                given_name="Patient",
                family_name=f"{i + 1:06d}",
                date_of_birth=date(rng.randint(1940, 2002), rng.randint(1, 12), rng.randint(1, 28)),
                sex=rng.choice(["female", "male"]),
            )
            patients.append(patient)
            bone, level = rng.choice([("femur", "transfemoral"), ("tibia", "transtibial")])
            case = Case(
                team_id=staffing.team_id,
                side=rng.choice(["left", "right"]),
                amputation_level=level,
                bone=bone,
                residual_bone_length_mm=rng.randint(120, 300),
                amputation_cause=rng.choice(["trauma", "vascular", "tumour", "infection"]),
                referral_date=referral,
                referral_source=BENCH_REHAB_MARKER if i == 0 else "Limb-fitting centre",
                staging_plan=plan,
                stage=stage,
                stage_before_hold=left_from if stage == Stage.ON_HOLD and left_from else "",
                stage_changed_at=_at(moves[-1][2]) if moves else _at(referral),
                lead_clinician_id=care[Role.SURGEON],
            )
            planned.append(PlannedCase(case=case, staffing=staffing, moves=moves, care=care))
        patients = self._insert(Patient, patients)
        for patient, p in zip(patients, planned, strict=True):
            p.case.patient = patient
        self._insert(Case, [p.case for p in planned])
        return planned

    # --- the clinical record -------------------------------------------------------------------

    def _record(self, planned: list[PlannedCase]) -> None:
        rng, today = self.rng, self.today
        self._step("transitions and care teams")
        transitions, care = [], []
        for p in planned:
            coordinator = p.staffing.pick(rng, Role.COORDINATOR)
            for before, after, on in p.moves:
                transitions.append(
                    StageTransition(
                        case=p.case,
                        from_stage=before,
                        to_stage=after,
                        actor_id=p.care[Role.SURGEON] if "surgery" in after else coordinator,
                        recorded_at=_at(on),
                        effective_date=on,
                    )
                )
            care += [CareTeamMember(case=p.case, user_id=u, role=r) for r, u in p.care.items()]
        self._insert(StageTransition, transitions)
        self._insert(CareTeamMember, care)

        self._step("assessments, decisions, surgeries")
        assessments, decisions, surgeries = [], [], []
        for p in planned:
            entered = {after: on for _, after, on in p.moves}
            if Stage.MDT_REVIEW in entered:
                assessments.append(
                    Assessment(
                        case=p.case,
                        assessed_on=entered[Stage.MDT_REVIEW] - timedelta(days=3),
                        assessed_by_id=p.care[Role.SURGEON],
                        prosthesis_wear_hours_per_week=Decimal(rng.randint(5, 60)),
                        socket_loosens_weekly=True,
                        blisters_or_pressure_sores=rng.random() < 0.6,
                        skeletally_mature=True,
                        smoker=rng.random() < 0.2,
                        xray_done=True,
                        ct_done=True,
                        dexa_done=True,
                        psychological_assessment_done=True,
                    )
                )
            decided_on = entered.get(Stage.AWAITING_SURGERY) or entered.get(Stage.DECLINED)
            if decided_on:
                eligible = p.case.stage != Stage.DECLINED
                decisions.append(
                    MdtDecision(
                        case=p.case,
                        meeting_date=decided_on,
                        outcome=DecisionOutcome.ELIGIBLE
                        if eligible
                        else DecisionOutcome.NOT_ELIGIBLE,
                        reasons="Socket problems; criteria met."
                        if eligible
                        else "Poor bone stock.",
                        decided_by_id=p.care[Role.SURGEON],
                    )
                )
            first = (
                SurgeryKind.STAGE1
                if p.case.staging_plan == StagingPlan.TWO_STAGE
                else (SurgeryKind.SINGLE_STAGE)
            )
            if Stage.STAGE1_SURGERY in entered:
                on = entered[Stage.STAGE1_SURGERY]
                surgeries.append(self._surgery(p, first, on))
                if first == SurgeryKind.SINGLE_STAGE:
                    p.stoma_surgery_on = on
            elif p.case.stage == Stage.AWAITING_SURGERY:
                surgeries.append(
                    Surgery(
                        case=p.case,
                        kind=first,
                        planned_date=today + timedelta(days=rng.randint(7, 60)),
                    )
                )
            if Stage.STAGE2_SURGERY in entered:
                on = entered[Stage.STAGE2_SURGERY]
                surgeries.append(self._surgery(p, SurgeryKind.STAGE2, on))
                p.stoma_surgery_on = on
            if p.case.stage == Stage.EXPLANTED:
                surgeries.append(self._surgery(p, SurgeryKind.REMOVAL, entered[Stage.EXPLANTED]))
            if Stage.REHABILITATION in entered:
                p.rehab_start = p.stoma_surgery_on or entered[Stage.REHABILITATION]
                p.rehab_end = entered.get(Stage.FOLLOW_UP)
        self._insert(Assessment, assessments)
        self._insert(MdtDecision, decisions)
        self._insert(Surgery, surgeries)

        self._rehab(planned)
        self._events(planned)

    def _surgery(self, p: PlannedCase, kind: str, on: date) -> Surgery:
        return Surgery(
            case=p.case,
            kind=kind,
            planned_date=on,
            performed_date=on,
            outcome=SurgeryOutcome.UNEVENTFUL,
        )

    def _rehab(self, planned: list[PlannedCase]) -> None:
        rng, today = self.rng, self.today
        self._step("rehab plans")
        protocols = list(
            RehabProtocol.objects.filter(team=None).prefetch_related("phases").order_by("pk")
        )
        if not protocols:
            raise CommandError("No shared rehab protocols: run migrate first.")
        specs = {pr.pk: pr.phase_specs() for pr in protocols}
        plans, rehab_cases = [], []
        for p in planned:
            if p.rehab_start is None:
                continue
            protocol = (
                protocols[0]
                if p.case.referral_source == BENCH_REHAB_MARKER
                else (rng.choice(protocols))
            )
            plan = RehabPlan(
                case=p.case,
                protocol=protocol,
                start_date=p.rehab_start,
                body_weight_kg=Decimal(rng.randint(55, 110)),
                body_weight_measured_on=p.rehab_start - timedelta(days=rng.randint(1, 30)),
                ended_on=p.rehab_end,
                started_by_id=p.care[Role.PHYSIOTHERAPIST],
            )
            plans.append(plan)
            rehab_cases.append(p)
        self._insert(RehabPlan, plans)

        self._step("rehab sessions (daily)")
        sessions: list[RehabSession] = []
        flags: list[SafetyFlag] = []
        for plan, p in zip(plans, rehab_cases, strict=True):
            phases = specs[plan.protocol_id]
            last = min(p.rehab_end or today, today)
            first = plan.start_date + timedelta(days=3)  # after the post-operative rest
            if p.case.referral_source == BENCH_REHAB_MARKER:
                first = last - timedelta(days=BENCH_REHAB_SESSIONS - 1)
            days = [first + timedelta(days=d) for d in range((last - first).days + 1)]
            held = {d for d in days if rng.random() < 0.03}
            targets = dict(
                rehab.plan_series(phases, float(plan.body_weight_kg), plan.start_date, last, held)
            )
            for on in days:
                target = targets.get(on, 0.0)
                holds = on in held
                pain = rng.randint(5, 7) if holds else rng.randint(0, 3)
                sessions.append(
                    RehabSession(
                        case=p.case,
                        plan=plan,
                        session_date=on,
                        load_kg=Decimal(str(round(max(0.0, target * rng.uniform(0.85, 1.0)), 1))),
                        load_leg=p.case.side,
                        duration_minutes=rng.choice([30, 45, 60]),
                        pain_nrs_before=max(0, pain - 1),
                        pain_nrs_after=pain,
                        stoma_findings=["clean"],
                        wear_hours_per_day=Decimal(rng.randint(1, 12)),
                        recorded_by_id=p.care[Role.PHYSIOTHERAPIST],
                        target_kg=Decimal(str(target)),
                        flag_kinds=[FlagKind.PAIN_GATE] if holds else [],
                        holds_plan=holds,
                    )
                )
            if p.case.stage == Stage.REHABILITATION and (
                rng.random() < 0.3 or p.case.referral_source == BENCH_REHAB_MARKER
            ):
                flags.append(
                    SafetyFlag(
                        case=p.case,
                        kind=rng.choice([FlagKind.PAIN_GATE, FlagKind.STOMA_CONCERN]),
                        raised_on=last - timedelta(days=rng.randint(0, 5)),
                        detail="Raised by a session.",
                    )
                )
            if len(sessions) >= self.batch:
                self._insert(RehabSession, sessions)
                sessions = []
        self._insert(RehabSession, sessions)
        self._insert(SafetyFlag, flags)

    def _events(self, planned: list[PlannedCase]) -> None:
        rng, today = self.rng, self.today
        self._step("complications and outcomes")
        complications, outcomes = [], []
        for p in planned:
            entered = {after: on for _, after, on in p.moves}
            operated = entered.get(Stage.STAGE1_SURGERY)
            if operated and rng.random() < 0.12:
                onset = min(today, operated + timedelta(days=rng.randint(10, 200)))
                kind = rng.choice(MINOR_COMPLICATIONS)
                resolved = rng.random() < 0.7
                complications.append(
                    Complication(
                        case=p.case,
                        kind=kind,
                        infection_grade=rng.randint(1, 2) if kind == "infection" else None,
                        onset_date=onset,
                        severity=rng.choice([Severity.MILD, Severity.MODERATE]),
                        treatments=["local_care"],
                        resolved_on=min(today, onset + timedelta(days=rng.randint(3, 40)))
                        if resolved
                        else None,
                        recorded_by_id=p.care[Role.NURSE],
                    )
                )
            if p.rehab_start is not None:
                measures = [(TimePoint.BASELINE, p.rehab_start - timedelta(days=30))]
                if p.rehab_start + timedelta(days=91) <= today:
                    measures.append((TimePoint.MONTH_3, p.rehab_start + timedelta(days=91)))
                if p.rehab_start + timedelta(days=365) <= today:
                    measures.append((TimePoint.MONTH_12, p.rehab_start + timedelta(days=365)))
                for time_point, on in measures:
                    outcomes.append(
                        OutcomeMeasure(
                            case=p.case,
                            kind=OutcomeKind.SIX_MINUTE_WALK,
                            time_point=time_point,
                            measured_on=on,
                            value=Decimal(rng.randint(150, 500)),
                            recorded_by_id=p.care[Role.PHYSIOTHERAPIST],
                        )
                    )
                    outcomes.append(
                        OutcomeMeasure(
                            case=p.case,
                            kind=OutcomeKind.K_LEVEL,
                            time_point=time_point,
                            measured_on=on,
                            k_level=rng.choice(["K1", "K2", "K3"]),
                            recorded_by_id=p.care[Role.PHYSIOTHERAPIST],
                        )
                    )
        self._insert(Complication, complications)
        self._insert(OutcomeMeasure, outcomes)

    # --- tasks ---------------------------------------------------------------------------------

    def _tasks(self, planned: list[PlannedCase]) -> None:
        """About 20 tasks per case, spread from referral to two months ahead: those due more
        than two weeks ago are done (a few cancelled); the rest are open on open cases.
        Generated-looking tasks carry a template and a natural key of their own anchor."""
        rng, today = self.rng, self.today
        self._step("tasks")
        templates = list(TaskTemplate.objects.filter(team=None).order_by("pk"))
        if not templates:
            raise CommandError("No shared task templates: run migrate first.")
        closed = {Stage.DISCHARGED, Stage.DECLINED, Stage.WITHDRAWN, Stage.EXPLANTED}
        busy_id = (
            get_user_model()
            .objects.filter(username=BUSY_CLINICIAN)
            .values_list("pk", flat=True)
            .first()
        )
        tasks: list[Task] = []
        for p in planned:
            is_open = p.case.stage not in closed
            end = today + timedelta(days=60) if is_open else p.moves[-1][2] if p.moves else today
            span = max(1, (end - p.case.referral_date).days)
            for k in range(rng.randint(16, 24)):
                template = templates[rng.randrange(len(templates))]
                due = p.case.referral_date + timedelta(days=rng.randint(0, span))
                role = template.role
                holder = p.care.get(role) or p.staffing.pick(rng, role)
                task = Task(
                    case=p.case,
                    title=template.title,
                    details=template.details,
                    role=role,
                    due_date=due,
                    priority=template.priority,
                    template=template,
                    anchor=f"load:{k}",
                    occurrence=1,
                    created_at=_at(max(p.case.referral_date, due - timedelta(days=14))),
                )
                if due < today - timedelta(days=14) or not is_open:
                    if rng.random() < 0.93:
                        task.status = TaskStatus.COMPLETED
                        task.completed_at = _at(
                            min(today, due + timedelta(days=rng.randint(0, 10)))
                        )
                        task.completed_by_id = holder
                        task.assignee_id = holder
                    else:
                        task.status = TaskStatus.CANCELLED
                        task.status_reason = "No longer needed."
                    task.status_changed_at = task.completed_at or _at(due)
                else:
                    task.status = rng.choice(OPEN_TASK_STATUSES)
                    if task.status != TaskStatus.REQUESTED or rng.random() < 0.4:
                        task.assignee_id = holder
                    if (
                        busy_id is not None
                        and role == Role.PHYSIOTHERAPIST
                        and p.staffing is planned[0].staffing
                    ):
                        task.assignee_id = busy_id
                    task.status_changed_at = task.created_at
                tasks.append(task)
            if p.case.referral_source == BENCH_REHAB_MARKER or (
                busy_id is not None and is_open and p.staffing is planned[0].staffing
            ):
                # The busy clinician's own list: a weekly review on each open case of the team.
                tasks.append(
                    Task(
                        case=p.case,
                        title="Weekly rehabilitation review",
                        role=Role.PHYSIOTHERAPIST,
                        assignee_id=busy_id,
                        due_date=max(
                            p.case.referral_date, today + timedelta(days=rng.randint(-10, 30))
                        ),
                        priority=rng.choice(Priority.values),
                        status=TaskStatus.ACCEPTED,
                    )
                )
        self._step("tasks: insert")
        for start in range(0, len(tasks), self.batch):
            self._insert(Task, tasks[start : start + self.batch])

    def _vacuum(self) -> None:
        """Fresh statistics and visibility map, as autovacuum would leave them, so that the
        planner sees the real sizes and index-only scans work from the first request."""
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Called inside someone's transaction (a test), VACUUM is not allowed.
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
