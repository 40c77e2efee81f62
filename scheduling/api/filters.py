"""Query-string filters for the task, meeting, appointment and template lists."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from cases.roles import Role
from osseo_mdt.api.filters import FilterSet

from .. import selectors
from ..models import (
    OPEN_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    MdtMeeting,
    Priority,
    Task,
    TaskStatus,
    TaskTemplate,
    Trigger,
)

OPEN = "open"


class TaskFilter(FilterSet):
    mine = django_filters.BooleanFilter(
        method="filter_mine", label="true: only tasks assigned to me."
    )
    my_pools = django_filters.BooleanFilter(
        method="filter_my_pools", label="true: only tasks of roles I hold in the task's team."
    )
    role = django_filters.ChoiceFilter(choices=Role.choices)
    status = django_filters.ChoiceFilter(
        choices=[(OPEN, "Open (not completed or cancelled)"), *TaskStatus.choices],
        method="filter_status",
    )
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label="true: open and due before today in the team's time zone.",
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label="Due on or before this date."
    )
    due_after = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label="Due on or after this date."
    )
    case = django_filters.NumberFilter(field_name="case_id")
    team = django_filters.NumberFilter(field_name="case__team_id")
    assignee = django_filters.NumberFilter(field_name="assignee_id")
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label="true: only tasks in a pool."
    )
    generated = django_filters.BooleanFilter(
        field_name="template", lookup_expr="isnull", exclude=True, label="true: from templates."
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("due_date", "due_date"),
            ("priority_rank", "priority"),
            ("created_at", "created_at"),
            ("status_changed_at", "status_changed_at"),
        ),
        label="due_date, priority, created_at, status_changed_at (prefix - to reverse).",
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def filter_mine(self, queryset: QuerySet[Task], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        me = Q(assignee_id=self.request.user.pk) if self.request else Q(pk__in=[])
        return queryset.filter(me) if value else queryset.exclude(me)

    def filter_my_pools(self, queryset: QuerySet[Task], name: str, value: bool | None) -> Any:
        if value is None or self.request is None:
            return queryset
        pools = selectors.my_pools_q(self.request.user)
        return queryset.filter(pools) if value else queryset.exclude(pools)

    def filter_status(self, queryset: QuerySet[Task], name: str, value: str) -> Any:
        if not value:
            return queryset
        if value == OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.filter(status=value)

    def filter_overdue(self, queryset: QuerySet[Task], name: str, value: bool | None) -> Any:
        if value is None or self.request is None:
            return queryset
        overdue = selectors.overdue_q(selectors.team_todays(self.request.user))
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class MdtMeetingFilter(django_filters.FilterSet):
    team = django_filters.NumberFilter(field_name="team_id")
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lte")
    case = django_filters.NumberFilter(field_name="agenda_items__case_id", distinct=True)

    class Meta:
        model = MdtMeeting
        fields: list[str] = []


class AppointmentFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="case_id")
    team = django_filters.NumberFilter(field_name="case__team_id")
    kind = django_filters.ChoiceFilter(choices=AppointmentKind.choices)
    status = django_filters.ChoiceFilter(choices=AppointmentStatus.choices)
    mine = django_filters.BooleanFilter(method="filter_mine", label="true: I am a clinician.")
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lte")

    class Meta:
        model = Appointment
        fields: list[str] = []

    def filter_mine(self, queryset: QuerySet[Appointment], name: str, value: bool | None) -> Any:
        if value is None or self.request is None:
            return queryset
        mine = queryset.filter(clinicians=self.request.user).values("pk")
        return queryset.filter(pk__in=mine) if value else queryset.exclude(pk__in=mine)


class TaskTemplateFilter(django_filters.FilterSet):
    team = django_filters.NumberFilter(field_name="team_id")
    shared = django_filters.BooleanFilter(field_name="team", lookup_expr="isnull")
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices)
    role = django_filters.ChoiceFilter(choices=Role.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = TaskTemplate
        fields: list[str] = []
