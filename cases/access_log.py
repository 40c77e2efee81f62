"""The access log: every read of a patient's record (patient or case detail, through the API,
the admin or FHIR) is written with who, what, when and from where."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_ip_address
from django.http import HttpRequest

from .models import AccessLogEntry, Case, Patient


def record_read(request: HttpRequest | Any, *, record: Patient | Case, via: str) -> None:
    """Log that the request's user read `record` (a Patient or a Case)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    if isinstance(record, Case):
        patient_id, case_id, team_id = record.patient_id, record.pk, record.team_id
    else:
        patient_id, case_id, team_id = record.pk, None, record.team_id
    django_request = getattr(request, "_request", request)
    AccessLogEntry.objects.create(
        user=user,
        team_id=team_id,
        patient_id=patient_id,
        case_id=case_id,
        via=via,
        path=django_request.path[:300],
        ip_address=get_client_ip_address(django_request),
    )
