"""The HTTP side of the FHIR API: metadata, read, search-type; every error an OperationOutcome.

Authentication is the REST API's (knox token or session); what a caller sees is scoped to
their teams, and another team's record is a 404, exactly like one that does not exist.
Unknown search parameters are refused (400) unless the client sends
``Prefer: handling=lenient``, in which case they are ignored and left out of the self link.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import urlencode

from axes.helpers import get_client_ip_address
from django.db import DatabaseError
from django.http import Http404
from django.utils import timezone
from django.utils.http import http_date
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import access_log
from cases.models import AccessLogEntry, AccessVia, Case

from . import capability
from .resources import Found, ResourceType, lookup
from .search import FhirError, invalid, parse_count, parse_offset

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
JSON_FORMATS = frozenset({"json", "application/json", FHIR_JSON})
# Accepted on every search besides the type's own parameters.
RESULT_PARAMS = frozenset({"_count", "_offset", "_format", "_pretty"})


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir+json"


class PlainJSONRenderer(JSONRenderer):
    """For clients that ask for application/json: the same FHIR JSON."""


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, FhirError):
        status, code, message = exc.status, exc.code, exc.diagnostics
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        status, code, message = exc.status_code, "login", str(exc.detail)
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = str(auth_header)
    elif isinstance(exc, exceptions.PermissionDenied):
        status, code, message = 403, "forbidden", str(exc.detail)
    elif isinstance(exc, exceptions.NotAcceptable):
        status, code, message = 406, "not-supported", "This server speaks FHIR JSON only."
    elif isinstance(exc, exceptions.MethodNotAllowed):
        status, code = 405, "not-supported"
        message = "This FHIR API is read-only: read and search with GET."
    elif isinstance(exc, exceptions.Throttled):
        status, code, message = 429, "throttled", str(exc.detail)
        wait = getattr(exc, "wait", None)
        if wait:
            headers["Retry-After"] = str(int(wait))
    elif isinstance(exc, exceptions.APIException):
        status, code, message = exc.status_code, "processing", str(exc.detail)
    elif isinstance(exc, Http404):
        status, code, message = 404, "not-found", "Not found."
    elif isinstance(exc, DatabaseError):
        logger.error("database unavailable: %s", type(exc).__name__)
        status, code, message = 503, "transient", "The database is unavailable."
    else:
        logger.exception("FHIR request failed", exc_info=exc)
        status, code, message = 500, "exception", "Internal server error."
    return Response(operation_outcome(code, message), status=status, headers=headers)


def _log_reads(request: Request, records: list[Any]) -> None:
    """ACCESS LOG CALL SITE: every Patient and Case (EpisodeOfCare) this API returns passes
    here. A read is logged by ``cases.access_log.record_read`` exactly as the REST API's
    detail reads are; a search logs each match too (an integration engine looks patients up
    by hospital number with a search, so a search is how FHIR clients read), with one
    INSERT per page so a page's query count stays fixed."""
    if not records:
        return
    if len(records) == 1:
        access_log.record_read(request, record=records[0], via=AccessVia.FHIR)
        return
    django_request = getattr(request, "_request", request)
    ip_address = get_client_ip_address(django_request)
    AccessLogEntry.objects.bulk_create(
        AccessLogEntry(
            user=request.user,  # type: ignore[misc]  # authenticated: the view requires it
            team_id=record.team_id,
            patient_id=record.patient_id if isinstance(record, Case) else record.pk,
            case_id=record.pk if isinstance(record, Case) else None,
            via=AccessVia.FHIR,
            path=django_request.path[:300],
            ip_address=ip_address,
        )
        for record in records
    )


@extend_schema(exclude=True)
class FhirView(APIView):
    renderer_classes = [FhirJSONRenderer, PlainJSONRenderer]
    parser_classes: list[Any] = []

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # _format overrides Accept (FHIR http.html#mime-type); JSON is all we speak.
        requested = request.query_params.get("_format")
        if requested is not None:
            if requested.split(";")[0].strip() in JSON_FORMATS:
                return FhirJSONRenderer(), FHIR_JSON
            if not force:
                raise FhirError(406, "not-supported", "_format: this server speaks JSON only.")
        return super().perform_content_negotiation(request, force)

    def get_renderer_context(self) -> dict[str, Any]:
        context = super().get_renderer_context()
        if self.request.query_params.get("_pretty") == "true":
            context["indent"] = 2
        return context

    def base_url(self, request: Request) -> str:
        return request.build_absolute_uri("/fhir/r4").rstrip("/")

    def audit(self, request: Request, resource: ResourceType, found: list[Found]) -> None:
        if resource.audited:
            _log_reads(request, [item.record for item in found])


class MetadataView(FhirView):
    """The CapabilityStatement: public, as FHIR clients fetch it before they authenticate."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(capability.capability_statement(self.base_url(request)))


class ReadView(FhirView):
    def get(self, request: Request, resource_type: str, resource_id: str) -> Response:
        resource = lookup(resource_type)
        found = resource.read(request.user, resource_id)
        self.audit(request, resource, [found])
        updated = getattr(found.record, "updated_at", None)
        headers = {"Last-Modified": http_date(updated.timestamp())} if updated else {}
        return Response(found.resource, headers=headers)


class SearchView(FhirView):
    def get(self, request: Request, resource_type: str) -> Response:
        resource = lookup(resource_type)
        lenient = "handling=lenient" in request.headers.get("Prefer", "").replace(" ", "")
        criteria: list[Any] = []
        applied: list[tuple[str, str]] = []
        for key in request.query_params:
            if key in RESULT_PARAMS:
                continue
            name, _, modifier = key.partition(":")
            param = resource.params.get(name)
            problem = None
            if param is None:
                problem = (
                    f"Unknown search parameter '{name}' for {resource.name}; supported: "
                    f"{', '.join(sorted(resource.params))} (see /fhir/r4/metadata)."
                )
            elif modifier and modifier not in param.modifiers:
                problem = f"Modifier ':{modifier}' is not supported on '{name}'."
            if problem:
                if lenient:
                    continue
                raise invalid(problem)
            assert param is not None
            for value in request.query_params.getlist(key):
                criteria.append(param.build(value, modifier or None))
                applied.append((key, value))
        count = parse_count(request.query_params.get("_count"))
        offset = parse_offset(request.query_params.get("_offset"))
        total, found = resource.search(request.user, criteria, offset, count)
        self.audit(request, resource, found)
        base = self.base_url(request)
        return Response(
            {
                "resourceType": "Bundle",
                "id": str(uuid.uuid4()),
                "meta": {"lastUpdated": timezone.now().isoformat()},
                "type": "searchset",
                "total": total,
                "link": _paging_links(f"{base}/{resource.name}", applied, offset, count, total),
                "entry": [
                    {
                        "fullUrl": f"{base}/{resource.name}/{item.resource['id']}",
                        "resource": item.resource,
                        "search": {"mode": "match"},
                    }
                    for item in found
                ],
            }
        )


def _paging_links(
    url: str, applied: list[tuple[str, str]], offset: int, count: int, total: int
) -> list[dict[str, str]]:
    def link(relation: str, at: int) -> dict[str, str]:
        query = urlencode([*applied, ("_count", str(count)), ("_offset", str(at))])
        return {"relation": relation, "url": f"{url}?{query}"}

    links = [link("self", offset)]
    if count:
        last = max(0, (total - 1) // count * count)
        links.append(link("first", 0))
        if offset > 0:
            links.append(link("previous", max(0, offset - count)))
        if offset + count < total:
            links.append(link("next", offset + count))
        links.append(link("last", last))
    return links


class UnknownView(FhirView):
    """Anything else under /fhir/r4/: a FHIR 404, not an HTML page."""

    permission_classes = [AllowAny]

    def get(self, request: Request, path: str = "") -> Response:
        raise FhirError(404, "not-supported", f"'{request.path}' is not part of this FHIR API.")
