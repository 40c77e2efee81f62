"""Every API endpoint and method, asked by every role of the team, by another team and by
nobody. The matrix is data: an endpoint added to the API but not here fails
`test_every_api_endpoint_is_in_the_matrix`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from cases import models as cm
from cases.roles import Role
from scheduling import models as sm

pytestmark = pytest.mark.django_db

DEMO = "demo"

# Detail endpoints: url name -> (how to find one of the demo team's objects, methods).
# Methods are those the endpoint serves; the others answer 405 (checked below).
Finder = Callable[[], Any]


def first(model: Any, **lookup: Any) -> Finder:
    return lambda: model.objects.filter(**lookup).order_by("pk").first()


IN_DEMO = {"team__slug": DEMO}
CASE_IN_DEMO = {"case__team__slug": DEMO}

DETAIL: dict[str, tuple[Finder, list[str]]] = {
    "patient-detail": (first(cm.Patient, **IN_DEMO), ["get", "put", "patch"]),
    "patient-entered-in-error": (first(cm.Patient, **IN_DEMO), ["post"]),
    "patient-weights": (first(cm.Patient, **IN_DEMO), ["get", "post"]),
    "case-detail": (first(cm.Case, **IN_DEMO), ["get", "put", "patch"]),
    "case-entered-in-error": (first(cm.Case, **IN_DEMO), ["post"]),
    "case-timeline": (first(cm.Case, **IN_DEMO), ["get"]),
    "case-transition": (first(cm.Case, **IN_DEMO), ["post"]),
    "case-rehab": (first(cm.Case, **IN_DEMO, stage="rehabilitation"), ["get"]),
    "case-rehab-chart": (first(cm.Case, **IN_DEMO, stage="rehabilitation"), ["get"]),
    "implant-system-detail": (first(cm.ImplantSystem), ["get", "put", "patch"]),
    "assessment-detail": (first(cm.Assessment, **CASE_IN_DEMO), ["get", "put", "patch"]),
    "assessment-entered-in-error": (first(cm.Assessment, **CASE_IN_DEMO), ["post"]),
    "mdt-decision-detail": (first(cm.MdtDecision, **CASE_IN_DEMO), ["get"]),
    "mdt-decision-entered-in-error": (first(cm.MdtDecision, **CASE_IN_DEMO), ["post"]),
    "surgery-detail": (first(cm.Surgery, **CASE_IN_DEMO), ["get", "put", "patch"]),
    "surgery-entered-in-error": (first(cm.Surgery, **CASE_IN_DEMO), ["post"]),
    "access-log-detail": (first(cm.AccessLogEntry, **IN_DEMO), ["get"]),
    "rehab-protocol-detail": (first(cm.RehabProtocol), ["get"]),
    "rehab-plan-detail": (first(cm.RehabPlan, **CASE_IN_DEMO), ["get"]),
    "rehab-plan-entered-in-error": (first(cm.RehabPlan, **CASE_IN_DEMO), ["post"]),
    "rehab-session-detail": (first(cm.RehabSession, **CASE_IN_DEMO), ["get"]),
    "rehab-session-entered-in-error": (first(cm.RehabSession, **CASE_IN_DEMO), ["post"]),
    "safety-flag-detail": (first(cm.SafetyFlag, **CASE_IN_DEMO), ["get"]),
    "safety-flag-resolve": (first(cm.SafetyFlag, **CASE_IN_DEMO), ["post"]),
    "complication-detail": (first(cm.Complication, **CASE_IN_DEMO), ["get"]),
    "complication-entered-in-error": (first(cm.Complication, **CASE_IN_DEMO), ["post"]),
    "complication-resolve": (first(cm.Complication, **CASE_IN_DEMO), ["post"]),
    "outcome-measure-detail": (first(cm.OutcomeMeasure, **CASE_IN_DEMO), ["get"]),
    "outcome-measure-entered-in-error": (first(cm.OutcomeMeasure, **CASE_IN_DEMO), ["post"]),
    "prosthesis-setting-detail": (first(cm.ProsthesisSetting, **CASE_IN_DEMO), ["get"]),
    "task-detail": (first(sm.Task, **CASE_IN_DEMO), ["get", "patch"]),
    "task-accept": (first(sm.Task, **CASE_IN_DEMO), ["post"]),
    "task-assign": (first(sm.Task, **CASE_IN_DEMO), ["post"]),
    "task-book": (first(sm.Task, **CASE_IN_DEMO), ["post"]),
    "task-cancel": (first(sm.Task, **CASE_IN_DEMO), ["post"]),
    "task-complete": (first(sm.Task, **CASE_IN_DEMO), ["post"]),
    "task-hold": (first(sm.Task, **CASE_IN_DEMO), ["post"]),
    "task-start": (first(sm.Task, **CASE_IN_DEMO), ["post"]),
    "task-template-detail": (first(sm.TaskTemplate), ["get", "patch"]),
    "mdt-meeting-detail": (first(sm.MdtMeeting, **IN_DEMO), ["get", "patch"]),
    "mdt-meeting-agenda-items": (first(sm.MdtMeeting, **IN_DEMO), ["post"]),
    "appointment-detail": (first(sm.Appointment, **CASE_IN_DEMO), ["get", "patch"]),
    "appointment-set-status": (first(sm.Appointment, **CASE_IN_DEMO), ["post"]),
}
# Agenda items are addressed by meeting and item.
AGENDA: dict[str, list[str]] = {
    "mdt-meeting-agenda-item": ["patch", "delete"],
    "mdt-meeting-actions": ["post"],
    "mdt-meeting-decision": ["post"],
}
LISTS: dict[str, list[str]] = {
    "patient-list": ["get", "post"],
    "case-list": ["get", "post"],
    "implant-system-list": ["get", "post"],
    "assessment-list": ["get", "post"],
    "mdt-decision-list": ["get", "post"],
    "surgery-list": ["get", "post"],
    "access-log-list": ["get"],
    "rehab-protocol-list": ["get"],
    "rehab-plan-list": ["get", "post"],
    "rehab-session-list": ["get", "post"],
    "safety-flag-list": ["get"],
    "complication-list": ["get", "post"],
    "outcome-measure-list": ["get", "post"],
    "prosthesis-setting-list": ["get", "post"],
    "task-list": ["get", "post"],
    "task-bulk-reassign": ["post"],
    "task-template-list": ["get", "post"],
    "mdt-meeting-list": ["get", "post"],
    "appointment-list": ["get", "post"],
    "calendar-feed-api-list": ["get", "post"],
    "calendar-feed-api-revoke": ["post"],
}
# Open to anyone signed in or not, or about the caller only.
OWN: dict[str, list[str]] = {
    "api-token": ["post"],
    "api-token-revoke": ["post"],
    "api-token-revoke-all": ["post"],
    "api-me": ["get", "patch"],
    "api-schema": ["get"],
    "api-docs": ["get"],
    "api-root": ["get"],
}
# Endpoints registered by optional integrations add themselves here.
OTHER: dict[str, list[str]] = {
    "webhook-subscription-list": ["get", "post"],
    "webhook-subscription-detail": ["get", "patch"],
    "webhook-delivery-list": ["get"],
    "webhook-delivery-detail": ["get"],
    "webhook-subscription-pause": ["post"],
    "webhook-subscription-resume": ["post"],
}

# Team-scoped list endpoints: (url name, model, team lookup) - another team's objects are
# never in them.
SCOPED_LISTS: list[tuple[str, Any, str]] = [
    ("patient-list", cm.Patient, "team__slug"),
    ("case-list", cm.Case, "team__slug"),
    ("task-list", sm.Task, "case__team__slug"),
    ("rehab-session-list", cm.RehabSession, "case__team__slug"),
    ("mdt-meeting-list", sm.MdtMeeting, "team__slug"),
    ("appointment-list", sm.Appointment, "case__team__slug"),
    ("surgery-list", cm.Surgery, "case__team__slug"),
    ("complication-list", cm.Complication, "case__team__slug"),
]

ROLE_USERS = {
    Role.SURGEON: "surgeon",
    Role.PROSTHETIST: "prosthetist",
    Role.PHYSIOTHERAPIST: "physio",
    Role.NURSE: "nurse",
    Role.COORDINATOR: "coordinator",
    Role.PSYCHOLOGIST: "psychologist",
    Role.REHAB_PHYSICIAN: "rehabdoc",
}


def _api_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif (
                isinstance(pattern, URLPattern)
                and prefix.startswith("api/v1/")
                and pattern.name
                and "format" not in str(pattern.pattern)
            ):
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


@pytest.fixture
def demo() -> None:
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # A detail read, so the access log has an entry to address.
    read = cm.Case.objects.filter(team__slug=DEMO).order_by("pk").first()
    assert read is not None
    client_for("surgeon").get(reverse("case-detail", kwargs={"pk": read.pk}))


def client_for(username: str | None) -> APIClient:
    client = APIClient()
    if username:
        client.force_authenticate(get_user_model().objects.get(username=username))
    return client


def _urls() -> list[tuple[str, str, str]]:
    """(name, url, method) for every detail and agenda endpoint in the matrix."""
    found = []
    for name, (finder, methods) in DETAIL.items():
        obj = finder()
        assert obj is not None, f"the demo has no object for {name}"
        found += [(name, reverse(name, kwargs={"pk": obj.pk}), m) for m in methods]
    item = sm.MdtAgendaItem.objects.filter(meeting__team__slug=DEMO).order_by("pk").first()
    assert item is not None, "the demo has no MDT agenda item"
    for name, methods in AGENDA.items():
        url = reverse(name, kwargs={"pk": item.meeting_id, "item_id": item.pk})
        found += [(name, url, m) for m in methods]
    return found


def test_every_api_endpoint_is_in_the_matrix() -> None:
    known = {*DETAIL, *AGENDA, *LISTS, *OWN, *OTHER}
    missing = _api_names() - known
    assert not missing, f"add these endpoints to the access matrix: {sorted(missing)}"


def test_nobody_anonymous_gets_past_401(demo) -> None:
    anonymous = client_for(None)
    requests = [(n, reverse(n), m) for n, methods in LISTS.items() for m in methods]
    requests += _urls()
    for name, url, method in requests:
        response = getattr(anonymous, method)(url, {}, format="json")
        assert response.status_code == 401, (name, method, response.status_code)
        assert response.json()["error"]["code"] == "not_authenticated"


def test_another_team_gets_404_for_every_record_and_method(demo) -> None:
    stranger = client_for("north-coordinator")
    for name, url, method in _urls():
        if name in ("implant-system-detail", "rehab-protocol-detail", "task-template-detail"):
            continue  # shared catalogues, readable by every team
        response = getattr(stranger, method)(url, {}, format="json")
        assert response.status_code == 404, (name, method, response.status_code)


def test_another_teams_records_are_never_in_a_list(demo) -> None:
    stranger = client_for("north-coordinator")
    for name, model, lookup in SCOPED_LISTS:
        theirs = set(model.objects.filter(**{lookup: DEMO}).values_list("pk", flat=True))
        assert theirs, f"the demo has no {model.__name__}"
        response = stranger.get(reverse(name), {"page_size": 200})
        assert response.status_code == 200
        seen = {row["id"] for row in response.json()["results"]}
        assert not seen & theirs, name


def test_every_role_reads_every_record_of_its_team(demo) -> None:
    urls = _urls()
    for role, username in ROLE_USERS.items():
        client = client_for(username)
        for name, url, method in urls:
            if method != "get":
                continue
            response = client.get(url)
            expected = 404 if name == "access-log-detail" and role != Role.COORDINATOR else 200
            assert response.status_code == expected, (role, name, response.status_code)
        for name, methods in LISTS.items():
            if "get" in methods:
                assert client.get(reverse(name)).status_code == 200, (role, name)


def test_methods_an_endpoint_does_not_serve_are_405(demo) -> None:
    client = client_for("coordinator")
    for name, (finder, methods) in DETAIL.items():
        url = reverse(name, kwargs={"pk": finder().pk})
        assert client.delete(url).status_code == 405 or "delete" in methods, name


# Writes restricted by role: (url name, detail?, body builder, roles that may).
def _case_in(stage: str) -> cm.Case:
    found = cm.Case.objects.filter(team__slug=DEMO, stage=stage).order_by("pk").first()
    assert found is not None
    return found


def _setting_body() -> dict[str, Any]:
    return {
        "case": _case_in("rehabilitation").pk,
        "component": "knee",
        "parameters": {"friction_level": 3},
        "reason": "Gait review",
    }


def _surgery_body() -> dict[str, Any]:
    return {
        "case": _case_in("awaiting_surgery").pk,
        "kind": "debridement",
        "planned_date": "2030-01-01",
    }


RESTRICTED_WRITES: list[tuple[str, Callable[[], dict[str, Any]], set[str]]] = [
    ("prosthesis-setting-list", _setting_body, {Role.PROSTHETIST}),
    ("surgery-list", _surgery_body, {Role.SURGEON, Role.COORDINATOR}),
]


def test_restricted_writes_follow_the_role_table(demo) -> None:
    for role, username in ROLE_USERS.items():
        client = client_for(username)
        for name, body, allowed in RESTRICTED_WRITES:
            response = client.post(reverse(name), body(), format="json")
            if role in allowed:
                assert response.status_code == 201, (role, name, response.json())
            else:
                assert response.status_code == 403, (role, name, response.status_code)
