"""Login protection, tokens, security headers and production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from cases import access
from tests.factories import PASSWORD, TeamFactory, member

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def token_for(api: APIClient, username: str, password: str = PASSWORD) -> str:
    response = api.post("/api/v1/auth/token/", {"username": username, "password": password})
    assert response.status_code == 200, response.json()
    return str(response.json()["token"])


def request_with(token: str) -> Any:
    return APIClient().get("/", HTTP_AUTHORIZATION=f"Token {token}").wsgi_request


def test_a_revoked_token_no_longer_works() -> None:
    user = member(TeamFactory.create(), "nurse")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(APIClient(), user.username)}")
    assert api.get("/api/v1/me/").status_code == 200
    assert api.post("/api/v1/auth/token/revoke/").status_code == 204
    assert api.get("/api/v1/me/").status_code == 401


def test_an_expired_token_no_longer_works() -> None:
    user = member(TeamFactory.create(), "nurse")
    instance, token = AuthToken.objects.create(user, expiry=timedelta(hours=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/").status_code == 200
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/v1/me/").status_code == 401
    assert not AuthToken.objects.filter(pk=instance.pk).exists()  # deleted when presented


def test_the_token_check_is_one_query_however_many_tokens_the_caller_holds(
    django_assert_num_queries,
) -> None:
    from osseo_mdt.api.authentication import TokenAuthentication

    user = member(TeamFactory.create(), "nurse")
    others = [AuthToken.objects.create(user, expiry=timedelta(hours=1))[0] for _ in range(7)]
    AuthToken.objects.filter(pk__in=[t.pk for t in others[:2]]).update(
        expiry=timezone.now() - timedelta(minutes=1)
    )  # two of the caller's other tokens have expired
    _, token = AuthToken.objects.create(user, expiry=timedelta(hours=1))
    with django_assert_num_queries(1):
        found_user, found_token = TokenAuthentication().authenticate(request_with(token))
        roles = access.roles_by_team(found_user)  # read with the token: no query of its own
    assert found_user == user and found_token.user_id == user.pk
    access.forget(user)
    assert roles == access.roles_by_team(user) and roles
    # The others are left to the daily sweep.
    assert AuthToken.objects.filter(user=user).count() == 8


def test_the_roles_read_with_the_token_are_those_of_active_memberships_in_active_teams() -> None:
    from osseo_mdt.api.authentication import TokenAuthentication

    here, there, closed, left = (TeamFactory.create() for _ in range(4))
    user = member(here, "nurse", "coordinator")
    for team, roles in ((there, ("surgeon",)), (closed, ("nurse",)), (left, ("physiotherapist",))):
        member(team, *roles, user=user)
    type(closed).objects.filter(pk=closed.pk).update(is_active=False)
    user.memberships.filter(team=left).update(is_active=False)
    _, token = AuthToken.objects.create(user, expiry=timedelta(hours=1))
    found_user, _ = TokenAuthentication().authenticate(request_with(token))
    assert access.roles_by_team(found_user) == {
        here.pk: frozenset({"nurse", "coordinator"}),
        there.pk: frozenset({"surgeon"}),
    }
    # A caller with no team at all still authenticates, with no roles.
    loner = member(TeamFactory.create(), "nurse")
    loner.memberships.update(is_active=False)
    _, token = AuthToken.objects.create(loner, expiry=timedelta(hours=1))
    found, _ = TokenAuthentication().authenticate(request_with(token))
    assert found == loner and access.roles_by_team(found) == {}


def test_the_daily_sweep_deletes_expired_tokens_only() -> None:
    from cases.tasks import sweep_expired_tokens

    user = member(TeamFactory.create(), "nurse")
    live, _ = AuthToken.objects.create(user, expiry=timedelta(hours=1))
    forever, _ = AuthToken.objects.create(user, expiry=None)
    gone, _ = AuthToken.objects.create(user, expiry=timedelta(hours=1))
    AuthToken.objects.filter(pk=gone.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert sweep_expired_tokens.apply().get() == 1
    assert set(AuthToken.objects.values_list("pk", flat=True)) == {live.pk, forever.pk}


def test_tokens_are_stored_hashed() -> None:
    user = member(TeamFactory.create(), "nurse")
    token = token_for(APIClient(), user.username)
    stored = AuthToken.objects.get(user=user)
    assert token not in (stored.digest, stored.token_key)


def test_the_token_endpoint_is_throttled(monkeypatch) -> None:
    from django.core.cache import cache

    from osseo_mdt.api.auth import TokenThrottle

    monkeypatch.setattr(TokenThrottle, "THROTTLE_RATES", {"token": "3/min"})
    cache.clear()
    api = APIClient()
    codes = [
        api.post("/api/v1/auth/token/", {"username": "x", "password": "y"}).status_code
        for _ in range(5)
    ]
    assert codes[-1] == 429
    cache.clear()


def test_the_admin_login_locks_out_after_repeated_failures(client) -> None:
    user = member(TeamFactory.create(), "coordinator")
    for _ in range(5):
        client.post("/admin/login/?next=/admin/", {"username": user.username, "password": "no"})
    locked = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_pages_carry_security_headers_and_a_content_security_policy(client) -> None:
    response = client.get("/admin/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_production_settings_pass_the_deploy_check() -> None:
    env = {
        **os.environ,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "oi.example.org",
        "DATABASE_URL": "sqlite:////tmp/deploy-check.db",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DEBUG"] = "False"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
