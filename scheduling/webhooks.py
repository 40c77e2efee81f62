"""Outgoing webhooks: signed notifications to hospital systems (README: Webhooks).

The flow:

1. Something happens (a stage change, a task created ...) inside a service's transaction; a
   receiver (webhook_receivers.py) calls `emit`, which writes the event to the outbox
   (WebhookEvent) and one WebhookDelivery per listening subscription, in that same
   transaction, and queues one delivery job per row once it commits. A rolled-back change
   leaves no event and queues nothing.
2. `deliver` claims a delivery with one conditional UPDATE (pending -> sending), so a job that
   runs twice, or two workers, send it once; it checks the target address again (DNS may have
   changed since the subscription was saved), connects to the address it checked, POSTs the
   signed body with a timeout, and records the status code and response time.
3. A failure that may pass (a 5xx, 408, 429, a timeout, a refused connection) goes back to
   pending with the next attempt due after exponential backoff with jitter; any other (a 4xx,
   a redirect, an unsafe address) or the last attempt marks the delivery failed. A
   subscription with WEBHOOK_FAILURES_BEFORE_PAUSE failed deliveries in a row is paused and
   its owner emailed; events keep being recorded for it and go out when it is resumed.

Signature (verify with `verify_signature`, which receivers may copy):

    X-OsseoMDT-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import smtplib
import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cases import access
from cases.errors import Conflict, RuleViolation
from cases.models import Team
from cases.roles import Role
from osseo_mdt.queue import enqueue_on_commit

from . import permissions as perms
from .models import (
    OPEN_STATUSES,
    Task,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
    WebhookEventType,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-OsseoMDT-Signature"
EVENT_ID_HEADER = "X-OsseoMDT-Event-Id"
EVENT_TYPE_HEADER = "X-OsseoMDT-Event-Type"
DELIVERY_HEADER = "X-OsseoMDT-Delivery"
ATTEMPT_HEADER = "X-OsseoMDT-Delivery-Attempt"
USER_AGENT = "osseo-mdt-webhooks/1"
SIGNATURE_TOLERANCE_SECONDS = 300
PAYLOAD_VERSION = 1
MAX_BACKOFF_SECONDS = 3600.0  # well under the broker's 12 h visibility timeout
MIN_SECRET_LENGTH = 24

# --- Signing ------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver runs on each request: True if `header` (X-OsseoMDT-Signature) signs the
    raw `body` with `secret` and its timestamp is within `tolerance` seconds of now (older,
    or from the future, is a replay or a badly wrong clock). Standard library only, so a
    receiver can copy it as it is. Several v1= values (a secret being rotated) are allowed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- Target addresses ---------------------------------------------------------------------------

METADATA_HOSTNAMES = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
# Cloud instance metadata and host agents: AWS, GCP, Azure (IMDS and the wire server),
# OpenStack (169.254.169.254), AWS over IPv6, Alibaba.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "168.63.129.16", "100.100.100.200")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(Exception):
    """A target URL the service will not send to; the message says why."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]  # checked, in resolver order: connect to these, not the name


def _resolve(host: str, port: int) -> list[str]:
    """The host's addresses (a module function so tests can stand in for DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _address_problem(raw: str, allow_private: bool) -> str | None:
    ip = ipaddress.ip_address(raw.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address wearing IPv6 clothes is judged as the IPv4 address.
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata address"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if ip.is_reserved and not ip.is_loopback:  # 240.0.0.0/4 with broadcast; unassigned v6
        return f"{ip} is a reserved address"
    if not ip.is_global and not allow_private:
        return (
            f"{ip} is a private or loopback address (allowed only when the service is set "
            "up with WEBHOOK_ALLOW_PRIVATE_TARGETS)"
        )
    return None


def check_target(url: str, *, allow_private: bool | None = None) -> Target:
    """Parse `url`, resolve its host and check every address; raise UnsafeTarget otherwise.

    Only http and https; no credentials in the URL (requests are signed instead); never a
    link-local, cloud metadata, multicast, unspecified or reserved address; private and
    loopback addresses only with WEBHOOK_ALLOW_PRIVATE_TARGETS. Every address the name
    resolves to must pass, and the delivery connects to a checked address, so a name that
    answers differently the second time cannot steer a request inside."""
    if allow_private is None:
        allow_private = settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"is not a valid URL ({exc}).") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget("must be an http or https URL.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeTarget("needs a host name or address.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("may not carry credentials; requests are signed with the secret.")
    if host in METADATA_HOSTNAMES:
        raise UnsafeTarget(f"{host} is a cloud metadata address.")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTarget(f"{host} does not resolve.") from exc
    if not addresses:
        raise UnsafeTarget(f"{host} does not resolve.")
    for address in addresses:
        problem = _address_problem(address, allow_private)
        if problem:
            raise UnsafeTarget(f"{problem}; not allowed as a webhook target.")
    return Target(url.strip(), scheme, host, port, tuple(addresses))


def clean_target_url(url: str) -> str:
    """The check as a validation error naming the field (API and admin)."""
    try:
        return check_target(url).url
    except UnsafeTarget as exc:
        raise RuleViolation.on("target_url", str(exc)) from exc


# --- Emitting (inside the caller's transaction) -------------------------------------------------


def _listening(team_id: int, event_type: str) -> list[WebhookSubscription]:
    # Filtered in Python: a team has a handful of subscriptions, and JSON containment is not
    # portable to SQLite. Paused ones are included: their deliveries wait for the resume.
    return [
        s
        for s in WebhookSubscription.objects.filter(team_id=team_id, active=True)
        if s.listens_to(event_type)
    ]


def emit(event_type: str, *, team_id: int, key: str, data: dict[str, Any]) -> WebhookEvent | None:
    """Record that `event_type` happened (`key` names the occurrence) for the team's
    listening subscriptions, in the caller's transaction; the delivery jobs are queued when
    it commits. Idempotent on `key`. Returns the event, or None when nobody listens."""
    return emit_many(event_type, team_id=team_id, occurrences=[(key, data)])[0]


def emit_many(
    event_type: str, *, team_id: int, occurrences: Sequence[tuple[str, dict[str, Any]]]
) -> list[WebhookEvent | None]:
    if event_type not in WebhookEventType.values:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not occurrences:
        return []
    subscriptions = _listening(team_id, event_type)
    if not subscriptions:
        return [None] * len(occurrences)
    events: list[WebhookEvent | None] = []
    queue: list[int] = []
    with transaction.atomic():
        for key, data in occurrences:
            # get_or_create: a racing insert of the same key (two workers, a repeated signal)
            # hits the unique constraint in a savepoint and reads the winner's row instead.
            event, created = WebhookEvent.objects.get_or_create(
                key=key, defaults={"team_id": team_id, "event_type": event_type, "data": data}
            )
            events.append(event)
            if not created:
                continue
            deliveries = WebhookDelivery.objects.bulk_create(
                [WebhookDelivery(event=event, subscription=s) for s in subscriptions]
            )
            queue += [
                d.pk for d, s in zip(deliveries, subscriptions, strict=True) if not s.is_paused
            ]
    _queue_on_commit(queue)
    return events


def _queue_on_commit(delivery_ids: Iterable[int]) -> None:
    """Queue the delivery jobs only once the rows they claim are committed (with the broker
    down the rows stay pending and the sweeper queues them later)."""
    from .tasks import deliver_webhook

    for delivery_id in delivery_ids:
        enqueue_on_commit(deliver_webhook, delivery_id)


def event_body(event: WebhookEvent) -> bytes:
    """The request body: the same bytes on every attempt, so the signature covers exactly
    what the receiver stores."""
    envelope = {
        "id": str(event.event_id),
        "type": event.event_type,
        "version": PAYLOAD_VERSION,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "team": event.team_id,
        "data": event.data,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


# --- Delivering (a Celery job per delivery) -----------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one run of `deliver` did. `retry_in`: seconds until the next attempt is due."""

    status: str  # delivered | retrying | failed | skipped | held
    retry_in: float | None = None


def backoff_delay(attempt: int, base: float | None = None) -> float:
    """Exponential backoff with jitter: between half and all of base * 2^(attempt-1) seconds,
    capped at an hour (the jitter spreads a recovering receiver's backlog)."""
    base = settings.WEBHOOK_RETRY_BACKOFF_SECONDS if base is None else base
    ceiling = min(base * 2 ** max(attempt - 1, 0), MAX_BACKOFF_SECONDS)
    return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Answer:
    status_code: int
    elapsed_ms: int
    body_start: str  # the first 200 characters of a failure's body, for the log
    retry_after: float | None  # seconds, from a Retry-After header in delta-seconds form


def _claim(delivery_id: int) -> str:
    """pending -> sending for this worker only; the conditional UPDATE is the lock."""
    state = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .values_list("status", "subscription__active", "subscription__paused_at")
        .first()
    )
    if state is None or state[0] != WebhookDeliveryStatus.PENDING:
        return "skipped"
    if not state[1] or state[2] is not None:
        return "held"  # stays pending; resuming the subscription queues it again
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDeliveryStatus.PENDING
    ).update(
        status=WebhookDeliveryStatus.SENDING,
        claimed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    return "claimed" if claimed == 1 else "skipped"


def _post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POST to the first checked address of `target`, with the URL's own name in the Host
    header and (https) in SNI and the certificate check. Redirects are not followed; at most
    200 bytes of a failure's body are read."""
    address = target.addresses[0]
    url = httpx.URL(target.url).copy_with(host=address)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    timeout = httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS)
    # A hospital's internal CA, if it signs the receiver's certificate; else the public ones.
    bundle = settings.WEBHOOK_CA_BUNDLE
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=bundle) if bundle else True
    started = time.monotonic()
    with (
        httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=verify
        ) as client,
        client.stream(
            "POST",
            url,
            content=body,
            headers={**headers, "Host": host_header},
            extensions=extensions,
        ) as response,
    ):
        elapsed_ms = int((time.monotonic() - started) * 1000)
        snippet = b""
        if not response.is_success:
            for chunk in response.iter_bytes():
                snippet += chunk
                if len(snippet) >= 200:
                    break
        retry_after = response.headers.get("retry-after", "").strip()
        return Answer(
            status_code=response.status_code,
            elapsed_ms=elapsed_ms,
            body_start=snippet[:200].decode("utf-8", "replace").strip(),
            retry_after=float(retry_after) if retry_after.isdigit() else None,
        )


def deliver(delivery_id: int) -> Outcome:
    """Make one attempt at a delivery, if it is still pending and nobody else holds it."""
    claim = _claim(delivery_id)
    if claim != "claimed":
        return Outcome(claim)
    delivery = WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    subscription, event = delivery.subscription, delivery.event
    body = event_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(subscription.secret, int(time.time()), body),
        EVENT_ID_HEADER: str(event.event_id),
        EVENT_TYPE_HEADER: event.event_type,
        DELIVERY_HEADER: str(delivery.pk),
        ATTEMPT_HEADER: str(delivery.attempts),
    }
    try:
        target = check_target(subscription.target_url)
        answer = _post(target, body, headers)
    except UnsafeTarget as exc:
        return _failed(delivery, None, None, f"Refused: target_url {exc}", may_pass=False)
    except httpx.TimeoutException:
        error = f"Timed out after {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."
        return _failed(delivery, None, None, error, may_pass=True)
    except httpx.HTTPError as exc:
        return _failed(delivery, None, None, f"{type(exc).__name__}: {exc}", may_pass=True)
    code, elapsed_ms = answer.status_code, answer.elapsed_ms
    if 200 <= code < 300:
        now = timezone.now()
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDeliveryStatus.SENDING).update(
            status=WebhookDeliveryStatus.DELIVERED,
            delivered_at=now,
            last_status_code=code,
            last_response_ms=elapsed_ms,
            last_error="",
            next_attempt_at=None,
        )
        WebhookSubscription.objects.filter(pk=subscription.pk, consecutive_failures__gt=0).update(
            consecutive_failures=0
        )
        return Outcome("delivered")
    if 300 <= code < 400:
        error = f"HTTP {code}: redirects are not followed; point target_url at the final address."
    else:
        error = f"HTTP {code}" + (f": {answer.body_start}" if answer.body_start else "")
    # Worth another try: the receiver is down, overloaded or slow. Any other answer (400, 401,
    # 404 ...) would be the same next time: failed at once, and counted towards the pause.
    may_pass = code >= 500 or code in (408, 425, 429)
    return _failed(
        delivery, code, elapsed_ms, error, may_pass=may_pass, retry_after=answer.retry_after
    )


def _failed(
    delivery: WebhookDelivery,
    code: int | None,
    elapsed_ms: int | None,
    error: str,
    *,
    may_pass: bool,
    retry_after: float | None = None,
) -> Outcome:
    final = not may_pass or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    logger.warning(
        "webhook delivery %s attempt %s to subscription %s failed%s: %s",
        delivery.pk,
        delivery.attempts,
        delivery.subscription_id,
        " for good" if final else "",
        error[:200],
    )
    fields: dict[str, Any] = {
        "last_status_code": code,
        "last_response_ms": elapsed_ms,
        "last_error": error[:500],
    }
    if not final:
        delay = backoff_delay(delivery.attempts)
        if retry_after is not None:
            delay = min(max(delay, retry_after), MAX_BACKOFF_SECONDS)
        WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDeliveryStatus.SENDING).update(
            status=WebhookDeliveryStatus.PENDING,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            **fields,
        )
        return Outcome("retrying", retry_in=delay)
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDeliveryStatus.SENDING).update(
        status=WebhookDeliveryStatus.FAILED, next_attempt_at=None, **fields
    )
    _count_failure(delivery.subscription_id, error)
    return Outcome("failed")


def _count_failure(subscription_id: int, error: str) -> None:
    WebhookSubscription.objects.filter(pk=subscription_id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    limit = settings.WEBHOOK_FAILURES_BEFORE_PAUSE
    reason = f"{limit} deliveries in a row failed; the last: {error}"[:500]
    # Conditional: of several workers failing at once, exactly one pauses and emails.
    paused = WebhookSubscription.objects.filter(
        pk=subscription_id, paused_at__isnull=True, consecutive_failures__gte=limit
    ).update(paused_at=timezone.now(), paused_reason=reason)
    if paused:
        _email_paused(
            WebhookSubscription.objects.select_related("team", "owner").get(pk=subscription_id)
        )


def _email_paused(subscription: WebhookSubscription) -> None:
    owner = subscription.owner
    recipients = [owner.email] if owner.is_active and owner.email else []
    if not recipients:
        # Nobody to tell in person: the team's coordinators hear of it instead.
        from django.contrib.auth import get_user_model

        recipients = list(
            get_user_model()
            .objects.filter(
                memberships__team=subscription.team,
                memberships__is_active=True,
                memberships__roles__role=Role.COORDINATOR,
                is_active=True,
            )
            .exclude(email="")
            .values_list("email", flat=True)
            .distinct()
        )
    if not recipients:
        return
    url = settings.SITE_URL + reverse(
        "admin:scheduling_webhooksubscription_change", args=[subscription.pk]
    )
    context = {"subscription": subscription, "url": url, "owner": owner}
    message = EmailMultiAlternatives(
        subject=f"Webhook paused: {subscription}",
        body=render_to_string("scheduling/email/webhook_paused.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(
        render_to_string("scheduling/email/webhook_paused.html", context), "text/html"
    )
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        # The pause stands and shows in the admin; the email is a courtesy.
        logger.error("could not email the owner of paused webhook %s: %s", subscription.pk, exc)


def sweep(now: datetime | None = None) -> list[int]:
    """Re-queue deliveries whose job was lost: stuck in `sending` past the timeout (their
    worker died mid-request), or pending well past their due time (never queued because the
    broker was down, or the retry message is gone). A re-queued job that finds its delivery
    taken or done does nothing."""
    now = now or timezone.now()
    stuck_before = now - timedelta(minutes=settings.WEBHOOK_SENDING_TIMEOUT_MINUTES)
    stuck = list(
        WebhookDelivery.objects.filter(
            status=WebhookDeliveryStatus.SENDING, claimed_at__lt=stuck_before
        ).values_list("pk", flat=True)
    )
    WebhookDelivery.objects.filter(pk__in=stuck, status=WebhookDeliveryStatus.SENDING).update(
        status=WebhookDeliveryStatus.PENDING,
        next_attempt_at=now,
        last_error="Re-queued after the sending timeout.",
    )
    late = now - timedelta(minutes=settings.WEBHOOK_SENDING_TIMEOUT_MINUTES)
    overdue = list(
        WebhookDelivery.objects.filter(
            Q(next_attempt_at__lt=late) | Q(next_attempt_at__isnull=True, created_at__lt=late),
            status=WebhookDeliveryStatus.PENDING,
            subscription__active=True,
            subscription__paused_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    queued = sorted({*stuck, *overdue})
    _queue_on_commit(queued)
    return queued


# --- task.overdue (an hourly beat job) ----------------------------------------------------------


def overdue_key(task: Task) -> str:
    return f"task.overdue:{task.pk}:{task.due_date.isoformat()}"


def emit_overdue_tasks() -> int:
    """Emit task.overdue once per open task and due date, for teams that listen. Overdue:
    open and due before today in the team's time zone. Returns how many events were new."""
    from cases.services import team_today

    team_ids = {
        s.team_id
        for s in WebhookSubscription.objects.filter(active=True)
        if s.listens_to(WebhookEventType.TASK_OVERDUE)
    }
    count = 0
    for team in Team.objects.filter(pk__in=team_ids, is_active=True):
        tasks = list(
            Task.objects.filter(
                case__team=team,
                case__entered_in_error=False,
                status__in=OPEN_STATUSES,
                due_date__lt=team_today(team),
            )
            .select_related("case")
            .order_by("due_date", "pk")
        )
        keys = [overdue_key(t) for t in tasks]
        seen = set(WebhookEvent.objects.filter(key__in=keys).values_list("key", flat=True))
        fresh = [t for t in tasks if overdue_key(t) not in seen]
        with transaction.atomic():
            emit_many(
                WebhookEventType.TASK_OVERDUE,
                team_id=team.pk,
                occurrences=[(overdue_key(t), task_data(t)) for t in fresh],
            )
        count += len(fresh)
    return count


def task_data(task: Task, **extra: Any) -> dict[str, Any]:
    """A task in a payload: ids and coded fields, never its free-text title or details."""
    return {
        "task": task.pk,
        "case": task.case_id,
        "patient": task.case.patient_id,
        "role": task.role,
        "status": task.status,
        "priority": task.priority,
        "due_date": task.due_date.isoformat(),
        "assignee": task.assignee_id,
        "template": task.template_id,
        **extra,
    }


# --- Subscriptions: the writes (API and admin) --------------------------------------------------


def subscriptions_for(user: Any) -> QuerySet[WebhookSubscription]:
    """What the caller may see: the subscriptions of their teams."""
    return WebhookSubscription.objects.filter(team_id__in=access.team_ids(user)).select_related(
        "owner"
    )


def deliveries_for(user: Any) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        subscription__team_id__in=access.team_ids(user)
    ).select_related("event")


def _clean_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    unknown = [t for t in chosen if t not in WebhookEventType.values]
    if unknown:
        raise RuleViolation.on("event_types", f"unknown event type(s): {', '.join(unknown)}.")
    if not chosen:
        raise RuleViolation.on("event_types", "choose at least one event type.")
    return chosen


def _clean_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET_LENGTH:
        raise RuleViolation.on("secret", f"must be at least {MIN_SECRET_LENGTH} characters.")
    return secret


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: WebhookSubscription
    secret: str | None  # the generated secret, shown this once; None when the creator set it


@transaction.atomic
def subscription_create(
    *,
    actor: Any,
    team: Team,
    target_url: str,
    event_types: Iterable[str],
    description: str = "",
    secret: str = "",
    active: bool = True,
) -> CreatedSubscription:
    perms.require("webhook.write", perms.team_grounds(actor, team.pk))
    generated = None if secret else new_secret()
    subscription = WebhookSubscription(
        team=team,
        description=description.strip(),
        target_url=clean_target_url(target_url),
        event_types=_clean_event_types(event_types),
        secret=_clean_secret(secret) if secret else str(generated),
        active=active,
        owner=actor,
    )
    subscription._history_user = actor  # type: ignore[attr-defined]
    subscription.save()
    return CreatedSubscription(subscription, generated)


def _locked(subscription: WebhookSubscription | int) -> WebhookSubscription:
    pk = subscription if isinstance(subscription, int) else subscription.pk
    return WebhookSubscription.objects.select_for_update(of=("self",)).get(pk=pk)


@transaction.atomic
def subscription_update(
    *, actor: Any, subscription: WebhookSubscription | int, **changes: Any
) -> WebhookSubscription:
    """Change the address, event types, description, secret or on/off switch."""
    editable = {"target_url", "event_types", "description", "secret", "active"}
    unknown = set(changes) - editable
    if unknown:
        raise RuleViolation(f"Cannot change {', '.join(sorted(unknown))} here.")
    subscription = _locked(subscription)
    perms.require("webhook.write", perms.team_grounds(actor, subscription.team_id))
    if "target_url" in changes:
        changes["target_url"] = clean_target_url(changes["target_url"])
    if "event_types" in changes:
        changes["event_types"] = _clean_event_types(changes["event_types"])
    if "secret" in changes:
        changes["secret"] = _clean_secret(changes["secret"])
    if "description" in changes:
        changes["description"] = changes["description"].strip()
    switched_on = changes.get("active") is True and not subscription.active
    for name, value in changes.items():
        setattr(subscription, name, value)
    subscription._history_user = actor  # type: ignore[attr-defined]
    subscription.save(update_fields=[*changes, "updated_at"])
    if switched_on and not subscription.is_paused:
        _queue_held(subscription)
    return subscription


def _queue_held(subscription: WebhookSubscription) -> None:
    held = list(
        WebhookDelivery.objects.filter(
            subscription=subscription, status=WebhookDeliveryStatus.PENDING
        ).values_list("pk", flat=True)
    )
    WebhookDelivery.objects.filter(pk__in=held).update(next_attempt_at=timezone.now())
    _queue_on_commit(held)


@transaction.atomic
def subscription_pause(
    *, actor: Any, subscription: WebhookSubscription | int, reason: str = ""
) -> WebhookSubscription:
    """Hold deliveries (events keep being recorded for it) until resumed."""
    subscription = _locked(subscription)
    perms.require("webhook.write", perms.team_grounds(actor, subscription.team_id))
    if subscription.is_paused:
        raise Conflict("The subscription is already paused.")
    subscription.paused_at = timezone.now()
    subscription.paused_reason = (reason.strip() or f"Paused by {actor.get_username()}.")[:500]
    subscription._history_user = actor  # type: ignore[attr-defined]
    subscription.save(update_fields=["paused_at", "paused_reason", "updated_at"])
    return subscription


@transaction.atomic
def subscription_resume(
    *, actor: Any, subscription: WebhookSubscription | int
) -> WebhookSubscription:
    """Deliver again, starting with what was held while paused."""
    subscription = _locked(subscription)
    perms.require("webhook.write", perms.team_grounds(actor, subscription.team_id))
    if not subscription.is_paused:
        raise Conflict("The subscription is not paused.")
    subscription.paused_at = None
    subscription.paused_reason = ""
    subscription.consecutive_failures = 0
    subscription._history_user = actor  # type: ignore[attr-defined]
    subscription.save(
        update_fields=["paused_at", "paused_reason", "consecutive_failures", "updated_at"]
    )
    if subscription.active:
        _queue_held(subscription)
    return subscription


@transaction.atomic
def deliveries_redeliver(*, actor: Any, deliveries: Iterable[WebhookDelivery]) -> int:
    """Send failed deliveries again, with a fresh set of attempts (admin action)."""
    failed = [d for d in deliveries if d.status == WebhookDeliveryStatus.FAILED]
    for delivery in failed:
        team_id = WebhookSubscription.objects.values_list("team_id", flat=True).get(
            pk=delivery.subscription_id
        )
        perms.require("webhook.write", perms.team_grounds(actor, team_id))
    ids = [d.pk for d in failed]
    WebhookDelivery.objects.filter(pk__in=ids, status=WebhookDeliveryStatus.FAILED).update(
        status=WebhookDeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    _queue_on_commit(ids)
    return len(ids)
