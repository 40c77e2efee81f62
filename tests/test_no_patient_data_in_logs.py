"""No identifying patient data in logs or in Celery task arguments."""

from __future__ import annotations

import inspect
import logging

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from cases.demo import DEMO_CASES
from cases.models import Case, Patient

pytestmark = pytest.mark.django_db


def test_a_full_scenario_logs_no_patient_names_or_birth_dates(caplog, settings) -> None:
    from django.contrib.auth import get_user_model

    caplog.set_level(logging.DEBUG)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="coordinator"))
    for case in Case.objects.filter(team__slug="demo")[:5]:
        api.get(f"/api/v1/cases/{case.pk}/")
        api.get(f"/api/v1/cases/{case.pk}/timeline/")
        api.post(f"/api/v1/cases/{case.pk}/transition/", {"to": "teleported"})
        api.post(f"/api/v1/cases/{case.pk}/transition/", {"to": "discharged"})
    api.post(
        "/api/v1/patients/",
        {
            "hospital_number": "DEMO-0001",
            "given_name": "Alex",
            "family_name": "Example",
            "date_of_birth": "2999-01-01",
        },
    )
    call_command("send_weekly_digests", stdout=open("/dev/null", "w"))  # noqa: SIM115
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the scenario did log
    for _, given, family, *_ in DEMO_CASES:
        assert given not in logged and family not in logged, given
    for patient in Patient.objects.all():
        assert patient.date_of_birth.isoformat() not in logged


def test_project_celery_tasks_take_only_primary_keys() -> None:
    from osseo_mdt.celery import app

    app.loader.import_default_modules()
    ours = {
        name: task for name, task in app.tasks.items() if name.startswith(("cases.", "scheduling."))
    }
    assert ours
    for name, task in ours.items():
        parameters = inspect.signature(task.run).parameters.values()
        for parameter in parameters:
            if parameter.name == "self":
                continue
            assert parameter.annotation in ("int", int, "str", str), (name, parameter)
            assert parameter.name.endswith(("_id", "worker")) or parameter.name in (
                "delivery_id",
            ), (name, parameter.name)
