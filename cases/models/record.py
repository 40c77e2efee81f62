from __future__ import annotations

import zoneinfo
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ..pathway import OPEN_STAGES, DecisionOutcome, Stage, StagingPlan, SurgeryKind
from ..roles import Role


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known IANA time zone.")


class Team(models.Model):
    """One hospital's OI service. Every clinical record belongs to exactly one team."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default=settings.TIME_ZONE,
        validators=[validate_time_zone],
        help_text="IANA zone for due dates, 'overdue' and the weekly email, e.g. Europe/London.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A staff member of a team, with one or more roles (MembershipRole)."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "user"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_one_per_team_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class MembershipRole(models.Model):
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        ordering = ["role"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "role"], name="membershiprole_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membershiprole_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return Role(self.role).label


# --- The clinical record ---------------------------------------------------------------------


MIN_BIRTH_DATE = date(1900, 1, 1)
MIN_BODY_WEIGHT_KG = 20
MAX_BODY_WEIGHT_KG = 300
MAX_RESIDUAL_BONE_MM = 600


def born_after_1900(value: date) -> None:
    if value < MIN_BIRTH_DATE:
        raise ValidationError("may not be before 1900.")


def not_in_future(value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError("may not be in the future.")


class ClinicalRecord(models.Model):
    """Never hard-deleted: a record entered in error is marked so, with the reason, and
    hidden from normal lists; its history stays."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    entered_in_error = models.BooleanField(default=False)
    entered_in_error_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(ClinicalRecord):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="patients")
    hospital_number = models.CharField(max_length=40)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(validators=[not_in_future, born_after_1900])
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["hospital_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "hospital_number"], name="patient_hospital_number_unique_in_team"
            ),
            models.CheckConstraint(
                condition=models.Q(date_of_birth__gte=MIN_BIRTH_DATE), name="patient_dob_after_1900"
            ),
            models.CheckConstraint(
                condition=models.Q(sex__in=Sex.values), name="patient_sex_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hospital_number} {self.initials}"

    @property
    def initials(self) -> str:
        return f"{self.given_name[:1]}{self.family_name[:1]}".upper()

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class PatientWeight(ClinicalRecord):
    """Body weight on a date: it changes, and it drives rehab load targets."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="weights")
    measured_on = models.DateField(validators=[not_in_future])
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(MIN_BODY_WEIGHT_KG), MaxValueValidator(MAX_BODY_WEIGHT_KG)],
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-measured_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    weight_kg__gte=MIN_BODY_WEIGHT_KG, weight_kg__lte=MAX_BODY_WEIGHT_KG
                ),
                name="patientweight_kg_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weight_kg} kg on {self.measured_on}"


class Fixation(models.TextChoices):
    SCREW = "screw", "Screw"
    PRESS_FIT = "press_fit", "Press-fit"


class Bone(models.TextChoices):
    FEMUR = "femur", "Femur"
    TIBIA = "tibia", "Tibia"
    HUMERUS = "humerus", "Humerus"
    RADIUS_ULNA = "radius_ulna", "Radius/ulna"
    METACARPAL = "metacarpal", "Thumb metacarpal"


class ImplantSystem(models.Model):
    """A catalogue entry the team enters from the manufacturer's instructions for use."""

    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="implant_systems",
        null=True,
        blank=True,
        help_text="Empty: shared by every team.",
    )
    manufacturer = models.CharField(max_length=120)
    name = models.CharField(max_length=120)
    fixation = models.CharField(max_length=12, choices=Fixation.choices)
    usual_staging = models.CharField(max_length=12, choices=StagingPlan.choices)
    min_residual_bone_length_mm = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RESIDUAL_BONE_MM)]
    )
    bones = models.CharField(max_length=200, help_text="Comma-separated: femur, tibia, humerus...")
    notes = models.TextField(blank=True)
    is_example = models.BooleanField(
        default=False, help_text="Seeded example; the team must check it against the IFU."
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["manufacturer", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "manufacturer", "name"], name="implantsystem_unique_name"
            ),
            models.CheckConstraint(
                condition=models.Q(min_residual_bone_length_mm__gt=0),
                name="implantsystem_min_length_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.name}" + (" (example)" if self.is_example else "")


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class AmputationLevel(models.TextChoices):
    TRANSFEMORAL = "transfemoral", "Transfemoral"
    KNEE_DISARTICULATION = "knee_disarticulation", "Knee disarticulation"
    TRANSTIBIAL = "transtibial", "Transtibial"
    TRANSHUMERAL = "transhumeral", "Transhumeral"
    TRANSRADIAL = "transradial", "Transradial"
    THUMB_METACARPAL = "thumb_metacarpal", "Thumb/metacarpal"


class AmputationCause(models.TextChoices):
    TRAUMA = "trauma", "Trauma"
    VASCULAR = "vascular", "Vascular"
    INFECTION = "infection", "Infection"
    TUMOUR = "tumour", "Tumour"
    CONGENITAL = "congenital", "Congenital"
    OTHER = "other", "Other"


class Case(ClinicalRecord):
    """One OI episode for one limb."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    side = models.CharField(max_length=8, choices=Side.choices)
    amputation_level = models.CharField(max_length=24, choices=AmputationLevel.choices)
    bone = models.CharField(max_length=16, choices=Bone.choices)
    residual_bone_length_mm = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RESIDUAL_BONE_MM)],
    )
    amputation_cause = models.CharField(
        max_length=16, choices=AmputationCause.choices, default=AmputationCause.OTHER
    )
    amputation_date = models.DateField(null=True, blank=True, validators=[not_in_future])
    referral_date = models.DateField(default=timezone.localdate)
    referral_source = models.CharField(max_length=200, blank=True)
    implant_system = models.ForeignKey(
        ImplantSystem, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    staging_plan = models.CharField(max_length=12, choices=StagingPlan.choices)
    # Written only by cases.services.case_transition.
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.REFERRED)
    stage_before_hold = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    lead_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_cases",
    )
    status_reason = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-referral_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "side"],
                condition=models.Q(stage__in=sorted(OPEN_STAGES), entered_in_error=False),
                name="case_one_open_per_patient_side",
                violation_error_message="This patient already has an open case on that side.",
            ),
            models.CheckConstraint(
                condition=models.Q(stage__in=Stage.values), name="case_stage_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(side__in=Side.values), name="case_side_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(staging_plan__in=StagingPlan.values),
                name="case_staging_plan_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(residual_bone_length_mm__isnull=True)
                | models.Q(
                    residual_bone_length_mm__gt=0, residual_bone_length_mm__lte=MAX_RESIDUAL_BONE_MM
                ),
                name="case_residual_bone_length_range",
            ),
        ]
        indexes = [models.Index(fields=["team", "stage"], name="case_team_stage")]

    def __str__(self) -> str:
        limb = f"{self.get_side_display()} {self.get_amputation_level_display()}".lower()
        return f"{self.patient.hospital_number} {limb}"


class CareTeamMember(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="care_team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_team_places"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["role"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user", "role"], name="careteam_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Assessment(ClinicalRecord):
    """Eligibility workup. cases.eligibility.summarise turns it into the MDT summary."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField(default=timezone.localdate, validators=[not_in_future])
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Socket-problem indicators (DOMAIN.md).
    prosthesis_wear_hours_per_week = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
    )
    continuous_walking_km = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    socket_loosens_weekly = models.BooleanField(null=True, blank=True)
    blisters_or_pressure_sores = models.BooleanField(null=True, blank=True)
    poor_sitting_comfort = models.BooleanField(null=True, blank=True)
    heavy_socket_sweating = models.BooleanField(null=True, blank=True)
    skeletally_mature = models.BooleanField(null=True, blank=True)
    # Comorbidities.
    diabetes = models.BooleanField(null=True, blank=True)
    peripheral_vascular_disease = models.BooleanField(null=True, blank=True)
    smoker = models.BooleanField(null=True, blank=True)
    bmi = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(10), MaxValueValidator(80)],
    )
    metabolic_bone_disease = models.BooleanField(null=True, blank=True)
    dexa_t_score = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(-8), MaxValueValidator(5)],
    )
    limb_radiation_or_chemotherapy = models.BooleanField(null=True, blank=True)
    immunosuppression = models.BooleanField(null=True, blank=True)
    active_infection = models.BooleanField(null=True, blank=True)
    active_malignancy = models.BooleanField(null=True, blank=True)
    can_follow_rehabilitation = models.BooleanField(null=True, blank=True)
    # Workup items.
    xray_done = models.BooleanField(default=False)
    ct_done = models.BooleanField(default=False)
    dexa_done = models.BooleanField(default=False)
    psychological_assessment_done = models.BooleanField(default=False)
    funding_approved = models.BooleanField(null=True, blank=True)
    peer_contact_made = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-assessed_on", "-id"]

    def __str__(self) -> str:
        return f"Assessment {self.assessed_on} for {self.case_id}"


class MdtDecision(ClinicalRecord):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    meeting_date = models.DateField(validators=[not_in_future])
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    outcome = models.CharField(max_length=20, choices=DecisionOutcome.choices)
    reasons = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[attendees])

    class Meta:
        ordering = ["-meeting_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=DecisionOutcome.values),
                name="mdtdecision_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on {self.meeting_date}"


class SurgeryOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    UNEVENTFUL = "uneventful", "Uneventful"
    COMPLICATED = "complicated", "With complications"
    ABANDONED = "abandoned", "Abandoned"


class Surgery(ClinicalRecord):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="surgeries")
    kind = models.CharField(max_length=24, choices=SurgeryKind.choices)
    planned_date = models.DateField(null=True, blank=True)
    performed_date = models.DateField(null=True, blank=True, validators=[not_in_future])
    surgeons = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    outcome = models.CharField(
        max_length=16, choices=SurgeryOutcome.choices, default=SurgeryOutcome.PENDING
    )
    notes = models.TextField(blank=True)
    history = HistoricalRecords(m2m_fields=[surgeons])

    class Meta:
        ordering = ["-performed_date", "-planned_date", "-id"]
        verbose_name_plural = "surgeries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SurgeryKind.values), name="surgery_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(planned_date__isnull=False)
                | models.Q(performed_date__isnull=False),
                name="surgery_has_a_date",
            ),
        ]
        indexes = [models.Index(fields=["case", "kind"], name="surgery_case_kind")]

    def __str__(self) -> str:
        state = "performed" if self.performed_date else "planned"
        return f"{self.get_kind_display()} ({state} {self.performed_date or self.planned_date})"


class ImplantComponent(models.Model):
    """Traceability: each component fitted during a surgery."""

    surgery = models.ForeignKey(Surgery, on_delete=models.PROTECT, related_name="components")
    manufacturer = models.CharField(max_length=120)
    model = models.CharField(max_length=120)
    size = models.CharField(max_length=60, blank=True)
    lot_number = models.CharField(max_length=60, blank=True)
    serial_number = models.CharField(max_length=60, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.model} {self.size}".strip()


class StageTransition(models.Model):
    """The stage transition log: never edited, never deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transitions")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    effective_date = models.DateField()
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["case", "recorded_at"], name="transition_case_time")]

    def __str__(self) -> str:
        return f"{self.from_stage} -> {self.to_stage}"


class AccessVia(models.TextChoices):
    API = "api", "REST API"
    ADMIN = "admin", "Admin"
    FHIR = "fhir", "FHIR API"


class AccessLogEntry(models.Model):
    """A read of a patient's record: who, what, when, from where. Written by
    cases.access_log; viewable by coordinators; never edited or deleted."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    via = models.CharField(max_length=8, choices=AccessVia.choices)
    path = models.CharField(max_length=300)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        indexes = [
            models.Index(fields=["team", "at"], name="accesslog_team_at"),
            models.Index(fields=["patient", "at"], name="accesslog_patient_at"),
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.patient_id} via {self.via} at {self.at:%Y-%m-%d %H:%M}"


class ServiceAccount(models.Model):
    """An integration client (EPR, registry, integration engine): a user whose API tokens act
    only within its team memberships, and only read when `read_only`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_account"
    )
    description = models.CharField(max_length=200)
    read_only = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} ({'read-only' if self.read_only else 'read-write'})"


__all__ = [
    "MAX_BODY_WEIGHT_KG",
    "MAX_RESIDUAL_BONE_MM",
    "MIN_BIRTH_DATE",
    "MIN_BODY_WEIGHT_KG",
    "AccessLogEntry",
    "AccessVia",
    "AmputationCause",
    "AmputationLevel",
    "Assessment",
    "Bone",
    "CareTeamMember",
    "Case",
    "ClinicalRecord",
    "Fixation",
    "ImplantComponent",
    "ImplantSystem",
    "MdtDecision",
    "Membership",
    "MembershipRole",
    "Patient",
    "PatientWeight",
    "ServiceAccount",
    "Sex",
    "Side",
    "StageTransition",
    "Surgery",
    "SurgeryOutcome",
    "Team",
    "born_after_1900",
    "not_in_future",
    "validate_time_zone",
]
