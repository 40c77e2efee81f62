"""The admin for tasks, templates, meetings and appointments. Thin: every change goes through
scheduling.services, so the admin obeys the same permission table, locks and audit as the API.

Who sees what: a member of a team sees that team's records (a superuser sees all). Whether a
person may change a record is decided by the services (scheduling/permissions.py), not by
Django model permissions, so these admins answer the has_*_permission questions themselves.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from cases import access
from cases.admin import ScopedChoicesMixin
from cases.errors import DomainError
from cases.models import Case
from cases.pathway import DecisionOutcome, Stage, SurgeryKind

from . import permissions as perms
from . import selectors, services
from .models import (
    OPEN_STATUSES,
    Appointment,
    DigestDelivery,
    DigestPreference,
    MdtAgendaItem,
    MdtMeeting,
    MyWork,
    Task,
    TaskTemplate,
    WorkerHeartbeat,
)

User = get_user_model()


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    """Operations data: for superusers only (clinicians have no use for it)."""

    list_display = ["worker", "beat_at"]
    readonly_fields = ["worker", "beat_at"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


def _is_member(request: HttpRequest) -> bool:
    return bool(request.user.is_superuser or access.team_ids(request.user))


def _teams(request: HttpRequest) -> list[int]:
    return access.team_ids(request.user)


class TeamScopedAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """Members see their teams' records (and only their people and cases as choices);
    services decide who may change them."""

    team_path = "case__team_id"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_member(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_member(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_member(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_member(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # clinical work is cancelled or closed, never deleted

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.team_path}__in": _teams(request)})

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as error:
            # The form was valid but a rule refused the change (the transaction is rolled
            # back): say why and show the page again.
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _run(self, request: HttpRequest, call: Any, success: str = "") -> bool:
        try:
            call()
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return False
        if success:
            self.message_user(request, success, messages.SUCCESS)
        return True


# --- Tasks ------------------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() not in ("yes", "no"):
            return queryset
        overdue = selectors.overdue_q(_todays_for_admin(request))
        return queryset.filter(overdue) if self.value() == "yes" else queryset.exclude(overdue)


class OpenFilter(admin.SimpleListFilter):
    title = "open or closed"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Open"), ("no", "Completed or cancelled")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "no":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


class AssignmentFilter(admin.SimpleListFilter):
    title = "whose"
    parameter_name = "assignment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("mine", "Assigned to me"),
            ("my_pools", "Unassigned, in my role pools"),
            ("unassigned", "Unassigned"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "mine":
            return queryset.filter(assignee_id=request.user.pk)
        if self.value() == "my_pools":
            return queryset.filter(selectors.my_pools_q(request.user), assignee__isnull=True)
        if self.value() == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


def _todays_for_admin(request: HttpRequest) -> dict[int, Any]:
    if request.user.is_superuser:
        from cases.models import Team
        from cases.services import team_today

        return {team.pk: team_today(team) for team in Team.objects.all()}
    return selectors.team_todays(request.user)


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["case", "title", "details", "role", "assignee", "due_date", "priority"]


class BulkReassignForm(forms.Form):
    to_user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Back to each task's role pool",
        label="Hand over to",
    )

    def __init__(self, *args: Any, teams: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            User.objects.filter(memberships__team_id__in=teams, memberships__is_active=True)
            .distinct()
            .order_by("last_name", "first_name")
        )


@admin.register(Task)
class TaskAdmin(TeamScopedAdmin):
    form = TaskForm
    list_display = [
        "title",
        "case_page",
        "role",
        "assignee",
        "due_date",
        "priority",
        "status",
        "overdue_flag",
    ]
    list_filter = [
        OpenFilter,
        OverdueFilter,
        AssignmentFilter,
        "status",
        "role",
        "priority",
        ("case__team", admin.RelatedOnlyFieldListFilter),
        ("assignee", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "title",
        "case__patient__hospital_number",
        "case__patient__family_name",
        "case__patient__given_name",
    ]
    date_hierarchy = "due_date"
    list_select_related = ["case__patient", "case__team", "assignee"]
    actions = ["accept_selected", "assign_to_me", "complete_selected", "bulk_reassign"]
    readonly_fields = [
        "status",
        "status_reason",
        "status_changed_at",
        "created_by",
        "template",
        "anchor",
        "occurrence",
        "event_key",
        "agenda_item",
        "appointment",
        "completed_at",
        "completed_by",
        "completion_note",
        "created_at",
        "updated_at",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.readonly_fields
        # Who holds a task and what it is changes through assign and the status actions.
        return [*self.readonly_fields, "case", "role", "assignee"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "case" and not request.user.is_superuser:
            kwargs["queryset"] = Case.objects.filter(
                team_id__in=_teams(request), entered_in_error=False
            ).select_related("patient")
        if db_field.name == "assignee" and not request.user.is_superuser:
            kwargs["queryset"] = User.objects.filter(
                memberships__team_id__in=_teams(request), memberships__is_active=True
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Case", ordering="case__patient__hospital_number")
    def case_page(self, task: Task) -> str:
        patient = task.case.patient
        return format_html(
            '<a href="{}">{} {}</a>',
            reverse("admin:case_overview", args=[task.case_id]),
            patient.hospital_number,
            patient.family_name.upper(),
        )

    @admin.display(description="Overdue", boolean=True)
    def overdue_flag(self, task: Task) -> bool:
        from cases.services import team_today

        return task.is_open and task.due_date < team_today(task.case.team)

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            changed = {k: data[k] for k in form.changed_data if k in TaskForm.Meta.fields}
            changed = {k: v for k, v in changed.items() if k not in ("case", "role", "assignee")}
            if changed:
                services.task_update(actor=request.user, task=obj, **changed)
            return
        created = services.task_create(
            actor=request.user,
            case=data["case"],
            title=data["title"],
            details=data.get("details", ""),
            role=data["role"],
            due_date=data["due_date"],
            priority=data["priority"],
            assignee=data.get("assignee"),
        )
        obj.pk = created.pk

    @admin.action(description="Accept the selected tasks (take them on)")
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        done = sum(
            self._run(request, lambda t=task: services.task_accept(actor=request.user, task=t))
            for task in queryset
        )
        self.message_user(request, f"Accepted {done} task(s).")

    @admin.action(description="Assign the selected tasks to me")
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        done = sum(
            self._run(
                request,
                lambda t=task: services.task_assign(
                    actor=request.user, task=t, assignee=request.user
                ),
            )
            for task in queryset
        )
        self.message_user(request, f"Assigned {done} task(s) to you.")

    @admin.action(description="Complete the selected tasks")
    def complete_selected(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        done = sum(
            self._run(request, lambda t=task: services.task_complete(actor=request.user, task=t))
            for task in queryset
        )
        self.message_user(request, f"Completed {done} task(s).")

    @admin.action(description="Hand over the selected tasks (bulk reassign)")
    def bulk_reassign(self, request: HttpRequest, queryset: QuerySet[Task]) -> Any:
        teams = _teams(request) or list(queryset.values_list("case__team_id", flat=True))
        form = BulkReassignForm(request.POST if "apply" in request.POST else None, teams=teams)
        if "apply" in request.POST and form.is_valid():
            to_user = form.cleaned_data["to_user"]
            groups: dict[tuple[int, int], list[int]] = defaultdict(list)
            for task in queryset.filter(status__in=OPEN_STATUSES, assignee__isnull=False):
                groups[(task.case.team_id, task.assignee_id)].append(task.pk)  # type: ignore[index]
            moved = 0
            for (team_id, from_id), ids in groups.items():
                from cases.models import Team

                ok = self._run(
                    request,
                    lambda team_id=team_id, from_id=from_id, ids=ids: services.tasks_bulk_reassign(
                        actor=request.user,
                        team=Team.objects.get(pk=team_id),
                        from_user=User.objects.get(pk=from_id),
                        to_user=to_user,
                        task_ids=ids,
                    ),
                )
                moved += len(ids) if ok else 0
            self.message_user(request, f"Handed over {moved} task(s).")
            return None
        return TemplateResponse(
            request,
            "admin/scheduling/task/bulk_reassign.html",
            {
                **self.admin_site.each_context(request),
                "title": "Hand over tasks",
                "form": form,
                "tasks": queryset.select_related("case__patient", "assignee"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


# --- My work ----------------------------------------------------------------------------------


@admin.register(MyWork)
class MyWorkAdmin(admin.ModelAdmin):
    """The logged-in person's page: overdue, this week, next week, and their pools."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(access.team_ids(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(access.team_ids(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        calendar_url = None
        if request.method == "POST":
            calendar_url = self._post(request)
            if calendar_url is None:
                return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": "My work",
            "opts": self.model._meta,
            "work": selectors.my_work(request.user),
            "calendar_active": selectors.active_calendar_feed(request.user) is not None,
            "calendar_url": calendar_url,
            "today": timezone.localdate(),
        }
        return TemplateResponse(request, "admin/scheduling/my_work.html", context)

    def _post(self, request: HttpRequest) -> str | None:
        """Runs the button pressed; returns the new calendar address when one was issued."""
        what = request.POST.get("do", "")
        if what == "calendar-issue":
            from .api.views import calendar_url

            issued = services.calendar_feed_issue(user=request.user)
            return calendar_url(issued.token)
        if what == "calendar-revoke":
            services.calendar_feed_revoke(user=request.user)
            self.message_user(request, "Your calendar address no longer works.")
            return None
        task = get_object_or_404(selectors.tasks_for(request.user), pk=request.POST.get("task"))
        calls = {
            "accept": lambda: services.task_accept(actor=request.user, task=task),
            "start": lambda: services.task_start(actor=request.user, task=task),
            "complete": lambda: services.task_complete(
                actor=request.user, task=task, note=request.POST.get("note", "")
            ),
        }
        if what in calls:
            try:
                calls[what]()
                self.message_user(request, f"{task.title}: done ({what}).", messages.SUCCESS)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
        return None


# --- Task templates ---------------------------------------------------------------------------


class TaskTemplateForm(forms.ModelForm):
    surgery_kinds = forms.MultipleChoiceField(
        choices=SurgeryKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = TaskTemplate
        fields = [
            "team",
            "code",
            "title",
            "details",
            "role",
            "priority",
            "trigger",
            "stage",
            "surgery_kinds",
            "offset_days",
            "offset_months",
            "occurrences",
            "repeat_every",
            "repeat_unit",
            "auto_complete_on",
            "is_active",
        ]


@admin.register(TaskTemplate)
class TaskTemplateAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    form = TaskTemplateForm
    list_display = ["title", "role", "rule", "priority", "team", "is_active"]
    list_filter = [
        "trigger",
        "role",
        "is_active",
        "stage",
        ("team", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["title", "code"]
    list_select_related = ["team"]

    @admin.display(description="When")
    def rule(self, template: TaskTemplate) -> str:
        return template.describe_trigger()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_member(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_member(request)

    def _may_write(self, request: HttpRequest, obj: TaskTemplate | None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is not None and obj.team_id is None:
            return False
        teams = [obj.team_id] if obj is not None and obj.team_id else _teams(request)
        return any(
            perms.allowed("template.write", perms.team_grounds(request.user, t)) for t in teams
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_write(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and (obj is None or not obj.tasks.exists())

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaskTemplate]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        from django.db.models import Q

        return queryset.filter(Q(team__isnull=True) | Q(team_id__in=_teams(request)))

    def save_model(self, request: HttpRequest, obj: TaskTemplate, form: Any, change: bool) -> None:
        services.task_template_save(actor=request.user, template=obj)


# --- MDT meetings -----------------------------------------------------------------------------


def _may_write_meeting(request: HttpRequest, meeting: MdtMeeting | None) -> bool:
    if request.user.is_superuser:
        return True
    if meeting is not None:
        return perms.allowed("meeting.write", perms.meeting_grounds(request.user, meeting))
    return any(
        perms.allowed("meeting.write", perms.team_grounds(request.user, t)) for t in _teams(request)
    )


class AgendaItemForm(forms.ModelForm):
    decision_outcome = forms.ChoiceField(
        choices=[("", "---"), *DecisionOutcome.choices],
        required=False,
        label="Decision",
    )
    decision_reasons = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Reasons"
    )

    class Meta:
        model = MdtAgendaItem
        fields = ["case", "position", "question", "presenter", "minutes"]
        widgets = {
            "question": forms.Textarea(attrs={"rows": 2}),
            "minutes": forms.Textarea(attrs={"rows": 3}),
        }


class AgendaItemInline(ScopedChoicesMixin, admin.StackedInline):
    model = MdtAgendaItem
    form = AgendaItemForm
    extra = 1
    readonly_fields = ["recorded_decision"]
    fields = [
        "case",
        "position",
        "question",
        "presenter",
        "minutes",
        "recorded_decision",
        "decision_outcome",
        "decision_reasons",
    ]

    @admin.display(description="Recorded decision")
    def recorded_decision(self, item: MdtAgendaItem) -> str:
        if item.decision is None:
            return "-"
        return f"{item.decision.get_outcome_display()}: {item.decision.reasons}"

    # The meeting's own rule decides (MdtMeetingAdmin._may_write); the services check it
    # again for every item.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_member(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_write_meeting(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_write_meeting(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_write_meeting(request, obj)  # the service refuses once decided

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "case":
            kwargs["queryset"] = Case.objects.filter(
                entered_in_error=False,
                **({} if request.user.is_superuser else {"team_id__in": _teams(request)}),
            ).select_related("patient")
            kwargs["help_text"] = "A case in MDT review."
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(MdtMeeting)
class MdtMeetingAdmin(TeamScopedAdmin):
    team_path = "team_id"
    list_display = ["__str__", "team", "location", "chair", "case_count", "print_link"]
    list_filter = [("team", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "starts_at"
    fields = [
        "team",
        "starts_at",
        "ends_at",
        "location",
        "video_link",
        "chair",
        "attendees",
        "notes",
        "print_link",
    ]
    readonly_fields = ["print_link"]
    filter_horizontal = ["attendees"]
    inlines = [AgendaItemInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _may_write_meeting(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_write_meeting(request, obj)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "video_link":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="Cases")
    def case_count(self, meeting: MdtMeeting) -> int:
        return meeting.agenda_items.count()

    @admin.display(description="Agenda and minutes")
    def print_link(self, meeting: MdtMeeting) -> str:
        if not meeting.pk:
            return "-"
        url = reverse("admin:scheduling_mdtmeeting_print", args=[meeting.pk])
        return format_html('<a href="{}" target="_blank">Printable agenda and minutes</a>', url)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/print/",
                self.admin_site.admin_view(self.print_view),
                name="scheduling_mdtmeeting_print",
            ),
            *super().get_urls(),
        ]

    def print_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        queryset = selectors.meetings_for(request.user)
        if request.user.is_superuser:
            queryset = MdtMeeting.objects.all()
        meeting = get_object_or_404(queryset, pk=pk)
        return TemplateResponse(
            request,
            "admin/scheduling/mdtmeeting/print.html",
            {
                "meeting": meeting,
                "items": meeting.agenda_items.select_related(
                    "case__patient", "presenter", "decision"
                ).prefetch_related("actions__assignee"),
                "attendees": meeting.attendees.all(),
                "printed_at": timezone.now(),
            },
        )

    def save_model(self, request: HttpRequest, obj: MdtMeeting, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fields = ["starts_at", "ends_at", "location", "video_link", "chair", "notes"]
        if change:
            services.mdt_meeting_update(
                actor=request.user,
                meeting=obj,
                attendees=data.get("attendees"),
                **{k: data[k] for k in fields if k in form.changed_data},
            )
        else:
            created = services.mdt_meeting_create(
                actor=request.user,
                team=data["team"],
                attendees=data.get("attendees") or [],
                **{k: data.get(k) for k in fields if data.get(k) is not None},
            )
            obj.pk = created.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Attendees were set by the service; agenda items go through it one by one.
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # The admin's change message reads these, which formset.save() would have set.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        meeting = MdtMeeting.objects.get(pk=form.instance.pk)
        for item_form in formset.forms:
            if not item_form.has_changed() and not item_form.instance.pk:
                continue
            data = item_form.cleaned_data
            item = item_form.instance
            if data.get("DELETE") and item.pk:
                self._run(
                    request, lambda i=item: services.mdt_agenda_remove(actor=request.user, item=i)
                )
                continue
            if not item.pk:
                added = self._run(
                    request,
                    lambda d=data: services.mdt_agenda_add(
                        actor=request.user,
                        meeting=meeting,
                        case=d["case"],
                        question=d.get("question", ""),
                        presenter=d.get("presenter"),
                    ),
                )
                if not added:
                    continue
                item = MdtAgendaItem.objects.get(meeting=meeting, case=data["case"])
            else:
                changes = {
                    k: data[k]
                    for k in ("position", "question", "presenter", "minutes")
                    if k in item_form.changed_data
                }
                if changes:
                    self._run(
                        request,
                        lambda i=item, c=changes: services.mdt_agenda_update(
                            actor=request.user, item=i, **c
                        ),
                    )
            if data.get("decision_outcome"):
                self._run(
                    request,
                    lambda i=item, d=data: services.mdt_decision_record_from_meeting(
                        actor=request.user,
                        item=i,
                        outcome=d["decision_outcome"],
                        reasons=d.get("decision_reasons", ""),
                    ),
                    "Decision recorded. It moves no stage by itself.",
                )


# --- Appointments -----------------------------------------------------------------------------


@admin.register(Appointment)
class AppointmentAdmin(TeamScopedAdmin):
    list_display = ["__str__", "case", "location", "status"]
    list_filter = ["kind", "status", ("case__team", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "starts_at"
    fields = ["case", "kind", "starts_at", "ends_at", "location", "clinicians", "notes", "status"]
    readonly_fields = ["status"]
    filter_horizontal = ["clinicians"]
    list_select_related = ["case__patient"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "case" and not request.user.is_superuser:
            kwargs["queryset"] = Case.objects.filter(
                team_id__in=_teams(request), entered_in_error=False
            ).exclude(stage__in=[Stage.DECLINED, Stage.WITHDRAWN])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Appointment, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fields = ["kind", "starts_at", "ends_at", "location", "notes"]
        if change:
            services.appointment_update(
                actor=request.user,
                appointment=obj,
                clinicians=data.get("clinicians"),
                **{k: data[k] for k in fields if k in form.changed_data},
            )
        else:
            created = services.appointment_book(
                actor=request.user,
                case=data["case"],
                clinicians=data.get("clinicians") or [],
                **{k: data[k] for k in fields},
            )
            obj.pk = created.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Clinicians were set by the service."""


@admin.register(DigestPreference)
class DigestPreferenceAdmin(admin.ModelAdmin):
    """Each person edits their own email preference ("mine/" creates it on first visit)."""

    list_display = ["user", "weekly_digest", "updated_at"]
    fields = ["weekly_digest"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestPreference]:
        qs = super().get_queryset(request).select_related("user")
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request) and (
            obj is None or obj.user_id == request.user.pk or request.user.is_superuser
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        mine = path(
            "mine/",
            self.admin_site.admin_view(self.mine_view),
            name="scheduling_digestpreference_mine",
        )
        return [mine, *super().get_urls()]

    def mine_view(self, request: HttpRequest) -> HttpResponseRedirect:
        preference, _ = DigestPreference.objects.get_or_create(user=request.user)
        return HttpResponseRedirect(
            reverse("admin:scheduling_digestpreference_change", args=[preference.pk])
        )


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    """The weekly email's delivery log: sent, pending, failed (with the error)."""

    list_display = ["user", "week", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "iso_year", "iso_week"]
    search_fields = ["user__username", "message_id"]
    readonly_fields = [
        "user",
        "iso_year",
        "iso_week",
        "status",
        "attempts",
        "created_at",
        "claimed_at",
        "sent_at",
        "message_id",
        "last_error",
    ]

    @admin.display(description="Week")
    def week(self, obj: DigestDelivery) -> str:
        return f"{obj.iso_year}-W{obj.iso_week:02d}"

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestDelivery]:
        qs = super().get_queryset(request).select_related("user")
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Webhooks ---------------------------------------------------------------------------------
# Subscriptions are changed through scheduling.webhooks (coordinators only, addresses checked);
# the delivery log is read-only, with a "send again" action for failed deliveries.
from .models import (  # noqa: E402  (kept with the webhook admins it serves)
    WebhookDelivery,
    WebhookEventType,
    WebhookSubscription,
)
from .webhooks import (  # noqa: E402
    UnsafeTarget,
    check_target,
    deliveries_redeliver,
    new_secret,
    subscription_create,
    subscription_pause,
    subscription_resume,
    subscription_update,
)


class WebhookSubscriptionForm(forms.ModelForm):
    # A plain string: the scheme and address rules (and their messages) are clean_target_url's.
    target_url = forms.CharField(max_length=500, widget=forms.URLInput(attrs={"size": 80}))
    event_types = forms.MultipleChoiceField(
        choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        required=False,
        max_length=128,
        help_text="Signs every request. A new subscription gets this generated one: copy it "
        "into the receiving system now, it is not shown again. On an existing subscription, "
        "leave empty to keep the secret, or enter a new one to rotate it.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["team", "description", "target_url", "event_types", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["secret"].initial = new_secret()
        else:
            self.initial["secret"] = ""  # never shown again
            self.fields["secret"].widget = forms.PasswordInput(render_value=False)

    def clean_target_url(self) -> str:
        try:
            return check_target(self.cleaned_data["target_url"]).url
        except UnsafeTarget as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(TeamScopedAdmin):
    form = WebhookSubscriptionForm
    team_path = "team_id"
    list_display = [
        "__str__",
        "team",
        "target_url",
        "event_list",
        "active",
        "state",
        "consecutive_failures",
        "owner",
    ]
    list_filter = ["active", ("team", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["team", "owner"]
    search_fields = ["description", "target_url"]
    actions = ["pause_selected", "resume_selected"]
    fields = [
        "team",
        "description",
        "target_url",
        "event_types",
        "active",
        "secret",
        "owner",
        "consecutive_failures",
        "paused_at",
        "paused_reason",
        "created_at",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = ["owner", "consecutive_failures", "paused_at", "paused_reason", "created_at"]
        return ["team", *fixed] if obj is not None else fixed

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "team" and not request.user.is_superuser:
            from cases.models import Team

            kwargs["queryset"] = Team.objects.filter(pk__in=_teams(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Events")
    def event_list(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.event_types or [])

    @admin.display(description="State")
    def state(self, obj: WebhookSubscription) -> str:
        if not obj.active:
            return "switched off"
        return f"paused {obj.paused_at:%Y-%m-%d %H:%M}" if obj.paused_at else "delivering"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = subscription_create(
                actor=request.user,
                team=data["team"],
                target_url=data["target_url"],
                event_types=data["event_types"],
                description=data.get("description", ""),
                secret=data.get("secret", ""),
                active=data.get("active", True),
            )
            obj.pk = created.subscription.pk
            return
        editable = {"description", "target_url", "event_types", "active"}
        changes = {name: data[name] for name in form.changed_data if name in editable}
        if data.get("secret"):
            changes["secret"] = data["secret"]
        if changes:
            subscription_update(actor=request.user, subscription=obj.pk, **changes)

    @admin.action(description="Pause the selected subscriptions")
    def pause_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for subscription in queryset:
            self._run(
                request,
                lambda s=subscription: subscription_pause(actor=request.user, subscription=s),
                f"Paused {subscription}.",
            )

    @admin.action(description="Resume the selected subscriptions (held events are sent)")
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for subscription in queryset:
            self._run(
                request,
                lambda s=subscription: subscription_resume(actor=request.user, subscription=s),
                f"Resumed {subscription}.",
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TeamScopedAdmin):
    """The delivery log: every event to every subscription, with the last attempt's status
    code, response time and error."""

    team_path = "subscription__team_id"
    list_display = [
        "created_at",
        "event_type",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "response_time",
        "last_error",
        "delivered_at",
    ]
    list_filter = [
        "status",
        "event__event_type",
        ("subscription", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["event", "subscription"]
    search_fields = ["=event__event_id", "last_error"]
    date_hierarchy = "created_at"
    actions = ["redeliver"]
    readonly_fields = (
        "subscription",
        "event_id",
        "event_type",
        "occurred_at",
        "payload",
        "status",
        "attempts",
        "last_status_code",
        "response_time",
        "last_error",
        "next_attempt_at",
        "claimed_at",
        "delivered_at",
        "created_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Event", ordering="event__event_type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.event_type

    @admin.display(description="Event id")
    def event_id(self, obj: WebhookDelivery) -> str:
        return str(obj.event.event_id)

    @admin.display(description="Occurred at")
    def occurred_at(self, obj: WebhookDelivery) -> Any:
        return obj.event.occurred_at

    @admin.display(description="Payload data")
    def payload(self, obj: WebhookDelivery) -> str:
        import json

        return format_html("<pre>{}</pre>", json.dumps(obj.event.data, indent=2, sort_keys=True))

    @admin.display(description="Response time", ordering="last_response_ms")
    def response_time(self, obj: WebhookDelivery) -> str:
        return "" if obj.last_response_ms is None else f"{obj.last_response_ms} ms"

    @admin.action(description="Send the selected failed deliveries again")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        deliveries = list(queryset)
        if self._run(
            request, lambda: deliveries_redeliver(actor=request.user, deliveries=deliveries)
        ):
            self.message_user(request, "The failed deliveries among them were queued again.")
