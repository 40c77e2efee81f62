"""The admin's home page: what is the logged-in team member's to do, on one screen.

My overdue tasks, what is due this week, the unassigned tasks in my role pools, my cases by
stage (next to the team's), the open safety flags on my teams' cases and the next MDT
meeting's agenda: each row links to its page. A constant number of queries however much
there is (tests/ui/test_dashboard.py counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.admin import AdminSite
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from cases import access, rehab_selectors
from cases.models import Case, SafetyFlag
from cases.pathway import Stage
from cases.permissions import WRITE_ROLES
from cases.roles import Role

from . import selectors
from .models import MdtAgendaItem, MdtMeeting

# The dashboard shows the first few of each list and links to the whole list.
LIST_LIMIT = 10


@dataclass(frozen=True)
class StageCount:
    stage: str
    label: str
    mine: int
    team: int


@dataclass(frozen=True)
class QuickLink:
    label: str
    url_name: str
    query: str = ""


@dataclass
class Dashboard:
    today: date
    work: selectors.MyWork
    stages: list[StageCount] = field(default_factory=list)
    flags: list[SafetyFlag] = field(default_factory=list)
    flag_total: int = 0
    meeting: MdtMeeting | None = None
    agenda: list[MdtAgendaItem] = field(default_factory=list)
    roles: frozenset[str] = frozenset()
    links: list[QuickLink] = field(default_factory=list)

    @property
    def my_case_total(self) -> int:
        return sum(row.mine for row in self.stages)

    @property
    def team_case_total(self) -> int:
        return sum(row.team for row in self.stages)


def cases_by_stage(user: Any) -> list[StageCount]:
    """Open and closed cases of the user's teams per stage: theirs (lead clinician or on the
    care team) and the team's. One query."""
    mine = Q(lead_clinician_id=user.pk) | Q(care_team__user_id=user.pk)
    rows = (
        Case.objects.filter(team_id__in=access.team_ids(user), entered_in_error=False)
        .values("stage")
        .annotate(team=Count("id", distinct=True), mine=Count("id", filter=mine, distinct=True))
    )
    counts = {row["stage"]: row for row in rows}
    return [
        StageCount(stage.value, stage.label, counts[stage]["mine"], counts[stage]["team"])
        for stage in Stage
        if stage in counts
    ]


def next_meeting(user: Any, now: datetime) -> MdtMeeting | None:
    """The user's teams' next MDT meeting (one that started today still counts), with its
    agenda: three queries (meeting, attendees, agenda items with their cases)."""
    start_of_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    agenda = MdtAgendaItem.objects.select_related("case__patient", "presenter", "decision")
    return (
        MdtMeeting.objects.filter(team_id__in=access.team_ids(user), starts_at__gte=start_of_today)
        .select_related("team", "chair")
        .prefetch_related(
            "attendees", Prefetch("agenda_items", queryset=agenda.order_by("position", "id"))
        )
        .order_by("starts_at", "id")
        .first()
    )


def quick_links(user: Any, roles: frozenset[str]) -> list[QuickLink]:
    """The shortcuts a person's roles can use: nobody is offered a page that would refuse."""
    links = [QuickLink("My work", "admin:scheduling_mywork_changelist")]
    writes = {record for record, allowed in WRITE_ROLES.items() if roles & allowed}
    # The add pages follow the role groups' admin permissions (cases/roles.py).
    if user.has_perm("cases.add_patient"):
        links.append(QuickLink("New patient", "admin:cases_patient_add"))
    if user.has_perm("cases.add_case"):
        links.append(QuickLink("New case", "admin:cases_case_add"))
    if roles & {Role.COORDINATOR, Role.SURGEON}:
        links.append(QuickLink("MDT meetings", "admin:scheduling_mdtmeeting_changelist"))
    if "rehab_session" in writes:
        links.append(
            QuickLink(
                "Cases in rehabilitation",
                "admin:cases_case_changelist",
                "stage__exact=rehabilitation",
            )
        )
    if "prosthesis_setting" in writes:
        links.append(QuickLink("Prosthesis settings", "admin:cases_prosthesissetting_changelist"))
    links.append(QuickLink("All open tasks", "admin:scheduling_task_changelist", "open=yes"))
    links.append(QuickLink("All records", "admin:models"))
    return links


def dashboard_for(user: Any) -> Dashboard:
    """Queries, whatever the number of rows: memberships and roles (1), team time zones (2),
    my open tasks (1), my pools (1), cases by stage (1), open flags (1) and their count (1),
    the next meeting (1) with its attendees (1) and agenda (1)."""
    roles: frozenset[str] = frozenset().union(*access.roles_by_team(user).values())
    work = selectors.my_work(user)
    todays = selectors.team_todays(user)
    today = min(todays.values()) if todays else timezone.localdate()
    open_flags = rehab_selectors.flags_for(user).filter(
        resolved_at__isnull=True, case__entered_in_error=False
    )
    flags = list(open_flags.order_by("-raised_on", "-id")[:LIST_LIMIT])
    meeting = next_meeting(user, timezone.now()) if todays else None
    return Dashboard(
        today=today,
        work=work,
        stages=cases_by_stage(user) if todays else [],
        flags=flags,
        flag_total=open_flags.count(),
        meeting=meeting,
        agenda=list(meeting.agenda_items.all()) if meeting else [],
        roles=roles,
        links=quick_links(user, roles),
    )


def dashboard_view(site: AdminSite, request: HttpRequest) -> TemplateResponse:
    board = dashboard_for(request.user)
    context = {
        **site.each_context(request),
        "title": "My dashboard",
        "board": board,
        "limit": LIST_LIMIT,
    }
    request.current_app = site.name
    return TemplateResponse(request, "admin/scheduling/dashboard.html", context)
