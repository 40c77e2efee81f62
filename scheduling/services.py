"""Every write to tasks, templates, meetings, appointments and calendar feeds: atomic,
permission-checked (scheduling.permissions), locked where two people could race, audited
(django-simple-history rows, with the actor)."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from cases import services as case_services
from cases.errors import Conflict, NotPermitted, RuleViolation
from cases.models import (
    Case,
    MdtDecision,
    MembershipRole,
    StageTransition,
    Surgery,
    Team,
)
from cases.pathway import CLOSED_STAGES, Stage
from cases.roles import Role

from . import generation
from . import permissions as perms
from .models import (
    OPEN_STATUSES,
    STATUS_MOVES,
    Appointment,
    AppointmentStatus,
    AutoComplete,
    CalendarFeed,
    MdtAgendaItem,
    MdtMeeting,
    Priority,
    Task,
    TaskStatus,
    TaskTemplate,
    Trigger,
)
from .signals import task_completed, task_created

# --- Helpers ----------------------------------------------------------------------------------


def _validated(obj: models.Model, exclude: Iterable[str] = ()) -> None:
    """Field validators, model.clean and constraints; a failure is a 400 naming the field."""
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        fields = exc.message_dict
        name, messages = next(iter(fields.items()))
        label = "non_field_errors" if name == "__all__" else name
        if name == "__all__":
            fields = {
                "non_field_errors": messages,
                **{k: v for k, v in fields.items() if k != name},
            }
        raise RuleViolation(f"{label}: {messages[0]}", fields=fields) from exc


def _save(obj: models.Model, actor: Any, reason: str = "", **kwargs: Any) -> None:
    obj._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
    if reason:
        obj._change_reason = reason  # type: ignore[attr-defined]
    obj.save(**kwargs)


def _display(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _require_role_holder(team: Team, user: Any, role: str, field: str) -> None:
    holds = MembershipRole.objects.filter(
        membership__team=team,
        membership__user_id=user.pk,
        membership__is_active=True,
        role=role,
    ).exists()
    if not holds:
        raise RuleViolation.on(
            field,
            f"{_display(user)} does not hold the {Role(role).label.lower()} role in {team.name}.",
        )


def _check_due_date(case: Case, due_date: date | None) -> None:
    if due_date is None:
        raise RuleViolation.on("due_date", "A task needs a due date.")
    if due_date < case.referral_date:
        raise RuleViolation.on(
            "due_date",
            f"may not be before the case's referral date ({case.referral_date.isoformat()}).",
        )


def _locked_task(task: Task | int) -> Task:
    pk = task if isinstance(task, int) else task.pk
    # of=("self",): lock the task row only, not the joined case, team and user rows.
    return (
        Task.objects.select_for_update(of=("self",))
        .select_related("case__team", "assignee", "template")
        .get(pk=pk)
    )


# --- Tasks ------------------------------------------------------------------------------------


@transaction.atomic
def task_create(
    *,
    actor: Any,
    case: Case,
    title: str,
    role: str,
    due_date: date,
    details: str = "",
    priority: str = Priority.ROUTINE,
    assignee: Any = None,
    agenda_item: MdtAgendaItem | None = None,
) -> Task:
    case = Case.objects.select_related("team").get(pk=case.pk)
    perms.require("task.create", perms.team_grounds(actor, case.team_id))
    if role not in Role.values:
        raise RuleViolation.on("role", f"'{role}' is not a role.")
    _check_due_date(case, due_date)
    if assignee is not None:
        _require_role_holder(case.team, assignee, role, "assignee")
    task = Task(
        case=case,
        title=title.strip(),
        details=details,
        role=role,
        due_date=due_date,
        priority=priority,
        assignee=assignee,
        created_by=actor,
        agenda_item=agenda_item,
    )
    _validated(task, exclude=["case", "assignee", "agenda_item"])
    _save(task, actor)
    task_created.send(sender=Task, tasks=[task], actor=actor)
    return task


@transaction.atomic
def task_create_for_event(
    *,
    case: Case,
    role: str,
    title: str,
    due: date,
    event_key: str,
    priority: str = Priority.URGENT,
    details: str = "",
    actor: Any = None,
) -> Task:
    """A task the system raises for something that happened (a rehab flag, a complication),
    for a role's pool. Idempotent on (case, event_key): the same event raised twice, or by two
    racing workers, gives one task. No permission check: the caller is code acting on a
    recorded event; `actor` (who recorded it) is kept as the creator."""
    if role not in Role.values:
        raise RuleViolation.on("role", f"'{role}' is not a role.")
    if not event_key:
        raise RuleViolation.on("event_key", "An event task needs an event key.")
    case = Case.objects.select_related("team").get(pk=case.pk)
    due = max(due, case.referral_date)
    # get_or_create retries the read after an IntegrityError from a racing insert (the
    # task_event_once_per_case constraint), inside a savepoint.
    task, created = Task.objects.get_or_create(
        case=case,
        event_key=event_key,
        defaults={
            "title": title,
            "role": role,
            "due_date": due,
            "priority": priority,
            "details": details,
            "created_by": actor,
        },
    )
    if created:
        task_created.send(sender=Task, tasks=[task], actor=actor)
    return task


@transaction.atomic
def task_update(*, actor: Any, task: Task, **changes: Any) -> Task:
    """Change what a task is and when it is due (not its status, role or assignee)."""
    editable = {"title", "details", "due_date", "priority"}
    unknown = set(changes) - editable
    if unknown:
        raise RuleViolation(f"Cannot change {', '.join(sorted(unknown))} here.")
    task = _locked_task(task)
    perms.require("task.change", perms.task_grounds(actor, task))
    if not task.is_open:
        raise Conflict(f"The task is {task.status}; it can no longer be changed.")
    if "due_date" in changes:
        _check_due_date(task.case, changes["due_date"])
    for name, value in changes.items():
        setattr(task, name, value)
    _validated(task, exclude=["case", "assignee", "agenda_item", "appointment", "template"])
    _save(task, actor, update_fields=[*changes, "updated_at"])
    return task


def _refuse_closed(task: Task, doing: str) -> None:
    if task.status == TaskStatus.CANCELLED:
        why = f" ({task.status_reason})" if task.status_reason else ""
        raise Conflict(f"The task was cancelled{why}; it cannot be {doing}.")
    if task.status == TaskStatus.COMPLETED:
        raise Conflict(f"The task is already completed; it cannot be {doing}.")


def _move(
    *,
    actor: Any,
    task: Task | int,
    action: str,
    doing: str,
    reason: str = "",
    take_on: bool = False,
) -> Task:
    task = _locked_task(task)
    perms.require(f"task.{action}", perms.task_grounds(actor, task))
    allowed_from, to = STATUS_MOVES[action]
    _refuse_closed(task, doing)
    if task.status not in allowed_from:
        raise Conflict(f"A task that is {task.status} cannot be {doing}.")
    fields = ["status", "status_reason", "status_changed_at", "updated_at"]
    if take_on and task.assignee_id is None:
        # Taking on a task from the pool makes you its assignee.
        _require_role_holder(task.case.team, actor, task.role, "assignee")
        task.assignee = actor
        fields.append("assignee")
    task.status = to
    task.status_reason = reason
    task.status_changed_at = timezone.now()
    return _finish(task, actor, fields, reason)


def _finish(task: Task, actor: Any, fields: list[str], reason: str = "") -> Task:
    _save(task, actor, reason=reason, update_fields=fields)
    return task


@transaction.atomic
def task_accept(*, actor: Any, task: Task | int) -> Task:
    return _move(actor=actor, task=task, action="accept", doing="accepted", take_on=True)


@transaction.atomic
def task_start(*, actor: Any, task: Task | int) -> Task:
    return _move(actor=actor, task=task, action="start", doing="started", take_on=True)


@transaction.atomic
def task_hold(*, actor: Any, task: Task | int, reason: str) -> Task:
    if not reason.strip():
        raise RuleViolation.on("reason", "Say why the task is on hold.")
    return _move(actor=actor, task=task, action="hold", doing="put on hold", reason=reason[:500])


@transaction.atomic
def task_complete(*, actor: Any, task: Task | int, note: str = "") -> Task:
    task = _locked_task(task)
    perms.require("task.complete", perms.task_grounds(actor, task))
    _refuse_closed(task, "completed")
    now = timezone.now()
    task.status = TaskStatus.COMPLETED
    task.status_reason = ""
    task.status_changed_at = now
    task.completed_at = now
    task.completed_by = actor
    task.completion_note = note
    fields = ["status", "status_reason", "status_changed_at", "completed_at", "completed_by"]
    _finish(task, actor, [*fields, "completion_note", "updated_at"])
    task_completed.send(sender=Task, tasks=[task], actor=actor)
    return task


@transaction.atomic
def task_cancel(*, actor: Any, task: Task | int, reason: str) -> Task:
    if not reason.strip():
        raise RuleViolation.on("reason", "Say why the task is cancelled.")
    return _move(actor=actor, task=task, action="cancel", doing="cancelled", reason=reason[:500])


def _status_after_handover(task: Task) -> str:
    # The new assignee has not agreed to anything yet; a hold stays until someone resumes it.
    return TaskStatus.ON_HOLD if task.status == TaskStatus.ON_HOLD else TaskStatus.REQUESTED


@transaction.atomic
def task_assign(*, actor: Any, task: Task | int, assignee: Any) -> Task:
    """Assign to a person holding the task's role in the team, or (assignee=None) back to
    the role's pool."""
    task = _locked_task(task)
    perms.require("task.assign", perms.task_grounds(actor, task))
    _refuse_closed(task, "reassigned")
    if assignee is not None:
        _require_role_holder(task.case.team, assignee, task.role, "assignee")
    if (assignee.pk if assignee else None) == task.assignee_id:
        return task
    task.assignee = assignee
    task.status = _status_after_handover(task)
    task.status_changed_at = timezone.now()
    reason = f"assigned to {_display(assignee)}" if assignee else "back to the pool"
    fields = ["assignee", "status", "status_changed_at", "updated_at"]
    return _finish(task, actor, fields, reason)


@transaction.atomic
def tasks_bulk_reassign(
    *,
    actor: Any,
    team: Team,
    from_user: Any,
    to_user: Any = None,
    role: str | None = None,
    task_ids: Iterable[int] | None = None,
) -> int:
    """Hand over a person's open tasks in a team (e.g. a clinician who is leaving) to one
    colleague, or back to their pools (to_user=None). All or nothing: if the colleague lacks
    a role some of the tasks need, nothing moves and the error names the roles."""
    perms.require("tasks.bulk_reassign", perms.team_grounds(actor, team.pk))
    if to_user is not None and to_user.pk == from_user.pk:
        raise RuleViolation.on("to_user", "is the same person as from_user.")
    tasks_q = Task.objects.filter(
        case__team=team, assignee_id=from_user.pk, status__in=OPEN_STATUSES
    )
    if role:
        tasks_q = tasks_q.filter(role=role)
    if task_ids is not None:
        tasks_q = tasks_q.filter(pk__in=list(task_ids))
    tasks = list(tasks_q.select_for_update(of=("self",)).order_by("pk"))
    if to_user is not None and tasks:
        held = set(
            MembershipRole.objects.filter(
                membership__team=team, membership__user_id=to_user.pk, membership__is_active=True
            ).values_list("role", flat=True)
        )
        missing = sorted({t.role for t in tasks} - held)
        if missing:
            names = ", ".join(Role(r).label.lower() for r in missing)
            raise RuleViolation.on(
                "to_user", f"{_display(to_user)} does not hold the role(s) {names} in {team.name}."
            )
    now = timezone.now()
    for task in tasks:
        task.assignee = to_user
        task.status = _status_after_handover(task)
        task.status_changed_at = now
        task.updated_at = now
    reason = f"bulk reassigned from {_display(from_user)}"
    bulk_update_with_history(
        tasks,
        Task,
        ["assignee", "status", "status_changed_at", "updated_at"],
        default_user=actor,
        default_change_reason=reason,
    )
    return len(tasks)


@transaction.atomic
def task_book(*, actor: Any, task: Task | int, appointment: Appointment | None) -> Task:
    """Book an open task (e.g. a follow-up review) into an appointment of its case, or
    (appointment=None) take it out again."""
    task = _locked_task(task)
    perms.require("task.book", perms.task_grounds(actor, task))
    _refuse_closed(task, "booked")
    if appointment is not None:
        if appointment.case_id != task.case_id:
            raise RuleViolation.on("appointment", "belongs to another case.")
        if appointment.status != AppointmentStatus.BOOKED:
            raise Conflict(f"The appointment is {appointment.status}; book into a booked one.")
    task.appointment = appointment
    return _finish(task, actor, ["appointment", "updated_at"], "booked" if appointment else "")


# --- Generation -------------------------------------------------------------------------------


def _templates_for(team_id: int) -> list[TaskTemplate]:
    """The team's active templates: its own, and the shared ones it has not replaced (a team
    template with a shared template's code replaces it, switched on or off)."""
    rows = list(TaskTemplate.objects.filter(Q(team__isnull=True) | Q(team_id=team_id)))
    own_codes = {t.code for t in rows if t.team_id is not None}
    return [t for t in rows if t.is_active and (t.team_id is not None or t.code not in own_codes)]


def _insert_generated(
    case: Case, anchor: str, occurrences: list[generation.Occurrence], templates: dict[int, Any]
) -> int:
    """Insert the occurrences not there yet. The natural key (case, template, anchor,
    occurrence) is unique in the database and the insert is ON CONFLICT DO NOTHING, so a
    repeated signal, a retried job or a racing request never makes a second copy."""
    if not occurrences:
        return 0
    existing = set(
        Task.objects.filter(
            case=case, anchor=anchor, template_id__in={o.template_id for o in occurrences}
        ).values_list("template_id", "occurrence")
    )
    new = [
        Task(
            case=case,
            title=templates[o.template_id].title,
            details=templates[o.template_id].details,
            role=templates[o.template_id].role,
            priority=templates[o.template_id].priority,
            due_date=o.due,
            template_id=o.template_id,
            anchor=anchor,
            occurrence=o.occurrence,
        )
        for o in occurrences
        if (o.template_id, o.occurrence) not in existing
    ]
    Task.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        # ON CONFLICT DO NOTHING gives the rows no ids: read back the ones inserted (a racing
        # request's rows look the same; the webhook outbox's unique key absorbs that).
        wanted = {(t.template_id, t.occurrence) for t in new}
        inserted = [
            t
            for t in Task.objects.filter(
                case=case, anchor=anchor, template_id__in={k[0] for k in wanted}
            ).order_by("pk")
            if (t.template_id, t.occurrence) in wanted
        ]
        for task in inserted:
            task.case = case
        task_created.send(sender=Task, tasks=inserted, actor=None)
    return len(new)


def _generate(case: Case, anchor: str, event: generation.Event, skip_if_open: bool) -> int:
    templates = {t.pk: t for t in _templates_for(case.team_id)}
    if skip_if_open and templates:
        # Entering a stage again (mdt_review after more information) gives fresh tasks, except
        # where an earlier one is still open: nobody wants two open "put on the agenda" tasks.
        still_open = set(
            Task.objects.filter(case=case, template_id__in=templates, status__in=OPEN_STATUSES)
            .exclude(anchor=anchor)
            .values_list("template_id", flat=True)
        )
        templates = {
            pk: t
            for pk, t in templates.items()
            if not (t.trigger == Trigger.STAGE_ENTERED and pk in still_open)
        }
    specs = [t.as_spec() for t in templates.values()]
    occurrences = generation.plan(specs, event, not_before=case.referral_date)
    return _insert_generated(case, anchor, occurrences, templates)


def transition_anchor(transition: StageTransition) -> str:
    return f"transition:{transition.pk}"


def surgery_anchor(surgery: Surgery, performed: bool) -> str:
    return f"surgery:{surgery.pk}:{'performed' if performed else 'planned'}"


# No savepoint of its own: inside a stage move a failure here rolls the move back anyway.
@transaction.atomic(savepoint=False)
def tasks_generate_for_transition(*, transition: StageTransition) -> int:
    """Tasks for entering a stage (and for the start of rehabilitation). Idempotent."""
    # The case the move just locked and saved (loaded again only if it was not given).
    case = transition.case
    event = generation.StageEntered(
        transition.from_stage, transition.to_stage, transition.effective_date
    )
    return _generate(case, transition_anchor(transition), event, skip_if_open=True)


@transaction.atomic
def tasks_cancel_for_closed_case(*, case: Case, actor: Any, transition: StageTransition) -> int:
    """A case left the pathway: cancel its open generated tasks, giving that as the reason.
    Tasks people created by hand stay (a letter to write after a decline is still owed)."""
    stage = Stage(transition.to_stage).label.lower()
    reason = f"Case {stage}" + (f": {transition.reason}" if transition.reason else "")
    tasks = list(
        Task.objects.select_for_update(of=("self",))
        .filter(case=case, template__isnull=False, status__in=OPEN_STATUSES)
        .exclude(anchor=transition_anchor(transition))
        .order_by("pk")
    )
    now = timezone.now()
    for task in tasks:
        task.status = TaskStatus.CANCELLED
        task.status_reason = reason[:500]
        task.status_changed_at = now
        task.updated_at = now
    bulk_update_with_history(
        tasks,
        Task,
        ["status", "status_reason", "status_changed_at", "updated_at"],
        default_user=actor,
        default_change_reason=reason[:100],
    )
    return len(tasks)


def _move_anchored(case: Case, anchor: str, old: date, new: date, actor: Any) -> int:
    """Open generated tasks follow their anchor; completed and cancelled ones stay."""
    tasks = list(
        Task.objects.select_for_update(of=("self",))
        .filter(case=case, anchor=anchor, template__isnull=False, status__in=OPEN_STATUSES)
        .order_by("pk")
    )
    now = timezone.now()
    for task in tasks:
        task.due_date = generation.moved(task.due_date, old, new, not_before=case.referral_date)
        task.updated_at = now
    bulk_update_with_history(
        tasks,
        Task,
        ["due_date", "updated_at"],
        default_user=actor,
        default_change_reason=f"surgery date moved from {old} to {new}",
    )
    return len(tasks)


@transaction.atomic
def tasks_generate_for_surgery(
    *,
    surgery: Surgery,
    actor: Any = None,
    previous_performed_date: date | None = None,
    previous_planned_date: date | None = None,
) -> int:
    """Tasks hanging on a surgery's planned and performed dates; when a date moves, the open
    ones move with it. Idempotent."""
    case = Case.objects.get(pk=surgery.case_id)
    if surgery.entered_in_error:
        return 0
    count = 0
    for performed, now, before in (
        (False, surgery.planned_date, previous_planned_date),
        (True, surgery.performed_date, previous_performed_date),
    ):
        if now is None:
            continue
        anchor = surgery_anchor(surgery, performed)
        if before is not None and before != now:
            count += _move_anchored(case, anchor, before, now, actor)
        event = generation.SurgeryDated(surgery.kind, now, performed)
        count += _generate(case, anchor, event, skip_if_open=False)
    return count


@transaction.atomic
def tasks_generate_for_case(*, case: Case) -> int:
    """Bring a case's generated tasks up to date with where it is now: its entry into the
    current stage, its rehabilitation start (in rehabilitation or follow-up) and its
    surgeries. Idempotent; for cases that existed before a template, and for repairs."""
    case = Case.objects.get(pk=case.pk)
    count = 0
    transitions = list(StageTransition.objects.filter(case=case).order_by("recorded_at", "pk"))
    entries = [t for t in transitions if t.to_stage == case.stage]
    if entries and case.stage not in CLOSED_STAGES:
        count += tasks_generate_for_transition(transition=entries[-1])
    if case.stage in (Stage.REHABILITATION, Stage.FOLLOW_UP):
        starts = [t for t in transitions if generation.is_rehab_start(t.from_stage, t.to_stage)]
        if starts:
            count += _generate_rehab(case, starts[-1])
    if case.stage not in CLOSED_STAGES:
        for surgery in Surgery.objects.filter(case=case, entered_in_error=False):
            count += tasks_generate_for_surgery(surgery=surgery)
    return count


def _generate_rehab(case: Case, start: StageTransition) -> int:
    event = generation.StageEntered(start.from_stage, start.to_stage, start.effective_date)
    templates = {
        t.pk: t for t in _templates_for(case.team_id) if t.trigger in generation.REHAB_TRIGGERS
    }
    occurrences = generation.plan(
        [t.as_spec() for t in templates.values()], event, not_before=case.referral_date
    )
    return _insert_generated(case, transition_anchor(start), occurrences, templates)


def _auto_complete(case: Case, when: str, actor: Any, note: str) -> int:
    tasks = list(
        Task.objects.select_for_update(of=("self",))
        .filter(case=case, template__auto_complete_on=when, status__in=OPEN_STATUSES)
        .order_by("pk")
    )
    return _complete_by_system(case, tasks, actor, note)


def tasks_complete_for_outcome_set(*, case: Case, time_point: str, actor: Any) -> int:
    """Complete the case's open tasks that ask for the outcome set of `time_point` once every
    measure they ask for is recorded for it (the task's template names the set)."""
    from cases.models import OutcomeMeasure

    tasks = list(
        Task.objects.select_for_update(of=("self",))
        .select_related("template")
        .filter(case=case, template__outcome_time_point=time_point, status__in=OPEN_STATUSES)
        .order_by("pk")
    )
    if not tasks:
        return 0
    recorded = set(
        OutcomeMeasure.objects.filter(
            case=case, time_point=time_point, entered_in_error=False
        ).values_list("kind", flat=True)
    )
    done = [t for t in tasks if t.template and set(t.template.outcome_kinds) <= recorded]
    note = f"Outcome measures recorded for {time_point}: {', '.join(sorted(recorded))}."
    return _complete_by_system(case, done, actor, note)


def tasks_complete_for_events(
    *, case: Case, event_keys: Iterable[str], actor: Any, note: str
) -> int:
    """Complete the case's open tasks created for these events (e.g. a flag now resolved)."""
    tasks = list(
        Task.objects.select_for_update(of=("self",))
        .filter(case=case, event_key__in=list(event_keys), status__in=OPEN_STATUSES)
        .order_by("pk")
    )
    return _complete_by_system(case, tasks, actor, note)


def _complete_by_system(case: Case, tasks: list[Task], actor: Any, note: str) -> int:
    """Complete tasks the system has seen done (no permission check: the event that did them
    was itself checked)."""
    now = timezone.now()
    for task in tasks:
        task.status = TaskStatus.COMPLETED
        task.status_reason = ""
        task.status_changed_at = now
        task.completed_at = now
        task.completed_by = actor
        task.completion_note = note
        task.updated_at = now
    fields = ["status", "status_reason", "status_changed_at", "completed_at", "completed_by"]
    bulk_update_with_history(
        tasks,
        Task,
        [*fields, "completion_note", "updated_at"],
        default_user=actor,
        default_change_reason=note[:100],
    )
    for task in tasks:
        task.case = case
    if tasks:
        task_completed.send(sender=Task, tasks=tasks, actor=actor)
    return len(tasks)


# --- Task templates ---------------------------------------------------------------------------


@transaction.atomic
def task_template_save(*, actor: Any, template: TaskTemplate) -> TaskTemplate:
    """Create or change a team's template. Shared templates (no team) belong to the service's
    administrators, in the admin."""
    if template.team_id is None:
        if not getattr(actor, "is_superuser", False):
            raise NotPermitted("Only an administrator may change the shared templates.")
    else:
        perms.require("template.write", perms.team_grounds(actor, template.team_id))
    _validated(template)
    _save(template, actor)
    return template


# --- MDT meetings -----------------------------------------------------------------------------


def _locked_meeting(meeting: MdtMeeting | int) -> MdtMeeting:
    pk = meeting if isinstance(meeting, int) else meeting.pk
    return MdtMeeting.objects.select_for_update(of=("self",)).select_related("team").get(pk=pk)


@transaction.atomic
def mdt_meeting_create(
    *,
    actor: Any,
    team: Team,
    starts_at: datetime,
    ends_at: datetime | None = None,
    location: str = "",
    video_link: str = "",
    chair: Any = None,
    attendees: Iterable[Any] = (),
    notes: str = "",
) -> MdtMeeting:
    grounds = perms.team_grounds(actor, team.pk)
    if chair is not None and chair.pk == actor.pk and grounds:
        grounds = grounds | {perms.Ground.CHAIR}
    perms.require("meeting.write", grounds)
    attendees = list(attendees)
    case_services.require_members(team.pk, [chair] if chair else [], "chair")
    case_services.require_members(team.pk, attendees, "attendees")
    meeting = MdtMeeting(
        team=team,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        video_link=video_link,
        chair=chair,
        notes=notes,
    )
    _validated(meeting, exclude=["team", "chair"])
    _save(meeting, actor)
    meeting.attendees.set(attendees)
    return meeting


@transaction.atomic
def mdt_meeting_update(
    *, actor: Any, meeting: MdtMeeting, attendees: Iterable[Any] | None = None, **changes: Any
) -> MdtMeeting:
    meeting = _locked_meeting(meeting)
    perms.require("meeting.write", perms.meeting_grounds(actor, meeting))
    editable = {"starts_at", "ends_at", "location", "video_link", "chair", "notes"}
    unknown = set(changes) - editable
    if unknown:
        raise RuleViolation(f"Cannot change {', '.join(sorted(unknown))} here.")
    if changes.get("chair") is not None:
        case_services.require_members(meeting.team_id, [changes["chair"]], "chair")
    for name, value in changes.items():
        setattr(meeting, name, value)
    _validated(meeting, exclude=["team", "chair"])
    _save(meeting, actor)
    if attendees is not None:
        attendees = list(attendees)
        case_services.require_members(meeting.team_id, attendees, "attendees")
        meeting.attendees.set(attendees)
    return meeting


@transaction.atomic
def mdt_agenda_add(
    *,
    actor: Any,
    meeting: MdtMeeting,
    case: Case,
    question: str = "",
    presenter: Any = None,
) -> MdtAgendaItem:
    """Put a case in mdt_review on a meeting's agenda. The coordinator's "put on the next MDT
    agenda" task (a template with auto_complete_on=mdt_agenda) completes with it."""
    meeting = _locked_meeting(meeting)
    perms.require("meeting.write", perms.meeting_grounds(actor, meeting))
    # The case row lock orders this against a stage move of the same case.
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.team_id != meeting.team_id or case.entered_in_error:
        raise RuleViolation.on("case", "is not a case of this meeting's team.")
    if case.stage != Stage.MDT_REVIEW:
        raise Conflict(
            f"Only a case in MDT review can be put on the agenda; this one is in "
            f"{Stage(case.stage).label.lower()}.",
            extra={"stage": case.stage},
        )
    if MdtAgendaItem.objects.filter(meeting=meeting, case=case).exists():
        raise Conflict("The case is already on this meeting's agenda.")
    if presenter is not None:
        case_services.require_members(meeting.team_id, [presenter], "presenter")
    last = MdtAgendaItem.objects.filter(meeting=meeting).aggregate(m=models.Max("position"))["m"]
    item = MdtAgendaItem(
        meeting=meeting,
        case=case,
        position=(last or 0) + 1,
        question=question,
        presenter=presenter,
        added_by=actor,
    )
    _save(item, actor)
    local = timezone.localtime(meeting.starts_at)
    _auto_complete(
        case, AutoComplete.MDT_AGENDA, actor, f"On the agenda of the MDT {local:%d %b %Y}"
    )
    return item


def _locked_item(item: MdtAgendaItem | int) -> MdtAgendaItem:
    pk = item if isinstance(item, int) else item.pk
    return (
        MdtAgendaItem.objects.select_for_update(of=("self",))
        .select_related("meeting__team", "case")
        .get(pk=pk)
    )


@transaction.atomic
def mdt_agenda_update(*, actor: Any, item: MdtAgendaItem, **changes: Any) -> MdtAgendaItem:
    item = _locked_item(item)
    perms.require("meeting.write", perms.meeting_grounds(actor, item.meeting))
    editable = {"question", "minutes", "presenter", "position"}
    unknown = set(changes) - editable
    if unknown:
        raise RuleViolation(f"Cannot change {', '.join(sorted(unknown))} here.")
    if changes.get("presenter") is not None:
        case_services.require_members(item.meeting.team_id, [changes["presenter"]], "presenter")
    for name, value in changes.items():
        setattr(item, name, value)
    _save(item, actor)
    return item


@transaction.atomic
def mdt_agenda_remove(*, actor: Any, item: MdtAgendaItem) -> None:
    item = _locked_item(item)
    perms.require("meeting.write", perms.meeting_grounds(actor, item.meeting))
    if item.decision_id is not None or item.actions.exists():
        raise Conflict("The case has a decision or actions from this meeting; it stays.")
    item._history_user = actor  # type: ignore[attr-defined]
    item.delete()


@transaction.atomic
def mdt_decision_record_from_meeting(
    *, actor: Any, item: MdtAgendaItem, outcome: str, reasons: str
) -> MdtDecision:
    """Record the MDT's decision on an agenda case: the pathway's MdtDecision (meeting date,
    attendees, reasons). It moves nothing: it is the evidence the mdt_review ->
    awaiting_surgery guard looks for."""
    item = _locked_item(item)
    meeting = item.meeting
    perms.require("meeting.write", perms.meeting_grounds(actor, meeting))
    if item.decision_id is not None:
        raise Conflict("This agenda item already has a decision.")
    if not reasons.strip():
        raise RuleViolation.on("reasons", "Record the reasons for the decision.")
    attendees = list(meeting.attendees.all())
    if meeting.chair is not None and meeting.chair not in attendees:
        attendees.append(meeting.chair)
    zone = zoneinfo.ZoneInfo(meeting.team.time_zone)
    meeting_date = timezone.localtime(meeting.starts_at, timezone=zone).date()
    decision = case_services.mdt_decision_record(
        actor=actor,
        case=item.case,
        meeting_date=meeting_date,
        outcome=outcome,
        reasons=reasons,
        attendees=attendees,
    )
    item.decision = decision
    _save(item, actor, update_fields=["decision"])
    return decision


@transaction.atomic
def mdt_action_create(
    *,
    actor: Any,
    item: MdtAgendaItem,
    title: str,
    role: str,
    due_date: date,
    assignee: Any = None,
    priority: str = Priority.ROUTINE,
    details: str = "",
) -> Task:
    """An action agreed at the meeting: a task on the case, with an owner."""
    item = _locked_item(item)
    perms.require("meeting.write", perms.meeting_grounds(actor, item.meeting))
    return task_create(
        actor=actor,
        case=item.case,
        title=title,
        role=role,
        due_date=due_date,
        assignee=assignee,
        priority=priority,
        details=details,
        agenda_item=item,
    )


# --- Appointments -----------------------------------------------------------------------------


@transaction.atomic
def appointment_book(
    *,
    actor: Any,
    case: Case,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str = "",
    clinicians: Iterable[Any] = (),
    notes: str = "",
) -> Appointment:
    case = Case.objects.select_related("team").get(pk=case.pk)
    perms.require("appointment.write", perms.team_grounds(actor, case.team_id))
    clinicians = list(clinicians)
    case_services.require_members(case.team_id, clinicians, "clinicians")
    appointment = Appointment(
        case=case,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        notes=notes,
        booked_by=actor,
    )
    _check_appointment(appointment)
    _save(appointment, actor)
    appointment.clinicians.set(clinicians)
    return appointment


def _check_appointment(appointment: Appointment) -> None:
    if appointment.ends_at <= appointment.starts_at:
        raise RuleViolation.on("ends_at", "must be after the start.")
    _validated(appointment, exclude=["case", "booked_by"])


def _locked_appointment(appointment: Appointment | int) -> Appointment:
    pk = appointment if isinstance(appointment, int) else appointment.pk
    return (
        Appointment.objects.select_for_update(of=("self",)).select_related("case__team").get(pk=pk)
    )


@transaction.atomic
def appointment_update(
    *,
    actor: Any,
    appointment: Appointment,
    clinicians: Iterable[Any] | None = None,
    **changes: Any,
) -> Appointment:
    appointment = _locked_appointment(appointment)
    perms.require("appointment.write", perms.team_grounds(actor, appointment.case.team_id))
    editable = {"kind", "starts_at", "ends_at", "location", "notes"}
    unknown = set(changes) - editable
    if unknown:
        raise RuleViolation(f"Cannot change {', '.join(sorted(unknown))} here.")
    if appointment.status != AppointmentStatus.BOOKED and changes:
        raise Conflict(f"The appointment is {appointment.get_status_display().lower()}.")
    for name, value in changes.items():
        setattr(appointment, name, value)
    _check_appointment(appointment)
    _save(appointment, actor)
    if clinicians is not None:
        clinicians = list(clinicians)
        case_services.require_members(appointment.case.team_id, clinicians, "clinicians")
        appointment.clinicians.set(clinicians)
    return appointment


@transaction.atomic
def appointment_set_status(
    *, actor: Any, appointment: Appointment, status: str, reason: str = ""
) -> Appointment:
    """Attended, did not attend, or cancelled. A cancelled appointment lets go of the tasks
    booked into it, so they show as unbooked again."""
    appointment = _locked_appointment(appointment)
    perms.require("appointment.write", perms.team_grounds(actor, appointment.case.team_id))
    if status not in AppointmentStatus.values or status == AppointmentStatus.BOOKED:
        raise RuleViolation.on("status", "must be fulfilled, noshow or cancelled.")
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict(
            f"The appointment is already {appointment.get_status_display().lower()}.",
        )
    if status == AppointmentStatus.CANCELLED and not reason.strip():
        raise RuleViolation.on("reason", "Say why the appointment is cancelled.")
    appointment.status = status
    appointment.status_reason = reason[:500]
    _save(appointment, actor, update_fields=["status", "status_reason", "updated_at"])
    if status == AppointmentStatus.CANCELLED:
        booked = list(
            Task.objects.select_for_update(of=("self",)).filter(
                appointment=appointment, status__in=OPEN_STATUSES
            )
        )
        for task in booked:
            task.appointment = None
        bulk_update_with_history(
            booked,
            Task,
            ["appointment"],
            default_user=actor,
            default_change_reason="appointment cancelled",
        )
    return appointment


# --- Calendar feeds ---------------------------------------------------------------------------


def calendar_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedFeed:
    feed: CalendarFeed
    token: str


@transaction.atomic
def calendar_feed_issue(*, user: Any) -> IssuedFeed:
    """A new secret calendar address for `user`; any earlier one stops working."""
    calendar_feed_revoke(user=user)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=user, token_hash=calendar_token_hash(token))
    return IssuedFeed(feed=feed, token=token)


@transaction.atomic
def calendar_feed_revoke(*, user: Any) -> int:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
