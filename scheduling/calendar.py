"""A person's calendar feed (RFC 5545, via the icalendar library): open tasks as all-day
items on their due dates, appointments and MDT meetings.

Calendar apps copy what they fetch to servers outside the hospital, so items name the case
by its number only, never the patient; the link opens the record in the admin.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from .selectors import CalendarItems

# Calendar apps poll; tell them how often is enough.
REFRESH = timedelta(hours=1)
MEETING_LENGTH = timedelta(hours=2)


def _admin_url(name: str, pk: int) -> str:
    return settings.SITE_URL + reverse(f"admin:scheduling_{name}_change", args=[pk])


def _event(uid: str, summary: str, stamp: datetime, url: str, description: str) -> Any:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    event.add("url", url)
    event.add("description", description)
    return event


def build(user: Any, items: CalendarItems) -> bytes:
    host = urlsplit(settings.SITE_URL).hostname or "osseo-mdt"
    stamp = timezone.now()
    cal = icalendar.Calendar()
    cal.add("prodid", "-//osseo-mdt//calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"OI MDT: {user.get_full_name() or user.get_username()}")
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)

    for task in items.tasks:
        event = _event(
            f"task-{task.pk}@{host}",
            f"{task.title} (case {task.case_id})",
            stamp,
            _admin_url("task", task.pk),
            f"Task for the {task.get_role_display().lower()} pool; "
            f"priority {task.get_priority_display().lower()}; "
            f"status {task.get_status_display().lower()}.",
        )
        event.add("dtstart", task.due_date)  # a date: an all-day item
        event.add("dtend", task.due_date + timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy
        event.add("categories", ["Task", task.get_role_display()])
        if task.priority == "urgent":
            event.add("priority", 1)
        cal.add_component(event)

    for appt in items.appointments:
        event = _event(
            f"appointment-{appt.pk}@{host}",
            f"{appt.get_kind_display()} (case {appt.case_id})",
            stamp,
            _admin_url("appointment", appt.pk),
            appt.notes,
        )
        event.add("dtstart", appt.starts_at)
        event.add("dtend", appt.ends_at)
        if appt.location:
            event.add("location", appt.location)
        event.add("categories", ["Appointment"])
        cal.add_component(event)

    for meeting in items.meetings:
        event = _event(
            f"mdt-meeting-{meeting.pk}@{host}",
            f"MDT meeting: {meeting.team.name}",
            stamp,
            meeting.video_link or _admin_url("mdtmeeting", meeting.pk),
            f"Agenda: {_admin_url('mdtmeeting', meeting.pk)}",
        )
        event.add("dtstart", meeting.starts_at)
        event.add("dtend", meeting.ends_at or meeting.starts_at + MEETING_LENGTH)
        if meeting.location:
            event.add("location", meeting.location)
        event.add("categories", ["MDT meeting"])
        cal.add_component(event)
    return cal.to_ical()
