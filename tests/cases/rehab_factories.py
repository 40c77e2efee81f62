"""Cases in rehabilitation, built through the services as a team would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cases import services
from cases.demo import walk_case
from cases.models import Case, RehabPlan, RehabProtocol, RehabSession, Team
from tests.factories import TeamFactory, case, member

STANDARD = "standard-6-week-fwb"


@dataclass
class RehabCase:
    team: Team
    case: Case
    plan: RehabPlan | None
    lead: Any  # coordinator and surgeon
    physio: Any
    nurse: Any
    prosthetist: Any

    @property
    def today(self) -> date:
        return services.team_today(self.team)

    def session(self, on: date | None = None, **facts: Any) -> RehabSession:
        return services.rehab_session_record(
            actor=self.physio, case=self.case, session_date=on or self.today, **facts
        )


def protocol(code: str = STANDARD) -> RehabProtocol:
    return RehabProtocol.objects.get(team=None, code=code, version=1)


def rehab_case(
    team: Team | None = None,
    *,
    surgery_days_ago: int = 10,
    weight_kg: int = 80,
    code: str = STANDARD,
    load_cap_kg: Any = None,
    with_plan: bool = True,
) -> RehabCase:
    """A single-stage case in rehabilitation whose stoma-making surgery was
    ``surgery_days_ago`` days ago; its plan (standard 6-week protocol, day 0 = surgery day)
    is ``surgery_days_ago`` days old, so today's target on it is known."""
    team = team or TeamFactory.create()
    lead = member(team, "coordinator", "surgeon")
    the_case = case(team, lead, staging_plan="single_stage")
    today = services.team_today(team)
    services.patient_weight_record(
        actor=lead,
        patient=the_case.patient,
        weight_kg=weight_kg,
        measured_on=today - timedelta(days=surgery_days_ago + 5),
    )
    the_case = walk_case(
        the_case,
        "rehabilitation",
        coordinator=lead,
        surgeon=lead,
        start=today - timedelta(days=surgery_days_ago),
        step_days=0,
    )
    physio = member(team, "physiotherapist")
    plan = None
    if with_plan:
        plan = services.rehab_plan_start(
            actor=physio, case=the_case, protocol=protocol(code), load_cap_kg=load_cap_kg
        )
    return RehabCase(
        team=team,
        case=the_case,
        plan=plan,
        lead=lead,
        physio=physio,
        nurse=member(team, "nurse"),
        prosthetist=member(team, "prosthetist"),
    )
