"""Rehabilitation in the admin: prosthesis settings are the prosthetist's alone, records are
added through the services, and the case page shows the progress chart."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages

from cases.models import ProsthesisSetting, RehabSession, SafetyFlag
from tests.cases.rehab_factories import RehabCase, rehab_case
from tests.factories import member

pytestmark = pytest.mark.django_db
SETTINGS_ADD = "/admin/cases/prosthesissetting/add/"


def setting_form(r: RehabCase) -> dict[str, Any]:
    return {
        "case": r.case.pk,
        "component": "knee",
        "component_model": "Constant-friction knee (example)",
        "parameters": '{"friction_level": 3}',
        "reason": "Initial fitting",
        "set_on": r.today.isoformat(),
    }


def test_a_prosthetist_adds_a_prosthesis_setting_in_the_admin(client) -> None:
    r = rehab_case()
    client.force_login(r.prosthetist)
    assert client.get(SETTINGS_ADD).status_code == 200
    response = client.post(SETTINGS_ADD, setting_form(r))
    assert response.status_code == 302, response.content.decode()[:2000]
    setting = ProsthesisSetting.objects.get(case=r.case)
    assert setting.set_by == r.prosthetist
    assert setting.parameters == {"friction_level": 3}


@pytest.mark.parametrize("roles", [("physiotherapist",), ("surgeon", "coordinator")])
def test_others_may_not_add_prosthesis_settings_in_the_admin(client, roles) -> None:
    r = rehab_case()
    client.force_login(member(r.team, *roles))
    assert client.get(SETTINGS_ADD).status_code == 403
    assert client.post(SETTINGS_ADD, setting_form(r)).status_code == 403
    assert not ProsthesisSetting.objects.exists()


def test_a_superuser_who_is_not_a_prosthetist_may_not_add_settings_either(
    client, django_user_model
) -> None:
    rehab_case()
    admin = django_user_model.objects.create_superuser("root", "root@example.test", "pw-x-123!")
    client.force_login(admin)
    assert client.get(SETTINGS_ADD).status_code == 403


def test_a_setting_is_read_only_once_saved_even_for_the_prosthetist(client) -> None:
    r = rehab_case()
    client.force_login(r.prosthetist)
    client.post(SETTINGS_ADD, setting_form(r))
    setting = ProsthesisSetting.objects.get(case=r.case)
    url = f"/admin/cases/prosthesissetting/{setting.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    client.post(url, {**setting_form(r), "parameters": '{"friction_level": 9}'})
    setting.refresh_from_db()
    assert setting.parameters == {"friction_level": 3}
    nurse = member(r.team, "nurse")
    client.force_login(nurse)
    assert client.get(url).status_code == 200  # everyone in the team reads it


def test_a_session_added_in_the_admin_goes_through_the_service_and_raises_its_flag(
    client,
) -> None:
    r = rehab_case()
    client.force_login(r.physio)
    response = client.post(
        "/admin/cases/rehabsession/add/",
        {
            "case": r.case.pk,
            "session_date": r.today.isoformat(),
            "load_kg": "60",
            "load_measured_with": "scale",
            "stoma_findings": ["clean"],
        },
        follow=True,
    )
    assert response.status_code == 200
    session = RehabSession.objects.get(case=r.case)
    assert session.recorded_by == r.physio and str(session.target_kg) == "40.0"
    assert SafetyFlag.objects.filter(case=r.case, kind="overload").exists()
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Flag raised" in m for m in messages), messages


def test_the_case_page_shows_the_rehab_chart(client) -> None:
    r = rehab_case()
    client.force_login(r.lead)
    page = client.get(f"/admin/cases/case/{r.case.pk}/change/").content.decode()
    assert f'src="/api/v1/cases/{r.case.pk}/rehab/chart.svg"' in page
    assert client.get(f"/api/v1/cases/{r.case.pk}/rehab/chart.svg").status_code == 200


def test_flags_are_resolved_with_an_admin_action(client) -> None:
    r = rehab_case()
    flag = r.session(load_kg=60).raised_flags[0]
    client.force_login(r.physio)
    client.post(
        "/admin/cases/safetyflag/",
        {"action": "resolve", "_selected_action": [flag.pk]},
        follow=True,
    )
    flag.refresh_from_db()
    assert flag.resolved_by == r.physio
