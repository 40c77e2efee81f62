"""Scheduling tests start from no templates: each test makes the ones it means (the default
set is tested on its own), so a data migration's rows never change what a test sees."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.scheduling.factories import Staff, make_staff

# A Monday, so "this week" and "next week" are easy to read in the tests.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_today() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Each test makes a whole team of users; the production hasher would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def _no_templates(request: pytest.FixtureRequest) -> None:
    from scheduling.models import TaskTemplate

    TaskTemplate.objects.all().delete()


@pytest.fixture
def staff(db: None, _no_templates: None) -> Staff:
    return make_staff()
