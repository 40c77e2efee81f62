"""/api/v1/me/: the caller, their teams and roles, and their preferences."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.serializers import MeSerializer
from scheduling.models import DigestPreference


class MeWithPreferencesSerializer(MeSerializer):
    weekly_digest = serializers.SerializerMethodField()

    class Meta(MeSerializer.Meta):
        fields = [*MeSerializer.Meta.fields, "weekly_digest"]
        read_only_fields = fields

    def get_weekly_digest(self, user: Any) -> bool:
        preference = DigestPreference.objects.filter(user=user).first()
        return True if preference is None else preference.weekly_digest


class PreferencesSerializer(serializers.Serializer):
    weekly_digest = serializers.BooleanField(help_text="Receive the weekly task email.")


class MeView(APIView):
    """The caller: who they are, their teams and roles, and the weekly email preference."""

    @extend_schema(responses=MeWithPreferencesSerializer, tags=["me"])
    def get(self, request: Request) -> Response:
        return Response(MeWithPreferencesSerializer(request.user).data)

    @extend_schema(
        request=PreferencesSerializer, responses=MeWithPreferencesSerializer, tags=["me"]
    )
    def patch(self, request: Request) -> Response:
        body = PreferencesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        DigestPreference.objects.update_or_create(
            user=request.user, defaults={"weekly_digest": body.validated_data["weekly_digest"]}
        )
        return Response(MeWithPreferencesSerializer(request.user).data)
