"""Outgoing webhooks: the outbox in the event's transaction, signed deliveries to a real HTTP
receiver on loopback, retries, exactly-once per subscription, address rules, pausing, the API
and the admin."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cases import services as case_services
from cases.errors import NotPermitted
from cases.rehab import FlagKind
from scheduling import services, webhooks
from scheduling.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
    WebhookSubscription,
)
from tests.factories import TeamFactory, member
from tests.scheduling.factories import (
    Staff,
    TaskTemplateFactory,
    make_case,
    make_staff,
    make_task,
    move,
)

SECRET = "a-receiver-secret-of-thirty-two-chars"


# --- A real HTTP receiver on loopback -----------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    fail_first: int = 0  # answer this many requests with 500
    status: int = 204  # then this
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, seconds: float = 30) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return True
            time.sleep(0.05)
        return False


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An http.server on 127.0.0.1 (free port) in a thread, recording every request."""
    yield from _serve()


def _serve(tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
                failing = state.fail_first > 0
                state.fail_first -= 1 if failing else 0
            code = 500 if failing else state.status
            self.send_response(code)
            reply = b"receiver is down" if failing else b""
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    state.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hooks/osseo"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Any) -> None:
    # The receiver is on loopback, which production refuses by default.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    settings.WEBHOOK_RETRY_BACKOFF_SECONDS = 0.05


def subscribe(
    staff: Staff, url: str, *event_types: str, owner: Any = None, **fields: Any
) -> WebhookSubscription:
    return webhooks.subscription_create(
        actor=owner or staff.coordinator,
        team=staff.team,
        target_url=url,
        event_types=list(event_types) or ["case.stage_changed"],
        secret=SECRET,
        **fields,
    ).subscription


def fresh(user: Any) -> Any:
    return type(user).objects.get(pk=user.pk)


def api_as(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- Signing ------------------------------------------------------------------------------------


def test_a_signature_verifies_with_the_right_secret_and_body_only() -> None:
    body = b'{"id":"x"}'
    now = 1_800_000_000
    header = webhooks.sign(SECRET, now, body)
    assert webhooks.verify_signature(SECRET, header, body, now=now + 10)
    assert not webhooks.verify_signature(SECRET, header, body + b" ", now=now)
    assert not webhooks.verify_signature("another-secret-entirely-here!!", header, body, now=now)
    assert not webhooks.verify_signature(SECRET, "t=abc,v1=00", body, now=now)
    assert not webhooks.verify_signature(SECRET, "", body, now=now)


def test_a_signature_older_or_newer_than_five_minutes_is_a_replay() -> None:
    body = b"{}"
    now = 1_800_000_000
    header = webhooks.sign(SECRET, now, body)
    assert webhooks.verify_signature(SECRET, header, body, now=now + 300)
    assert not webhooks.verify_signature(SECRET, header, body, now=now + 301)
    assert not webhooks.verify_signature(SECRET, header, body, now=now - 301)


def test_a_second_v1_value_lets_a_receiver_rotate_its_secret() -> None:
    body = b"{}"
    now = 1_800_000_000
    old = webhooks.sign("the-old-secret-of-the-receiver", now, body).split(",")[1]
    header = webhooks.sign(SECRET, now, body) + "," + old
    assert webhooks.verify_signature("the-old-secret-of-the-receiver", header, body, now=now)
    assert webhooks.verify_signature(SECRET, header, body, now=now)


# --- Delivery -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_stage_change_is_posted_signed_with_ids_and_no_patient_details(
    receiver: Receiver, _no_templates: None
) -> None:
    staff = make_staff()
    subscription = subscribe(staff, receiver.url, "case.stage_changed")
    case = make_case(staff)
    move(staff, case, "screening")
    assert receiver.wait_for(1)
    [request] = receiver.requests
    event = WebhookEvent.objects.get()
    assert request.path == "/hooks/osseo"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-OsseoMDT-Event-Id"] == str(event.event_id)
    assert request.headers["X-OsseoMDT-Event-Type"] == "case.stage_changed"
    signature = request.headers["X-OsseoMDT-Signature"]
    assert webhooks.verify_signature(SECRET, signature, request.body)
    # Independently of the helper: HMAC-SHA256 over "<t>.<body>".
    parts = dict(part.split("=", 1) for part in signature.split(","))
    expected = hmac.new(
        SECRET.encode(), parts["t"].encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - time.time()) < 60
    payload = request.json
    assert payload["id"] == str(event.event_id)
    assert payload["type"] == "case.stage_changed"
    assert payload["team"] == staff.team.pk
    assert payload["data"] == {
        "case": case.pk,
        "patient": case.patient_id,
        "transition": case.transitions.get().pk,
        "from_stage": "referred",
        "to_stage": "screening",
        "effective_date": "2026-03-02",
        "actor": staff.coordinator.pk,
    }
    text = request.body.decode()
    for detail in (
        case.patient.given_name,
        case.patient.family_name,
        case.patient.hospital_number,
        "1975-04-03",
    ):
        assert detail not in text
    delivery = WebhookDelivery.objects.get()
    assert delivery.subscription == subscription
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert delivery.last_status_code == 204
    assert delivery.last_response_ms is not None
    assert delivery.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_every_event_type_carries_ids_and_codes_and_never_names_or_free_text(
    receiver: Receiver, _no_templates: None
) -> None:
    staff = make_staff()
    subscribe(
        staff,
        receiver.url,
        "task.created",
        "task.completed",
        "rehab.flag_raised",
        "complication.recorded",
    )
    case = make_case(staff)
    task = make_task(staff, case, title=f"Call {case.patient.family_name}", role="nurse")
    services.task_complete(actor=staff.nurse, task=task, note="Spoke to Alex")
    case_services.complication_record(
        actor=staff.surgeon,
        case=case,
        kind="loosening",
        onset_date=date(2026, 2, 20),
        severity="severe",
        description=f"{case.patient.given_name} reports a clunk",
    )
    with transaction.atomic():
        case_services._flag_raise(
            case=case,
            kind=FlagKind.MISSED_SESSIONS,
            raised_on=date(2026, 3, 1),
            detail="No sessions for a week",
        )
    by_type: dict[str, list[dict[str, Any]]] = {}
    assert receiver.wait_for(6)
    for request in receiver.requests:
        text = request.body.decode()
        assert case.patient.family_name not in text
        assert case.patient.given_name not in text
        assert "Spoke to" not in text and "clunk" not in text and "No sessions" not in text
        by_type.setdefault(request.json["type"], []).append(request.json["data"])
    # The hand-made task, the surgeon's complication task and the physio's flag task.
    assert len(by_type["task.created"]) == 3
    assert by_type["task.completed"] == [
        {
            "task": task.pk,
            "case": case.pk,
            "patient": case.patient_id,
            "role": "nurse",
            "status": "completed",
            "priority": "routine",
            "due_date": "2026-03-09",
            "assignee": None,
            "template": None,
            "completed_at": by_type["task.completed"][0]["completed_at"],
            "completed_by": staff.nurse.pk,
        }
    ]
    [complication] = by_type["complication.recorded"]
    assert complication["kind"] == "loosening"
    assert complication["serious"] is True
    assert complication["case"] == case.pk
    [flag] = by_type["rehab.flag_raised"]
    assert flag["kind"] == "missed_sessions"
    assert flag["raised_on"] == "2026-03-01"


def test_tasks_a_template_generates_each_send_task_created(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    TaskTemplateFactory.create(code="screen-a", stage="screening", role="coordinator")
    TaskTemplateFactory.create(code="screen-b", stage="screening", role="nurse")
    subscribe(staff, receiver.url, "task.created")
    case = make_case(staff)
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, case, "screening")
    tasks = set(case.tasks.values_list("pk", flat=True))
    assert len(tasks) == 2
    assert {r.json["data"]["task"] for r in receiver.requests} == tasks
    assert {r.json["data"]["template"] is not None for r in receiver.requests} == {True}


def test_a_500_is_retried_and_then_delivered(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.fail_first = 1
    subscribe(staff, receiver.url, "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.PENDING  # in-process: not retried at once
    assert delivery.last_status_code == 500
    assert delivery.last_error == "HTTP 500: receiver is down"
    assert delivery.next_attempt_at is not None

    assert webhooks.deliver(delivery.pk).status == "delivered"
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert delivery.last_status_code == 204
    assert delivery.last_error == ""
    first, second = receiver.requests
    assert first.body == second.body  # the same event, byte for byte
    assert first.headers["X-OsseoMDT-Event-Id"] == second.headers["X-OsseoMDT-Event-Id"]
    assert [r.headers["X-OsseoMDT-Delivery-Attempt"] for r in receiver.requests] == ["1", "2"]


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)]:
        delays = {webhooks.backoff_delay(attempt, base=30) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


def test_the_last_attempt_marks_the_delivery_failed(
    staff: Staff, receiver: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.fail_first = 10
    subscription = subscribe(staff, receiver.url, "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    delivery = WebhookDelivery.objects.get()
    assert webhooks.deliver(delivery.pk).status == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.FAILED, 2)
    assert webhooks.deliver(delivery.pk).status == "skipped"
    assert len(receiver.requests) == 2
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 1


def test_a_4xx_fails_at_once_without_retries(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.status = 410
    subscribe(staff, receiver.url, "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.FAILED, 1)
    assert delivery.last_status_code == 410


def test_an_event_is_delivered_once_per_subscription_even_when_the_job_runs_twice(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    from scheduling.tasks import deliver_webhook

    subscribe(staff, receiver.url, "case.stage_changed")
    subscribe(staff, receiver.url + "?second", "case.stage_changed")
    subscribe(staff, receiver.url + "?other", "task.completed")  # not listening
    with django_capture_on_commit_callbacks(execute=True):
        case = move(staff, make_case(staff), "screening")
    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    assert len(deliveries) == 2
    for delivery in deliveries:
        assert webhooks.deliver(delivery.pk).status == "skipped"
        assert deliver_webhook.delay(delivery.pk).get() == "skipped"
    # The same occurrence emitted again (a repeated signal) writes nothing new.
    transition = case.transitions.get()
    with django_capture_on_commit_callbacks(execute=True):
        from scheduling.webhook_receivers import on_case_stage_changed

        on_case_stage_changed(None, case=case, transition=transition, actor=staff.coordinator)
    assert WebhookEvent.objects.count() == 1
    assert WebhookDelivery.objects.count() == 2
    assert sorted(r.path for r in receiver.requests) == ["/hooks/osseo", "/hooks/osseo?second"]
    assert len({r.headers["X-OsseoMDT-Event-Id"] for r in receiver.requests}) == 1


def test_a_switched_off_subscription_gets_nothing(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscribe(staff, receiver.url, "case.stage_changed", active=False)
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    assert not WebhookEvent.objects.exists()
    assert receiver.requests == []


def test_another_teams_events_do_not_reach_this_teams_subscription(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscribe(staff, receiver.url, "case.stage_changed")
    other = make_staff()
    with django_capture_on_commit_callbacks(execute=True):
        move(other, make_case(other), "screening")
    assert receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_an_event_in_a_rolled_back_transaction_is_never_recorded_or_delivered(
    receiver: Receiver, _no_templates: None
) -> None:
    staff = make_staff()
    subscribe(staff, receiver.url, "case.stage_changed", "task.created")
    case = make_case(staff)

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        move(staff, case, "screening")
        make_task(staff, case)
        assert WebhookEvent.objects.count() == 2  # written, inside the transaction
        raise Abandoned
    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()
    time.sleep(0.2)
    assert receiver.requests == []


def test_overdue_tasks_are_emitted_once_per_task_and_due_date(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    # Today is Monday 2 March 2026 (London).
    subscribe(staff, receiver.url, "task.overdue")
    late = make_task(staff, due_date=date(2026, 2, 20))
    make_task(staff, due_date=date(2026, 3, 2))  # due today: not overdue
    done = make_task(staff, due_date=date(2026, 2, 10))
    services.task_complete(actor=staff.coordinator, task=done)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.emit_overdue_tasks() == 1
        assert webhooks.emit_overdue_tasks() == 0  # the next hour's run
    [request] = receiver.requests
    assert request.json["type"] == "task.overdue"
    assert request.json["data"]["task"] == late.pk
    assert request.json["data"]["due_date"] == "2026-02-20"
    # A new due date that passes too is a new occurrence.
    services.task_update(actor=staff.coordinator, task=late, due_date=date(2026, 2, 27))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.emit_overdue_tasks() == 1
    assert len(receiver.requests) == 2


def test_the_sweeper_requeues_deliveries_never_queued_or_whose_worker_died_mid_send(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    subscribe(staff, receiver.url, "case.stage_changed")
    subscribe(staff, receiver.url + "?second", "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=False):
        move(staff, make_case(staff), "screening")  # the broker was down: never queued
    stuck, never_queued = WebhookDelivery.objects.order_by("pk")
    WebhookDelivery.objects.filter(pk=stuck.pk).update(
        status=WebhookDeliveryStatus.SENDING, claimed_at=timezone.now(), attempts=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.sweep() == []  # not yet past the timeout
        later = timezone.now() + timedelta(minutes=11)
        assert webhooks.sweep(later) == [stuck.pk, never_queued.pk]
    stuck.refresh_from_db()
    never_queued.refresh_from_db()
    assert (stuck.status, stuck.attempts) == (WebhookDeliveryStatus.DELIVERED, 2)
    assert (never_queued.status, never_queued.attempts) == (WebhookDeliveryStatus.DELIVERED, 1)
    assert len(receiver.requests) == 2


def test_a_failed_delivery_can_be_sent_again_by_a_coordinator(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.status = 400
    subscribe(staff, receiver.url, "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    receiver.status = 200
    with pytest.raises(NotPermitted):
        webhooks.deliveries_redeliver(actor=staff.nurse, deliveries=[delivery])
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.deliveries_redeliver(actor=staff.coordinator, deliveries=[delivery]) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.DELIVERED, 1)


# --- A real worker on Redis ---------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_retries_a_500_and_delivers_once_though_queued_twice(
    celery_on_redis: Any, receiver: Receiver, _no_templates: None
) -> None:
    from scheduling.tasks import deliver_webhook

    receiver.fail_first = 1
    staff = make_staff()
    subscribe(staff, receiver.url, "task.completed")
    task = make_task(staff)
    services.task_complete(actor=staff.nurse, task=task)  # queued on commit, to Redis
    delivery = WebhookDelivery.objects.get()
    deliver_webhook.delay(delivery.pk)  # the same job again, as a redelivered message would

    def delivered() -> bool:
        delivery.refresh_from_db()
        return delivery.status == WebhookDeliveryStatus.DELIVERED

    deadline = time.monotonic() + 30
    while not delivered() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    time.sleep(1)  # anything still queued has had its chance to send twice
    assert [r.headers["X-OsseoMDT-Delivery-Attempt"] for r in receiver.requests] == ["1", "2"]
    assert delivery.attempts == 2
    assert len({r.headers["X-OsseoMDT-Event-Id"] for r in receiver.requests}) == 1


# --- Pausing ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_subscription_that_keeps_failing_is_paused_and_its_owner_emailed(
    receiver: Receiver, smtp_server: Any, settings: Any, _no_templates: None
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    settings.WEBHOOK_FAILURES_BEFORE_PAUSE = 2
    receiver.fail_first = 1000
    staff = make_staff()
    subscription = subscribe(staff, receiver.url, "case.stage_changed")
    first, second, third = (make_case(staff) for _ in range(3))
    move(staff, first, "screening")
    subscription.refresh_from_db()
    assert (subscription.consecutive_failures, subscription.paused_at) == (1, None)
    move(staff, second, "screening")
    subscription.refresh_from_db()
    assert subscription.is_paused
    assert "2 deliveries in a row failed" in subscription.paused_reason

    [message] = smtp_server.messages
    assert message["To"] == staff.coordinator.email
    assert message["Subject"] == f"Webhook paused: {receiver.url}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert receiver.url in part
        assert f"/admin/scheduling/webhooksubscription/{subscription.pk}/change/" in part

    # Paused: the next event is kept for it, not sent.
    move(staff, third, "screening")
    held = WebhookDelivery.objects.get(event__data__case=third.pk)
    assert held.status == WebhookDeliveryStatus.PENDING
    assert len(receiver.requests) == 2

    # The receiver is back; the owner resumes and the held event goes out.
    receiver.fail_first = 0
    webhooks.subscription_resume(actor=staff.coordinator, subscription=subscription)
    assert receiver.wait_for(3)
    held.refresh_from_db()
    assert held.status == WebhookDeliveryStatus.DELIVERED
    subscription.refresh_from_db()
    assert (subscription.is_paused, subscription.consecutive_failures) == (False, 0)
    assert len(smtp_server.messages) == 1


def test_a_success_resets_the_count_of_failures_in_a_row(
    staff: Staff, receiver: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.fail_first = 1
    subscription = subscribe(staff, receiver.url, "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
        move(staff, make_case(staff), "screening")
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0


# --- Target addresses ---------------------------------------------------------------------------

REFUSED_URLS = [
    ("ftp://example.org/hooks", "http or https"),
    ("file:///etc/passwd", "http or https"),
    ("gopher://127.0.0.1:70/_", "http or https"),
    ("javascript:alert(1)", "http or https"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("http://METADATA.google.internal./computeMetadata/v1/", "metadata"),
    ("http://2852039166/latest/", "metadata"),  # 169.254.169.254 written as one number
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://169.254.1.1:8080/hooks", "link-local"),
    ("http://[fe80::1]/hooks", "link-local"),
    ("http://0.0.0.0:8000/hooks", "unspecified"),
    ("http://224.0.0.1/hooks", "multicast"),
    ("http://[ff02::1]/hooks", "multicast"),
    ("http://255.255.255.255/hooks", "reserved"),
    ("http://user:password@127.0.0.1/hooks", "credentials"),
    ("http:///hooks", "host"),
]


@pytest.mark.parametrize(("url", "why"), REFUSED_URLS)
def test_an_unsafe_target_url_is_refused_over_the_api_naming_the_field(
    staff: Staff, url: str, why: str
) -> None:
    response = api_as(staff.coordinator).post(
        "/api/v1/webhook-subscriptions/",
        {"team": staff.team.pk, "target_url": url, "event_types": ["task.created"]},
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert list(error["fields"]) == ["target_url"]
    assert why in error["fields"]["target_url"][0]
    assert not WebhookSubscription.objects.exists()


def test_a_host_name_that_resolves_to_a_link_local_address_is_refused(
    staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "_resolve", lambda host, port: ["93.184.215.14", "169.254.7.7"])
    response = api_as(staff.coordinator).post(
        "/api/v1/webhook-subscriptions/",
        {
            "team": staff.team.pk,
            "target_url": "https://hooks.example.org/osseo",
            "event_types": ["task.created"],
        },
    )
    assert response.status_code == 400
    assert "169.254.7.7 is a link-local address" in response.json()["error"]["message"]


def test_private_and_loopback_targets_need_the_setting(
    staff: Staff, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    for url in ("http://127.0.0.1:9000/hooks", "http://10.2.3.4/hooks", "http://[::1]/hooks"):
        with pytest.raises(webhooks.UnsafeTarget, match="private or loopback"):
            webhooks.check_target(url)
    monkeypatch.setattr(webhooks, "_resolve", lambda host, port: ["93.184.215.14"])
    assert webhooks.check_target("https://hooks.example.org/osseo").addresses == ("93.184.215.14",)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert webhooks.check_target("http://10.2.3.4/hooks").port == 80


def test_an_address_that_turns_unsafe_after_saving_is_refused_at_delivery(
    staff: Staff,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(webhooks, "_resolve", lambda host, port: ["127.0.0.1"])
    subscribe(staff, f"http://hooks.example.test:{port}/hooks/osseo", "case.stage_changed")
    # The name now answers with the metadata address (DNS rebinding).
    monkeypatch.setattr(webhooks, "_resolve", lambda host, port: ["169.254.169.254"])
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert "metadata" in delivery.last_error
    assert receiver.requests == []


def test_a_delivery_connects_to_the_checked_address_with_the_names_host_header(
    staff: Staff,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(webhooks, "_resolve", lambda host, port: ["127.0.0.1"])
    subscribe(staff, f"http://hooks.example.test:{port}/in", "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.example.test:{port}"
    assert request.path == "/in"


@pytest.fixture
def tls_receiver(tmp_path: Path, settings: Any) -> Iterator[Receiver]:
    """The receiver over TLS with a certificate for hooks.example.test, from a CA the
    service is told to trust (WEBHOOK_CA_BUNDLE), as a hospital's internal CA would be."""
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=hooks.example.test",
            "-addext", "subjectAltName=DNS:hooks.example.test",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    settings.WEBHOOK_CA_BUNDLE = str(cert)
    yield from _serve(context)


def test_https_goes_to_the_checked_address_with_the_name_in_sni_and_the_certificate_check(
    staff: Staff,
    tls_receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    port = tls_receiver.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(webhooks, "_resolve", lambda host, port: ["127.0.0.1"])
    subscribe(staff, f"https://hooks.example.test:{port}/in", "case.stage_changed")
    subscribe(staff, f"https://wrong.example.test:{port}/in", "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    [request] = tls_receiver.requests
    assert request.headers["Host"] == f"hooks.example.test:{port}"
    good, wrong = WebhookDelivery.objects.order_by("pk")
    assert good.status == WebhookDeliveryStatus.DELIVERED
    # The certificate names hooks.example.test, not wrong.example.test: never sent.
    assert wrong.status == WebhookDeliveryStatus.PENDING
    assert "certificate" in wrong.last_error.lower()


# --- API ----------------------------------------------------------------------------------------


def test_a_coordinator_subscribes_and_sees_the_generated_secret_only_once(
    staff: Staff, receiver: Receiver
) -> None:
    api = api_as(staff.coordinator)
    response = api.post(
        "/api/v1/webhook-subscriptions/",
        {
            "team": staff.team.pk,
            "target_url": receiver.url,
            "event_types": ["task.created", "task.overdue"],
            "description": "EPR integration engine",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["owner"] == staff.coordinator.pk
    assert body["paused"] is False
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret == body["secret"]
    detail = api.get(f"/api/v1/webhook-subscriptions/{subscription.pk}/").json()
    assert "secret" not in detail
    assert detail["event_types"] == ["task.created", "task.overdue"]
    listed = api.get("/api/v1/webhook-subscriptions/").json()["results"]
    assert [row["id"] for row in listed] == [subscription.pk]
    assert "secret" not in listed[0]


def test_a_secret_the_creator_sets_is_stored_and_never_returned(
    staff: Staff, receiver: Receiver
) -> None:
    api = api_as(staff.coordinator)
    response = api.post(
        "/api/v1/webhook-subscriptions/",
        {
            "team": staff.team.pk,
            "target_url": receiver.url,
            "event_types": ["task.created"],
            "secret": SECRET,
        },
    )
    assert response.status_code == 201
    assert response.json()["secret"] is None
    assert WebhookSubscription.objects.get().secret == SECRET
    short = api.post(
        "/api/v1/webhook-subscriptions/",
        {
            "team": staff.team.pk,
            "target_url": receiver.url,
            "event_types": ["task.created"],
            "secret": "short",
        },
    )
    assert short.status_code == 400
    assert list(short.json()["error"]["fields"]) == ["secret"]


def test_a_coordinator_changes_pauses_and_resumes_a_subscription(
    staff: Staff, receiver: Receiver
) -> None:
    subscription = subscribe(staff, receiver.url, "task.created")
    api = api_as(staff.coordinator)
    url = f"/api/v1/webhook-subscriptions/{subscription.pk}/"
    changed = api.patch(url, {"event_types": ["task.completed"], "secret": "r" * 40})
    assert changed.status_code == 200
    assert changed.json()["event_types"] == ["task.completed"]
    assert "secret" not in changed.json()
    subscription.refresh_from_db()
    assert subscription.secret == "r" * 40
    assert api.patch(url, {"event_types": ["task.deleted"]}).status_code == 400
    assert api.patch(url, {"event_types": []}).status_code == 400
    paused = api.post(f"{url}pause/", {"reason": "EPR maintenance tonight"})
    assert paused.json()["paused"] is True
    assert paused.json()["paused_reason"] == "EPR maintenance tonight"
    assert api.post(f"{url}pause/").status_code == 409
    assert api.post(f"{url}resume/").json()["paused"] is False
    assert api.post(f"{url}resume/").status_code == 409


def test_a_team_member_who_is_not_a_coordinator_may_read_but_not_write(
    staff: Staff, receiver: Receiver
) -> None:
    subscription = subscribe(staff, receiver.url, "task.created")
    api = api_as(staff.surgeon)
    url = f"/api/v1/webhook-subscriptions/{subscription.pk}/"
    assert api.get(url).status_code == 200
    created = api.post(
        "/api/v1/webhook-subscriptions/",
        {"team": staff.team.pk, "target_url": receiver.url, "event_types": ["task.created"]},
    )
    assert created.status_code == 403
    assert api.patch(url, {"active": False}).status_code == 403
    assert api.post(f"{url}pause/").status_code == 403
    assert api.get("/api/v1/webhook-deliveries/").status_code == 200


def test_another_teams_subscriptions_and_deliveries_are_not_found(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription = subscribe(staff, receiver.url, "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    delivery = WebhookDelivery.objects.get()
    stranger = member(TeamFactory.create(), "coordinator")
    api = api_as(stranger)
    url = f"/api/v1/webhook-subscriptions/{subscription.pk}/"
    assert api.get(url).status_code == 404
    assert api.patch(url, {"active": False}).status_code == 404
    assert api.post(f"{url}pause/").status_code == 404
    assert api.get("/api/v1/webhook-subscriptions/").json()["results"] == []
    assert api.get(f"/api/v1/webhook-deliveries/{delivery.pk}/").status_code == 404
    assert api.get("/api/v1/webhook-deliveries/").json()["results"] == []
    # Nor may they subscribe to a team that is not theirs.
    response = api.post(
        "/api/v1/webhook-subscriptions/",
        {"team": staff.team.pk, "target_url": receiver.url, "event_types": ["task.created"]},
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["team"]


def test_an_anonymous_caller_is_refused(staff: Staff) -> None:
    api = APIClient()
    assert api.get("/api/v1/webhook-subscriptions/").status_code == 401
    assert api.post("/api/v1/webhook-subscriptions/", {}).status_code == 401
    assert api.get("/api/v1/webhook-deliveries/").status_code == 401


def test_the_delivery_log_shows_status_codes_and_response_times_in_constant_queries(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.fail_first = 1
    subscription = subscribe(staff, receiver.url, "case.stage_changed")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    api = api_as(staff.coordinator)
    [row] = api.get("/api/v1/webhook-deliveries/").json()["results"]
    assert row["status"] == "pending"
    assert row["last_status_code"] == 500
    assert row["last_error"] == "HTTP 500: receiver is down"
    assert row["event_type"] == "case.stage_changed"
    assert row["event_id"] == str(WebhookEvent.objects.get().event_id)
    assert row["last_response_ms"] is not None

    def queries() -> int:
        api.force_authenticate(fresh(staff.coordinator))  # no roles cached from before
        with CaptureQueriesContext(connection) as captured:
            response = api.get("/api/v1/webhook-deliveries/", {"subscription": subscription.pk})
        assert response.status_code == 200
        return len(captured.captured_queries)

    # 1 the caller's teams and roles, 2 count, 3 page of deliveries with their events.
    assert queries() == 3
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            move(staff, make_case(staff), "screening")
    assert queries() == 3
    assert api.get("/api/v1/webhook-deliveries/", {"status": "delivered"}).json()["count"] == 4


def test_the_subscription_list_runs_in_constant_queries(staff: Staff, receiver: Receiver) -> None:
    api = api_as(staff.coordinator)

    def queries() -> int:
        api.force_authenticate(fresh(staff.coordinator))  # no roles cached from before
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/webhook-subscriptions/").status_code == 200
        return len(captured.captured_queries)

    subscribe(staff, receiver.url, "task.created")
    # 1 the caller's teams and roles, 2 count, 3 page of subscriptions.
    assert queries() == 3
    for n in range(3):
        subscribe(staff, f"{receiver.url}?n={n}", "task.created")
    assert queries() == 3


# --- Admin --------------------------------------------------------------------------------------


def test_the_admin_shows_subscriptions_and_the_delivery_log(
    staff: Staff, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.status = 503
    subscription = subscribe(staff, receiver.url, "case.stage_changed", description="EPR engine")
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, make_case(staff), "screening")
    client = Client()
    client.force_login(staff.coordinator)
    page = client.get("/admin/scheduling/webhooksubscription/")
    assert page.status_code == 200
    assert "EPR engine" in page.content.decode()
    change = client.get(f"/admin/scheduling/webhooksubscription/{subscription.pk}/change/")
    assert change.status_code == 200
    assert SECRET not in change.content.decode()
    log = client.get("/admin/scheduling/webhookdelivery/").content.decode()
    assert "503" in log and " ms" in log


def test_the_admin_refuses_a_metadata_address_and_creates_with_a_generated_secret(
    staff: Staff, receiver: Receiver
) -> None:
    client = Client()
    client.force_login(staff.coordinator)
    form = {
        "team": staff.team.pk,
        "description": "EPR",
        "event_types": ["task.created"],
        "active": "on",
        "secret": "",
    }
    refused = client.post(
        "/admin/scheduling/webhooksubscription/add/",
        {**form, "target_url": "http://169.254.169.254/latest/"},
    )
    assert refused.status_code == 200
    assert "metadata" in refused.content.decode()
    added = client.post(
        "/admin/scheduling/webhooksubscription/add/", {**form, "target_url": receiver.url}
    )
    assert added.status_code == 302
    subscription = WebhookSubscription.objects.get()
    assert subscription.owner == staff.coordinator
    assert len(subscription.secret) > 40
