"""The web UI tests keep the default task templates (data migration scheduling 0003): moving
a case must show the tasks a real clinic would get."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Every test makes a team of users; the production hasher would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
