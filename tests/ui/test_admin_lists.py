"""The list pages: the filters people use (mine, stage, team member, implant system, overdue,
role, whose), search by hospital number and name, the case page one click from each row,
and bulk actions through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from cases.models import ImplantSystem
from scheduling import services as task_services
from scheduling.models import Task, TaskStatus
from tests.factories import patient
from tests.ui.builders import clinic, referred

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(client: Client, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, url
    return sorted(obj.pk for obj in response.context["cl"].result_list)


def test_the_case_list_filters_and_searches_the_way_a_clinic_asks() -> None:
    c = clinic()
    implant = ImplantSystem.objects.create(
        team=c.team,
        manufacturer="Example",
        name="Stem",
        fixation="press_fit",
        usual_staging="single_stage",
        min_residual_bone_length_mm=100,
        bones="femur",
    )
    led = referred(
        c, patient=patient(c.team, c.coordinator, family_name="Ashworth"), implant_system=implant
    )
    other = referred(c, lead_clinician=None, care_team=[(c.nurse, "nurse")])
    client = logged_in(c.physio)

    assert listed(client, "/admin/cases/case/?mine=yes") == [led.pk]
    assert listed(client, f"/admin/cases/case/?member={c.nurse.pk}") == [other.pk]
    assert listed(client, f"/admin/cases/case/?implant_system__id__exact={implant.pk}") == [led.pk]
    assert listed(client, "/admin/cases/case/?stage__exact=referred") == sorted([led.pk, other.pk])
    assert listed(client, f"/admin/cases/case/?q={other.patient.hospital_number}") == [other.pk]
    assert listed(client, "/admin/cases/case/?q=ashworth") == [led.pk]
    html = client.get("/admin/cases/case/").content.decode()
    assert f'href="/admin/cases/case/{led.pk}/overview/"' in html


def test_the_task_list_filters_by_whose_overdue_and_role_and_searches_by_patient() -> None:
    c = clinic()
    case = referred(c, patient=patient(c.team, c.coordinator, given_name="Quinn"))
    mine = task_services.task_create(
        actor=c.coordinator,
        case=case,
        title="Mine, late",
        role="nurse",
        due_date=c.today - timedelta(days=2),
        assignee=c.nurse,
    )
    pool = task_services.task_create(
        actor=c.coordinator, case=case, title="Nurse pool", role="nurse", due_date=c.today
    )
    surgeon = task_services.task_create(
        actor=c.coordinator, case=case, title="Surgeon pool", role="surgeon", due_date=c.today
    )
    client = logged_in(c.nurse)

    assert listed(client, "/admin/scheduling/task/?assignment=mine") == [mine.pk]
    assert listed(client, "/admin/scheduling/task/?assignment=my_pools") == [pool.pk]
    assert listed(client, "/admin/scheduling/task/?overdue=yes") == [mine.pk]
    assert listed(client, "/admin/scheduling/task/?role__exact=surgeon") == [surgeon.pk]
    assert mine.pk in listed(client, "/admin/scheduling/task/?q=quinn")


def test_bulk_actions_assign_to_me_and_complete_go_through_the_task_service() -> None:
    c = clinic()
    case = referred(c)
    tasks = [
        task_services.task_create(
            actor=c.coordinator, case=case, title=f"Swab {n}", role="nurse", due_date=c.today
        )
        for n in range(2)
    ]
    surgeons = task_services.task_create(
        actor=c.coordinator, case=case, title="Not mine", role="surgeon", due_date=c.today
    )
    client = logged_in(c.nurse)
    ids = [t.pk for t in tasks] + [surgeons.pk]

    client.post("/admin/scheduling/task/", {"action": "assign_to_me", "_selected_action": ids})
    assert list(
        Task.objects.filter(pk__in=ids).order_by("pk").values_list("assignee", flat=True)
    ) == [
        c.nurse.pk,
        c.nurse.pk,
        None,  # the service refuses: the nurse holds no surgeon role
    ]

    client.post("/admin/scheduling/task/", {"action": "complete_selected", "_selected_action": ids})
    statuses = dict(Task.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[t.pk] for t in tasks] == [TaskStatus.COMPLETED] * 2
    assert statuses[surgeons.pk] == TaskStatus.REQUESTED
    assert Task.objects.get(pk=tasks[0].pk).completed_by == c.nurse
