"""Serializers with explicit field lists. Output serializers are read-only; input serializers
carry only what a caller may set (status, creator, completion and the natural key are the
server's)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import access
from cases.models import AmputationLevel, Case, OutcomeKind, Side, Team
from cases.pathway import DecisionOutcome, SurgeryKind
from cases.roles import Role
from cases.services import team_today
from osseo_mdt.api.formats import iso_date, iso_datetime

from ..models import (
    OPEN_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    MdtAgendaItem,
    MdtMeeting,
    Priority,
    Task,
    TaskTemplate,
)

User = get_user_model()


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _today_for(context: dict[str, Any], team: Team) -> date:
    """Today in the team's zone, worked out once per team and request (context["todays"])."""
    todays = context.get("todays")
    if todays is None:
        return team_today(team)
    if team.pk not in todays:
        todays[team.pk] = team_today(team)
    return todays[team.pk]


@extend_schema_field(OpenApiTypes.INT)
class _Scoped(serializers.PrimaryKeyRelatedField):
    """A primary key among the records the caller may see: anything else is "does not exist"
    (400), never a hint that it exists in another team."""

    def __init__(self, scope: str, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        user = self.context["request"].user
        teams = access.team_ids(user)
        if self.scope == "case":
            return Case.objects.filter(team_id__in=teams, entered_in_error=False)
        if self.scope == "team":
            return Team.objects.filter(pk__in=teams)
        if self.scope == "appointment":
            return Appointment.objects.filter(case__team_id__in=teams)
        # Colleagues: people with an active membership in one of the caller's teams.
        return User.objects.filter(
            memberships__team_id__in=teams, memberships__is_active=True
        ).distinct()


def case_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return _Scoped("case", **kwargs)


def colleague_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return _Scoped("user", **kwargs)


# --- Tasks ------------------------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer[Task]):
    case_label = serializers.SerializerMethodField()
    team = serializers.IntegerField(source="case.team_id", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    is_overdue = serializers.SerializerMethodField()
    is_generated = serializers.BooleanField(read_only=True)
    template_code = serializers.CharField(source="template.code", read_only=True, default="")

    class Meta:
        model = Task
        fields = [
            "id",
            "case",
            "case_label",
            "team",
            "title",
            "details",
            "role",
            "assignee",
            "assignee_name",
            "due_date",
            "priority",
            "status",
            "status_reason",
            "is_overdue",
            "is_generated",
            "template",
            "template_code",
            "occurrence",
            "event_key",
            "agenda_item",
            "appointment",
            "created_by",
            "created_at",
            "updated_at",
            "completed_at",
            "completed_by",
            "completion_note",
        ]
        read_only_fields = fields

    def get_case_label(self, task: Task) -> str:
        return str(task.case)

    def get_assignee_name(self, task: Task) -> str:
        return _name(task.assignee)

    def get_is_overdue(self, task: Task) -> bool:
        return task.status in OPEN_STATUSES and task.due_date < _today_for(
            self.context, task.case.team
        )

    def to_representation(self, task: Task) -> dict[str, Any]:
        # The same keys and formats as the declared fields (which give the OpenAPI schema),
        # written out by hand: DRF's field-by-field path took most of a list request's time
        # (bench/RESULTS.md). tests/scheduling/test_task_api.py compares the two.
        case = task.case
        template = task.template
        return {
            "id": task.pk,
            "case": task.case_id,
            "case_label": str(case),
            "team": case.team_id,
            "title": task.title,
            "details": task.details,
            "role": task.role,
            "assignee": task.assignee_id,
            "assignee_name": _name(task.assignee),
            "due_date": iso_date(task.due_date),
            "priority": task.priority,
            "status": task.status,
            "status_reason": task.status_reason,
            "is_overdue": self.get_is_overdue(task),
            "is_generated": task.is_generated,
            "template": task.template_id,
            "template_code": template.code if template is not None else "",
            "occurrence": task.occurrence,
            "event_key": task.event_key,
            "agenda_item": task.agenda_item_id,
            "appointment": task.appointment_id,
            "created_by": task.created_by_id,
            "created_at": iso_datetime(task.created_at),
            "updated_at": iso_datetime(task.updated_at),
            "completed_at": iso_datetime(task.completed_at),
            "completed_by": task.completed_by_id,
            "completion_note": task.completion_note,
        }

    def field_by_field(self, task: Task) -> dict[str, Any]:
        """DRF's own representation, for the test that keeps the fast path honest."""
        return dict(super().to_representation(task))


_SIDES = dict(Side.choices)
_LEVELS = dict(AmputationLevel.choices)


def task_row(row: dict[str, Any], todays: dict[int, date]) -> dict[str, Any]:
    """A row of scheduling.selectors.TASK_ROW_FIELDS in TaskSerializer's shape (the task list's
    read path; tests/scheduling/test_task_api.py checks that the two agree)."""
    team_id = row["case__team_id"]
    today = todays.get(team_id)
    if today is None:
        today = todays[team_id] = team_today(
            Team(pk=team_id, time_zone=row["case__team__time_zone"])
        )
    limb = f"{_SIDES.get(row['case__side'], row['case__side'])} " + str(
        _LEVELS.get(row["case__amputation_level"], row["case__amputation_level"])
    )
    if row["assignee_id"] is None:
        assignee_name = ""
    else:
        full = f"{row['assignee__first_name']} {row['assignee__last_name']}".strip()
        assignee_name = full or row["assignee__username"]
    return {
        "id": row["id"],
        "case": row["case_id"],
        "case_label": f"{row['case__patient__hospital_number']} {limb.lower()}",
        "team": team_id,
        "title": row["title"],
        "details": row["details"],
        "role": row["role"],
        "assignee": row["assignee_id"],
        "assignee_name": assignee_name,
        "due_date": iso_date(row["due_date"]),
        "priority": row["priority"],
        "status": row["status"],
        "status_reason": row["status_reason"],
        "is_overdue": row["status"] in OPEN_STATUSES and row["due_date"] < today,
        "is_generated": row["template_id"] is not None,
        "template": row["template_id"],
        "template_code": row["template__code"] or "",
        "occurrence": row["occurrence"],
        "event_key": row["event_key"],
        "agenda_item": row["agenda_item_id"],
        "appointment": row["appointment_id"],
        "created_by": row["created_by_id"],
        "created_at": iso_datetime(row["created_at"]),
        "updated_at": iso_datetime(row["updated_at"]),
        "completed_at": iso_datetime(row["completed_at"]),
        "completed_by": row["completed_by_id"],
        "completion_note": row["completion_note"],
    }


class TaskCreateSerializer(serializers.Serializer):
    case = case_field()
    title = serializers.CharField(max_length=200)
    details = serializers.CharField(required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=Role.choices)
    assignee = colleague_field(required=False, allow_null=True, default=None)
    due_date = serializers.DateField()
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.ROUTINE)


class TaskUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    details = serializers.CharField(required=False, allow_blank=True)
    due_date = serializers.DateField(required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)


class TaskAssignSerializer(serializers.Serializer):
    assignee = colleague_field(
        allow_null=True, help_text="A person holding the task's role; null: back to the pool."
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CompleteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TaskBookSerializer(serializers.Serializer):
    appointment = _Scoped(
        "appointment", allow_null=True, help_text="An appointment of the task's case; null: unbook."
    )


class BulkReassignSerializer(serializers.Serializer):
    team = _Scoped("team")
    from_user = colleague_field()
    to_user = colleague_field(allow_null=True, help_text="null: back to each task's pool.")
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    tasks = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Only these tasks (default: all the person's open tasks in the team).",
    )


class BulkReassignResultSerializer(serializers.Serializer):
    reassigned = serializers.IntegerField()


# --- Task templates ---------------------------------------------------------------------------


class TaskTemplateSerializer(serializers.ModelSerializer[TaskTemplate]):
    surgery_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=SurgeryKind.choices), required=False
    )
    description = serializers.CharField(source="describe_trigger", read_only=True)
    outcome_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=OutcomeKind.choices), required=False
    )
    team = _Scoped(
        "team",
        allow_null=True,
        help_text="The team whose template this is (shared: null, read-only).",
    )

    def validate_team(self, team: Team | None) -> Team:
        if team is None:
            raise serializers.ValidationError("Shared templates are edited by an administrator.")
        return team

    class Meta:
        model = TaskTemplate
        fields = [
            "id",
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
            "outcome_time_point",
            "outcome_kinds",
            "is_active",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "description", "created_at", "updated_at"]
        # The model's constraints and clean() are checked by the service, which names the
        # field; DRF's own unique-together guesses are left out.
        validators: list[Any] = []


# --- MDT meetings -----------------------------------------------------------------------------


class DecisionSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=DecisionOutcome.choices)
    reasons = serializers.CharField()
    meeting_date = serializers.DateField()


class ActionSummarySerializer(serializers.ModelSerializer[Task]):
    assignee_name = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["id", "title", "role", "assignee", "assignee_name", "due_date", "status"]
        read_only_fields = fields

    def get_assignee_name(self, task: Task) -> str:
        return _name(task.assignee)


class AgendaItemSerializer(serializers.ModelSerializer[MdtAgendaItem]):
    case_label = serializers.SerializerMethodField()
    case_stage = serializers.CharField(source="case.stage", read_only=True)
    decision = DecisionSummarySerializer(read_only=True, allow_null=True)
    actions = ActionSummarySerializer(many=True, read_only=True)

    class Meta:
        model = MdtAgendaItem
        fields = [
            "id",
            "case",
            "case_label",
            "case_stage",
            "position",
            "question",
            "presenter",
            "minutes",
            "decision",
            "actions",
            "added_by",
            "added_at",
        ]
        read_only_fields = fields

    def get_case_label(self, item: MdtAgendaItem) -> str:
        return str(item.case)


class MdtMeetingSerializer(serializers.ModelSerializer[MdtMeeting]):
    chair_name = serializers.SerializerMethodField()
    agenda = AgendaItemSerializer(source="agenda_items", many=True, read_only=True)

    class Meta:
        model = MdtMeeting
        fields = [
            "id",
            "team",
            "starts_at",
            "ends_at",
            "location",
            "video_link",
            "chair",
            "chair_name",
            "attendees",
            "notes",
            "agenda",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_chair_name(self, meeting: MdtMeeting) -> str:
        return _name(meeting.chair)


class MdtMeetingWriteSerializer(serializers.Serializer):
    team = _Scoped("team")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    location = serializers.CharField(required=False, allow_blank=True, default="")
    video_link = serializers.URLField(required=False, allow_blank=True, default="")
    chair = colleague_field(required=False, allow_null=True, default=None)
    attendees = colleague_field(many=True, required=False, default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class MdtMeetingUpdateSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    location = serializers.CharField(required=False, allow_blank=True)
    video_link = serializers.URLField(required=False, allow_blank=True)
    chair = colleague_field(required=False, allow_null=True)
    attendees = colleague_field(many=True, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class AgendaItemCreateSerializer(serializers.Serializer):
    case = case_field()
    question = serializers.CharField(required=False, allow_blank=True, default="")
    presenter = colleague_field(required=False, allow_null=True, default=None)


class AgendaItemUpdateSerializer(serializers.Serializer):
    question = serializers.CharField(required=False, allow_blank=True)
    minutes = serializers.CharField(required=False, allow_blank=True)
    presenter = colleague_field(required=False, allow_null=True)
    position = serializers.IntegerField(required=False, min_value=0)


class MeetingDecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DecisionOutcome.choices)
    reasons = serializers.CharField()


class MeetingActionSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    role = serializers.ChoiceField(choices=Role.choices)
    assignee = colleague_field(required=False, allow_null=True, default=None)
    due_date = serializers.DateField()
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.ROUTINE)
    details = serializers.CharField(required=False, allow_blank=True, default="")


# --- Appointments -----------------------------------------------------------------------------


class AppointmentSerializer(serializers.ModelSerializer[Appointment]):
    case_label = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "case",
            "case_label",
            "kind",
            "starts_at",
            "ends_at",
            "location",
            "clinicians",
            "status",
            "status_reason",
            "notes",
            "tasks",
            "booked_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_case_label(self, appointment: Appointment) -> str:
        return str(appointment.case)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_tasks(self, appointment: Appointment) -> list[int]:
        return [task.pk for task in appointment.tasks.all()]


class AppointmentCreateSerializer(serializers.Serializer):
    case = case_field()
    kind = serializers.ChoiceField(choices=AppointmentKind.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    location = serializers.CharField(required=False, allow_blank=True, default="")
    clinicians = colleague_field(many=True, required=False, default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AppointmentUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AppointmentKind.choices, required=False)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    location = serializers.CharField(required=False, allow_blank=True)
    clinicians = colleague_field(many=True, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class AppointmentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=AppointmentStatus.choices, help_text="fulfilled, noshow or cancelled."
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- Calendar feed ----------------------------------------------------------------------------


class CalendarFeedSerializer(serializers.Serializer):
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField(
        allow_null=True, help_text="Shown only once, when issued. Keep it secret."
    )
