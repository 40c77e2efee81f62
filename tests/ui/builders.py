"""A clinic for the web UI tests: one team with a person per role and cases at the stages the
pages are about, all built through the services as the team would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cases import services
from cases.demo import walk_case
from cases.models import Case, RehabProtocol, Team
from tests.factories import TeamFactory, case, member


@dataclass
class Clinic:
    team: Team
    coordinator: Any
    surgeon: Any
    physio: Any
    nurse: Any
    prosthetist: Any

    @property
    def today(self) -> Any:
        return services.team_today(self.team)


def clinic(team: Team | None = None) -> Clinic:
    team = team or TeamFactory.create()
    return Clinic(
        team=team,
        coordinator=member(team, "coordinator", first_name="Cora", last_name="Planner"),
        surgeon=member(team, "surgeon", first_name="Sam", last_name="Carver"),
        physio=member(team, "physiotherapist", first_name="Phil", last_name="Walker"),
        nurse=member(team, "nurse", first_name="Nia", last_name="Dresser"),
        prosthetist=member(team, "prosthetist", first_name="Pat", last_name="Fitter"),
    )


def referred(c: Clinic, **fields: Any) -> Case:
    """A new referral: the surgeon leads, the coordinator and physiotherapist are on the care
    team."""
    defaults: dict[str, Any] = {
        "lead_clinician": c.surgeon,
        "care_team": [
            (c.surgeon, "surgeon"),
            (c.coordinator, "coordinator"),
            (c.physio, "physiotherapist"),
        ],
        "referral_date": c.today - timedelta(days=200),
    }
    return case(c.team, c.coordinator, **{**defaults, **fields})


def at_stage(c: Clinic, stage: str, **fields: Any) -> Case:
    return walk_case(
        referred(c, **fields),
        stage,
        coordinator=c.coordinator,
        surgeon=c.surgeon,
        start=c.today - timedelta(days=150),
        step_days=10,
    )


def in_rehabilitation(c: Clinic, surgery_days_ago: int = 10, **fields: Any) -> Case:
    """A single-stage case in rehabilitation on the standard protocol, started on the day of
    surgery (so today's target is known and a session today is allowed)."""
    the_case = referred(c, staging_plan="single_stage", **fields)
    services.patient_weight_record(
        actor=c.surgeon,
        patient=the_case.patient,
        weight_kg=80,
        measured_on=c.today - timedelta(days=surgery_days_ago + 5),
    )
    the_case = walk_case(
        the_case,
        "rehabilitation",
        coordinator=c.coordinator,
        surgeon=c.surgeon,
        start=c.today - timedelta(days=surgery_days_ago),
        step_days=0,
    )
    services.rehab_plan_start(
        actor=c.physio,
        case=the_case,
        protocol=RehabProtocol.objects.get(team=None, code="standard-6-week-fwb", version=1),
    )
    return the_case


def busy_clinic() -> tuple[Clinic, dict[str, Case]]:
    """A clinic with a morning's worth on its plate, for the browser tests and their
    screenshots: a new referral to move on, cases further along, a case on the next MDT
    meeting's agenda, a case in rehabilitation with three weeks of sessions (one day
    overloaded), and tasks due."""
    from scheduling import services as task_services
    from scheduling.models import OPEN_STATUSES, Task
    from tests.factories import patient

    c = clinic()

    def named(given: str, family: str, number: str) -> Any:
        return patient(
            c.team, c.coordinator, given_name=given, family_name=family, hospital_number=number
        )

    cases = {
        "referral": referred(c, patient=named("Morgan", "Ashby", "H400123")),
        "assessment": at_stage(c, "assessment", patient=named("Jules", "Brennan", "H400187")),
        "review": at_stage(c, "mdt_review", patient=named("Kit", "Okafor", "H400202")),
        "rehab": in_rehabilitation(
            c, surgery_days_ago=24, patient=named("Indy", "Castellano", "H400311")
        ),
    }
    rehab = cases["rehab"]
    for days_ago in range(20, 0, -1):
        if days_ago in (13, 6):
            continue  # days without a session
        on = c.today - timedelta(days=days_ago)
        plan = services.current_plan(rehab)
        assert plan is not None
        target = services.plan_target_kg(plan, on, services.held_dates(plan, before=on))
        services.rehab_session_record(
            actor=c.physio,
            case=rehab,
            session_date=on,
            # One overloaded day (its flag stays open on the dashboard).
            load_kg=round(target * (1.4 if days_ago == 8 else 0.95), 1),
            duration_minutes=30,
            pain_nrs_before=2,
            pain_nrs_after=3 + days_ago % 2,
            walking_aid="parallel_bars",
            stoma_findings=["clean"],
        )
    meeting = task_services.mdt_meeting_create(
        actor=c.coordinator,
        team=c.team,
        starts_at=datetime.combine(
            c.today + timedelta(days=2), time(13, 0), tzinfo=ZoneInfo(c.team.time_zone)
        ),
        location="Seminar room 3",
        chair=c.surgeon,
    )
    task_services.mdt_agenda_add(
        actor=c.coordinator,
        meeting=meeting,
        case=cases["review"],
        question="Eligible for a single-stage press-fit implant?",
        presenter=c.surgeon,
    )
    # The work of the stages already behind these cases was done at the time.
    for done in Task.objects.filter(
        case__team=c.team, status__in=OPEN_STATUSES, due_date__lt=c.today
    ):
        task_services.task_complete(actor=c.coordinator, task=done, note="Done at the time.")
        Task.objects.filter(pk=done.pk).update(  # ... on the day it was due
            completed_at=datetime.combine(done.due_date, time(16, 0), tzinfo=ZoneInfo("UTC"))
        )
    for title, days, assignee in (
        ("Chase the GP letter and the amputation history", -2, c.coordinator),
        ("Send the funding application to the insurer", 1, c.coordinator),
        ("Confirm the MDT attendees", 3, None),
    ):
        task_services.task_create(
            actor=c.coordinator,
            case=cases["assessment"],
            title=title,
            role="coordinator",
            due_date=c.today + timedelta(days=days),
            assignee=assignee,
        )
    return c, cases
