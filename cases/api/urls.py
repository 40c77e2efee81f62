from rest_framework.routers import BaseRouter

from . import views


def register(router: BaseRouter) -> None:
    """Register the clinical record's viewsets on the /api/v1/ router."""
    router.register("patients", views.PatientViewSet, basename="patient")
    router.register("cases", views.CaseViewSet, basename="case")
    router.register("implant-systems", views.ImplantSystemViewSet, basename="implant-system")
    router.register("assessments", views.AssessmentViewSet, basename="assessment")
    router.register("mdt-decisions", views.MdtDecisionViewSet, basename="mdt-decision")
    router.register("surgeries", views.SurgeryViewSet, basename="surgery")
