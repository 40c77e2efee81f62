"""The weekly task email: what each person gets, built for every recipient at once with a
constant number of queries, and rendered from templates (subject, text, HTML side by side).

Patients appear by hospital number and initials only: no names, no dates of birth."""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cases.models import (
    CareTeamMember,
    Case,
    Complication,
    Membership,
    MembershipRole,
    SafetyFlag,
    Team,
)
from osseo_mdt.queue import enqueue_on_commit

from .models import OPEN_STATUSES, DeliveryStatus, DigestDelivery, Task
from .weeks import IsoWeek, is_send_hour, week_of

logger = logging.getLogger(__name__)

SECTION_LIMIT = 25  # lines per section; the rest is one "and N more" link


@dataclass(frozen=True)
class DigestLine:
    hospital_number: str
    initials: str
    stage: str
    title: str
    due: date | None
    url: str
    priority: str = ""


@dataclass
class Digest:
    user_id: int
    username: str
    email: str
    name: str
    week: IsoWeek
    overdue: list[DigestLine] = field(default_factory=list)
    due_this_week: list[DigestLine] = field(default_factory=list)
    due_next_week: list[DigestLine] = field(default_factory=list)
    unassigned: list[DigestLine] = field(default_factory=list)
    flags: list[DigestLine] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.overdue
            or self.due_this_week
            or self.due_next_week
            or self.unassigned
            or self.flags
        )

    @property
    def subject(self) -> str:
        subject = (
            f"Your OI tasks for week {self.week.week}: {len(self.overdue)} overdue, "
            f"{len(self.due_this_week)} due"
        )
        if self.flags:
            subject += f", {len(self.flags)} safety alerts"
        return subject

    def sections(self) -> list[tuple[str, list[DigestLine], int]]:
        """(heading, first lines, how many more) for each non-empty section, in email order."""
        named = [
            ("Overdue", self.overdue),
            ("Due this week", self.due_this_week),
            ("Due next week", self.due_next_week),
            ("Unassigned in your role pools", self.unassigned),
            ("Safety flags and complications on your cases", self.flags),
        ]
        return [
            (title, lines[:SECTION_LIMIT], max(0, len(lines) - SECTION_LIMIT))
            for title, lines in named
            if lines
        ]


def _link(view: str, pk: int) -> str:
    return settings.SITE_URL + reverse(view, args=[pk])


def _line(case: Case, title: str, due: date | None, url: str, priority: str = "") -> DigestLine:
    return DigestLine(
        hospital_number=case.patient.hospital_number,
        initials=case.patient.initials,
        stage=case.get_stage_display(),
        title=title,
        due=due,
        url=url,
        priority=priority,
    )


def build_digests(week: IsoWeek, user_ids: Collection[int] | None = None) -> list[Digest]:
    """Every active staff member's digest for `week` (as of its Monday), or only `user_ids`'.

    Seven queries whatever the number of recipients: memberships with roles, recipients,
    open tasks, care teams, lead clinicians, open flags, open complications. Empty digests
    are left out."""
    monday, sunday = week.monday, week.sunday
    next_sunday = week.next().sunday

    role_rows = MembershipRole.objects.filter(
        membership__is_active=True,
        membership__user__is_active=True,
        membership__team__is_active=True,
    )
    if user_ids is not None:
        role_rows = role_rows.filter(membership__user_id__in=list(user_ids))
    pools: dict[int, set[tuple[int, str]]] = defaultdict(set)  # user -> {(team, role)}
    for user_id, team_id, role in role_rows.values_list(
        "membership__user_id", "membership__team_id", "role"
    ):
        pools[user_id].add((team_id, role))

    users = (
        get_user_model()
        .objects.filter(pk__in=list(pools), is_active=True)
        .exclude(email="")
        .exclude(digest_preference__weekly_digest=False)
        .order_by("pk")
    )
    digests = {
        u.pk: Digest(
            user_id=u.pk,
            username=u.get_username(),
            email=u.email,
            name=u.get_full_name() or u.get_username(),
            week=week,
        )
        for u in users
    }
    if not digests:
        return []
    team_ids = {team for uid in digests for team, _ in pools[uid]}

    tasks = (
        Task.objects.filter(
            status__in=OPEN_STATUSES, case__team_id__in=team_ids, case__entered_in_error=False
        )
        .filter(
            Q(assignee_id__in=list(digests), due_date__lte=next_sunday) | Q(assignee__isnull=True)
        )
        .select_related("case__patient")
        .order_by("due_date", "id")
    )
    pool_members: dict[tuple[int, str], list[int]] = defaultdict(list)
    for uid in digests:
        for key in pools[uid]:
            pool_members[key].append(uid)
    for task in tasks:
        line = _line(
            task.case,
            task.title,
            task.due_date,
            _link("admin:scheduling_task_change", task.pk),
            task.priority,
        )
        if task.assignee_id is None:
            for uid in pool_members.get((task.case.team_id, task.role), []):
                digests[uid].unassigned.append(line)
            continue
        mine = digests[task.assignee_id]
        if task.due_date < monday:
            mine.overdue.append(line)
        elif task.due_date <= sunday:
            mine.due_this_week.append(line)
        else:
            mine.due_next_week.append(line)

    carers: dict[int, set[int]] = defaultdict(set)  # case -> users
    for case_id, user_id in CareTeamMember.objects.filter(user_id__in=list(digests)).values_list(
        "case_id", "user_id"
    ):
        carers[case_id].add(user_id)
    for case_id, user_id in Case.objects.filter(
        lead_clinician_id__in=list(digests), entered_in_error=False
    ).values_list("pk", "lead_clinician_id"):
        carers[case_id].add(user_id)

    alerts: Iterable[tuple[int, DigestLine]] = [
        *(
            (
                flag.case_id,
                _line(
                    flag.case,
                    f"Safety flag: {flag.get_kind_display()}",
                    flag.raised_on,
                    _link("admin:cases_safetyflag_change", flag.pk),
                    "urgent",
                ),
            )
            for flag in SafetyFlag.objects.filter(
                resolved_at__isnull=True, case_id__in=list(carers)
            )
            .select_related("case__patient")
            .order_by("raised_on", "id")
        ),
        *(
            (
                c.case_id,
                _line(
                    c.case,
                    f"Complication: {c.get_kind_display()}",
                    c.onset_date,
                    _link("admin:cases_complication_change", c.pk),
                    c.severity,
                ),
            )
            for c in Complication.objects.filter(
                resolved_on__isnull=True, entered_in_error=False, case_id__in=list(carers)
            )
            .select_related("case__patient")
            .order_by("onset_date", "id")
        ),
    ]
    for case_id, line in alerts:
        for uid in carers[case_id]:
            digests[uid].flags.append(line)

    return [digest for digest in digests.values() if not digest.is_empty]


def preference_url() -> str:
    return settings.SITE_URL + reverse("admin:scheduling_digestpreference_mine")


def render_email(digest: Digest, *, message_id: str | None = None) -> EmailMultiAlternatives:
    context: dict[str, Any] = {
        "digest": digest,
        "sections": digest.sections(),
        "site_url": settings.SITE_URL,
        "preference_url": preference_url(),
    }
    text = render_to_string("scheduling/email/weekly_digest.txt", context)
    html = render_to_string("scheduling/email/weekly_digest.html", context)
    headers = {"List-Unsubscribe": f"<{preference_url()}>"}
    if message_id:
        headers["Message-ID"] = message_id
    message = EmailMultiAlternatives(
        subject=digest.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.email],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


# --- Exactly-once delivery ---------------------------------------------------------------------
# The writes of the weekly email. A delivery row per person and ISO week (unique) is claimed
# with one conditional UPDATE (pending -> sending) before the send, marked sent after; a
# failed send goes back to pending for a retry, or to failed after the last attempt.


class DigestSendFailed(Exception):
    """The SMTP send failed; the delivery is pending again (retry) or failed (last try)."""

    def __init__(self, delivery_id: int, final: bool, error: str) -> None:
        super().__init__(error)
        self.delivery_id = delivery_id
        self.final = final


def teams_due(now: datetime) -> list[Team]:
    """Teams whose wall clock is at the digest's weekday and hour right now."""
    return [
        team
        for team in Team.objects.filter(is_active=True)
        if is_send_hour(now, team.time_zone, settings.DIGEST_WEEKDAY, settings.DIGEST_HOUR)
    ]


def digest_fan_out(*, week: IsoWeek, user_ids: Collection[int] | None = None) -> list[int]:
    """Create the week's delivery rows for everyone with something to read and queue one send
    job per pending row once the transaction commits. Safe to run twice: existing rows are
    left alone and a claimed or sent row is never queued again."""
    digests = build_digests(week, user_ids)
    DigestDelivery.objects.bulk_create(
        [
            DigestDelivery(user_id=d.user_id, iso_year=week.year, iso_week=week.week)
            for d in digests
        ],
        ignore_conflicts=True,
    )
    pending = list(
        DigestDelivery.objects.filter(
            iso_year=week.year,
            iso_week=week.week,
            status=DeliveryStatus.PENDING,
            user_id__in=[d.user_id for d in digests],
        ).values_list("pk", flat=True)
    )
    _queue_on_commit(pending)
    return pending


def _queue_on_commit(delivery_ids: list[int]) -> None:
    """Queue the send jobs only once the rows they claim are committed."""
    from .tasks import send_digest

    for delivery_id in delivery_ids:
        enqueue_on_commit(send_digest, delivery_id)


def _claim(delivery_id: int) -> bool:
    claimed = DigestDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    return claimed == 1


def digest_send(delivery_id: int) -> str:
    """Send one delivery exactly once. Returns what happened: "sent", "empty" (nothing left
    to tell by the time it ran) or "skipped" (claimed or sent by someone else)."""
    if not _claim(delivery_id):
        return "skipped"
    delivery = DigestDelivery.objects.get(pk=delivery_id)
    week = IsoWeek(delivery.iso_year, delivery.iso_week)
    found = build_digests(week, [delivery.user_id])
    if not found:
        DigestDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="Nothing to send."
        )
        return "empty"
    domain = settings.SITE_URL.split("//")[-1].split("/")[0].split(":")[0] or "osseo-mdt"
    message_id = f"<digest-{delivery_id}-{week}@{domain}>"
    try:
        render_email(found[0], message_id=message_id).send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        final = delivery.attempts >= settings.DIGEST_MAX_ATTEMPTS
        DigestDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING, last_error=error
        )
        logger.warning(
            "digest delivery %s attempt %s failed: %s",
            delivery_id,
            delivery.attempts,
            type(exc).__name__,
        )
        raise DigestSendFailed(delivery_id, final, error) from exc
    DigestDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), message_id=message_id, last_error=""
    )
    return "sent"


def digest_sweep(now: datetime | None = None) -> list[int]:
    """Deliveries stuck in `sending` past the timeout (their worker died before it could
    record the outcome) go back to pending and are queued again; so are deliveries left
    pending that long (their job never reached the broker)."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.DIGEST_SENDING_TIMEOUT_MINUTES)
    stuck = list(
        DigestDelivery.objects.filter(
            status=DeliveryStatus.SENDING, claimed_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    DigestDelivery.objects.filter(pk__in=stuck, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING, last_error="Re-queued after the sending timeout."
    )
    unsent = list(
        DigestDelivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=cutoff)
        .exclude(pk__in=stuck)
        .values_list("pk", flat=True)
    )
    _queue_on_commit([*stuck, *unsent])
    return [*stuck, *unsent]


def digest_tick(now: datetime | None = None) -> list[int]:
    """The hourly beat job: fan out the digests of the teams whose send hour it is."""
    now = now or timezone.now()
    queued: list[int] = []
    for team in teams_due(now):
        members = list(
            Membership.objects.filter(team=team, is_active=True).values_list("user_id", flat=True)
        )
        queued += digest_fan_out(week=week_of(now, team.time_zone), user_ids=members)
    return queued
