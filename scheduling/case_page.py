"""The case page: one case's story at a glance, and the buttons that act on it.

Shows the patient, limb, implant, stage with the allowed next steps, the care team, the rehab
progress, the open tasks and the timeline. Every button posts to a view here that calls one
service (cases.services.case_transition, cases.services.rehab_session_record,
scheduling.services.task_complete / task_assign) and comes back to the page saying what
happened: the same permission checks, audit rows and task generation as the API, no second
path. Another team's case is a 404, as in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from cases import access, access_log, pathway, rehab_selectors
from cases import selectors as case_selectors
from cases import services as case_services
from cases.errors import DomainError
from cases.models import CareTeamMember, Case, MembershipRole, RehabSession
from cases.permissions import may_write
from cases.rehab import StomaFinding
from cases.timeline import TimelineEntry

from . import permissions as perms
from . import selectors, services
from .models import OPEN_STATUSES, Task

User = get_user_model()

# The timeline shows this many entries, newest first, unless all are asked for.
TIMELINE_LIMIT = 40
# Open tasks shown on the page: the overdue ones and those due within this many days (the
# rest, e.g. a year of weekly reviews, are one link away).
TASK_WINDOW_DAYS = 28

# Timeline entry kind: (label, admin URL name of its record).
TIMELINE_KINDS: dict[str, tuple[str, str]] = {
    "transition": ("Stage", "admin:cases_stagetransition_change"),
    "surgery": ("Surgery", "admin:cases_surgery_change"),
    "decision": ("MDT decision", "admin:cases_mdtdecision_change"),
    "task": ("Task", "admin:scheduling_task_change"),
    "appointment": ("Appointment", "admin:scheduling_appointment_change"),
    "mdt_agenda": ("MDT meeting", "admin:scheduling_mdtmeeting_change"),
    "rehab_plan": ("Rehab plan", "admin:cases_rehabplan_change"),
    "rehab_session": ("Session", "admin:cases_rehabsession_change"),
    "safety_flag": ("Flag", "admin:cases_safetyflag_change"),
    "complication": ("Complication", "admin:cases_complication_change"),
    "outcome_measure": ("Outcome", "admin:cases_outcomemeasure_change"),
    "prosthesis_setting": ("Prosthesis", "admin:cases_prosthesissetting_change"),
}


# --- Reads ------------------------------------------------------------------------------------


def cases_visible_to(user: Any) -> QuerySet[Case]:
    """The user's teams' live cases (a superuser: every team's)."""
    if not user.is_superuser:
        return case_selectors.cases_for(user)
    return (
        Case.objects.filter(entered_in_error=False)
        .select_related("patient", "team", "implant_system", "lead_clinician")
        .prefetch_related(
            Prefetch("care_team", queryset=CareTeamMember.objects.select_related("user"))
        )
    )


def tasks_visible_to(user: Any) -> QuerySet[Task]:
    if not user.is_superuser:
        return selectors.tasks_for(user)
    return Task.objects.filter(case__entered_in_error=False).select_related(
        "case__patient", "case__team", "assignee"
    )


def _case_or_404(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(cases_visible_to(request.user), pk=pk)


@dataclass(frozen=True)
class StepButton:
    to: str
    label: str
    permitted: bool
    refusal: str | None
    side_exit: bool


@dataclass(frozen=True)
class TimelineRow:
    entry: TimelineEntry
    label: str
    url: str | None

    @property
    def kind(self) -> str:
        return self.entry.kind


@dataclass(frozen=True)
class TaskRow:
    task: Task
    may_act: bool
    may_take: bool
    candidates: list[Any]


def step_buttons(case: Case, roles: frozenset[str]) -> tuple[list[StepButton], list[str]]:
    """The moves this person may try (a guard's refusal stays visible: pressing it says why),
    and for the moves only another role may make, who to ask."""
    facts = case_services.case_facts(case)
    buttons, others = [], []
    for step in pathway.next_steps(facts, roles):
        label = pathway.Stage(step.to).label
        if step.refusal_kind == pathway.RefusalKind.ROLE:
            if step.to not in pathway.SIDE_EXITS:
                who = ", ".join(pathway.roles_allowed(case.stage, step.to, case.stage_before_hold))
                others.append(f"{label}: {who.replace('_', ' ')}")
            continue
        buttons.append(
            StepButton(step.to, label, step.permitted, step.refusal, step.to in pathway.SIDE_EXITS)
        )
    return buttons, others


def timeline_rows(case: Case, today: date, show_all: bool) -> tuple[list[TimelineRow], int]:
    """What has happened, newest first: entries dated after today (tasks not yet due,
    booked appointments) belong to the open tasks, not the story so far."""
    entries = [
        entry for entry in reversed(case_selectors.case_timeline(case)) if _day(entry.at) <= today
    ]
    total = len(entries)
    if not show_all:
        entries = entries[:TIMELINE_LIMIT]
    rows = []
    for entry in entries:
        label, url_name = TIMELINE_KINDS.get(entry.kind, (entry.kind.replace("_", " "), ""))
        record_id = entry.extra.get("meeting_id") if entry.kind == "mdt_agenda" else entry.record_id
        url = None
        if url_name and record_id is not None:
            try:
                url = reverse(url_name, args=[record_id])
            except NoReverseMatch:
                url = None
        rows.append(TimelineRow(entry, label, url))
    return rows, total


def _day(at: Any) -> date:
    return at.date() if isinstance(at, datetime) else at


def task_rows(user: Any, case: Case, today: date) -> tuple[list[TaskRow], int]:
    """The case's open tasks due by TASK_WINDOW_DAYS from today, whether this person may act
    on each and who each may be handed to (team members holding the task's role); and how
    many open tasks fall due later. Three queries."""
    open_tasks = tasks_visible_to(user).filter(case_id=case.pk, status__in=OPEN_STATUSES)
    horizon = today + timedelta(days=TASK_WINDOW_DAYS)
    tasks = list(open_tasks.filter(due_date__lte=horizon).order_by("due_date", "id"))
    later = open_tasks.filter(due_date__gt=horizon).count()
    holders: dict[str, list[Any]] = {}
    for row in (
        MembershipRole.objects.filter(membership__team_id=case.team_id, membership__is_active=True)
        .select_related("membership__user")
        .order_by("membership__user__last_name", "membership__user__first_name")
    ):
        holders.setdefault(row.role, []).append(row.membership.user)
    roles = access.roles_in(user, case.team_id)
    rows = [
        TaskRow(
            task,
            may_act=perms.may_act_on_task(user, task),
            may_take=task.role in roles and task.assignee_id != user.pk,
            candidates=holders.get(task.role, []),
        )
        for task in tasks
    ]
    return rows, later


# --- Quick rehab session entry ----------------------------------------------------------------


def _model_field(name: str, **kwargs: Any) -> Any:
    """The model field's form field: its validators (pain 0-10, load range) come along."""
    field = RehabSession._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.formfield(**kwargs)


def _number(step: str, mode: str = "decimal") -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": step, "inputmode": mode})


class QuickSessionForm(forms.Form):
    """The fields a physiotherapist fills in between patients; the rest take their defaults."""

    # A date input posts and shows ISO dates, whatever the locale's format.
    session_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    load_kg = _model_field("load_kg", label="Load (kg)", widget=_number("0.5"))
    duration_minutes = _model_field(
        "duration_minutes", label="Minutes", widget=_number("1", "numeric")
    )
    pain_nrs_before = _model_field(
        "pain_nrs_before", label="Pain before (0-10)", widget=_number("1", "numeric")
    )
    pain_nrs_after = _model_field(
        "pain_nrs_after", label="Pain after (0-10)", widget=_number("1", "numeric")
    )
    walking_aid = _model_field("walking_aid", label="Walking aid")
    wear_hours_per_day = _model_field(
        "wear_hours_per_day", label="Wear (h/day)", widget=_number("0.5")
    )
    stoma_findings = forms.MultipleChoiceField(
        choices=StomaFinding.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Stoma",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Notes")

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"session_date": today})
        super().__init__(*args, **kwargs)
        self.fields["session_date"].widget.attrs["max"] = today.isoformat()


def may_record_session(user: Any, case: Case, has_plan: bool) -> bool:
    return (
        has_plan
        and case.stage in case_services.SESSION_STAGES
        and may_write(user, case.team_id, "rehab_session")
    )


# --- Views ------------------------------------------------------------------------------------


def _page(
    site: AdminSite, request: HttpRequest, case: Case, session_form: QuickSessionForm | None
) -> TemplateResponse:
    user = request.user
    roles = access.roles_in(user, case.team_id)
    buttons, others = step_buttons(case, roles)
    summary = rehab_selectors.rehab_summary(case)
    show_all = request.GET.get("timeline") == "all"
    timeline, timeline_total = timeline_rows(case, summary.today, show_all)
    tasks, tasks_later = task_rows(user, case, summary.today)
    can_record = may_record_session(user, case, summary.plan is not None)
    if can_record and session_form is None:
        session_form = QuickSessionForm(today=summary.today)
    # A refused entry comes back with its errors, even to someone the form is not offered to.
    opts = Case._meta
    context = {
        **site.each_context(request),
        "title": f"{case.patient.hospital_number} {case.patient.family_name.upper()}, "
        f"{case.patient.given_name}",
        "subtitle": None,
        "opts": opts,
        "case": case,
        "patient": case.patient,
        "age": _age(case.patient.date_of_birth, summary.today),
        "care_team": list(case.care_team.all()),
        "buttons": [b for b in buttons if not b.side_exit],
        "side_exits": [b for b in buttons if b.side_exit],
        "others_may": others,
        "summary": summary,
        "tasks": tasks,
        "tasks_later": tasks_later,
        "task_window_days": TASK_WINDOW_DAYS,
        "timeline": timeline,
        "timeline_total": timeline_total,
        "timeline_all": show_all,
        "session_form": session_form,
        "may_edit": user.has_perm("cases.change_case"),
        "chart_url": reverse("case-rehab-chart", args=[case.pk]),
        "today": summary.today,
    }
    return TemplateResponse(request, "admin/scheduling/case_page.html", context)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def overview(site: AdminSite, request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    response = _page(site, request, case, None)
    access_log.record_read(request, record=case, via="admin")
    return response


def _back(case: Case, anchor: str = "") -> HttpResponseRedirect:
    url = reverse("admin:case_overview", args=[case.pk])
    return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)


def _task_ids(case: Case) -> set[int]:
    return set(Task.objects.filter(case_id=case.pk).values_list("id", flat=True))


def _say_new_tasks(request: HttpRequest, case: Case, before: set[int]) -> None:
    new = Task.objects.filter(case_id=case.pk).exclude(id__in=before).order_by("due_date", "id")
    for task in new:
        messages.info(
            request,
            f"New task for the {task.get_role_display().lower()}: {task.title} "
            f"(due {task.due_date:%a %d %b})",
        )


def move(site: AdminSite, request: HttpRequest, pk: int) -> HttpResponse:
    """Move the case to another stage through the pathway service."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    case = _case_or_404(request, pk)
    to = request.POST.get("to", "")
    before = _task_ids(case)
    try:
        case_services.case_transition(
            actor=request.user,
            case_id=case.pk,
            to=to,
            reason=request.POST.get("reason", "").strip()[:500],
            # The stage the page showed: a second press, or someone else's move in between,
            # is refused instead of moving the case twice.
            expected_stage=request.POST.get("from") or None,
        )
    except DomainError as error:
        messages.error(request, f"Not moved: {error.message}")
    else:
        messages.success(request, f"Moved to {pathway.Stage(to).label}.")
        _say_new_tasks(request, case, before)
    return _back(case)


def task_action(site: AdminSite, request: HttpRequest, pk: int) -> HttpResponse:
    """Complete a task, take it, or hand it to someone (or back to the pool)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    case = _case_or_404(request, pk)
    task = get_object_or_404(
        tasks_visible_to(request.user).filter(case_id=case.pk), pk=_int(request.POST.get("task"))
    )
    what = request.POST.get("do", "")
    try:
        if what == "complete":
            services.task_complete(
                actor=request.user, task=task, note=request.POST.get("note", "").strip()
            )
            messages.success(request, f"Completed: {task.title}.")
        elif what == "take":
            services.task_assign(actor=request.user, task=task, assignee=request.user)
            messages.success(request, f"Yours now: {task.title}.")
        elif what == "assign":
            assignee = _team_member_or_none(case, request.POST.get("assignee", ""))
            services.task_assign(actor=request.user, task=task, assignee=assignee)
            who = _person(assignee) if assignee else f"the {task.get_role_display().lower()} pool"
            messages.success(request, f"{task.title}: now with {who}.")
        else:
            messages.error(request, "Choose what to do with the task.")
    except DomainError as error:
        messages.error(request, f"{task.title}: {error.message}")
    return _back(case, "tasks")


def record_session(site: AdminSite, request: HttpRequest, pk: int) -> HttpResponse:
    """Record a rehab session through the rehab service; say which flags and tasks it raised."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    case = _case_or_404(request, pk)
    form = QuickSessionForm(request.POST, today=case_services.team_today(case.team))
    if form.is_valid():
        before = _task_ids(case)
        try:
            session = case_services.rehab_session_record(
                actor=request.user, case=case, **form.cleaned_data
            )
        except DomainError as error:
            for name, problems in error.fields.items():
                form.add_error(name if name in form.fields else None, problems)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            messages.success(request, _session_sentence(session))
            for flag in session.raised_flags:
                messages.warning(request, f"Flag raised: {flag.get_kind_display()}. {flag.detail}")
            _say_new_tasks(request, case, before)
            return _back(case, "session")
    response = _page(site, request, case, form)
    response.status_code = 400
    return response


def _session_sentence(session: RehabSession) -> str:
    load = f"{_kg(session.load_kg)} kg" if session.load_kg is not None else "no load"
    pain = session.max_pain_nrs
    parts = [f"Session recorded for {session.session_date:%a %d %b}: {load}"]
    if session.target_kg is not None:
        parts.append(f" (target {_kg(session.target_kg)} kg)")
    if pain is not None:
        parts.append(f", pain {pain}/10")
    return "".join(parts) + "."


def _kg(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _person(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _team_member_or_none(case: Case, user_id: str) -> Any:
    if not user_id:
        return None
    return get_object_or_404(
        User.objects.filter(
            memberships__team_id=case.team_id, memberships__is_active=True
        ).distinct(),
        pk=_int(user_id),
    )
