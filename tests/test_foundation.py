"""The service's skeleton: migrations, role groups, API plumbing, health, seed_demo, Celery."""

from __future__ import annotations

import time

import pytest
import yaml
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from cases.roles import Role, group_name
from scheduling.models import WorkerHeartbeat
from scheduling.tasks import record_heartbeat
from tests.factories import PASSWORD, TeamFactory, member

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_migrations_apply_from_zero_on_postgresql() -> None:
    executor = MigrationExecutor(connection)
    targets = [
        (app.label, None) for app in apps.get_app_configs() if app.label in ("cases", "scheduling")
    ]
    executor.migrate(targets)
    executor.loader.build_graph()
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(leaves)
    # A fresh loader reads what is applied now: nothing may be left to apply.
    assert not MigrationExecutor(connection).migration_plan(leaves)
    assert Group.objects.filter(name=group_name(Role.SURGEON)).exists()
    assert connection.vendor == "postgresql"


def test_every_role_has_its_group_with_view_permissions() -> None:
    for role in Role:
        group = Group.objects.get(name=group_name(role))
        assert group.permissions.filter(codename="view_team").exists()


def test_holding_a_role_puts_a_user_in_its_group_and_lets_them_into_the_admin() -> None:
    user = member(TeamFactory.create(), Role.SURGEON, Role.COORDINATOR)
    user.refresh_from_db()
    assert set(user.groups.values_list("name", flat=True)) == {
        group_name(Role.SURGEON),
        group_name(Role.COORDINATOR),
    }
    assert user.is_staff


def test_the_token_endpoint_gives_a_token_for_right_credentials(api) -> None:
    user = member(TeamFactory.create(), Role.NURSE)
    response = api.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    assert me.json()["teams"][0]["roles"] == ["nurse"]


def test_the_token_endpoint_refuses_wrong_credentials_in_the_error_shape(api) -> None:
    user = member(TeamFactory.create(), Role.NURSE)
    response = api.post("/api/v1/auth/token/", {"username": user.username, "password": "nope"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["non_field_errors"]
    assert error["message"]


def test_me_without_a_token_is_401_in_the_error_shape(api) -> None:
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_unknown_api_url_is_a_json_404(api) -> None:
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_healthz_answers(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ok_with_the_database_and_no_broker(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "in-process"}


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_readyz_is_503_naming_the_broker_when_it_does_not_answer(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_readyz_is_ok_with_a_real_redis_broker(client, redis_url) -> None:
    with override_settings(CELERY_BROKER_URL=redis_url):
        response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["broker"] == "ok"


def test_seed_demo_twice_leaves_the_same_row_counts() -> None:
    def counts() -> dict[str, int]:
        return {m._meta.label: m._default_manager.count() for m in apps.get_models()}

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts() == first
    assert first["cases.Team"] >= 2


def test_the_openapi_schema_validates() -> None:
    from io import StringIO

    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert "/api/v1/me/" in schema["paths"]


def test_the_api_docs_page_renders(client) -> None:
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_task_sent_through_redis_is_run_by_a_real_worker(celery_on_redis) -> None:
    record_heartbeat.delay(worker="through-redis")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if WorkerHeartbeat.objects.filter(worker="through-redis").exists():
            break
        time.sleep(0.2)
    assert WorkerHeartbeat.objects.filter(worker="through-redis").count() == 1
