from django.urls import re_path
from rest_framework.routers import BaseRouter

from . import rehab, views


def register(router: BaseRouter) -> None:
    """Register the clinical record's viewsets on the /api/v1/ router."""
    router.register("patients", views.PatientViewSet, basename="patient")
    router.register("cases", views.CaseViewSet, basename="case")
    router.register("implant-systems", views.ImplantSystemViewSet, basename="implant-system")
    router.register("assessments", views.AssessmentViewSet, basename="assessment")
    router.register("mdt-decisions", views.MdtDecisionViewSet, basename="mdt-decision")
    router.register("surgeries", views.SurgeryViewSet, basename="surgery")
    router.register("access-log", views.AccessLogViewSet, basename="access-log")
    router.register("rehab-protocols", rehab.RehabProtocolViewSet, basename="rehab-protocol")
    router.register("rehab-plans", rehab.RehabPlanViewSet, basename="rehab-plan")
    router.register("rehab-sessions", rehab.RehabSessionViewSet, basename="rehab-session")
    router.register("safety-flags", rehab.SafetyFlagViewSet, basename="safety-flag")
    router.register("complications", rehab.ComplicationViewSet, basename="complication")
    router.register("outcome-measures", rehab.OutcomeMeasureViewSet, basename="outcome-measure")
    router.register(
        "prosthesis-settings", rehab.ProsthesisSettingViewSet, basename="prosthesis-setting"
    )


# Views outside the router, included under /api/v1/ by osseo_mdt/api/urls.py.
urlpatterns = [
    re_path(
        r"^cases/(?P<pk>[0-9]{1,18})/rehab/$", rehab.CaseRehabView.as_view(), name="case-rehab"
    ),
    re_path(
        r"^cases/(?P<pk>[0-9]{1,18})/rehab/chart\.svg$",
        rehab.CaseRehabChartView.as_view(),
        name="case-rehab-chart",
    ),
]
