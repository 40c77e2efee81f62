"""Rehabilitation and monitoring: versioned load protocols, a case's rehab plan, sessions,
safety flags, complications, outcome measures and prosthesis settings.

The rules (target load for a day, which flags a session raises) are pure functions in
``cases/rehab.py``; the writes are in ``cases/services.py`` (rehabilitation section).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from ..rehab import FlagKind, FlagThresholds, PhaseSpec, StomaFinding
from .record import Case, ClinicalRecord, Side, Surgery, Team, not_in_future

MAX_LOAD_KG = 300
MAX_PAIN_NRS = 10
MAX_PHASE_DAYS = 365
MAX_PROTOCOL_DELAY_DAYS = 120
MAX_SESSION_MINUTES = 600
QTFA_MAX = 100


def validate_stoma_findings(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("must be a list of stoma findings.")
    unknown = sorted(set(value) - set(StomaFinding.values))
    if unknown:
        raise ValidationError(
            f"unknown finding(s) {', '.join(unknown)}; "
            f"choose from {', '.join(StomaFinding.values)}."
        )
    if StomaFinding.CLEAN in value and len(set(value)) > 1:
        raise ValidationError("a clean stoma has no other finding.")


# --- Protocols --------------------------------------------------------------------------------


class RehabProtocol(models.Model):
    """A loading protocol: ordered phases (data the team edits). Versioned: once a plan uses a
    version it is never changed; editing means a new version that ``supersedes`` it, and every
    case keeps the version it started on."""

    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="rehab_protocols",
        null=True,
        blank=True,
        help_text="Empty: shared by every team.",
    )
    code = models.SlugField(
        max_length=80, help_text="Stable name of the protocol across versions, e.g. 'standard-6wk'."
    )
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text="The version this one replaces.",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    start_delay_days = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_PROTOCOL_DELAY_DAYS)],
        help_text="The plan starts this many days after the stoma-making surgery.",
    )
    pain_gate_nrs = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PAIN_NRS)],
        help_text="Load may rise only while pain NRS is below this.",
    )
    overload_tolerance_pct = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(100)],
        help_text="A load more than this percentage above the day's target is an overload.",
    )
    missed_session_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="This many days without a session raises a missed-sessions flag.",
    )
    is_example = models.BooleanField(
        default=False, help_text="Seeded example: the team must review it before use."
    )
    is_active = models.BooleanField(default=True, help_text="Offered for new plans.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "code", "version"],
                condition=models.Q(team__isnull=False),
                name="rehabprotocol_version_unique_in_team",
            ),
            models.UniqueConstraint(
                fields=["code", "version"],
                condition=models.Q(team__isnull=True),
                name="rehabprotocol_version_unique_shared",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="rehabprotocol_version_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(pain_gate_nrs__gte=1, pain_gate_nrs__lte=MAX_PAIN_NRS),
                name="rehabprotocol_pain_gate_range",
            ),
            models.CheckConstraint(
                condition=models.Q(overload_tolerance_pct__lte=100),
                name="rehabprotocol_overload_tolerance_range",
            ),
            models.CheckConstraint(
                condition=models.Q(missed_session_days__gte=1, missed_session_days__lte=60),
                name="rehabprotocol_missed_days_range",
            ),
            models.CheckConstraint(
                condition=models.Q(start_delay_days__lte=MAX_PROTOCOL_DELAY_DAYS),
                name="rehabprotocol_delay_range",
            ),
        ]

    def __str__(self) -> str:
        label = f"{self.name} v{self.version}"
        return f"{label} (example)" if self.is_example else label

    @property
    def thresholds(self) -> FlagThresholds:
        return FlagThresholds(
            overload_tolerance=self.overload_tolerance_pct / 100,
            pain_gate_nrs=self.pain_gate_nrs,
            missed_session_days=self.missed_session_days,
        )

    def phase_specs(self) -> list[PhaseSpec]:
        """The phases as pure-rule values (uses a prefetched ``phases`` when there is one)."""
        return [phase.as_spec() for phase in sorted(self.phases.all(), key=lambda p: p.position)]

    @property
    def is_in_use(self) -> bool:
        return bool(self.pk) and self.plans.exists()


class WalkingAid(models.TextChoices):
    STATIC_ONLY = "static_only", "Static loading only (no walking)"
    WHEELCHAIR = "wheelchair", "Wheelchair"
    PARALLEL_BARS = "parallel_bars", "Parallel bars"
    WALKING_FRAME = "walking_frame", "Walking frame"
    TWO_CRUTCHES = "two_crutches", "Two crutches"
    ONE_CRUTCH = "one_crutch", "One crutch"
    STICK = "stick", "Stick"
    NONE = "none", "No aid"


class RehabPhase(models.Model):
    """One phase of a protocol: the target load rises in a straight line from its start to its
    end percentage of body weight over ``length_days``."""

    protocol = models.ForeignKey(RehabProtocol, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField(help_text="Order within the protocol (1, 2, ...).")
    name = models.CharField(max_length=120)
    length_days = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PHASE_DAYS)]
    )
    start_load_pct = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Target axial load on the phase's first day, % of body weight.",
    )
    end_load_pct = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Target axial load on the phase's last day, % of body weight.",
    )
    sessions_per_day = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(10)],
        help_text="0: no sessions expected (rest); such days never count as missed.",
    )
    walking_aid = models.CharField(max_length=16, choices=WalkingAid.choices)
    instructions = models.TextField(blank=True)

    class Meta:
        ordering = ["protocol", "position"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "position"], name="rehabphase_position"),
            models.CheckConstraint(
                condition=models.Q(length_days__gte=1, length_days__lte=MAX_PHASE_DAYS),
                name="rehabphase_length_range",
            ),
            models.CheckConstraint(
                condition=models.Q(start_load_pct__gte=0, start_load_pct__lte=100)
                & models.Q(end_load_pct__gte=0, end_load_pct__lte=100),
                name="rehabphase_load_pct_range",
            ),
            models.CheckConstraint(
                condition=models.Q(sessions_per_day__lte=10), name="rehabphase_sessions_range"
            ),
            models.CheckConstraint(
                condition=models.Q(walking_aid__in=WalkingAid.values),
                name="rehabphase_walking_aid_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name} ({self.length_days} d)"

    def as_spec(self) -> PhaseSpec:
        return PhaseSpec(
            name=self.name,
            length_days=self.length_days,
            start_load_pct=float(self.start_load_pct),
            end_load_pct=float(self.end_load_pct),
            sessions_per_day=self.sessions_per_day,
            walking_aid=self.get_walking_aid_display(),
        )


# --- A case's plan and sessions ---------------------------------------------------------------


class RehabPlan(ClinicalRecord):
    """A case's rehabilitation on one protocol version. At most one current plan per case
    (not ended, not entered in error); retraining after follow-up starts a new one."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="rehab_plans")
    protocol = models.ForeignKey(RehabProtocol, on_delete=models.PROTECT, related_name="plans")
    start_date = models.DateField(help_text="Plan day 0.")
    stoma_surgery = models.ForeignKey(
        Surgery,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The stoma-making surgery the start date was counted from.",
    )
    body_weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(20), MaxValueValidator(MAX_LOAD_KG)],
        help_text="Body weight the targets are computed from (the latest recorded weight).",
    )
    body_weight_measured_on = models.DateField(null=True, blank=True)
    load_cap_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_LOAD_KG)],
        help_text="Optional absolute ceiling on the target load (e.g. short or weak bone).",
    )
    ended_on = models.DateField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(ended_on__isnull=True, entered_in_error=False),
                name="rehabplan_one_current_per_case",
                violation_error_message="This case already has a current rehabilitation plan.",
            ),
            models.CheckConstraint(
                condition=models.Q(body_weight_kg__gte=20, body_weight_kg__lte=MAX_LOAD_KG),
                name="rehabplan_body_weight_range",
            ),
            models.CheckConstraint(
                condition=models.Q(load_cap_kg__isnull=True)
                | models.Q(load_cap_kg__gte=0, load_cap_kg__lte=MAX_LOAD_KG),
                name="rehabplan_load_cap_range",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("start_date")),
                name="rehabplan_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol} from {self.start_date}"

    @property
    def load_cap(self) -> float | None:
        return None if self.load_cap_kg is None else float(self.load_cap_kg)


class LoadMeasurement(models.TextChoices):
    SCALE = "scale", "Scale"
    LOAD_CELL = "load_cell", "Load cell"
    FORCE_PLATE = "force_plate", "Force plate"
    ESTIMATED = "estimated", "Estimated (not measured)"


class RehabSession(ClinicalRecord):
    """One loading or training session. ``target_kg``, ``flag_kinds`` and ``holds_plan`` are
    computed by the service when the session is recorded (the target the physiotherapist was
    working to, and what the session showed); sessions are never edited, only marked entered
    in error."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="rehab_sessions")
    plan = models.ForeignKey(RehabPlan, on_delete=models.PROTECT, related_name="sessions")
    session_date = models.DateField(validators=[not_in_future])
    load_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_LOAD_KG)],
        help_text="Peak axial load achieved, kg.",
    )
    load_leg = models.CharField(
        max_length=8,
        choices=Side.choices,
        blank=True,
        help_text="The leg the load was measured on.",
    )
    load_measured_with = models.CharField(
        max_length=12, choices=LoadMeasurement.choices, default=LoadMeasurement.SCALE
    )
    duration_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_SESSION_MINUTES)]
    )
    pain_nrs_before = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_PAIN_NRS)]
    )
    pain_nrs_after = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_PAIN_NRS)]
    )
    walking_aid = models.CharField(max_length=16, choices=WalkingAid.choices, blank=True)
    stoma_findings = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_stoma_findings],
        help_text=f"Any of: {', '.join(StomaFinding.values)}.",
    )
    wear_hours_per_day = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(24)],
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Computed when recorded.
    target_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    flag_kinds = models.JSONField(default=list, blank=True)
    holds_plan = models.BooleanField(
        default=False, help_text="Pain reached the gate: this day does not advance the plan."
    )
    history = HistoricalRecords()
    # Set by the service on the session it records: the flags that session newly raised.
    raised_flags: list[SafetyFlag]

    class Meta:
        ordering = ["-session_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(load_kg__isnull=True)
                | models.Q(load_kg__gte=0, load_kg__lte=MAX_LOAD_KG),
                name="rehabsession_load_range",
            ),
            models.CheckConstraint(
                condition=models.Q(pain_nrs_before__isnull=True)
                | models.Q(pain_nrs_before__gte=0, pain_nrs_before__lte=MAX_PAIN_NRS),
                name="rehabsession_pain_before_range",
            ),
            models.CheckConstraint(
                condition=models.Q(pain_nrs_after__isnull=True)
                | models.Q(pain_nrs_after__gte=0, pain_nrs_after__lte=MAX_PAIN_NRS),
                name="rehabsession_pain_after_range",
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__isnull=True)
                | models.Q(duration_minutes__lte=MAX_SESSION_MINUTES),
                name="rehabsession_duration_range",
            ),
            models.CheckConstraint(
                condition=models.Q(wear_hours_per_day__isnull=True)
                | models.Q(wear_hours_per_day__gte=0, wear_hours_per_day__lte=24),
                name="rehabsession_wear_hours_range",
            ),
            models.CheckConstraint(
                condition=models.Q(load_measured_with__in=LoadMeasurement.values),
                name="rehabsession_measurement_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(walking_aid="") | models.Q(walking_aid__in=WalkingAid.values),
                name="rehabsession_walking_aid_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(load_leg="") | models.Q(load_leg__in=Side.values),
                name="rehabsession_load_leg_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["plan", "session_date"], name="rehabsession_plan_date"),
            models.Index(fields=["case", "session_date"], name="rehabsession_case_date"),
        ]

    def __str__(self) -> str:
        load = f"{self.load_kg} kg" if self.load_kg is not None else "no load"
        return f"Session {self.session_date}: {load}"

    @property
    def max_pain_nrs(self) -> int | None:
        pains = [p for p in (self.pain_nrs_before, self.pain_nrs_after) if p is not None]
        return max(pains) if pains else None


class SafetyFlag(models.Model):
    """A safety flag on a case. Raised once per episode: while one of a kind is open (not
    resolved) on a case, raising it again does nothing (a partial unique constraint)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="safety_flags")
    kind = models.CharField(max_length=20, choices=FlagKind.choices)
    raised_on = models.DateField()
    raised_at = models.DateTimeField(auto_now_add=True)
    session = models.ForeignKey(
        RehabSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="safety_flags",
        help_text="The session that raised it (none for missed sessions).",
    )
    detail = models.CharField(max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(resolved_at__isnull=True),
                name="safetyflag_one_open_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=FlagKind.values), name="safetyflag_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=False)
                | models.Q(resolved_by__isnull=True, resolution_note=""),
                name="safetyflag_resolution_has_time",
            ),
        ]
        indexes = [models.Index(fields=["case", "resolved_at"], name="safetyflag_case_open")]

    def __str__(self) -> str:
        state = "resolved" if self.resolved_at else "open"
        return f"{self.get_kind_display()} on {self.raised_on} ({state})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


# --- Complications ----------------------------------------------------------------------------


class ComplicationKind(models.TextChoices):
    INFECTION = "infection", "Infection"
    HYPERGRANULATION = "hypergranulation", "Stoma hypergranulation"
    REDUNDANT_SOFT_TISSUE = "redundant_soft_tissue", "Redundant soft tissue"
    PERIPROSTHETIC_FRACTURE = "periprosthetic_fracture", "Periprosthetic fracture"
    IMPLANT_BREAKAGE = "implant_breakage", "Implant breakage"
    CONNECTOR_BREAKAGE = "connector_breakage", "Connector/abutment breakage"
    FAILSAFE_RELEASE = "failsafe_release", "Fail-safe release"
    FAILSAFE_BREAKAGE = "failsafe_breakage", "Fail-safe breakage"
    LOOSENING = "loosening", "Aseptic loosening"
    FALL = "fall", "Fall"
    OTHER = "other", "Other"


class InfectionGrade(models.IntegerChoices):
    """Osseointegration Group of Australia grades (DOMAIN.md)."""

    LOW_GRADE_SOFT_TISSUE = 1, "1: low-grade soft-tissue"
    HIGH_GRADE_SOFT_TISSUE = 2, "2: high-grade soft-tissue"
    BONE = 3, "3: bone infection"
    SEPTIC_FAILURE = 4, "4: septic implant failure"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    LIFE_THREATENING = "life_threatening", "Life-threatening"


class Treatment(models.TextChoices):
    OBSERVATION = "observation", "Observation"
    LOCAL_CARE = "local_care", "Local stoma care"
    ORAL_ANTIBIOTICS = "oral_antibiotics", "Oral antibiotics"
    IV_ANTIBIOTICS = "iv_antibiotics", "Intravenous antibiotics"
    SILVER_NITRATE = "silver_nitrate", "Silver nitrate"
    DEBRIDEMENT = "debridement", "Debridement"
    SOFT_TISSUE_REVISION = "soft_tissue_revision", "Soft-tissue revision"
    COMPONENT_EXCHANGE = "component_exchange", "Component exchange"
    FIXATION = "fixation", "Fracture fixation"
    REVISION = "revision", "Revision"
    REMOVAL = "removal", "Implant removal"
    OTHER = "other", "Other"


# Complications that threaten the implant: an urgent surgeon task, and the case is offered
# on_hold (never moved automatically).
SERIOUS_COMPLICATION_KINDS = frozenset(
    {
        ComplicationKind.PERIPROSTHETIC_FRACTURE,
        ComplicationKind.IMPLANT_BREAKAGE,
        ComplicationKind.CONNECTOR_BREAKAGE,
        ComplicationKind.LOOSENING,
    }
)
SERIOUS_INFECTION_GRADE = 3


def is_serious_complication(kind: str, infection_grade: int | None) -> bool:
    if kind == ComplicationKind.INFECTION:
        return (infection_grade or 0) >= SERIOUS_INFECTION_GRADE
    return kind in SERIOUS_COMPLICATION_KINDS


def validate_treatments(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("must be a list of treatments.")
    unknown = sorted(set(value) - set(Treatment.values))
    if unknown:
        raise ValidationError(f"unknown treatment(s) {', '.join(unknown)}.")


class Complication(ClinicalRecord):
    """An adverse event."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="complications")
    kind = models.CharField(max_length=24, choices=ComplicationKind.choices)
    infection_grade = models.PositiveSmallIntegerField(
        choices=InfectionGrade.choices,
        null=True,
        blank=True,
        help_text="Required for an infection (1-4); empty otherwise.",
    )
    onset_date = models.DateField(validators=[not_in_future])
    severity = models.CharField(max_length=16, choices=Severity.choices)
    treatments = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_treatments],
        help_text=f"Any of: {', '.join(Treatment.values)}.",
    )
    surgery = models.ForeignKey(
        Surgery,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complications",
        help_text="The surgery it followed, or the one that treated it.",
    )
    description = models.TextField(blank=True)
    resolved_on = models.DateField(null=True, blank=True, validators=[not_in_future])
    resolution_note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-onset_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ComplicationKind.values),
                name="complication_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=Severity.values),
                name="complication_severity_valid",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind=ComplicationKind.INFECTION)
                    & models.Q(infection_grade__gte=1, infection_grade__lte=4)
                )
                | (~models.Q(kind=ComplicationKind.INFECTION) & models.Q(infection_grade=None)),
                name="complication_infection_has_grade",
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_on__isnull=True)
                | models.Q(resolved_on__gte=models.F("onset_date")),
                name="complication_resolved_after_onset",
            ),
        ]
        indexes = [models.Index(fields=["case", "onset_date"], name="complication_case_onset")]

    def __str__(self) -> str:
        grade = f" grade {self.infection_grade}" if self.infection_grade else ""
        return f"{self.get_kind_display()}{grade} from {self.onset_date}"

    @property
    def is_serious(self) -> bool:
        return is_serious_complication(self.kind, self.infection_grade)


# --- Outcome measures -------------------------------------------------------------------------


class OutcomeKind(models.TextChoices):
    QTFA = "qtfa", "Q-TFA"
    SIX_MINUTE_WALK = "six_minute_walk", "6-minute walk test (m)"
    TIMED_UP_AND_GO = "timed_up_and_go", "Timed Up and Go (s)"
    K_LEVEL = "k_level", "K-level"
    SF36_PCS = "sf36_pcs", "SF-36 physical component score"
    WEAR_HOURS = "wear_hours", "Prosthesis wear (hours/day)"
    PAIN_NRS = "pain_nrs", "Pain NRS"
    FALLS = "falls", "Falls (count since last review)"


class TimePoint(models.TextChoices):
    BASELINE = "baseline", "Baseline (before surgery)"
    MONTH_3 = "month_3", "3 months"
    MONTH_6 = "month_6", "6 months"
    MONTH_12 = "month_12", "12 months"
    MONTH_24 = "month_24", "24 months"
    ANNUAL = "annual", "Annual review"
    OTHER = "other", "Other"


class KLevel(models.TextChoices):
    K0 = "K0", "K0: non-user"
    K1 = "K1", "K1: household ambulator"
    K2 = "K2", "K2: limited community ambulator"
    K3 = "K3", "K3: variable cadence"
    K4 = "K4", "K4: high activity"


# Kinds measured by one number: (lowest, highest, whole numbers only).
OUTCOME_VALUE_RANGES: dict[str, tuple[Decimal, Decimal, bool]] = {
    OutcomeKind.SIX_MINUTE_WALK: (Decimal(0), Decimal(1500), False),
    OutcomeKind.TIMED_UP_AND_GO: (Decimal(0), Decimal(300), False),
    OutcomeKind.SF36_PCS: (Decimal(0), Decimal(100), False),
    OutcomeKind.WEAR_HOURS: (Decimal(0), Decimal(24), False),
    OutcomeKind.PAIN_NRS: (Decimal(0), Decimal(10), True),
    OutcomeKind.FALLS: (Decimal(0), Decimal(1000), True),
}
QTFA_SCORES = ("qtfa_prosthetic_use", "qtfa_mobility", "qtfa_problem", "qtfa_global")


def _outcome_shape_constraint() -> models.Q:
    qtfa_set = models.Q(**{f"{name}__isnull": False for name in QTFA_SCORES})
    qtfa_empty = models.Q(**{f"{name}__isnull": True for name in QTFA_SCORES})
    shapes = models.Q(kind=OutcomeKind.QTFA) & qtfa_set & models.Q(value=None, k_level="")
    shapes |= models.Q(kind=OutcomeKind.K_LEVEL, value=None) & qtfa_empty & ~models.Q(k_level="")
    for kind, (low, high, _) in OUTCOME_VALUE_RANGES.items():
        shapes |= models.Q(kind=kind, value__gte=low, value__lte=high, k_level="") & qtfa_empty
    return shapes


def qtfa_score(**extra: Any) -> models.DecimalField:
    """One of the four Q-TFA scores, 0-100."""
    return models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(QTFA_MAX)],
        **extra,
    )


class OutcomeMeasure(ClinicalRecord):
    """One outcome measure at a time point. The measures of a case at one time point are that
    review's outcome set."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="outcome_measures")
    kind = models.CharField(max_length=20, choices=OutcomeKind.choices)
    time_point = models.CharField(max_length=10, choices=TimePoint.choices)
    measured_on = models.DateField(validators=[not_in_future])
    value = models.DecimalField(
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="The measure for one-number kinds (metres, seconds, score, hours, count).",
    )
    k_level = models.CharField(max_length=2, choices=KLevel.choices, blank=True)
    qtfa_prosthetic_use = qtfa_score()
    qtfa_mobility = qtfa_score()
    qtfa_problem = qtfa_score(help_text="Higher is worse.")
    qtfa_global = qtfa_score()
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-measured_on", "kind", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OutcomeKind.values), name="outcome_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(time_point__in=TimePoint.values),
                name="outcome_time_point_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(k_level="") | models.Q(k_level__in=KLevel.values),
                name="outcome_k_level_valid",
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__isnull": True})
                    | models.Q(**{f"{name}__gte": 0, f"{name}__lte": QTFA_MAX}),
                    name=f"outcome_{name}_range",
                )
                for name in QTFA_SCORES
            ],
            models.CheckConstraint(
                condition=_outcome_shape_constraint(), name="outcome_value_fits_kind"
            ),
        ]
        indexes = [models.Index(fields=["case", "time_point"], name="outcome_case_time_point")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_time_point_display()}): {self.display_value}"

    @property
    def display_value(self) -> str:
        if self.kind == OutcomeKind.QTFA:
            return (
                f"use {self.qtfa_prosthetic_use}, mobility {self.qtfa_mobility}, "
                f"problem {self.qtfa_problem}, global {self.qtfa_global}"
            )
        if self.kind == OutcomeKind.K_LEVEL:
            return self.k_level
        return str(self.value)


# --- Prosthesis settings ----------------------------------------------------------------------


class ProsthesisComponent(models.TextChoices):
    KNEE = "knee", "Knee"
    FOOT = "foot", "Foot"
    ANKLE = "ankle", "Ankle"
    SAFETY_ADAPTER = "safety_adapter", "Safety adapter (fail-safe)"
    ROTATOR = "rotator", "Rotator"
    ELBOW = "elbow", "Elbow"
    HAND = "hand", "Hand/terminal device"
    OTHER = "other", "Other"


def validate_parameters(value: Any) -> None:
    if not isinstance(value, dict) or not value:
        raise ValidationError('must be an object of named settings, e.g. {"friction_level": 3}.')
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValidationError("every setting needs a name.")
        if not isinstance(item, str | int | float | bool) or item is None:
            raise ValidationError(f"'{key}' must be a number, text or true/false.")


class ProsthesisSetting(ClinicalRecord):
    """A prosthetist's setting of one component. Never edited: every change is a new row
    that ``supersedes`` the previous setting of that component, with who, when and why; the
    current setting is the one nothing supersedes."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="prosthesis_settings")
    component = models.CharField(max_length=16, choices=ProsthesisComponent.choices)
    component_model = models.CharField(
        max_length=200, blank=True, help_text="Make and model, e.g. a constant-friction knee."
    )
    parameters = models.JSONField(
        validators=[validate_parameters],
        help_text='e.g. {"friction_level": 3, "extension_assist": "medium"}.',
    )
    reason = models.CharField(max_length=500)
    set_on = models.DateField(validators=[not_in_future])
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["component", "-set_on", "-id"]
        constraints = [
            # With the one-to-one `supersedes`, a component's settings form one line: two
            # prosthetists changing the same setting at once cannot both succeed.
            models.UniqueConstraint(
                fields=["case", "component"],
                condition=models.Q(supersedes__isnull=True),
                name="prosthesissetting_one_first_per_component",
            ),
            models.CheckConstraint(
                condition=models.Q(component__in=ProsthesisComponent.values),
                name="prosthesissetting_component_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="prosthesissetting_reason_given"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_component_display()} set on {self.set_on}"


__all__ = [
    "MAX_LOAD_KG",
    "MAX_PAIN_NRS",
    "OUTCOME_VALUE_RANGES",
    "QTFA_MAX",
    "QTFA_SCORES",
    "SERIOUS_COMPLICATION_KINDS",
    "Complication",
    "ComplicationKind",
    "InfectionGrade",
    "KLevel",
    "LoadMeasurement",
    "OutcomeKind",
    "OutcomeMeasure",
    "ProsthesisComponent",
    "ProsthesisSetting",
    "RehabPhase",
    "RehabPlan",
    "RehabProtocol",
    "RehabSession",
    "SafetyFlag",
    "Severity",
    "TimePoint",
    "Treatment",
    "WalkingAid",
    "is_serious_complication",
]
