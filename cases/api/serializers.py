"""Serializers list their fields explicitly; server-owned fields (team, stage, audit fields)
are read-only. Related fields accept only objects in the caller's teams."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import access, pathway, rehab_selectors, selectors, services
from cases.models import (
    MAX_BODY_WEIGHT_KG,
    MIN_BODY_WEIGHT_KG,
    AccessLogEntry,
    Assessment,
    Case,
    ImplantComponent,
    ImplantSystem,
    MdtDecision,
    Patient,
    PatientWeight,
    Surgery,
    Team,
)
from cases.roles import Role
from osseo_mdt.api.formats import iso_date, iso_datetime

User = get_user_model()


class TeamRolesSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    time_zone = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


class MeSerializer(serializers.ModelSerializer):
    teams = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "teams"]
        read_only_fields = ["id", "username", "first_name", "last_name", "email", "teams"]

    @extend_schema_field(TeamRolesSerializer(many=True))
    def get_teams(self, user: Any) -> Any:
        by_team = access.roles_by_team(user)
        teams = Team.objects.filter(pk__in=by_team).order_by("name")
        return TeamRolesSerializer(
            [
                {
                    "id": t.pk,
                    "name": t.name,
                    "slug": t.slug,
                    "time_zone": t.time_zone,
                    "roles": sorted(by_team[t.pk]),
                }
                for t in teams
            ],
            many=True,
        ).data


# --- Scoped related fields --------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class _ScopedField(serializers.PrimaryKeyRelatedField):
    """A related field whose choices are what the caller may see."""

    def scoped(self, user: Any) -> Any:
        raise NotImplementedError

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return self.scoped(request.user if request else None)


class TeamField(_ScopedField):
    def scoped(self, user: Any) -> Any:
        return Team.objects.filter(pk__in=access.team_ids(user))


class PatientField(_ScopedField):
    def scoped(self, user: Any) -> Any:
        return selectors.patients_for(user)


class CaseField(_ScopedField):
    def scoped(self, user: Any) -> Any:
        return Case.objects.filter(team_id__in=access.team_ids(user), entered_in_error=False)


class ImplantSystemField(_ScopedField):
    def scoped(self, user: Any) -> Any:
        return selectors.implant_systems_for(user)


class TeamMemberField(_ScopedField):
    """A user in one of the caller's teams (the service checks it is the record's team)."""

    def scoped(self, user: Any) -> Any:
        return User.objects.filter(
            memberships__team_id__in=access.team_ids(user), memberships__is_active=True
        ).distinct()


def default_team(serializer: serializers.Serializer, attrs: dict[str, Any]) -> Team:
    """The team a new record goes into: given, or the caller's only team."""
    team = attrs.get("team")
    if team is not None:
        return team
    user = serializer.context["request"].user
    ids = access.team_ids(user)
    if len(ids) != 1:
        raise serializers.ValidationError({"team": ["Required: you belong to several teams."]})
    return Team.objects.get(pk=ids[0])


# --- Patients ---------------------------------------------------------------------------------


class PatientWeightSerializer(serializers.ModelSerializer):
    class Meta:
        model = PatientWeight
        fields = ["id", "measured_on", "weight_kg", "recorded_by", "created_at"]
        read_only_fields = ["id", "recorded_by", "created_at"]


class PatientSerializer(serializers.ModelSerializer):
    team = TeamField(required=False)
    weight_kg = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        min_value=MIN_BODY_WEIGHT_KG,
        max_value=MAX_BODY_WEIGHT_KG,
        write_only=True,
        required=False,
        help_text="Body weight today (kg); recorded as a dated weight.",
    )
    latest_weight = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "team",
            "hospital_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "phone",
            "email",
            "address",
            "notes",
            "weight_kg",
            "latest_weight",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness within the team is checked by the service and the database.
        validators: list[Any] = []

    @extend_schema_field(PatientWeightSerializer(allow_null=True))
    def get_latest_weight(self, patient: Patient) -> Any:
        weights = getattr(patient, "recent_weights", None)
        latest = weights[0] if weights else None
        if weights is None:
            latest = patient.weights.filter(entered_in_error=False).first()
        return PatientWeightSerializer(latest).data if latest else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            attrs["team"] = default_team(self, attrs)
        elif "team" in attrs and attrs["team"] != self.instance.team:
            raise serializers.ValidationError({"team": ["A patient cannot move team."]})
        return attrs


# --- Implant catalogue ------------------------------------------------------------------------


class ImplantSystemSerializer(serializers.ModelSerializer):
    team = TeamField(required=False, allow_null=True)

    class Meta:
        model = ImplantSystem
        fields = [
            "id",
            "team",
            "manufacturer",
            "name",
            "fixation",
            "usual_staging",
            "min_residual_bone_length_mm",
            "bones",
            "notes",
            "is_example",
            "is_active",
        ]
        read_only_fields = ["id", "is_example"]
        validators: list[Any] = []


# --- Cases ------------------------------------------------------------------------------------


class CareTeamEntrySerializer(serializers.Serializer):
    user = TeamMemberField()
    role = serializers.ChoiceField(choices=Role.choices)
    name = serializers.CharField(source="user.get_full_name", read_only=True)


class OpenFlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    raised_on = serializers.DateField()


class CaseSerializer(serializers.ModelSerializer):
    patient = PatientField()
    implant_system = ImplantSystemField(required=False, allow_null=True)
    lead_clinician = TeamMemberField(required=False, allow_null=True)
    care_team = CareTeamEntrySerializer(many=True, required=False)
    hospital_number = serializers.CharField(source="patient.hospital_number", read_only=True)
    stage_before_hold = serializers.CharField(
        read_only=True, help_text="While on hold: the stage the case returns to; else empty."
    )
    allowed_next_stages = serializers.SerializerMethodField()
    rehab_target_today_kg = serializers.SerializerMethodField(
        help_text="Today's target load of the current rehab plan (null without one)."
    )
    open_flags = serializers.SerializerMethodField(help_text="Unresolved safety flags.")

    class Meta:
        model = Case
        fields = [
            "id",
            "team",
            "patient",
            "hospital_number",
            "side",
            "amputation_level",
            "bone",
            "residual_bone_length_mm",
            "amputation_cause",
            "amputation_date",
            "referral_date",
            "referral_source",
            "implant_system",
            "staging_plan",
            "stage",
            "stage_before_hold",
            "stage_changed_at",
            "allowed_next_stages",
            "lead_clinician",
            "care_team",
            "status_reason",
            "rehab_target_today_kg",
            "open_flags",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "team",
            "stage",
            "stage_before_hold",
            "stage_changed_at",
            "status_reason",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_next_stages(self, case: Case) -> list[str]:
        facts = pathway.CaseFacts(
            stage=case.stage,
            staging_plan=case.staging_plan,
            stage_before_hold=case.stage_before_hold or None,
        )
        return pathway.allowed_next_stages(facts)

    def _today(self, case: Case) -> date:
        todays = self.context.setdefault("todays", {}) if self.context else {}
        if case.team_id not in todays:
            todays[case.team_id] = services.team_today(case.team)
        return todays[case.team_id]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_rehab_target_today_kg(self, case: Case) -> float | None:
        return rehab_selectors.target_today_kg(case, self._today(case))

    @extend_schema_field(OpenFlagSerializer(many=True))
    def get_open_flags(self, case: Case) -> list[dict[str, Any]]:
        return rehab_selectors.open_flags(case)

    def to_representation(self, case: Case) -> dict[str, Any]:
        # The same keys and formats as the declared fields, written out by hand: DRF's
        # field-by-field path was most of a case list's time (bench/RESULTS.md);
        # tests/test_query_counts.py compares the two.
        return {
            "id": case.pk,
            "team": case.team_id,
            "patient": case.patient_id,
            "hospital_number": case.patient.hospital_number,
            "side": case.side,
            "amputation_level": case.amputation_level,
            "bone": case.bone,
            "residual_bone_length_mm": case.residual_bone_length_mm,
            "amputation_cause": case.amputation_cause,
            "amputation_date": iso_date(case.amputation_date),
            "referral_date": iso_date(case.referral_date),
            "referral_source": case.referral_source,
            "implant_system": case.implant_system_id,
            "staging_plan": case.staging_plan,
            "stage": case.stage,
            "stage_before_hold": case.stage_before_hold,
            "stage_changed_at": iso_datetime(case.stage_changed_at),
            "allowed_next_stages": self.get_allowed_next_stages(case),
            "lead_clinician": case.lead_clinician_id,
            "care_team": self._care_team(case),
            "status_reason": case.status_reason,
            "rehab_target_today_kg": self.get_rehab_target_today_kg(case),
            "open_flags": self.get_open_flags(case),
            "created_at": iso_datetime(case.created_at),
            "updated_at": iso_datetime(case.updated_at),
        }

    @staticmethod
    def _care_team(case: Case) -> list[dict[str, Any]]:
        rows = getattr(case, selectors.CARE_TEAM_ATTR, None)
        if rows is not None:  # a list page: selectors.attach_care_teams
            return list(rows)
        return [
            {"user": member.user_id, "role": member.role, "name": member.user.get_full_name()}
            for member in case.care_team.all()
        ]

    def field_by_field(self, case: Case) -> dict[str, Any]:
        """DRF's own representation, for the test that keeps the fast path honest."""
        return dict(super().to_representation(case))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        patient = attrs.get("patient")
        if self.instance is not None and patient and patient != self.instance.patient:
            raise serializers.ValidationError({"patient": ["A case cannot change patient."]})
        return attrs


class TransitionSerializer(serializers.Serializer):
    to = serializers.CharField(help_text="The stage to move to (see Case.stage).")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    effective_date = serializers.DateField(required=False, allow_null=True)
    expected_stage = serializers.ChoiceField(
        choices=pathway.Stage.choices,
        required=False,
        help_text="The stage you saw; 409 if someone has moved the case since.",
    )

    def validate_to(self, value: str) -> str:
        if value not in pathway.Stage.values:
            raise serializers.ValidationError(
                f"'{value}' is not a stage; stages are: {', '.join(pathway.Stage.values)}."
            )
        return value


class TimelineEntrySerializer(serializers.Serializer):
    kind = serializers.CharField()
    at = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    record_id = serializers.IntegerField(allow_null=True)
    actor = serializers.CharField()
    extra = serializers.DictField()


class EnteredInErrorSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


# --- Assessments, decisions, surgeries -------------------------------------------------------


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class EligibilitySummarySerializer(serializers.Serializer):
    absolute_contraindications = FindingSerializer(many=True)
    relative_contraindications = FindingSerializer(many=True)
    socket_failure_met = serializers.BooleanField()
    socket_criteria_met = serializers.ListField(child=serializers.CharField())
    missing_items = serializers.ListField(child=serializers.CharField())


ASSESSMENT_INPUT_FIELDS = [
    "prosthesis_wear_hours_per_week",
    "continuous_walking_km",
    "socket_loosens_weekly",
    "blisters_or_pressure_sores",
    "poor_sitting_comfort",
    "heavy_socket_sweating",
    "skeletally_mature",
    "diabetes",
    "peripheral_vascular_disease",
    "smoker",
    "bmi",
    "metabolic_bone_disease",
    "dexa_t_score",
    "limb_radiation_or_chemotherapy",
    "immunosuppression",
    "active_infection",
    "active_malignancy",
    "can_follow_rehabilitation",
    "xray_done",
    "ct_done",
    "dexa_done",
    "psychological_assessment_done",
    "funding_approved",
    "peer_contact_made",
    "notes",
]


class AssessmentSerializer(serializers.ModelSerializer):
    case = CaseField()
    eligibility = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "case",
            "assessed_on",
            "assessed_by",
            *ASSESSMENT_INPUT_FIELDS,
            "eligibility",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "assessed_by", "created_at", "updated_at"]

    @extend_schema_field(EligibilitySummarySerializer)
    def get_eligibility(self, assessment: Assessment) -> Any:
        return selectors.eligibility_summary(assessment).to_dict()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "case" in attrs and attrs["case"] != self.instance.case:
            raise serializers.ValidationError({"case": ["An assessment cannot change case."]})
        return attrs


class MdtDecisionSerializer(serializers.ModelSerializer):
    case = CaseField()
    attendees = TeamMemberField(many=True, required=False)

    class Meta:
        model = MdtDecision
        fields = [
            "id",
            "case",
            "meeting_date",
            "attendees",
            "outcome",
            "reasons",
            "decided_by",
            "created_at",
        ]
        read_only_fields = ["id", "decided_by", "created_at"]


class ImplantComponentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImplantComponent
        fields = ["id", "manufacturer", "model", "size", "lot_number", "serial_number"]
        read_only_fields = ["id"]


class SurgerySerializer(serializers.ModelSerializer):
    case = CaseField()
    surgeons = TeamMemberField(many=True, required=False)
    components = ImplantComponentSerializer(many=True, required=False)

    class Meta:
        model = Surgery
        fields = [
            "id",
            "case",
            "kind",
            "planned_date",
            "performed_date",
            "surgeons",
            "components",
            "outcome",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            if "case" in attrs and attrs["case"] != self.instance.case:
                raise serializers.ValidationError({"case": ["A surgery cannot change case."]})
            if "components" in attrs:
                raise serializers.ValidationError(
                    {"components": ["Components are recorded with the surgery; add them once."]}
                )
        return attrs


class AccessLogEntrySerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.get_username", read_only=True)

    class Meta:
        model = AccessLogEntry
        fields = [
            "id",
            "at",
            "user",
            "username",
            "team",
            "patient",
            "case",
            "via",
            "path",
            "ip_address",
        ]
        read_only_fields = fields
