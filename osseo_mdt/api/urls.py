"""Everything under /api/v1/. Apps register their viewsets on the one router."""

from typing import Any

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from cases.api.urls import register as register_cases
from cases.api.urls import urlpatterns as cases_urlpatterns
from scheduling.api.urls import register as register_scheduling

from .auth import RevokeAllTokensView, RevokeTokenView, TokenView
from .me import MeView


class Router(DefaultRouter):
    """Primary keys in URLs are digits that fit a bigint, so `/cases/abc/` or a 30-digit id is
    a 404 at routing rather than an error deeper down."""

    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        if getattr(viewset, "lookup_value_regex", None) is None:
            viewset.lookup_value_regex = "[0-9]{1,18}"
        return super().get_lookup_regex(viewset, lookup_prefix)


router = Router()
register_cases(router)
register_scheduling(router)

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/token/revoke/", RevokeTokenView.as_view(), name="api-token-revoke"),
    path("auth/token/revoke-all/", RevokeAllTokensView.as_view(), name="api-token-revoke-all"),
    path("me/", MeView.as_view(), name="api-me"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *cases_urlpatterns,
    path("", include(router.urls)),
]
