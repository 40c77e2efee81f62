"""Who may act on tasks, meetings and appointments: one table.

A person acts on a record on one or more *grounds*: being a member of the record's team,
holding the task's role there (its pool), being the task's assignee, being a coordinator of
the team, a surgeon of the team, or the meeting's chair. Reads are open to every member of
the team; someone outside it does not see the record at all (404, not 403).

==============================================  ===============================================
Action                                          Grounds (any one is enough)
==============================================  ===============================================
task: create                                    team member
task: accept, start, hold, complete, cancel,    member of the task's role pool, the assignee,
assign / reassign / back to the pool, change,   a coordinator
book into an appointment
tasks: bulk reassign                            a coordinator
task templates of a team: create, change        a coordinator
MDT meeting: create, change, agenda, minutes,   a coordinator, a surgeon, the meeting's chair
actions from the meeting
MDT decision from a meeting                     as above, and the clinical record's own rule
                                                (cases.permissions: coordinator or surgeon)
appointment: book, change, cancel               team member
webhook subscriptions of a team: create,        a coordinator
change, pause, resume, redeliver
==============================================  ===============================================

Accepting or starting an unassigned task makes the actor its assignee, and an assignee must
hold the task's role: a coordinator may act on a surgeon's task but cannot take it on.
"""

from __future__ import annotations

import enum
from typing import Any

from cases import access
from cases.errors import NotPermitted
from cases.roles import Role


class Ground(enum.StrEnum):
    TEAM_MEMBER = "a member of the team"
    ROLE_POOL = "a member of the task's role pool"
    ASSIGNEE = "the assignee"
    COORDINATOR = "a coordinator"
    SURGEON = "a surgeon"
    CHAIR = "the meeting's chair"


_ON_TASK = frozenset({Ground.ROLE_POOL, Ground.ASSIGNEE, Ground.COORDINATOR})
_MEETING = frozenset({Ground.COORDINATOR, Ground.SURGEON, Ground.CHAIR})

ACTIONS: dict[str, frozenset[Ground]] = {
    "task.create": frozenset({Ground.TEAM_MEMBER}),
    "task.accept": _ON_TASK,
    "task.start": _ON_TASK,
    "task.hold": _ON_TASK,
    "task.complete": _ON_TASK,
    "task.cancel": _ON_TASK,
    "task.assign": _ON_TASK,
    "task.change": _ON_TASK,
    "task.book": _ON_TASK,
    "tasks.bulk_reassign": frozenset({Ground.COORDINATOR}),
    "template.write": frozenset({Ground.COORDINATOR}),
    "meeting.write": _MEETING,
    "appointment.write": frozenset({Ground.TEAM_MEMBER}),
    "webhook.write": frozenset({Ground.COORDINATOR}),
}

_DOING = {
    "task.create": "create tasks on this case",
    "task.accept": "accept this task",
    "task.start": "start this task",
    "task.hold": "put this task on hold",
    "task.complete": "complete this task",
    "task.cancel": "cancel this task",
    "task.assign": "assign this task",
    "task.change": "change this task",
    "task.book": "book this task into an appointment",
    "tasks.bulk_reassign": "reassign tasks in bulk",
    "template.write": "change this team's task templates",
    "meeting.write": "change MDT meetings",
    "appointment.write": "book or change appointments",
    "webhook.write": "manage this team's webhook subscriptions",
}


def allowed(action: str, grounds: frozenset[Ground]) -> bool:
    return bool(ACTIONS[action] & grounds)


def team_grounds(user: Any, team_id: int) -> frozenset[Ground]:
    roles = access.roles_in(user, team_id)
    if not roles:
        return frozenset()
    grounds = {Ground.TEAM_MEMBER}
    if Role.COORDINATOR in roles:
        grounds.add(Ground.COORDINATOR)
    if Role.SURGEON in roles:
        grounds.add(Ground.SURGEON)
    return frozenset(grounds)


def task_grounds(user: Any, task: Any) -> frozenset[Ground]:
    """The grounds on which `user` may act on `task` (a Task with its case loaded)."""
    grounds = set(team_grounds(user, task.case.team_id))
    if not grounds:
        return frozenset()  # someone who left the team keeps no say, even as the assignee
    if task.role in access.roles_in(user, task.case.team_id):
        grounds.add(Ground.ROLE_POOL)
    if task.assignee_id is not None and task.assignee_id == user.pk:
        grounds.add(Ground.ASSIGNEE)
    return frozenset(grounds)


def meeting_grounds(user: Any, meeting: Any) -> frozenset[Ground]:
    grounds = set(team_grounds(user, meeting.team_id))
    if grounds and meeting.chair_id is not None and meeting.chair_id == user.pk:
        grounds.add(Ground.CHAIR)
    return frozenset(grounds)


def _who(action: str) -> str:
    names = [str(g) for g in Ground if g in ACTIONS[action]]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def require(action: str, grounds: frozenset[Ground]) -> None:
    if not allowed(action, grounds):
        who = _who(action)
        raise NotPermitted(
            f"Only {who} may {_DOING[action]}.",
            extra={"allowed": [str(g) for g in Ground if g in ACTIONS[action]]},
        )


def may_act_on_task(user: Any, task: Any, action: str = "task.complete") -> bool:
    return allowed(action, task_grounds(user, task))
