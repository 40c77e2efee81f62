"""The weekly task email: what it says, that it is built in a constant number of queries,
and that each person gets it exactly once per ISO week over a real SMTP connection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cases.models import SafetyFlag
from scheduling import digest, services
from scheduling.models import DeliveryStatus, DigestDelivery, DigestPreference
from scheduling.weeks import IsoWeek
from tests.factories import member
from tests.scheduling.factories import Staff, make_case

WEEK = IsoWeek(2026, 10)  # Monday 2 March 2026 (the frozen "now")
MONDAY = WEEK.monday


def task(
    staff: Staff,
    case: Any,
    title: str,
    due: date,
    *,
    role: str = "physiotherapist",
    assignee: Any = "physio",
) -> Any:
    holder = getattr(staff, assignee) if isinstance(assignee, str) else assignee
    return services.task_create(
        actor=staff.coordinator, case=case, title=title, role=role, due_date=due, assignee=holder
    )


def physio_digest(staff: Staff) -> digest.Digest:
    found = {d.user_id: d for d in digest.build_digests(WEEK)}
    return found[staff.physio.pk]


def test_a_digest_sorts_tasks_into_overdue_this_week_next_week_and_the_pool(staff) -> None:
    case = make_case(staff)
    oldest = task(staff, case, "Older overdue", MONDAY - timedelta(days=9))
    task(staff, case, "Newer overdue", MONDAY - timedelta(days=1))
    task(staff, case, "This week", MONDAY + timedelta(days=4))
    task(staff, case, "Next week", MONDAY + timedelta(days=8))
    task(staff, case, "Later", MONDAY + timedelta(days=30))
    task(staff, case, "In the pool", MONDAY + timedelta(days=2), assignee=None)
    found = physio_digest(staff)
    assert [line.title for line in found.overdue] == ["Older overdue", "Newer overdue"]
    assert [line.title for line in found.due_this_week] == ["This week"]
    assert [line.title for line in found.due_next_week] == ["Next week"]
    assert [line.title for line in found.unassigned] == ["In the pool"]
    assert found.subject == "Your OI tasks for week 10: 2 overdue, 1 due"
    line = found.overdue[0]
    assert line.hospital_number == case.patient.hospital_number
    assert line.initials == "AS"
    assert line.url.endswith(f"/admin/scheduling/task/{oldest.pk}/change/")


def test_flags_on_my_cases_reach_the_care_team(staff) -> None:
    case = make_case(staff, care_team=[(staff.physio, "physiotherapist")])
    SafetyFlag.objects.create(case=case, kind="overload", raised_on=MONDAY)
    found = physio_digest(staff)
    assert [line.title for line in found.flags] == ["Safety flag: Overload"]
    assert "1 safety alerts" in found.subject


def test_nobody_gets_an_empty_email_and_opting_out_is_respected(staff) -> None:
    case = make_case(staff)
    task(staff, case, "Something", MONDAY)
    recipients = {d.user_id for d in digest.build_digests(WEEK)}
    assert recipients == {staff.physio.pk}
    DigestPreference.objects.create(user=staff.physio, weekly_digest=False)
    assert digest.build_digests(WEEK) == []


def test_the_digest_for_everyone_takes_the_same_queries_for_3_and_30_people(staff) -> None:
    case = make_case(staff)

    def people(n: int) -> None:
        for _ in range(n):
            physio = member(staff.team, "physiotherapist")
            task(staff, case, "Review", MONDAY + timedelta(days=1), assignee=physio)

    people(3)
    with CaptureQueriesContext(connection) as three:
        assert len(digest.build_digests(WEEK)) >= 3
    people(27)
    with CaptureQueriesContext(connection) as thirty:
        assert len(digest.build_digests(WEEK)) >= 30
    # memberships+roles, recipients, open tasks, care teams, lead clinicians (flags and
    # complications are two more when anyone has a care-team case)
    assert len(three.captured_queries) == len(thirty.captured_queries) == 5


@pytest.mark.django_db(transaction=True)
def test_the_email_goes_over_smtp_with_both_parts_and_no_patient_name(
    smtp_server, _no_templates
) -> None:
    from tests.scheduling.factories import make_staff

    staff = make_staff()
    case = make_case(staff)
    task(staff, case, "Weekly rehab review", MONDAY + timedelta(days=2))
    queued = digest.digest_fan_out(week=WEEK)
    assert len(queued) == 1
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["Subject"] == "Your OI tasks for week 10: 0 overdue, 1 due"
    assert message["To"] == staff.physio.email
    assert "digestpreference/mine/" in message["List-Unsubscribe"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "Weekly rehab review" in part
        assert case.patient.hospital_number in part
        assert "/admin/scheduling/task/" in part
        assert case.patient.family_name not in part
        assert case.patient.given_name not in part
        assert "1975" not in part  # no date of birth
    delivery = DigestDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.message_id == message["Message-ID"]


@pytest.mark.django_db(transaction=True)
def test_running_the_weekly_job_twice_sends_one_email_per_person(
    smtp_server, _no_templates
) -> None:
    from tests.scheduling.factories import make_staff

    staff = make_staff()
    case = make_case(staff)
    task(staff, case, "Physio work", MONDAY)
    task(staff, case, "Nurse work", MONDAY, role="nurse", assignee="nurse")
    digest.digest_fan_out(week=WEEK)
    digest.digest_fan_out(week=WEEK)
    for delivery in DigestDelivery.objects.all():
        assert digest.digest_send(delivery.pk) == "skipped"  # a retried job
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        [staff.physio.email, staff.nurse.email]
    )


def test_a_dry_run_prints_and_claims_nothing(staff, capsys) -> None:
    case = make_case(staff)
    task(staff, case, "Check the stoma", MONDAY)
    call_command("send_weekly_digests", "--dry-run", "--week", "2026-W10")
    out = capsys.readouterr().out
    assert "Check the stoma" in out
    assert "1 digest(s) for 2026-W10 (dry run" in out
    assert not DigestDelivery.objects.exists()


def test_a_bad_week_is_refused_by_the_command(staff) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO week"):
        call_command("send_weekly_digests", "--dry-run", "--week", "2026-49")


@pytest.mark.django_db(transaction=True)
def test_a_refused_recipient_is_marked_failed_and_others_are_served(
    smtp_server, settings, _no_templates
) -> None:
    from tests.scheduling.factories import make_staff

    settings.DIGEST_MAX_ATTEMPTS = 2
    staff = make_staff()
    case = make_case(staff)
    task(staff, case, "Physio work", MONDAY)
    task(staff, case, "Nurse work", MONDAY, role="nurse", assignee="nurse")
    smtp_server.refuse_recipients.add(staff.nurse.email)
    digest.digest_fan_out(week=WEEK)  # in-process: the retry runs at once
    nurse = DigestDelivery.objects.get(user=staff.nurse)
    assert nurse.status == DeliveryStatus.FAILED
    assert nurse.attempts == 2
    assert "SMTP" in nurse.last_error
    assert DigestDelivery.objects.get(user=staff.physio).status == DeliveryStatus.SENT
    assert [m["To"] for m in smtp_server.messages] == [staff.physio.email]


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_requeues_a_delivery_stuck_in_sending(smtp_server, _no_templates) -> None:
    from tests.scheduling.factories import make_staff

    staff = make_staff()
    case = make_case(staff)
    task(staff, case, "Physio work", MONDAY)
    digest.build_digests(WEEK)
    stuck = DigestDelivery.objects.create(
        user=staff.physio,
        iso_year=2026,
        iso_week=10,
        status=DeliveryStatus.SENDING,
        claimed_at=datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
        attempts=1,
    )
    assert digest.digest_sweep(datetime(2026, 3, 2, 7, 5, tzinfo=UTC)) == []  # not yet
    assert digest.digest_sweep(datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) == [stuck.pk]
    stuck.refresh_from_db()
    assert stuck.status == DeliveryStatus.SENT
    assert len(smtp_server.messages) == 1


def test_the_hourly_tick_fans_out_only_at_the_teams_monday_seven_oclock(staff) -> None:
    case = make_case(staff)
    task(staff, case, "Physio work", MONDAY)
    # 06:00 UTC on 2 March is 06:00 in London (GMT): not yet.
    assert digest.digest_tick(datetime(2026, 3, 2, 6, 0, tzinfo=UTC)) == []
    assert len(digest.digest_tick(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))) == 1
    assert DigestDelivery.objects.get().iso_week == 10


def test_the_preference_is_read_and_switched_over_the_api(staff) -> None:
    api = APIClient()
    api.force_authenticate(staff.nurse)
    assert api.get("/api/v1/me/").json()["weekly_digest"] is True
    response = api.patch("/api/v1/me/", {"weekly_digest": False})
    assert response.status_code == 200
    assert response.json()["weekly_digest"] is False
    assert DigestPreference.objects.get(user=staff.nurse).weekly_digest is False
    assert api.patch("/api/v1/me/", {"weekly_digest": "maybe"}).status_code == 400


def _wait_for(condition: Any, seconds: float = 30) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_sends_once_though_the_job_fires_twice(
    celery_on_redis, smtp_server, _no_templates
) -> None:
    from scheduling.tasks import weekly_digest_tick
    from tests.scheduling.factories import make_staff

    staff = make_staff()
    case = make_case(staff)
    task(staff, case, "Physio work", MONDAY)
    task(staff, case, "Nurse work", MONDAY, role="nurse", assignee="nurse")
    import time_machine

    # Monday 07:00 in London, twice (a second beat firing).
    with time_machine.travel(datetime(2026, 3, 2, 7, 0, 5, tzinfo=UTC), tick=False):
        weekly_digest_tick.delay()
        weekly_digest_tick.delay()
        assert _wait_for(
            lambda: DigestDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 2
        )
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        [staff.physio.email, staff.nurse.email]
    )


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_smtp_refusing_twice_delivers_once_after_retries_through_redis(
    celery_on_redis, smtp_server, settings, _no_templates
) -> None:
    from tests.scheduling.factories import make_staff

    settings.DIGEST_RETRY_BACKOFF_SECONDS = 1
    staff = make_staff()
    case = make_case(staff)
    task(staff, case, "Physio work", MONDAY)
    smtp_server.refuse_next = 2
    digest.digest_fan_out(week=WEEK)
    assert _wait_for(lambda: DigestDelivery.objects.filter(status=DeliveryStatus.SENT).exists())
    delivery = DigestDelivery.objects.get()
    assert delivery.attempts == 3
    assert smtp_server.refused == 2
    assert len(smtp_server.messages) == 1
