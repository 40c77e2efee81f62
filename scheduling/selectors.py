"""Reads, scoped to what the caller may see (their teams), shaped for the API, admin, calendar
feed and digest, with query counts that do not grow with the number of rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Case as When_
from django.db.models import IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from cases import access, timeline
from cases.models import Team
from cases.services import team_today

from .models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    Appointment,
    AppointmentStatus,
    CalendarFeed,
    MdtAgendaItem,
    MdtMeeting,
    Task,
    TaskTemplate,
)


def priority_rank() -> When_:
    return When_(
        *[When(priority=p, then=Value(rank)) for p, rank in PRIORITY_RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def tasks_for(user: Any) -> QuerySet[Task]:
    """Every task the user may see: those on live cases of their teams."""
    return (
        Task.objects.filter(case__team_id__in=access.team_ids(user), case__entered_in_error=False)
        .select_related(
            "case__patient", "case__team", "assignee", "template", "created_by", "completed_by"
        )
        .annotate(priority_rank=priority_rank())
        .order_by("due_date", "-priority_rank", "id")
    )


# What a task list shows, as plain values: model instances for a page of tasks with their
# case, patient, team, assignee and template cost more to build than the query took to run
# (bench/RESULTS.md). scheduling.api.serializers.task_row turns a row into the API's shape.
TASK_ROW_FIELDS = (
    *(
        f.attname
        for f in Task._meta.concrete_fields
        if f.attname not in ("anchor",)  # not shown
    ),
    "case__team_id",
    "case__team__time_zone",
    "case__side",
    "case__amputation_level",
    "case__patient__hospital_number",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "template__code",
)


def task_list_for(user: Any) -> QuerySet[Task]:
    """tasks_for without its joins, for the list: filtered and counted as it is, and only its
    page read as rows of TASK_ROW_FIELDS (osseo_mdt.api.pagination.RowsPaginator)."""
    return tasks_for(user).select_related(None)


def team_todays(user: Any) -> dict[int, date]:
    """{team_id: today in that team's time zone} for the user's teams (one query)."""
    zones = Team.objects.filter(pk__in=access.team_ids(user)).values_list("pk", "time_zone")
    return {pk: team_today(Team(pk=pk, time_zone=tz)) for pk, tz in zones}


def overdue_q(todays: dict[int, date]) -> Q:
    """Open and due before today in the case's team's time zone."""
    due_q = Q(pk__in=[])
    for team_id, today in todays.items():
        due_q |= Q(case__team_id=team_id, due_date__lt=today)
    return Q(status__in=OPEN_STATUSES) & due_q


def my_pools_q(user: Any) -> Q:
    """Tasks whose role the user holds in the task's team."""
    pools = Q(pk__in=[])
    for team_id, roles in access.roles_by_team(user).items():
        pools |= Q(case__team_id=team_id, role__in=sorted(roles))
    return pools


@dataclass
class MyWork:
    overdue: list[Task] = field(default_factory=list)
    this_week: list[Task] = field(default_factory=list)
    next_week: list[Task] = field(default_factory=list)
    later: int = 0
    pool: list[Task] = field(default_factory=list)


def week_bounds(today: date) -> tuple[date, date]:
    """The last day of this ISO week and of the next (Sundays)."""
    end_this = today + timedelta(days=6 - today.weekday())
    return end_this, end_this + timedelta(days=7)


POOL_LIMIT = 100


def my_work(user: Any) -> MyWork:
    """The user's open tasks by when they fall due, and the unassigned tasks in their role
    pools. Four queries, however many tasks."""
    todays = team_todays(user)
    work = MyWork()
    if not todays:
        return work
    mine = tasks_for(user).filter(assignee_id=user.pk, status__in=OPEN_STATUSES)
    for task in mine:
        today = todays[task.case.team_id]
        end_this, end_next = week_bounds(today)
        if task.due_date < today:
            work.overdue.append(task)
        elif task.due_date <= end_this:
            work.this_week.append(task)
        elif task.due_date <= end_next:
            work.next_week.append(task)
        else:
            work.later += 1
    work.pool = list(
        tasks_for(user)
        .filter(my_pools_q(user), assignee__isnull=True, status__in=OPEN_STATUSES)
        .order_by("due_date", "-priority_rank", "id")[:POOL_LIMIT]
    )
    return work


def templates_for(user: Any) -> QuerySet[TaskTemplate]:
    return TaskTemplate.objects.filter(
        Q(team__isnull=True) | Q(team_id__in=access.team_ids(user))
    ).select_related("team")


def meetings_for(user: Any) -> QuerySet[MdtMeeting]:
    items = MdtAgendaItem.objects.select_related(
        "case__patient", "presenter", "decision", "added_by"
    ).prefetch_related(Prefetch("actions", queryset=Task.objects.select_related("assignee")))
    return (
        MdtMeeting.objects.filter(team_id__in=access.team_ids(user))
        .select_related("team", "chair")
        .prefetch_related("attendees", Prefetch("agenda_items", queryset=items))
    )


def agenda_item_for(user: Any, meeting: MdtMeeting, item_id: int) -> MdtAgendaItem:
    item = (
        MdtAgendaItem.objects.filter(meeting=meeting, pk=item_id)
        .select_related("case", "meeting")
        .first()
    )
    if item is None or meeting.team_id not in access.team_ids(user):
        raise Http404
    return item


def appointments_for(user: Any) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(
            case__team_id__in=access.team_ids(user), case__entered_in_error=False
        )
        .select_related("case__patient", "case__team", "booked_by")
        .prefetch_related(
            "clinicians",
            Prefetch("tasks", queryset=Task.objects.only("id", "appointment_id", "title")),
        )
    )


# --- Calendar feed ----------------------------------------------------------------------------

CALENDAR_PAST_DAYS = 30


@dataclass
class CalendarItems:
    tasks: list[Task]
    appointments: list[Appointment]
    meetings: list[MdtMeeting]


def calendar_items(user: Any) -> CalendarItems:
    """What goes into a person's calendar feed: their open tasks, their appointments and
    their teams' MDT meetings (from a month ago on)."""
    since = timezone.now() - timedelta(days=CALENDAR_PAST_DAYS)
    tasks = list(
        tasks_for(user).filter(assignee_id=user.pk, status__in=OPEN_STATUSES).order_by("due_date")
    )
    appointments = list(
        Appointment.objects.filter(
            case__team_id__in=access.team_ids(user),
            case__entered_in_error=False,
            clinicians=user,
            starts_at__gte=since,
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("case")
        .order_by("starts_at")
    )
    meetings = list(
        MdtMeeting.objects.filter(team_id__in=access.team_ids(user), starts_at__gte=since)
        .select_related("team")
        .order_by("starts_at")
    )
    return CalendarItems(tasks=tasks, appointments=appointments, meetings=meetings)


# --- The case timeline ------------------------------------------------------------------------


def case_timeline_entries(case: Any) -> list[timeline.TimelineEntry]:
    """Tasks, appointments and MDT agenda items of one case, for cases.selectors.case_timeline."""
    entries = []
    for task in Task.objects.filter(case_id=case.pk).select_related("assignee", "completed_by"):
        who = task.completed_by or task.assignee
        entries.append(
            timeline.TimelineEntry(
                kind="task",
                at=task.completed_at or task.due_date,
                title=f"Task: {task.title} ({task.get_status_display().lower()})",
                detail=task.completion_note or task.status_reason,
                record_id=task.pk,
                actor=(who.get_full_name() or who.get_username()) if who else "",
                extra={
                    "status": task.status,
                    "role": task.role,
                    "due_date": task.due_date.isoformat(),
                },
            )
        )
    for appt in Appointment.objects.filter(case_id=case.pk):
        entries.append(
            timeline.TimelineEntry(
                kind="appointment",
                at=appt.starts_at,
                title=f"{appt.get_kind_display()} ({appt.get_status_display().lower()})",
                detail=appt.location,
                record_id=appt.pk,
                extra={"status": appt.status, "ends_at": appt.ends_at.isoformat()},
            )
        )
    for item in MdtAgendaItem.objects.filter(case_id=case.pk).select_related("meeting"):
        entries.append(
            timeline.TimelineEntry(
                kind="mdt_agenda",
                at=item.meeting.starts_at,
                title="Discussed at the MDT meeting",
                detail=item.minutes,
                record_id=item.pk,
                extra={"meeting_id": item.meeting_id},
            )
        )
    return entries


def active_calendar_feed(user: Any) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()
