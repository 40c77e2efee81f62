"""Answer API requests with the JSON error shape when the database is down, whatever layer
(session, authentication, lockout, view) first notices it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from .api.errors import error_body

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError) as exc:
            return self._unavailable(exc)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, OperationalError | InterfaceError):
            return self._unavailable(exc)
        return None

    @staticmethod
    def _unavailable(exc: Exception) -> JsonResponse:
        logger.error("database unavailable: %s", type(exc).__name__)
        response = JsonResponse(
            error_body("service_unavailable", "The database is unavailable; try again shortly."),
            status=503,
        )
        response["Retry-After"] = "30"
        return response
