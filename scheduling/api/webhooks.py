"""Webhook subscriptions and their delivery log under /api/v1/ (README: Webhooks).

Every member of a team sees its subscriptions and deliveries; a coordinator creates, changes,
pauses and resumes them (scheduling/permissions.py); another team's are not found (404). The
secret is write-only: set it, or leave it out and read the generated one in the create
response, the only time it is shown."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .. import webhooks
from ..models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)
from .serializers import _Scoped

# --- Serializers --------------------------------------------------------------------------------


class WebhookSubscriptionSerializer(serializers.ModelSerializer[WebhookSubscription]):
    event_types = serializers.ListField(child=serializers.ChoiceField(WebhookEventType.choices))
    paused = serializers.BooleanField(source="is_paused", read_only=True)

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "team",
            "description",
            "target_url",
            "event_types",
            "active",
            "paused",
            "paused_at",
            "paused_reason",
            "consecutive_failures",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        allow_null=True,
        read_only=True,
        help_text="The generated signing secret, shown this once (null when you set it).",
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


def _event_types_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(WebhookEventType.choices), allow_empty=False, **kwargs
    )


class WebhookSubscriptionCreateSerializer(serializers.Serializer[Any]):
    team = _Scoped("team")
    # A plain string: the scheme and address rules (and their messages) are the service's.
    target_url = serializers.CharField(max_length=500)
    event_types = _event_types_field()
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False, default=True)
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=128,
        help_text=f"At least {webhooks.MIN_SECRET_LENGTH} characters; leave out to have one "
        "generated (returned once, in this response).",
    )


class WebhookSubscriptionUpdateSerializer(serializers.Serializer[Any]):
    target_url = serializers.CharField(max_length=500, required=False)
    event_types = _event_types_field(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    secret = serializers.CharField(
        write_only=True,
        required=False,
        max_length=128,
        help_text="A new signing secret (rotation); never returned.",
    )


class PauseSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    event_id = serializers.UUIDField(source="event.event_id", read_only=True)
    event_type = serializers.ChoiceField(
        WebhookEventType.choices, source="event.event_type", read_only=True
    )
    occurred_at = serializers.DateTimeField(source="event.occurred_at", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event_id",
            "event_type",
            "occurred_at",
            "status",
            "attempts",
            "last_status_code",
            "last_response_ms",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


# --- Filters ------------------------------------------------------------------------------------


class WebhookDeliveryFilter(filters.FilterSet):
    subscription = filters.NumberFilter(field_name="subscription_id")
    status = filters.ChoiceFilter(choices=WebhookDeliveryStatus.choices)
    event_type = filters.ChoiceFilter(
        field_name="event__event_type", choices=WebhookEventType.choices
    )
    event_id = filters.UUIDFilter(field_name="event__event_id")

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "status", "event_type", "event_id"]


# --- Views --------------------------------------------------------------------------------------


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@extend_schema(tags=["webhooks"])
class WebhookSubscriptionViewSet(viewsets.GenericViewSet[WebhookSubscription]):
    """Where your team's events are POSTed, signed. Coordinators manage them."""

    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.none()

    def get_queryset(self) -> Any:
        return webhooks.subscriptions_for(self.request.user).order_by("pk")

    def _respond(self, subscription: WebhookSubscription, code: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=subscription.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(summary="List your teams' webhook subscriptions")
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=WebhookSubscriptionCreateSerializer,
        responses={201: WebhookSubscriptionCreatedSerializer},
        summary="Subscribe a URL to events (coordinators); the secret is shown only here",
    )
    def create(self, request: Request) -> Response:
        data = _valid(WebhookSubscriptionCreateSerializer, request)
        created = webhooks.subscription_create(actor=request.user, **data)
        fresh = self.get_queryset().get(pk=created.subscription.pk)
        body = {**self.get_serializer(fresh).data, "secret": created.secret}  # shown this once
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=WebhookSubscriptionUpdateSerializer,
        responses=WebhookSubscriptionSerializer,
        summary="Change the URL, event types, description, secret or on/off (coordinators)",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        data = _valid(WebhookSubscriptionUpdateSerializer, request)
        webhooks.subscription_update(actor=request.user, subscription=subscription, **data)
        return self._respond(subscription)

    @extend_schema(
        request=PauseSerializer,
        responses=WebhookSubscriptionSerializer,
        summary="Pause deliveries; events are kept and sent on resume (coordinators)",
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        data = _valid(PauseSerializer, request)
        webhooks.subscription_pause(actor=request.user, subscription=subscription, **data)
        return self._respond(subscription)

    @extend_schema(
        request=None,
        responses=WebhookSubscriptionSerializer,
        summary="Resume deliveries, starting with the held ones (coordinators)",
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        webhooks.subscription_resume(actor=request.user, subscription=subscription)
        return self._respond(subscription)


@extend_schema(tags=["webhooks"])
class WebhookDeliveryViewSet(viewsets.ReadOnlyModelViewSet[WebhookDelivery]):
    """The delivery log: each event to each subscription, with the last attempt's status
    code, response time and error. Newest first."""

    serializer_class = WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.none()
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["created_at", "delivered_at"]

    def get_queryset(self) -> Any:
        return webhooks.deliveries_for(self.request.user).order_by("-created_at", "-pk")
