"""Liveness (/healthz: the process answers) and readiness (/readyz: its dependencies answer)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from kombu import Connection


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return type(exc).__name__
    return None


def _check_broker() -> str | None:
    url = settings.CELERY_BROKER_URL
    if not url:
        return None
    try:
        with Connection(
            url, connect_timeout=2, transport_options={"socket_connect_timeout": 2}
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as exc:
        return type(exc).__name__
    return None


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    failing = sorted(name for name, problem in checks.items() if problem)
    body: dict[str, object] = {
        "status": "unavailable" if failing else "ok",
        "checks": {
            "database": checks["database"] or "ok",
            "broker": checks["broker"] or ("ok" if settings.CELERY_BROKER_URL else "in-process"),
        },
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
