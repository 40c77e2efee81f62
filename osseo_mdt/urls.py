from django.contrib import admin
from django.urls import include, path

from scheduling.views import calendar_feed

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include("osseo_mdt.api.urls")),
    path("fhir/r4/", include("osseo_mdt.fhir.urls")),
    path("admin/", admin.site.urls),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar-feed"),
]

handler404 = "osseo_mdt.api.errors.json_not_found"
handler500 = "osseo_mdt.api.errors.json_server_error"
