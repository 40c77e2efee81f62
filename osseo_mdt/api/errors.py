"""One JSON error shape for every API error:

    {"error": {"code": "<machine code>", "message": "<human message>", "fields": {...}}}

`fields` maps a field name to its messages (validation errors only); some errors add keys
(e.g. `allowed` on a refused stage transition).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cases.errors import DomainError

logger = logging.getLogger(__name__)


def error_body(
    code: str, message: str, fields: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _first_message(fields: Any) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            message = _first_message(value)
            return message if key in ("non_field_errors", "detail") else f"{key}: {message}"
    if isinstance(fields, list) and fields:
        return _first_message(fields[0])
    return str(fields) if fields else "Invalid input."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.code, exc.message, exc.fields, **exc.extra), status=exc.status_code
        )
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(
            error_body("invalid", _first_message(fields), fields),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DataError | OverflowError):
        # e.g. an id or number too large for the database column.
        return Response(
            error_body("invalid", "A value is out of range."), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error on %s", context["request"].path)
        return Response(
            error_body("conflict", "The change conflicts with existing data."),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DatabaseError):
        logger.error("database unavailable: %s", type(exc).__name__)
        return Response(
            error_body("service_unavailable", "The database is unavailable."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        response.data = error_body("invalid", _first_message(fields), fields)
    else:
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else str(_flatten(detail))
        response.data = error_body(
            exc.default_code
            if not hasattr(detail, "code")
            else str(getattr(detail, "code", exc.default_code)),
            message,
        )
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/fhir/"))


def json_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def json_server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("server_error", "Internal server error."), status=500)
    return defaults.server_error(request)
