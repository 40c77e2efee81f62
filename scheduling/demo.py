"""Seeds the whole demo: the clinical record (cases.demo) and the scheduling on top of it.
Idempotent: a second run adds nothing."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from cases.demo import DEMO_PASSWORD, demo_logins, seed_clinical, seed_teams
from cases.models import Case, Team
from cases.pathway import CLOSED_STAGES, Stage
from cases.services import team_today

from . import defaults, services
from .models import Appointment, MdtAgendaItem, MdtMeeting, Task, TaskStatus, TaskTemplate

__all__ = ["DEMO_PASSWORD", "demo_logins", "seed_all"]

MDT_WEEKDAY = 1  # Tuesday
MDT_START = time(16, 0)


def next_mdt_start(team: Team) -> datetime:
    """The team's next Tuesday 16:00 (today counts if it is a Tuesday)."""
    today = team_today(team)
    day = today + timedelta(days=(MDT_WEEKDAY - today.weekday()) % 7)
    return datetime.combine(day, MDT_START, tzinfo=zoneinfo.ZoneInfo(team.time_zone))


def seed_task_progress(team: Team, staff: dict[str, Any]) -> None:
    """The oldest work done, the next taken on, so "My work" has something in each list.
    Runs once: a team that has completed tasks is left alone."""
    if Task.objects.filter(case__team=team, status=TaskStatus.COMPLETED).exists():
        return
    requested = Task.objects.filter(case__team=team, status=TaskStatus.REQUESTED)
    for index, task in enumerate(requested.order_by("due_date", "id")[:24]):
        holder = staff.get(ROLE_HOLDERS.get(task.role, ""))
        if holder is None or index % 3 == 2:
            continue  # some stay in the pools
        if index < 9:
            services.task_complete(actor=holder, task=task, note="Done (demo).")
        else:
            services.task_accept(actor=holder, task=task)


ROLE_HOLDERS = {
    "coordinator": "coordinator",
    "surgeon": "surgeon",
    "nurse": "nurse",
    "physiotherapist": "physio",
    "prosthetist": "prosthetist",
    "psychologist": "psychologist",
}


def seed_scheduling(team: Team) -> None:
    User = get_user_model()
    coordinator = User.objects.filter(username="coordinator").first()
    surgeon = User.objects.filter(username="surgeon").first()
    if coordinator is None:
        return
    staff = {
        key: User.objects.filter(username=key).first()
        for key in ("coordinator", "surgeon", "nurse", "physio", "prosthetist", "psychologist")
    }
    seed_task_progress(team, staff)
    cases = list(
        Case.objects.filter(team=team, entered_in_error=False).exclude(stage__in=CLOSED_STAGES)
    )
    # Cases seeded without going through the pathway services get their tasks here.
    for case in cases:
        services.tasks_generate_for_case(case=case)

    if not Appointment.objects.filter(case__team=team).exists():
        booked = [
            ("follow_up", "clinic_review", 10, "Limb reconstruction clinic"),
            ("rehabilitation", "rehab_session", 2, "Gym, rehabilitation unit"),
        ]
        for stage, kind, days, location in booked:
            booked_case = next((c for c in cases if c.stage == stage), None)
            if booked_case is None:
                continue
            start = datetime.combine(
                team_today(team) + timedelta(days=days),
                time(10, 0),
                tzinfo=zoneinfo.ZoneInfo(team.time_zone),
            )
            services.appointment_book(
                actor=coordinator,
                case=booked_case,
                kind=kind,
                starts_at=start,
                ends_at=start + timedelta(minutes=45),
                location=location,
                clinicians=[surgeon],
            )

    starts_at = next_mdt_start(team)
    meeting = MdtMeeting.objects.filter(team=team, starts_at=starts_at).first()
    if meeting is None:
        everyone = list(User.objects.filter(memberships__team=team, memberships__is_active=True))
        meeting = services.mdt_meeting_create(
            actor=coordinator,
            team=team,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            location="Seminar room 2, Limb Reconstruction Unit",
            video_link="https://video.example.invalid/oi-mdt",
            chair=surgeon,
            attendees=everyone,
        )
    for case in cases:
        on_agenda = MdtAgendaItem.objects.filter(meeting=meeting, case=case).exists()
        if case.stage == Stage.MDT_REVIEW and not on_agenda:
            services.mdt_agenda_add(
                actor=coordinator,
                meeting=meeting,
                case=case,
                question="Eligible for osseointegration?",
                presenter=surgeon,
            )


@transaction.atomic
def seed_all() -> None:
    teams = seed_teams()
    # Templates first, so the demo cases' pathway moves generate their tasks.
    defaults.install(TaskTemplate)
    seed_clinical(teams)
    seed_scheduling(teams.main)
