"""Updates of cases and patients carry ETags: a stale If-Match is 412, none is 428."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cases.models import Case, Patient
from tests.factories import TeamFactory, case, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup() -> tuple[APIClient, Case]:
    team = TeamFactory.create()
    coordinator = member(team, "coordinator")
    client = APIClient()
    client.force_authenticate(coordinator)
    return client, case(team, coordinator)


@pytest.mark.parametrize("kind", ["cases", "patients"])
def test_an_update_without_if_match_is_428(setup, kind) -> None:
    client, c = setup
    pk = c.pk if kind == "cases" else c.patient_id
    response = client.patch(f"/api/v1/{kind}/{pk}/", {"notes": "x", "referral_source": "x"})
    assert response.status_code == 428
    assert response.json()["error"]["code"] == "precondition_required"


def test_a_stale_if_match_is_412_and_changes_nothing(setup) -> None:
    client, c = setup
    first = client.get(f"/api/v1/cases/{c.pk}/").headers["ETag"]
    ok = client.patch(
        f"/api/v1/cases/{c.pk}/", {"referral_source": "GP letter"}, HTTP_IF_MATCH=first
    )
    assert ok.status_code == 200
    assert ok.headers["ETag"] != first
    stale = client.patch(
        f"/api/v1/cases/{c.pk}/", {"referral_source": "Overwritten"}, HTTP_IF_MATCH=first
    )
    assert stale.status_code == 412
    assert Case.objects.get(pk=c.pk).referral_source == "GP letter"


def test_a_fresh_if_match_updates_a_patient(setup) -> None:
    client, c = setup
    etag = client.get(f"/api/v1/patients/{c.patient_id}/").headers["ETag"]
    response = client.patch(
        f"/api/v1/patients/{c.patient_id}/", {"phone": "0123 456"}, HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.json()
    assert Patient.objects.get(pk=c.patient_id).phone == "0123 456"
