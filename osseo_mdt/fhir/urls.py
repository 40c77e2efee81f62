"""Everything under /fhir/r4/."""

from django.urls import path, re_path

from .views import MetadataView, ReadView, SearchView, UnknownView

urlpatterns = [
    path("metadata", MetadataView.as_view(), name="fhir-metadata"),
    re_path(r"^(?P<resource_type>[A-Za-z]+)/?$", SearchView.as_view(), name="fhir-search"),
    re_path(
        r"^(?P<resource_type>[A-Za-z]+)/(?P<resource_id>[A-Za-z0-9\-.]{1,64})$",
        ReadView.as_view(),
        name="fhir-read",
    ),
    re_path(r"^(?P<path>.*)$", UnknownView.as_view(), name="fhir-unknown"),
]
