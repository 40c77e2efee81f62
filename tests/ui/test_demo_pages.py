"""The demo (`make run` seeds it) opens cleanly: every demo login's dashboard, and every demo
case's page for the coordinator and the physiotherapist."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from cases.demo import DEMO_STAFF
from cases.models import Case

pytestmark = pytest.mark.django_db


def test_every_demo_dashboard_and_case_page_opens() -> None:
    call_command("seed_demo", verbosity=0)
    users = get_user_model().objects
    for username in ["admin", "north-coordinator", *(row[0] for row in DEMO_STAFF)]:
        client = Client()
        client.force_login(users.get(username=username))
        assert client.get("/admin/").status_code == 200, username
    for username in ("coordinator", "physio"):
        client = Client()
        client.force_login(users.get(username=username))
        for case in Case.objects.filter(team__slug="demo"):
            response = client.get(f"/admin/cases/case/{case.pk}/overview/")
            assert response.status_code == 200, (username, case.stage)
