from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle


class TokenThrottle(AnonRateThrottle):
    scope = "token"


@extend_schema(tags=["auth"], summary="Exchange username and password for an API token")
class TokenView(ObtainAuthToken):
    throttle_classes = [TokenThrottle]
