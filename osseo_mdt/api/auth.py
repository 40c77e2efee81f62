"""API tokens: username + password -> an expiring, revocable token (django-rest-knox)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.views import LoginView, LogoutAllView, LogoutView
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from .authentication import TokenAuthentication


class TokenThrottle(AnonRateThrottle):
    scope = "token"


TOKEN_RESPONSE = inline_serializer(
    "TokenResponse",
    {"token": serializers.CharField(), "expiry": serializers.DateTimeField()},
)


class TokenView(LoginView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]
    serializer_class = AuthTokenSerializer

    @extend_schema(
        tags=["auth"],
        summary="Exchange username and password for an API token",
        request=AuthTokenSerializer,
        responses={200: TOKEN_RESPONSE, 400: OpenApiResponse(description="Wrong credentials.")},
    )
    def post(self, request: Request, format: Any = None) -> Response:
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        request.user = credentials.validated_data["user"]
        return super().post(request, format)


class RevokeTokenView(LogoutView):
    authentication_classes = [TokenAuthentication]

    @extend_schema(
        tags=["auth"],
        summary="Revoke the token this request used",
        request=None,
        responses={204: None},
    )
    def post(self, request: Request, format: Any = None) -> Response:
        return super().post(request, format)


class RevokeAllTokensView(LogoutAllView):
    authentication_classes = [TokenAuthentication]

    @extend_schema(
        tags=["auth"],
        summary="Revoke every token of the caller",
        request=None,
        responses={204: None},
    )
    def post(self, request: Request, format: Any = None) -> Response:
        return super().post(request, format)
