"""Shared fixtures. Tests that need a real service are marked (`postgres`, `redis`,
`browser`); they skip with a reason when it is absent, and fail instead under
REQUIRE_SERVICES=1 (as in CI)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 turns this skip into a failure)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Tests make many users; the production hasher would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _services_for_markers(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        missing_service("needs PostgreSQL: set DATABASE_URL or run one on 127.0.0.1:5432")


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        missing_service("needs Redis: set TEST_REDIS_URL or run one on 127.0.0.1:6379")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        missing_service(f"Redis at {url} does not answer: {exc}")
    return url


@pytest.fixture
def celery_on_redis(redis_url: str) -> Iterator[Any]:
    """The project's Celery app pointed at real Redis, with a real worker in a thread."""
    import redis
    from celery.contrib.testing.worker import start_worker

    from osseo_mdt.celery import app

    redis.Redis.from_url(redis_url).flushdb()
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_url, task_always_eager=False)
    _reset_pools(app)
    try:
        with start_worker(
            app, perform_ping_check=False, pool="solo", loglevel="WARNING", shutdown_timeout=10
        ):
            yield app
    finally:
        app.conf.update(saved)
        _reset_pools(app)


def _reset_pools(app: Any) -> None:
    # Connections already pooled point at the previous broker.
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools in a process-wide registry keyed by connection.
    import kombu.pools

    kombu.pools.reset()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


class _Inbox:
    """Messages a real SMTP server on loopback received, parsed."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse_next = 0  # answer this many DATA commands with 451
        self.refused = 0
        self.refuse_recipients: set[str] = set()  # always answer RCPT TO with 451


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[_Inbox]:
    """An aiosmtpd server on 127.0.0.1 (free port); Django's SMTP backend points at it."""
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    inbox = _Inbox()

    class Handler:
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address in inbox.refuse_recipients:
                return "451 Mailbox temporarily unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            if inbox.refuse_next > 0:
                inbox.refuse_next -= 1
                inbox.refused += 1
                return "451 Try again later"
            inbox.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Browser tests save a screenshot of each journey here; SCREENSHOT_DIR=docs/screenshots
# refreshes the README's pictures (the default keeps a test run from changing tracked files).
ROOT_DIR = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT_DIR / os.environ.get("SCREENSHOT_DIR", ".artifacts/screenshots")


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Selenium (no browser download)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        missing_service("needs Debian's chromium and chromium-driver (apt-get install ...)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
