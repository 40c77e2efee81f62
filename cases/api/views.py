"""Thin views: validate, fetch through a selector that scopes to the caller's teams (404 for
what they may not see), call a service, serialize."""

from __future__ import annotations

import builtins
from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases import access, access_log, pathway, rehab_selectors, selectors, services
from cases.models import (
    AccessLogEntry,
    Assessment,
    Case,
    ImplantSystem,
    MdtDecision,
    Patient,
    PatientWeight,
    Surgery,
)
from cases.permissions import require_write
from osseo_mdt.api.cache import cached_read
from osseo_mdt.api.concurrency import IF_MATCH, PRECONDITION_RESPONSES, ETagMixin
from osseo_mdt.api.filters import FilterSet

from . import serializers as s


class RecordViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create, update; never delete: clinical records are marked entered in error
    (POST .../{id}/entered-in-error/) and kept."""


def mark_in_error(view: viewsets.GenericViewSet, request: Request) -> Response:
    record = view.get_object()  # 404 for what the caller may not see, before any 400
    body = s.EnteredInErrorSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    services.record_mark_entered_in_error(
        actor=request.user, record=record, reason=body.validated_data["reason"]
    )
    return Response(status=status.HTTP_204_NO_CONTENT)


ENTERED_IN_ERROR: dict[str, Any] = {
    "request": s.EnteredInErrorSerializer,
    "responses": {204: OpenApiResponse(description="Marked entered in error; hidden from lists.")},
}


# --- Patients ---------------------------------------------------------------------------------


class PatientFilter(django_filters.FilterSet):
    team = django_filters.NumberFilter()
    hospital_number = django_filters.CharFilter()
    search = django_filters.CharFilter(method="filter_search", label="Hospital number or name")

    class Meta:
        model = Patient
        fields = ["team", "hospital_number", "search"]

    def filter_search(self, queryset: QuerySet[Patient], name: str, value: str) -> Any:
        return queryset.filter(
            Q(hospital_number__icontains=value)
            | Q(given_name__icontains=value)
            | Q(family_name__icontains=value)
        )


def conditional_update(tag: str, serializer: Any) -> Any:
    return extend_schema(
        tags=[tag],
        parameters=[IF_MATCH],
        responses={200: serializer, **PRECONDITION_RESPONSES},
    )


@extend_schema_view(
    list=extend_schema(tags=["patients"]),
    retrieve=extend_schema(tags=["patients"]),
    create=extend_schema(tags=["patients"]),
    update=conditional_update("patients", s.PatientSerializer),
    partial_update=conditional_update("patients", s.PatientSerializer),
)
class PatientViewSet(ETagMixin, RecordViewSet):
    """Patients. Every detail read is written to the access log."""

    serializer_class = s.PatientSerializer
    filterset_class = PatientFilter
    ordering_fields = ["hospital_number", "family_name", "created_at"]
    ordering = ["hospital_number"]

    def get_queryset(self) -> QuerySet[Patient]:
        recent = PatientWeight.objects.filter(entered_in_error=False).order_by(
            "-measured_on", "-id"
        )
        return selectors.patients_for(self.request.user).prefetch_related(
            Prefetch("weights", queryset=recent, to_attr="recent_weights")
        )

    def after_read(self, request: Request, instance: Any) -> None:
        access_log.record_read(request, record=instance, via="api")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.patient_create(actor=self.request.user, **data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("team", None)
        weight = data.pop("weight_kg", None)
        patient = services.patient_update(
            actor=self.request.user, patient=self.get_object(), **data
        )
        if weight is not None:
            services.patient_weight_record(
                actor=self.request.user, patient=patient, weight_kg=weight
            )
        serializer.instance = self.get_queryset().get(pk=patient.pk)

    @extend_schema(
        methods=["GET"], tags=["patients"], responses=s.PatientWeightSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        tags=["patients"],
        request=s.PatientWeightSerializer,
        responses={201: s.PatientWeightSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def weights(self, request: Request, pk: str | None = None) -> Response:
        """Dated body weights, newest first; POST records one."""
        patient = self.get_object()
        if request.method == "POST":
            body = s.PatientWeightSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            weight = services.patient_weight_record(
                actor=request.user, patient=patient, **body.validated_data
            )
            return Response(s.PatientWeightSerializer(weight).data, status=status.HTTP_201_CREATED)
        weights = patient.weights.filter(entered_in_error=False)
        return Response(s.PatientWeightSerializer(weights, many=True).data)

    @extend_schema(tags=["patients"], **ENTERED_IN_ERROR)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        return mark_in_error(self, request)


# --- Cases ------------------------------------------------------------------------------------


class CaseFilter(FilterSet):
    # A column of the case itself: no join, so no DISTINCT (which made the count and the page
    # sort every column of every matching case).
    stage = django_filters.MultipleChoiceFilter(choices=pathway.Stage.choices, distinct=False)
    open = django_filters.BooleanFilter(method="filter_open", label="Open (not closed) cases")
    team = django_filters.NumberFilter()
    patient = django_filters.NumberFilter()
    implant_system = django_filters.NumberFilter()
    staging_plan = django_filters.ChoiceFilter(choices=pathway.StagingPlan.choices)
    team_member = django_filters.NumberFilter(
        method="filter_team_member", label="User id: lead clinician or in the care team"
    )
    hospital_number = django_filters.CharFilter(field_name="patient__hospital_number")

    class Meta:
        model = Case
        fields = ["stage", "team", "patient", "implant_system", "staging_plan"]

    def filter_open(self, queryset: QuerySet[Case], name: str, value: bool) -> Any:
        lookup = Q(stage__in=sorted(pathway.OPEN_STAGES))
        return queryset.filter(lookup if value else ~lookup)

    def filter_team_member(self, queryset: QuerySet[Case], name: str, value: int) -> Any:
        in_team = Case.objects.filter(Q(lead_clinician_id=value) | Q(care_team__user_id=value))
        return queryset.filter(pk__in=in_team.values("pk"))


TAGS_CASES = extend_schema(tags=["cases"])


@extend_schema_view(
    list=TAGS_CASES,
    retrieve=TAGS_CASES,
    create=TAGS_CASES,
    update=conditional_update("cases", s.CaseSerializer),
    partial_update=conditional_update("cases", s.CaseSerializer),
)
class CaseViewSet(ETagMixin, RecordViewSet):
    """Cases. Every detail read is written to the access log."""

    serializer_class = s.CaseSerializer
    filterset_class = CaseFilter
    ordering_fields = ["referral_date", "stage_changed_at", "created_at", "stage"]
    ordering = ["-referral_date", "-id"]

    def get_queryset(self) -> QuerySet[Case]:
        user = self.request.user
        cases = (
            selectors.case_list_for(user) if self.action == "list" else selectors.cases_for(user)
        )
        return rehab_selectors.with_rehab_status(cases)

    @cached_read
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def paginate_queryset(self, queryset: Any) -> Any:
        # A list page: its care teams and its protocol versions' phases in one query each.
        page = super().paginate_queryset(queryset)
        if page is not None:
            selectors.attach_care_teams(page)
            rehab_selectors.attach_plan_phases(page)
        return page

    def after_read(self, request: Request, instance: Any) -> None:
        access_log.record_read(request, record=instance, via="api")

    @staticmethod
    def _split(
        data: dict[str, Any],
    ) -> tuple[dict[str, Any], builtins.list[tuple[Any, str]] | None]:  # (list: the action)
        care = data.pop("care_team", None)
        return data, None if care is None else [(c["user"], c["role"]) for c in care]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data, care = self._split(dict(serializer.validated_data))
        case = services.case_create(
            actor=self.request.user, team=data["patient"].team, care_team=care or (), **data
        )
        serializer.instance = self.get_queryset().get(pk=case.pk)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data, care = self._split(dict(serializer.validated_data))
        data.pop("patient", None)
        case = services.case_update(
            actor=self.request.user, case=self.get_object(), care_team=care, **data
        )
        serializer.instance = self.get_queryset().get(pk=case.pk)

    @extend_schema(
        tags=["cases"],
        request=s.TransitionSerializer,
        responses={
            200: s.CaseSerializer,
            400: OpenApiResponse(description="Unknown stage or bad date (field named)."),
            403: OpenApiResponse(description="Your role may not make this move."),
            409: OpenApiResponse(
                description="Move not allowed from here or a guard failed; "
                "error.allowed lists the next stages."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Move the case to another stage (the only way its stage changes)."""
        case = self.get_object()
        body = s.TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.case_transition(actor=request.user, case_id=case.pk, **body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=case.pk)).data)

    @extend_schema(tags=["cases"], responses=s.TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        """Transitions, surgeries, decisions, tasks, appointments... oldest first."""
        entries = selectors.case_timeline(self.get_object())
        return Response([entry.as_dict() for entry in entries])

    @extend_schema(tags=["cases"], **ENTERED_IN_ERROR)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        return mark_in_error(self, request)


# --- Implant catalogue ------------------------------------------------------------------------

TAGS_IMPLANTS = extend_schema(tags=["implant systems"])


@extend_schema_view(
    list=TAGS_IMPLANTS,
    retrieve=TAGS_IMPLANTS,
    create=TAGS_IMPLANTS,
    update=TAGS_IMPLANTS,
    partial_update=TAGS_IMPLANTS,
)
class ImplantSystemViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.ImplantSystemSerializer
    filterset_fields = ["fixation", "usual_staging", "is_active", "manufacturer"]
    ordering_fields = ["manufacturer", "name"]
    ordering = ["manufacturer", "name"]

    def get_queryset(self) -> QuerySet[ImplantSystem]:
        return selectors.implant_systems_for(self.request.user)

    def _team_id(self, serializer: Any) -> int:
        team = serializer.validated_data.get("team") or s.default_team(
            serializer, dict(serializer.validated_data)
        )
        return int(team.pk)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        team_id = self._team_id(serializer)
        require_write(self.request.user, team_id, "implant_system")
        serializer.save(team_id=team_id)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        instance = serializer.instance
        assert isinstance(instance, ImplantSystem)
        if instance.team_id is None:
            from cases.errors import NotPermitted

            raise NotPermitted("Shared catalogue entries are edited by an administrator.")
        require_write(self.request.user, instance.team_id, "implant_system")
        serializer.save(team_id=instance.team_id)


# --- Assessments, decisions, surgeries --------------------------------------------------------


TAGS_ASSESSMENTS = extend_schema(tags=["assessments"])


@extend_schema_view(
    list=TAGS_ASSESSMENTS,
    retrieve=TAGS_ASSESSMENTS,
    create=TAGS_ASSESSMENTS,
    update=TAGS_ASSESSMENTS,
    partial_update=TAGS_ASSESSMENTS,
)
class AssessmentViewSet(RecordViewSet):
    """Eligibility workups, each with the computed eligibility summary (informs the MDT;
    never decides)."""

    serializer_class = s.AssessmentSerializer
    filterset_fields = ["case"]
    ordering_fields = ["assessed_on", "created_at"]
    ordering = ["-assessed_on", "-id"]

    def get_queryset(self) -> QuerySet[Assessment]:
        return selectors.assessments_for(self.request.user)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        assessment = Assessment(**serializer.validated_data)
        services.assessment_save(actor=self.request.user, assessment=assessment)
        serializer.instance = self.get_queryset().get(pk=assessment.pk)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assessment = serializer.instance
        assert isinstance(assessment, Assessment)
        for name, value in serializer.validated_data.items():
            setattr(assessment, name, value)
        services.assessment_save(actor=self.request.user, assessment=assessment)

    @extend_schema(tags=["assessments"], **ENTERED_IN_ERROR)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        return mark_in_error(self, request)


TAGS_DECISIONS = extend_schema(tags=["mdt decisions"])


@extend_schema_view(list=TAGS_DECISIONS, retrieve=TAGS_DECISIONS, create=TAGS_DECISIONS)
class MdtDecisionViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """MDT decisions are recorded once; a wrong one is marked entered in error and a new one
    recorded."""

    serializer_class = s.MdtDecisionSerializer
    filterset_fields = ["case", "outcome"]
    ordering_fields = ["meeting_date"]
    ordering = ["-meeting_date", "-id"]

    def get_queryset(self) -> QuerySet[MdtDecision]:
        return selectors.decisions_for(self.request.user)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        decision = services.mdt_decision_record(actor=self.request.user, **data)
        serializer.instance = self.get_queryset().get(pk=decision.pk)

    @extend_schema(tags=["mdt decisions"], **ENTERED_IN_ERROR)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        return mark_in_error(self, request)


TAGS_SURGERIES = extend_schema(tags=["surgeries"])


@extend_schema_view(
    list=TAGS_SURGERIES,
    retrieve=TAGS_SURGERIES,
    create=TAGS_SURGERIES,
    update=TAGS_SURGERIES,
    partial_update=TAGS_SURGERIES,
)
class SurgeryViewSet(RecordViewSet):
    serializer_class = s.SurgerySerializer
    filterset_fields = ["case", "kind"]
    ordering_fields = ["performed_date", "planned_date"]
    ordering = ["-performed_date", "-planned_date", "-id"]

    def get_queryset(self) -> QuerySet[Surgery]:
        return selectors.surgeries_for(self.request.user)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        surgery = services.surgery_record(
            actor=self.request.user,
            surgeons=data.pop("surgeons", []),
            components=data.pop("components", []),
            **data,
        )
        serializer.instance = self.get_queryset().get(pk=surgery.pk)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("case", None)
        surgery = services.surgery_update(
            actor=self.request.user,
            surgery=self.get_object(),
            surgeons=data.pop("surgeons", None),
            **data,
        )
        serializer.instance = self.get_queryset().get(pk=surgery.pk)

    @extend_schema(tags=["surgeries"], **ENTERED_IN_ERROR)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        return mark_in_error(self, request)


@extend_schema_view(
    list=extend_schema(tags=["access log"]), retrieve=extend_schema(tags=["access log"])
)
class AccessLogViewSet(viewsets.ReadOnlyModelViewSet):
    """Who read which patient's record, when and from where: coordinators only, for the
    teams they coordinate."""

    serializer_class = s.AccessLogEntrySerializer
    filterset_fields = ["patient", "case", "user", "via", "team"]
    ordering = ["-at", "-id"]

    def get_queryset(self) -> QuerySet[AccessLogEntry]:
        coordinated = [
            team
            for team, roles in access.roles_by_team(self.request.user).items()
            if "coordinator" in roles
        ]
        return AccessLogEntry.objects.filter(team_id__in=coordinated).select_related("user")
