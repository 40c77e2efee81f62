"""Integration clients use tokens of a service account scoped to teams, read-only unless
made read-write."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import TeamFactory, case

pytestmark = pytest.mark.django_db


def service_client(*args: str) -> APIClient:
    out = StringIO()
    call_command("create_service_account", "epr-feed", *args, stdout=out)
    token = out.getvalue().split("Token (shown once): ")[1].strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_read_only_account_reads_its_team_and_may_not_write() -> None:
    team, other = TeamFactory.create(slug="north"), TeamFactory.create(slug="south")
    mine, theirs = case(team), case(other)
    client = service_client("--team", "north")
    assert client.get(f"/api/v1/cases/{mine.pk}/").status_code == 200
    assert client.get(f"/api/v1/cases/{theirs.pk}/").status_code == 404
    response = client.post(f"/api/v1/cases/{mine.pk}/transition/", {"to": "screening"})
    assert response.status_code == 403
    assert "read-only" in response.json()["error"]["message"]


def test_a_read_write_account_writes_with_its_roles() -> None:
    team = TeamFactory.create(slug="north")
    mine = case(team)
    client = service_client("--team", "north", "--read-write", "--role", "coordinator")
    assert (
        client.post(f"/api/v1/cases/{mine.pk}/transition/", {"to": "screening"}).status_code == 200
    )


def test_an_unknown_team_is_refused() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_service_account", "x", "--team", "nowhere", stdout=StringIO())
