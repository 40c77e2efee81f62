"""Optimistic concurrency for updates: responses carry an ETag; PUT/PATCH must send it back
in If-Match. A stale one gets 412 (someone changed the record since you read it), none gets
428. The comparison runs under the row lock, in the same transaction as the update."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response


class PreconditionRequired(APIException):
    status_code = 428
    default_code = "precondition_required"
    default_detail = "Send the record's ETag in an If-Match header to change it."


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "The record changed since you read it: fetch it again and retry."


def etag_of(instance: Any) -> str:
    changed = getattr(instance, "updated_at", None) or instance.created_at
    stamp = f"{instance._meta.label}:{instance.pk}:{changed.isoformat()}"
    return '"' + hashlib.sha256(stamp.encode()).hexdigest()[:32] + '"'


IF_MATCH = OpenApiParameter(
    name="If-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="The ETag from your last read of this record.",
)
PRECONDITION_RESPONSES = {
    412: OpenApiResponse(description="Stale If-Match: the record changed since you read it."),
    428: OpenApiResponse(description="If-Match header missing."),
}


def require_if_match(request: Request, current: Any) -> None:
    """428 without an If-Match header, 412 unless it names `current`'s ETag."""
    sent = request.headers.get("If-Match")
    if not sent:
        raise PreconditionRequired()
    offered = {tag.strip() for tag in sent.split(",")}
    if not offered & {etag_of(current), "*"}:
        raise PreconditionFailed()


class ETagMixin:
    """For viewsets of models with `updated_at`: ETag on reads and writes, If-Match on
    updates."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        response = Response(self.get_serializer(instance).data)  # type: ignore[attr-defined]
        response["ETag"] = etag_of(instance)
        self.after_read(request, instance)
        return response

    def after_read(self, request: Request, instance: Any) -> None:
        """Hook for what a read of one record must also do (the access log)."""

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # 404 for what the caller may not see comes before 428.
        current = self.get_object()  # type: ignore[attr-defined]
        if not request.headers.get("If-Match"):
            raise PreconditionRequired()
        with transaction.atomic():
            locked = type(current).objects.select_for_update().get(pk=current.pk)
            require_if_match(request, locked)
            response = super().update(request, *args, **kwargs)  # type: ignore[misc]
        fresh = type(current).objects.get(pk=current.pk)
        response["ETag"] = etag_of(fresh)
        return response
