"""Schemathesis drives every operation of our own OpenAPI schema in-process, with a signed-in
coordinator and the demo data: no 5xx, and every response matches the schema. Bounded
examples per operation keep it quick; a failure prints the reproducing request."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

# Committed data, as in production: one bad request cannot poison the others' transaction.
pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 8
# The token endpoint answers anonymous callers; revoking tokens would sign the fuzzer out.
SKIP = {"/api/v1/auth/token/revoke/", "/api/v1/auth/token/revoke-all/"}


@pytest.fixture
def auth_header(settings: Any) -> dict[str, str]:
    from django.contrib.auth import get_user_model

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100000/min"},
    }
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    coordinator = get_user_model().objects.get(username="coordinator")
    return {"Authorization": f"Token {AuthToken.objects.create(coordinator)[1]}"}


def _text(exc: BaseException) -> str:
    parts = [str(exc)]
    for inner in getattr(exc, "exceptions", ()):
        parts.append(str(inner))
    return "\n".join(parts)


@pytest.fixture
def _keep_test_connection() -> Any:
    # As Django's test client does: the WSGI app must not close the connection that holds
    # the test's transaction at each request start.
    from django.core.signals import request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)


def test_every_operation_survives_generated_input(auth_header, _keep_test_connection) -> None:
    from osseo_mdt.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application, headers=auth_header)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"schema error: {result.err()}")
            continue
        operation = result.ok()
        if operation.path in SKIP:
            continue
        operations += 1

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(
                headers=auth_header, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            run()
        except BaseException as exc:  # schemathesis raises exception groups; collect them all
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            detail = " | ".join(
                line.strip() for line in _text(exc).splitlines()[:10] if line.strip()
            )
            failures.append(f"{operation.method.upper()} {operation.path}: {detail}"[:700])
    assert operations > 50
    assert not failures, "\n\n".join(failures)
