"""Rehabilitation and monitoring API: protocols (read), plans, sessions, safety flags,
complications, outcome measures, prosthesis settings, and per case the progress summary
(``/cases/{id}/rehab/``) and chart (``/cases/{id}/rehab/chart.svg``).

Thin, like the rest of the API: serializers list their fields and keep server-owned fields
read-only; views scope every queryset to the caller's teams (404 otherwise), call one service
and serialize.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, renderers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import access, rehab_chart, rehab_selectors, services
from cases.models import (
    Case,
    Complication,
    OutcomeMeasure,
    ProsthesisSetting,
    RehabPhase,
    RehabPlan,
    RehabProtocol,
    RehabSession,
    SafetyFlag,
    Surgery,
    Treatment,
)
from cases.permissions import require_write
from cases.rehab import FlagKind, StomaFinding
from osseo_mdt.api.cache import cached_read
from osseo_mdt.api.concurrency import (
    PRECONDITION_RESPONSES,
    etag_of,
    require_if_match,
)

from . import serializers as s
from .views import ENTERED_IN_ERROR, mark_in_error

# --- Related fields scoped to the caller's teams ----------------------------------------------


class ProtocolField(s._ScopedField):
    def scoped(self, user: Any) -> Any:
        return rehab_selectors.protocols_for(user)


class SurgeryField(s._ScopedField):
    def scoped(self, user: Any) -> Any:
        return Surgery.objects.filter(
            case__team_id__in=access.team_ids(user), entered_in_error=False
        )


def _person(user: Any) -> str:
    return "" if user is None else (user.get_full_name() or user.get_username())


# --- Serializers ------------------------------------------------------------------------------


class RehabPhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = RehabPhase
        fields = [
            "position",
            "name",
            "length_days",
            "start_load_pct",
            "end_load_pct",
            "sessions_per_day",
            "walking_aid",
            "instructions",
        ]
        read_only_fields = fields


class RehabProtocolSerializer(serializers.ModelSerializer):
    phases = serializers.SerializerMethodField()

    @extend_schema_field(RehabPhaseSerializer(many=True))
    def get_phases(self, protocol: RehabProtocol) -> Any:
        # A version a plan uses comes with its phases read once per process
        # (rehab_selectors.in_use_phases), written here once too; any other version is read
        # (or prefetched) as usual.
        in_use = getattr(protocol, rehab_selectors.PHASES_ATTR, None)
        if in_use is None:
            return RehabPhaseSerializer(protocol.phases.all(), many=True).data
        if in_use.shown is None:
            in_use.shown = RehabPhaseSerializer(in_use.rows, many=True).data
        return [dict(phase) for phase in in_use.shown]

    class Meta:
        model = RehabProtocol
        fields = [
            "id",
            "team",
            "code",
            "version",
            "supersedes",
            "name",
            "description",
            "start_delay_days",
            "pain_gate_nrs",
            "overload_tolerance_pct",
            "missed_session_days",
            "is_example",
            "is_active",
            "phases",
            "created_at",
        ]
        read_only_fields = fields


class RehabPlanSerializer(serializers.ModelSerializer):
    case = s.CaseField()
    protocol = ProtocolField()
    start_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Default: the stoma-making surgery's date plus the protocol's delay.",
    )
    replace_current = serializers.BooleanField(
        write_only=True,
        default=False,
        help_text="End the case's current plan the day before this one starts.",
    )

    class Meta:
        model = RehabPlan
        fields = [
            "id",
            "case",
            "protocol",
            "start_date",
            "stoma_surgery",
            "body_weight_kg",
            "body_weight_measured_on",
            "load_cap_kg",
            "ended_on",
            "started_by",
            "notes",
            "replace_current",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "stoma_surgery",
            "body_weight_kg",
            "body_weight_measured_on",
            "ended_on",
            "started_by",
            "created_at",
        ]


class SafetyFlagSerializer(serializers.ModelSerializer):
    is_open = serializers.BooleanField(read_only=True)
    resolved_by_name = serializers.SerializerMethodField()

    class Meta:
        model = SafetyFlag
        fields = [
            "id",
            "case",
            "kind",
            "raised_on",
            "raised_at",
            "session",
            "detail",
            "is_open",
            "resolved_at",
            "resolved_by",
            "resolved_by_name",
            "resolution_note",
        ]
        read_only_fields = fields

    def get_resolved_by_name(self, flag: SafetyFlag) -> str:
        return _person(flag.resolved_by)


class FlagResolveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RehabSessionSerializer(serializers.ModelSerializer):
    case = s.CaseField()
    stoma_findings = serializers.ListField(
        child=serializers.ChoiceField(choices=StomaFinding.choices),
        required=False,
        default=list,
        help_text="Stoma condition: clean, or any of the other findings.",
    )
    flag_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=FlagKind.choices),
        read_only=True,
        help_text="What this session showed (whether or not a flag was already open).",
    )
    raised_flags = serializers.SerializerMethodField(
        help_text="Flags this session newly raised (once per episode)."
    )

    class Meta:
        model = RehabSession
        fields = [
            "id",
            "case",
            "plan",
            "session_date",
            "load_kg",
            "load_leg",
            "load_measured_with",
            "target_kg",
            "duration_minutes",
            "pain_nrs_before",
            "pain_nrs_after",
            "walking_aid",
            "stoma_findings",
            "wear_hours_per_day",
            "notes",
            "flag_kinds",
            "holds_plan",
            "raised_flags",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "plan",
            "target_kg",
            "flag_kinds",
            "holds_plan",
            "recorded_by",
            "created_at",
        ]

    @extend_schema_field(SafetyFlagSerializer(many=True))
    def get_raised_flags(self, session: RehabSession) -> Any:
        flags = getattr(session, "raised_flags", None)
        if flags is None:
            flags = session.safety_flags.all()
        return SafetyFlagSerializer(flags, many=True).data


class ComplicationSerializer(serializers.ModelSerializer):
    case = s.CaseField()
    surgery = SurgeryField(required=False, allow_null=True)
    treatments = serializers.ListField(
        child=serializers.ChoiceField(choices=Treatment.choices), required=False, default=list
    )
    is_serious = serializers.BooleanField(read_only=True)
    suggest_on_hold = serializers.SerializerMethodField(
        help_text="A serious, unresolved complication on an open case: the team may want to "
        "put the case on hold (nothing moves it automatically)."
    )

    class Meta:
        model = Complication
        fields = [
            "id",
            "case",
            "kind",
            "infection_grade",
            "onset_date",
            "severity",
            "treatments",
            "surgery",
            "description",
            "resolved_on",
            "resolution_note",
            "is_serious",
            "suggest_on_hold",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["id", "resolution_note", "recorded_by", "created_at"]

    def get_suggest_on_hold(self, complication: Complication) -> bool:
        return services.complication_suggests_on_hold(complication, complication.case)


class ComplicationResolveSerializer(serializers.Serializer):
    resolved_on = serializers.DateField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OutcomeMeasureSerializer(serializers.ModelSerializer):
    case = s.CaseField()

    class Meta:
        model = OutcomeMeasure
        fields = [
            "id",
            "case",
            "kind",
            "time_point",
            "measured_on",
            "value",
            "k_level",
            "qtfa_prosthetic_use",
            "qtfa_mobility",
            "qtfa_problem",
            "qtfa_global",
            "notes",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["id", "recorded_by", "created_at"]


class ProsthesisSettingSerializer(serializers.ModelSerializer):
    case = s.CaseField()
    parameters = serializers.DictField(
        help_text='Named settings, e.g. {"friction_level": 3, "extension_assist": "medium"}.'
    )
    set_on = serializers.DateField(required=False, allow_null=True)
    set_by_name = serializers.SerializerMethodField()
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = ProsthesisSetting
        fields = [
            "id",
            "case",
            "component",
            "component_model",
            "parameters",
            "reason",
            "set_on",
            "set_by",
            "set_by_name",
            "supersedes",
            "is_current",
            "created_at",
        ]
        read_only_fields = ["id", "set_by", "supersedes", "created_at"]

    def get_set_by_name(self, setting: ProsthesisSetting) -> str:
        return _person(setting.set_by)

    def get_is_current(self, setting: ProsthesisSetting) -> bool:
        return not hasattr(setting, "superseded_by")


# --- The progress summary ---------------------------------------------------------------------


class RehabPhaseTodaySerializer(serializers.Serializer):
    name = serializers.CharField()
    day_in_phase = serializers.IntegerField()
    length_days = serializers.IntegerField()
    sessions_per_day = serializers.IntegerField()
    walking_aid = serializers.CharField()


class SeriesPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    plan_day = serializers.IntegerField()
    target_kg = serializers.FloatField()
    achieved_kg = serializers.FloatField(allow_null=True)
    pain_nrs = serializers.IntegerField(allow_null=True)
    sessions = serializers.IntegerField()
    held = serializers.BooleanField(help_text="Pain reached the gate: the plan did not advance.")


@extend_schema_field(SeriesPointSerializer(many=True))
class SeriesField(serializers.Field):
    """The day-by-day series (a point a day: hundreds for a long plan) in SeriesPointSerializer's
    shape, written out by hand: DRF's field-by-field path was a third of the request
    (bench/RESULTS.md); tests/test_query_counts.py compares the two."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, points: Any) -> list[dict[str, Any]]:
        return [
            {
                "date": point.date.isoformat(),
                "plan_day": point.plan_day,
                "target_kg": float(point.target_kg),
                "achieved_kg": None if point.achieved_kg is None else float(point.achieved_kg),
                "pain_nrs": point.pain_nrs,
                "sessions": point.sessions,
                "held": point.held,
            }
            for point in points
        ]


class MarkerSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    on = serializers.DateField()
    record_id = serializers.IntegerField()
    detail = serializers.CharField()


class RehabPlanSummarySerializer(serializers.ModelSerializer):
    protocol = RehabProtocolSerializer(read_only=True)

    class Meta:
        model = RehabPlan
        fields = [
            "id",
            "protocol",
            "start_date",
            "body_weight_kg",
            "body_weight_measured_on",
            "load_cap_kg",
            "ended_on",
            "notes",
        ]
        read_only_fields = fields


class RehabSummarySerializer(serializers.Serializer):
    case = serializers.IntegerField(source="case.pk")
    today = serializers.DateField()
    plan = RehabPlanSummarySerializer(allow_null=True)
    plan_day_today = serializers.IntegerField(allow_null=True)
    target_today_kg = serializers.FloatField(allow_null=True)
    phase_today = RehabPhaseTodaySerializer(allow_null=True)
    days_without_session = serializers.IntegerField(allow_null=True)
    series = SeriesField()
    open_flags = SafetyFlagSerializer(many=True)
    flag_markers = MarkerSerializer(many=True)
    complication_markers = MarkerSerializer(many=True)
    suggest_on_hold = serializers.BooleanField()


# --- Views ------------------------------------------------------------------------------------


class CaseScopedFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter()


class RehabProtocolViewSet(viewsets.ReadOnlyModelViewSet):
    """Loading protocols (shared examples and the team's own), each version with its phases.
    Edited in the admin: a version a plan uses never changes."""

    serializer_class = RehabProtocolSerializer
    filterset_fields = ["code", "is_active", "is_example"]
    ordering = ["code", "-version"]

    def get_queryset(self) -> QuerySet[RehabProtocol]:
        return rehab_selectors.protocols_for(self.request.user)


class RehabPlanViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """A case's rehabilitation on one protocol version."""

    serializer_class = RehabPlanSerializer
    filterset_fields = ["case", "protocol"]
    ordering = ["-start_date", "-id"]

    def get_queryset(self) -> QuerySet[RehabPlan]:
        return rehab_selectors.plans_for(self.request.user)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        plan = services.rehab_plan_start(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=plan.pk)

    @extend_schema(**ENTERED_IN_ERROR)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        return mark_in_error(self, request)


class SessionFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter()
    session_date_after = django_filters.DateFilter(field_name="session_date", lookup_expr="gte")
    session_date_before = django_filters.DateFilter(field_name="session_date", lookup_expr="lte")

    class Meta:
        model = RehabSession
        fields = ["case", "plan"]


class RehabSessionViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Rehab sessions. Recording one computes the day's target and the flags it raises
    (``raised_flags``); a wrong session is marked entered in error, never edited."""

    serializer_class = RehabSessionSerializer
    filterset_class = SessionFilter
    ordering_fields = ["session_date", "created_at"]
    ordering = ["-session_date", "-id"]

    def get_queryset(self) -> QuerySet[RehabSession]:
        return rehab_selectors.sessions_for(self.request.user)

    @extend_schema(
        responses={
            201: RehabSessionSerializer,
            400: OpenApiResponse(description="Bad value or date (the field is named)."),
            403: OpenApiResponse(description="Only physiotherapists and rehab physicians."),
            409: OpenApiResponse(description="No current plan, or the case is not in rehab."),
        }
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        session = services.rehab_session_record(
            actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = session

    @extend_schema(**ENTERED_IN_ERROR)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        return mark_in_error(self, request)


class FlagFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter()
    kind = django_filters.ChoiceFilter(choices=FlagKind.choices)
    open = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull")

    class Meta:
        model = SafetyFlag
        fields = ["case", "kind", "open"]


class SafetyFlagViewSet(viewsets.ReadOnlyModelViewSet):
    """Safety flags raised by sessions and the daily missed-sessions check. Resolving one ends
    its episode: the next occurrence raises a new flag."""

    serializer_class = SafetyFlagSerializer
    filterset_class = FlagFilter
    ordering_fields = ["raised_on", "raised_at"]
    ordering = ["-raised_on", "-id"]

    def get_queryset(self) -> QuerySet[SafetyFlag]:
        return rehab_selectors.flags_for(self.request.user)

    @extend_schema(
        request=FlagResolveSerializer,
        responses={
            200: SafetyFlagSerializer,
            403: OpenApiResponse(description="Your role may not resolve flags."),
            409: OpenApiResponse(description="Already resolved."),
        },
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        flag = self.get_object()  # 404 before 400
        body = FlagResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        flag = services.flag_resolve(
            actor=request.user, flag=flag, note=body.validated_data["note"]
        )
        return Response(SafetyFlagSerializer(self.get_queryset().get(pk=flag.pk)).data)


class ComplicationViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Adverse events. A serious one (grade 3-4 infection, fracture, breakage, loosening) gives
    the surgeon an urgent task and answers ``suggest_on_hold: true``."""

    serializer_class = ComplicationSerializer
    filterset_fields = ["case", "kind", "severity"]
    ordering_fields = ["onset_date", "created_at"]
    ordering = ["-onset_date", "-id"]

    def get_queryset(self) -> QuerySet[Complication]:
        return rehab_selectors.complications_for(self.request.user)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        complication = services.complication_record(
            actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=complication.pk)

    @extend_schema(
        request=ComplicationResolveSerializer,
        responses={200: ComplicationSerializer, 409: OpenApiResponse(description="Resolved.")},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        complication = self.get_object()  # 404 before 400
        body = ComplicationResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        complication = services.complication_resolve(
            actor=request.user, complication=complication, **body.validated_data
        )
        return Response(ComplicationSerializer(self.get_queryset().get(pk=complication.pk)).data)

    @extend_schema(**ENTERED_IN_ERROR)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        return mark_in_error(self, request)


class OutcomeMeasureViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Outcome measures; the measures of a case at one time point are that review's set."""

    serializer_class = OutcomeMeasureSerializer
    filterset_fields = ["case", "kind", "time_point"]
    ordering_fields = ["measured_on", "created_at"]
    ordering = ["-measured_on", "kind", "-id"]

    def get_queryset(self) -> QuerySet[OutcomeMeasure]:
        return rehab_selectors.outcomes_for(self.request.user)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        measure = services.outcome_measure_record(
            actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=measure.pk)

    @extend_schema(**ENTERED_IN_ERROR)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        return mark_in_error(self, request)


class SettingFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter()
    current = django_filters.BooleanFilter(
        method="filter_current", label="Only the current setting of each component"
    )

    class Meta:
        model = ProsthesisSetting
        fields = ["case", "component", "current"]

    def filter_current(self, queryset: QuerySet[ProsthesisSetting], name: str, value: bool) -> Any:
        return queryset.filter(superseded_by__isnull=value)


IF_MATCH_CURRENT = OpenApiParameter(
    name="If-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Required when the component already has a setting: that setting's ETag "
    "(GET /api/v1/prosthesis-settings/{id}/). 428 without it, 412 when stale.",
)


class ProsthesisSettingViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Prosthesis settings: everyone in the team reads them; only a prosthetist changes them
    (POST records a new setting that supersedes the component's previous one)."""

    serializer_class = ProsthesisSettingSerializer
    filterset_class = SettingFilter
    ordering_fields = ["set_on", "created_at"]
    ordering = ["component", "-set_on", "-id"]

    def get_queryset(self) -> QuerySet[ProsthesisSetting]:
        return rehab_selectors.prosthesis_settings_for(self.request.user)

    @extend_schema(
        parameters=[IF_MATCH_CURRENT],
        responses={
            201: ProsthesisSettingSerializer,
            400: OpenApiResponse(description="Bad parameters, no reason, or unchanged."),
            403: OpenApiResponse(description="Only a prosthetist may change a setting."),
            409: OpenApiResponse(description="Someone changed it at the same time."),
            **PRECONDITION_RESPONSES,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        setting = self.get_object()
        response = Response(self.get_serializer(setting).data)
        response["ETag"] = etag_of(setting)
        return response

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        # The role is checked before the version, so a stranger learns nothing from a 412.
        require_write(self.request.user, data["case"].team_id, "prosthesis_setting")
        current = (
            ProsthesisSetting.objects.filter(
                case=data["case"], component=data["component"], superseded_by__isnull=True
            )
            .order_by("-id")
            .first()
        )
        if current is not None:
            # Changing a setting that exists: say which version you are changing.
            require_if_match(self.request, current)
        setting = services.prosthesis_setting_change(
            actor=self.request.user,
            expected_previous_id=current.pk if current else None,
            **data,
        )
        serializer.instance = self.get_queryset().get(pk=setting.pk)


# --- Per case: summary and chart --------------------------------------------------------------


def _case_or_404(request: Request, pk: int) -> Case:
    try:
        return rehab_selectors.rehab_case_for(request.user, pk)
    except Case.DoesNotExist as exc:
        raise Http404 from exc


class CaseRehabView(APIView):
    @extend_schema(tags=["cases"], responses=RehabSummarySerializer)
    @cached_read
    def get(self, request: Request, pk: int) -> Response:
        """The plan, today's target and phase, the day-by-day series (target, achieved, pain,
        held), open flags and the markers the chart shows: a constant number of queries."""
        summary = rehab_selectors.rehab_summary(_case_or_404(request, pk))
        return Response(RehabSummarySerializer(summary).data)


class SVGRenderer(renderers.BaseRenderer):
    media_type = "image/svg+xml"
    format = "svg"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        return data


class CaseRehabChartView(APIView):
    # JSON for errors (401/404), SVG for the chart.
    renderer_classes = [renderers.JSONRenderer, SVGRenderer]

    @extend_schema(
        tags=["cases"],
        responses={(200, "image/svg+xml"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        """The progress chart as SVG: target load, achieved loads, pain NRS on a second axis,
        held days, flags and complications."""
        summary = rehab_selectors.rehab_summary(_case_or_404(request, pk))
        response = HttpResponse(rehab_chart.render_svg(summary), content_type="image/svg+xml")
        response["Cache-Control"] = "private, no-store"
        return response

    def handle_exception(self, exc: Exception) -> Response:
        # An <img> asks for image/*: answer errors in JSON whatever it accepts.
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)


__all__ = [
    "CaseRehabChartView",
    "CaseRehabView",
    "ComplicationViewSet",
    "OutcomeMeasureViewSet",
    "ProsthesisSettingViewSet",
    "RehabPlanViewSet",
    "RehabProtocolViewSet",
    "RehabSessionViewSet",
    "SafetyFlagViewSet",
]
