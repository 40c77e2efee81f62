"""Reads of a patient's record are logged (who, what, when, from where) and only
coordinators can read the log."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cases.models import AccessLogEntry
from tests.factories import TeamFactory, case, member

pytestmark = pytest.mark.django_db


def test_an_api_read_of_a_case_and_a_patient_is_logged() -> None:
    team = TeamFactory.create()
    nurse = member(team, "nurse")
    c = case(team)
    api = APIClient()
    api.force_authenticate(nurse)
    assert api.get(f"/api/v1/cases/{c.pk}/", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert api.get(f"/api/v1/patients/{c.patient_id}/").status_code == 200
    entries = list(AccessLogEntry.objects.order_by("id"))
    assert [(e.user, e.patient_id, e.case_id, e.via) for e in entries] == [
        (nurse, c.patient_id, c.pk, "api"),
        (nurse, c.patient_id, None, "api"),
    ]
    assert entries[0].ip_address == "10.1.2.3"
    assert entries[0].path == f"/api/v1/cases/{c.pk}/"


def test_lists_are_not_logged_as_record_reads() -> None:
    team = TeamFactory.create()
    case(team)
    api = APIClient()
    api.force_authenticate(member(team, "nurse"))
    api.get("/api/v1/cases/")
    assert not AccessLogEntry.objects.exists()


def test_an_admin_read_of_a_patient_is_logged(client) -> None:
    team = TeamFactory.create()
    surgeon = member(team, "surgeon")
    c = case(team)
    client.force_login(surgeon)
    assert client.get(f"/admin/cases/patient/{c.patient_id}/change/").status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.via, entry.patient_id) == (surgeon, "admin", c.patient_id)


def test_only_coordinators_read_the_log_of_their_team() -> None:
    team = TeamFactory.create()
    c = case(team)
    reader = member(team, "physiotherapist")
    api = APIClient()
    api.force_authenticate(reader)
    api.get(f"/api/v1/cases/{c.pk}/")
    assert api.get("/api/v1/access-log/").json()["count"] == 0
    coordinator = APIClient()
    coordinator.force_authenticate(member(team, "coordinator"))
    rows = coordinator.get("/api/v1/access-log/").json()["results"]
    assert [(r["username"], r["case"]) for r in rows] == [(reader.username, c.pk)]
    outsider = APIClient()
    outsider.force_authenticate(member(TeamFactory.create(), "coordinator"))
    assert outsider.get("/api/v1/access-log/").json()["count"] == 0
