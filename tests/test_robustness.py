"""Bad input and broken dependencies never produce a 5xx or half-saved data."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from cases.models import Patient
from tests.factories import TeamFactory, case, member

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def api() -> APIClient:
    client = APIClient()
    client.force_authenticate(member(TeamFactory.create(), "coordinator"))
    return client


def test_malformed_json_is_a_400_in_the_error_shape(api) -> None:
    response = api.generic(
        "POST", "/api/v1/patients/", '{"hospital_number": "X1", ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.parametrize(
    "body",
    [
        {
            "hospital_number": ["a", "list"],
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "1970-01-01",
        },
        {"hospital_number": "X2", "given_name": "A", "family_name": "B", "date_of_birth": 19700101},
        {
            "hospital_number": "X3",
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "1970-01-01",
            "weight_kg": {"kg": 70},
        },
        [],
        "just a string",
    ],
)
def test_wrong_types_are_400_and_save_nothing(api, body: Any) -> None:
    response = api.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400, response.content
    assert "error" in response.json()
    assert not Patient.objects.exists()


def test_a_body_over_the_size_limit_is_refused_without_a_5xx(api, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    huge = {
        "hospital_number": "X4",
        "given_name": "A",
        "family_name": "B",
        "date_of_birth": "1970-01-01",
        "notes": "x" * 50_000,
    }
    response = api.post("/api/v1/patients/", huge, format="json")
    assert 400 <= response.status_code < 500
    assert not Patient.objects.exists()


def test_unknown_fields_on_write_are_ignored(api) -> None:
    response = api.post(
        "/api/v1/patients/",
        {
            "hospital_number": "X5",
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "1970-01-01",
            "favourite_colour": "blue",
            "team": None,
        },
        format="json",
    )
    assert response.status_code in (201, 400)
    assert "favourite_colour" not in response.json()


def test_unknown_query_parameters_are_ignored(api) -> None:
    response = api.get("/api/v1/cases/", {"no_such_filter": "1", "page_size": "abc"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/?page=999",
        "/api/v1/cases/?ordering=nonsense",
        "/api/v1/cases/abc/",
        "/api/v1/tasks/?due_before=notadate",
        "/api/v1/cases/?stage=nowhere",
    ],
)
def test_odd_urls_are_4xx_or_ignored_never_5xx(api, url: str) -> None:
    assert api.get(url).status_code < 500


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_with_the_database_down_the_api_answers_503_in_the_error_shape() -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
        "DEBUG": "True",
        "CELERY_BROKER_URL": "",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "osseo_mdt.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.3)
        request = urllib.request.Request(  # noqa: S310
            f"{base}/api/v1/cases/", headers={"Authorization": "Token abc"}
        )
        with pytest.raises(urllib.error.HTTPError) as failure:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310
        assert failure.value.code == 503
        body = json.loads(failure.value.read())
        assert body["error"]["code"] == "service_unavailable"
        with pytest.raises(urllib.error.HTTPError) as ready:
            urllib.request.urlopen(f"{base}/readyz", timeout=10)  # noqa: S310
        assert ready.value.code == 503
        assert json.loads(ready.value.read())["failing"] == ["database"]
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_writes_commit_and_the_sweeper_sends_later(
    smtp_server, redis_url
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from osseo_mdt.celery import app
    from scheduling import digest, services
    from scheduling.models import DeliveryStatus, DigestDelivery, TaskTemplate
    from scheduling.weeks import IsoWeek

    TaskTemplate.objects.all().delete()
    team = TeamFactory.create()
    coordinator = member(team, "coordinator")
    physio = member(team, "physiotherapist")
    c = case(team, coordinator)
    today = timezone.localdate()
    services.task_create(
        actor=coordinator,
        case=c,
        title="Review",
        role="physiotherapist",
        due_date=today,
        assignee=physio,
    )
    week = IsoWeek.of(today)
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(
        broker_url="redis://127.0.0.1:1/0",
        task_always_eager=False,
        broker_connection_timeout=1,
        broker_connection_max_retries=0,
    )
    try:
        queued = digest.digest_fan_out(week=week)  # must not raise
    finally:
        app.conf.update(saved)
        from tests.conftest import _reset_pools

        _reset_pools(app)
    assert len(queued) == 1
    delivery = DigestDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING, (delivery.status, delivery.last_error)
    assert smtp_server.messages == []
    # The broker is back (in-process here); the sweeper picks up what never got queued.
    later = timezone.now() + timedelta(hours=1)
    assert digest.digest_sweep(later) == queued
    assert DigestDelivery.objects.get().status == DeliveryStatus.SENT
    assert len(smtp_server.messages) == 1
