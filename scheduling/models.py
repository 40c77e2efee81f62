"""Who does what, when: tasks and their templates, MDT meetings, appointments, calendar feeds.

Writes go through scheduling.services; these classes hold data, constraints and small derived
properties only.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cases.models import Case, MdtDecision, Team, TimePoint
from cases.pathway import Stage, SurgeryKind
from cases.roles import Role

from .generation import (
    MAX_OCCURRENCES,
    MAX_OFFSET_DAYS,
    MAX_OFFSET_MONTHS,
    RepeatUnit,
    TemplateSpec,
    Trigger,
    spec_errors,
)


class TaskStatus(models.TextChoices):
    """The FHIR Task status codes that fit an MDT's work (hl7.org/fhir/task-status)."""

    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in-progress", "In progress"
    ON_HOLD = "on-hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES: tuple[str, ...] = (
    TaskStatus.REQUESTED,
    TaskStatus.ACCEPTED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.ON_HOLD,
)
CLOSED_STATUSES: tuple[str, ...] = (TaskStatus.COMPLETED, TaskStatus.CANCELLED)

# action: (the statuses it may start from, the status it leaves). Completed and cancelled are
# final: a task done in error is cancelled, and new work is a new task.
STATUS_MOVES: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({TaskStatus.REQUESTED}), TaskStatus.ACCEPTED),
    "start": (
        frozenset({TaskStatus.REQUESTED, TaskStatus.ACCEPTED, TaskStatus.ON_HOLD}),
        TaskStatus.IN_PROGRESS,
    ),
    "hold": (
        frozenset({TaskStatus.REQUESTED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS}),
        TaskStatus.ON_HOLD,
    ),
    "complete": (frozenset(OPEN_STATUSES), TaskStatus.COMPLETED),
    "cancel": (frozenset(OPEN_STATUSES), TaskStatus.CANCELLED),
}


class Priority(models.TextChoices):
    ROUTINE = "routine", "Routine"
    SOON = "soon", "Soon"
    URGENT = "urgent", "Urgent"


# For ordering: higher is more pressing.
PRIORITY_RANK = {Priority.ROUTINE: 0, Priority.SOON: 1, Priority.URGENT: 2}


class AutoComplete(models.TextChoices):
    NEVER = "", "Never (done by hand)"
    MDT_AGENDA = "mdt_agenda", "When the case is put on an MDT agenda"


class TaskTemplate(models.Model):
    """A rule the team edits as data: "when X happens, create task T for role R, due D later"."""

    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="task_templates",
        null=True,
        blank=True,
        help_text="Empty: used by every team.",
    )
    code = models.SlugField(
        max_length=80, help_text="Stable identifier, e.g. 'assessment-xray-ct'."
    )
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    stage = models.CharField(
        max_length=20,
        choices=Stage.choices,
        blank=True,
        help_text="For 'on entering a stage': which stage.",
    )
    surgery_kinds = models.JSONField(
        default=list,
        blank=True,
        help_text="For surgery triggers: the surgery kinds that fire it.",
    )
    offset_days = models.IntegerField(
        default=0,
        help_text="Due this many days after the anchor (negative: before a planned surgery).",
    )
    offset_months = models.PositiveIntegerField(
        default=0, help_text="For 'months after rehabilitation starts': how many months."
    )
    occurrences = models.PositiveIntegerField(
        default=1, help_text=f"How many times (1 to {MAX_OCCURRENCES})."
    )
    repeat_every = models.PositiveIntegerField(
        null=True, blank=True, help_text="With more than one occurrence: the interval."
    )
    repeat_unit = models.CharField(
        max_length=8, choices=RepeatUnit.choices, default=RepeatUnit.WEEKS
    )
    auto_complete_on = models.CharField(
        max_length=20, choices=AutoComplete.choices, blank=True, default=AutoComplete.NEVER
    )
    outcome_time_point = models.CharField(
        max_length=12,
        choices=TimePoint.choices,
        blank=True,
        help_text="For outcome-measure tasks: the time point whose measures the task asks for. "
        "Its open tasks complete once every kind below is recorded for that time point.",
    )
    outcome_kinds = models.JSONField(
        default=list,
        blank=True,
        help_text="The outcome measures the task asks for, e.g. ["
        '"six_minute_walk", "timed_up_and_go", "k_level", "qtfa"].',
    )
    is_active = models.BooleanField(
        default=True,
        help_text="Switched off: generates nothing. A team template with the same code as a "
        "shared one replaces it for that team (switch it off to drop the shared one).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trigger", "stage", "offset_months", "offset_days", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "code"],
                condition=models.Q(team__isnull=False),
                name="tasktemplate_code_unique_in_team",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(team__isnull=True),
                name="tasktemplate_code_unique_shared",
            ),
            models.CheckConstraint(
                condition=models.Q(occurrences__gte=1, occurrences__lte=MAX_OCCURRENCES),
                name="tasktemplate_occurrences_range",
            ),
            models.CheckConstraint(
                condition=models.Q(occurrences=1)
                | models.Q(repeat_every__isnull=False, repeat_every__gte=1),
                name="tasktemplate_recurring_needs_interval",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    offset_days__gte=-MAX_OFFSET_DAYS, offset_days__lte=MAX_OFFSET_DAYS
                ),
                name="tasktemplate_offset_days_range",
            ),
            models.CheckConstraint(
                condition=models.Q(offset_months__lte=MAX_OFFSET_MONTHS),
                name="tasktemplate_offset_months_range",
            ),
            models.CheckConstraint(
                condition=models.Q(trigger__in=Trigger.values), name="tasktemplate_trigger_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="tasktemplate_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__in=Priority.values),
                name="tasktemplate_priority_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(trigger=Trigger.STAGE_ENTERED) | ~models.Q(stage=""),
                name="tasktemplate_stage_trigger_names_stage",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = spec_errors(self.as_spec())
        if errors:
            raise ValidationError(errors)

    def as_spec(self) -> TemplateSpec:
        return TemplateSpec(
            template_id=self.pk or 0,
            trigger=self.trigger,
            stage=self.stage,
            surgery_kinds=frozenset(self.surgery_kinds or ()),
            offset_days=self.offset_days,
            offset_months=self.offset_months,
            occurrences=self.occurrences,
            repeat_every=self.repeat_every,
            repeat_unit=self.repeat_unit,
        )

    def describe_trigger(self) -> str:
        """The rule in words, for the admin list: "7 days after a performed Stage 2 ..."."""
        kinds = ", ".join(
            SurgeryKind(k).label for k in self.surgery_kinds or () if k in SurgeryKind.values
        )
        days = f"{abs(self.offset_days)} day{'s' if abs(self.offset_days) != 1 else ''}"
        if self.trigger == Trigger.STAGE_ENTERED:
            stage = Stage(self.stage).label if self.stage in Stage.values else "a stage"
            when = f"{days} after entering {stage}"
        elif self.trigger == Trigger.SURGERY_PLANNED:
            side = "before" if self.offset_days < 0 else "after"
            when = f"{days} {side} the planned date of a {kinds}"
        elif self.trigger == Trigger.SURGERY_PERFORMED:
            when = f"{days} after a performed {kinds}"
        elif self.trigger == Trigger.REHAB_DAYS:
            when = f"{days} after rehabilitation starts"
        else:
            when = f"{self.offset_months} months after rehabilitation starts"
        if self.occurrences > 1:
            unit = RepeatUnit(self.repeat_unit).label.lower().rstrip("s")
            every = unit if self.repeat_every == 1 else f"{self.repeat_every} {unit}s"
            when += f", then every {every}, {self.occurrences} times in all"
        return when


class MdtMeeting(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="mdt_meetings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True)
    video_link = models.URLField(blank=True)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chaired_mdt_meetings",
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mdt_meetings"
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[attendees])

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = "MDT meeting"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="mdtmeeting_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"MDT {local:%Y-%m-%d %H:%M}"


class MdtAgendaItem(models.Model):
    """A case on a meeting's agenda, its minutes and (once recorded) its decision."""

    meeting = models.ForeignKey(MdtMeeting, on_delete=models.CASCADE, related_name="agenda_items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="mdt_agenda_items")
    position = models.PositiveIntegerField(default=0)
    question = models.TextField(blank=True, help_text="What the MDT is asked to decide.")
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    minutes = models.TextField(blank=True)
    decision = models.OneToOneField(
        MdtDecision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_item",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["meeting", "position", "id"]
        verbose_name = "MDT agenda item"
        constraints = [
            models.UniqueConstraint(fields=["meeting", "case"], name="agendaitem_case_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case} at {self.meeting}"


class AppointmentKind(models.TextChoices):
    CLINIC_REVIEW = "clinic_review", "Clinic review"
    REHAB_SESSION = "rehab_session", "Rehabilitation session"
    IMAGING = "imaging", "Imaging"
    SURGERY_PREASSESSMENT = "surgery_preassessment", "Surgery pre-assessment"


class AppointmentStatus(models.TextChoices):
    """FHIR Appointment status codes that a clinic uses after booking."""

    BOOKED = "booked", "Booked"
    FULFILLED = "fulfilled", "Attended"
    CANCELLED = "cancelled", "Cancelled"
    NOSHOW = "noshow", "Did not attend"


class Appointment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="appointments")
    kind = models.CharField(max_length=24, choices=AppointmentKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    clinicians = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="appointments"
    )
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    status_reason = models.CharField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[clinicians])

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="appointment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=AppointmentKind.values), name="appointment_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AppointmentStatus.values),
                name="appointment_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["case", "starts_at"], name="appointment_case_start")]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.get_kind_display()} {local:%Y-%m-%d %H:%M}"


class Task(models.Model):
    """A piece of work on a case for a role's pool, optionally assigned to one person.

    Generated tasks carry their natural key (case, template, anchor, occurrence): ``anchor``
    names the event they hang on ("transition:12" for a stage entry, "surgery:7:performed"),
    so that re-running generation never duplicates a task, while entering a stage a second
    time (mdt_review again after more information) gives fresh tasks. Tasks created from
    code for an event (rehab flags) carry ``event_key``, unique per case.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tasks",
    )
    due_date = models.DateField()
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    # Written only by scheduling.services.
    status = models.CharField(
        max_length=12, choices=TaskStatus.choices, default=TaskStatus.REQUESTED
    )
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when a template or the system created it.",
    )
    template = models.ForeignKey(
        TaskTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    anchor = models.CharField(max_length=60, blank=True)
    occurrence = models.PositiveIntegerField(null=True, blank=True)
    event_key = models.CharField(max_length=120, blank=True)
    agenda_item = models.ForeignKey(
        MdtAgendaItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
        help_text="The MDT discussion this task is an action of.",
    )
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        help_text="The appointment this task is booked into.",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completion_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "template", "anchor", "occurrence"],
                condition=models.Q(template__isnull=False),
                name="task_generated_natural_key",
            ),
            models.UniqueConstraint(
                fields=["case", "event_key"],
                condition=~models.Q(event_key=""),
                name="task_event_once_per_case",
            ),
            models.CheckConstraint(
                condition=models.Q(template__isnull=True) | models.Q(occurrence__gte=1),
                name="task_generated_has_occurrence",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=TaskStatus.values), name="task_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__in=Priority.values), name="task_priority_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="task_role_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=TaskStatus.COMPLETED)
                | models.Q(completed_at__isnull=False),
                name="task_completed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="task_status_due"),
            models.Index(fields=["assignee", "status"], name="task_assignee_status"),
            models.Index(fields=["role", "status"], name="task_role_status"),
            # "My open tasks" (the API's mine=true&status=open, the admin's My work): read in
            # due-date order and stop after a page; case_id lets the count skip the table.
            models.Index(
                fields=["assignee", "due_date", "case"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="task_assignee_open_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_generated(self) -> bool:
        return self.template_id is not None


class CalendarFeed(models.Model):
    """A person's secret calendar address. Only a hash of the token is stored: the address is
    shown once, when issued; a lost one is replaced by issuing a new one (which revokes it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendarfeed_one_active_per_user",
            ),
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"Calendar of {self.user} ({state})"


class MyWork(Task):
    """Admin entry point for the "My work" page (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "my work"
        verbose_name_plural = "my work"


class WorkerHeartbeat(models.Model):
    """Written by a Celery worker on beat's schedule: shows operators that workers and beat
    are alive and consuming from the broker."""

    worker = models.CharField(max_length=200)
    beat_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class DigestPreference(models.Model):
    """A person's choice about the weekly task email (on unless they switch it off)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference"
    )
    weekly_digest = models.BooleanField(default=True, help_text="Receive the weekly task email.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "email preference"
        verbose_name_plural = "email preferences"

    def __str__(self) -> str:
        return f"{self.user}: weekly digest {'on' if self.weekly_digest else 'off'}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class DigestDelivery(models.Model):
    """One weekly email to one person for one ISO week. The unique constraint plus the
    conditional claim (pending -> sending) make the send exactly-once: a second beat, a
    retried job or a redelivered message finds the row already claimed or sent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="digest_deliveries"
    )
    iso_year = models.PositiveSmallIntegerField()
    iso_week = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-iso_year", "-iso_week", "user_id"]
        verbose_name_plural = "digest deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "iso_year", "iso_week"], name="digestdelivery_once_per_week"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="digestdelivery_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(iso_week__gte=1, iso_week__lte=53),
                name="digestdelivery_week_range",
            ),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"], name="digest_status_claimed")]

    def __str__(self) -> str:
        return f"{self.user} {self.iso_year}-W{self.iso_week:02d} ({self.status})"


# --- Webhooks ---------------------------------------------------------------------------------
# Outgoing, signed notifications to hospital systems (scheduling/webhooks.py, README: Webhooks).


class WebhookEventType(models.TextChoices):
    CASE_STAGE_CHANGED = "case.stage_changed", "A case moved to another stage"
    TASK_CREATED = "task.created", "A task was created"
    TASK_COMPLETED = "task.completed", "A task was completed"
    TASK_OVERDUE = "task.overdue", "A task became overdue"
    REHAB_FLAG_RAISED = "rehab.flag_raised", "A rehabilitation safety flag was raised"
    COMPLICATION_RECORDED = "complication.recorded", "A complication was recorded"


class WebhookSubscription(models.Model):
    """A hospital system that wants to be told when something happens in a team.

    `secret` signs every request (HMAC-SHA256); it has to be kept as it is to sign with, so
    it is shown once, when generated, and never again by the API or the admin. Paused (by the
    service, after too many failed deliveries in a row): new events are kept for it and sent
    when a coordinator resumes it. Switched off (`active` false): nothing is kept for it."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="webhook_subscriptions")
    description = models.CharField(
        max_length=200, blank=True, help_text="Which system this is, e.g. 'EPR integration engine'."
    )
    target_url = models.URLField(max_length=500, help_text="Where events are POSTed (http/https).")
    secret = models.CharField(max_length=128)
    event_types = models.JSONField(default=list, help_text="The event types it receives.")
    active = models.BooleanField(default=True, help_text="Switched off: receives nothing.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="webhook_subscriptions",
        help_text="Emailed when the subscription is paused.",
    )
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries failed in a row (after their retries)."
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed the address or the event types, and when; never the secret.
    history = HistoricalRecords(excluded_fields=["secret", "consecutive_failures", "updated_at"])

    class Meta:
        ordering = ["team", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(paused_at__isnull=False) | models.Q(paused_reason=""),
                name="webhooksubscription_reason_only_when_paused",
            ),
        ]

    def __str__(self) -> str:
        return self.description or self.target_url

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def listens_to(self, event_type: str) -> bool:
        return event_type in (self.event_types or ())


class WebhookEvent(models.Model):
    """The outbox: one row per thing that happened, written in the transaction that made it
    happen, so an event exists if and only if its change committed. `key` names the occurrence
    ("task.overdue:12:2026-03-01"): unique, so emitting the same occurrence twice (a repeated
    signal, a second run of the overdue check) writes nothing. `event_id` is what receivers
    de-duplicate on. `data` holds ids and the changed fields: never names, dates of birth or
    free text."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.CharField(max_length=200, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="webhook_events")
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    data = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event_type__in=WebhookEventType.values),
                name="webhookevent_type_valid",
            ),
        ]
        indexes = [models.Index(fields=["team", "occurred_at"], name="webhookevent_team_time")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event to one subscription: unique, claimed (pending -> sending) by one conditional
    UPDATE before each attempt, so a job that runs twice sends once. Also the delivery log:
    status code, response time and error of the last attempt."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="webhookdelivery_once_per_subscription"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=WebhookDeliveryStatus.values),
                name="webhookdelivery_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=WebhookDeliveryStatus.DELIVERED)
                | models.Q(delivered_at__isnull=False),
                name="webhookdelivery_delivered_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due"),
            models.Index(fields=["subscription", "created_at"], name="webhookdelivery_sub_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription} ({self.status})"
