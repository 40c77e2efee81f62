"""Admin for the clinical record. Thin: every write goes through cases.services (same
permission checks, audit and signals as the API); querysets are scoped to the user's teams."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from . import access, access_log, pathway, selectors, services
from .errors import DomainError
from .models import (
    AccessLogEntry,
    Assessment,
    CareTeamMember,
    Case,
    Complication,
    ImplantComponent,
    ImplantSystem,
    MdtDecision,
    Membership,
    MembershipRole,
    OutcomeMeasure,
    Patient,
    PatientWeight,
    ProsthesisSetting,
    RehabPhase,
    RehabPlan,
    RehabProtocol,
    RehabSession,
    SafetyFlag,
    ServiceAccount,
    StageTransition,
    Surgery,
    Team,
    Treatment,
)
from .permissions import WRITE_ROLES
from .rehab import StomaFinding

# --- Scoping: nobody sees another team's records, people or choices ---------------------------


def team_people(team_ids: list[int]) -> QuerySet[Any]:
    """Active members of the given teams, for a form's choice of a person."""
    return (
        get_user_model()
        .objects.filter(memberships__team_id__in=team_ids, memberships__is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def scope_choices(request: HttpRequest, db_field: Any, kwargs: dict[str, Any]) -> None:
    """Offer only the user's teams' people, teams, patients, cases, implant systems, surgeries
    and protocols in a form's choices (a superuser: all). A queryset the admin set itself is
    kept."""
    if request.user.is_superuser or "queryset" in kwargs:
        return
    model = db_field.remote_field.model
    teams = access.team_ids(request.user)
    if model is get_user_model():
        kwargs["queryset"] = team_people(teams)
    elif model is Team:
        kwargs["queryset"] = Team.objects.filter(pk__in=teams)
    elif model is Patient:
        kwargs["queryset"] = selectors.patients_for(request.user)
    elif model is Case:
        kwargs["queryset"] = Case.objects.filter(
            team_id__in=teams, entered_in_error=False
        ).select_related("patient")
    elif model is ImplantSystem:
        kwargs["queryset"] = selectors.implant_systems_for(request.user)
    elif model is Surgery:
        kwargs["queryset"] = Surgery.objects.filter(
            case__team_id__in=teams, entered_in_error=False
        ).select_related("case__patient")
    elif model is RehabProtocol:
        kwargs["queryset"] = RehabProtocol.objects.filter(
            Q(team__isnull=True) | Q(team_id__in=teams)
        )


if TYPE_CHECKING:

    class _AdminBase(BaseModelAdmin[Any]):
        """What the mixins below extend, for the type checker only."""

else:
    _AdminBase = object


class ScopedChoicesMixin(_AdminBase):
    """Foreign-key and many-to-many choices limited to the user's teams (scope_choices)."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        scope_choices(request, db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        scope_choices(request, db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedHistoryMixin(_AdminBase):
    """simple_history's history pages find a record by primary key alone (falling back to its
    history rows): show them only for records in this admin's scoped queryset."""

    def _require_in_scope(self, request: HttpRequest, object_id: str) -> None:
        try:
            found = self.get_queryset(request).filter(pk=unquote(object_id)).exists()
        except (ValueError, ValidationError):
            found = False
        if not found:
            raise Http404

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        self._require_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)  # type: ignore[misc]

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        self._require_in_scope(request, object_id)
        return super().history_form_view(  # type: ignore[misc]
            request, object_id, version_id, extra_context
        )


class MembershipRoleInline(admin.TabularInline):
    model = MembershipRole
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(pk__in=access.team_ids(request.user))


@admin.register(Membership)
class MembershipAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    list_display = ["user", "team", "role_list", "is_active"]
    list_filter = [("team", admin.RelatedOnlyFieldListFilter), "is_active", "roles__role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    inlines = [MembershipRoleInline]

    @admin.display(description="Roles")
    def role_list(self, obj: Membership) -> str:
        return ", ".join(r.get_role_display() for r in obj.roles.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        qs = super().get_queryset(request).select_related("user", "team").prefetch_related("roles")
        if request.user.is_superuser:
            return qs
        return qs.filter(team_id__in=access.team_ids(request.user))


class TeamScopedAdmin(ScopedHistoryMixin, ScopedChoicesMixin, SimpleHistoryAdmin):
    """Shows only records of the user's teams (superusers see all), offers only their people
    and records as choices, and never deletes."""

    team_lookup = "team_id"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.team_lookup}__in": access.team_ids(request.user)})

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    logs_reads = False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.logs_reads and request.method == "GET" and response.status_code == 200:
            record = self.get_object(request, object_id)
            if record is not None:
                access_log.record_read(request, record=record, via="admin")
        return response

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> Any:
        # A service refusing the save (rule, role) rolls the whole form back and says why.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, f"Not saved: {exc.message}", level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class WeightInline(admin.TabularInline):
    model = PatientWeight
    fields = ["measured_on", "weight_kg", "recorded_by"]
    readonly_fields = ["measured_on", "weight_kg", "recorded_by"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Patient)
class PatientAdmin(TeamScopedAdmin):
    logs_reads = True
    list_display = ["hospital_number", "family_name", "given_name", "date_of_birth", "team"]
    list_filter = [("team", admin.RelatedOnlyFieldListFilter), "sex"]
    search_fields = ["hospital_number", "family_name", "given_name"]
    inlines = [WeightInline]
    exclude = ["entered_in_error", "entered_in_error_reason"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Patient]:
        return super().get_queryset(request).filter(entered_in_error=False).select_related("team")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "team" and not request.user.is_superuser:
            kwargs["queryset"] = Team.objects.filter(pk__in=access.team_ids(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Patient, form: Any, change: bool) -> None:
        fields = {f: form.cleaned_data[f] for f in form.changed_data if f != "team"}
        if change:
            services.patient_update(actor=request.user, patient=obj, **fields)
        else:
            data = {f: form.cleaned_data[f] for f in form.cleaned_data if f != "team"}
            created = services.patient_create(actor=request.user, team=obj.team, **data)
            obj.pk = created.pk


@admin.register(ImplantSystem)
class ImplantSystemAdmin(ScopedHistoryMixin, ScopedChoicesMixin, SimpleHistoryAdmin):
    list_display = [
        "manufacturer",
        "name",
        "fixation",
        "usual_staging",
        "min_residual_bone_length_mm",
        "bones",
        "is_example",
        "is_active",
    ]
    list_filter = ["fixation", "usual_staging", "is_example", "is_active"]
    search_fields = ["manufacturer", "name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImplantSystem]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else selectors.implant_systems_for(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StageActionForm(ActionForm):
    to = forms.ChoiceField(
        choices=[("", "---------"), *pathway.Stage.choices], required=False, label="Move to stage"
    )
    reason = forms.CharField(required=False, label="Reason")


class CareTeamInline(ScopedChoicesMixin, admin.TabularInline):
    model = CareTeamMember
    extra = 0


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SurgeryInline(ReadOnlyInline):
    model = Surgery
    fields = ["kind", "planned_date", "performed_date", "outcome"]


class DecisionInline(ReadOnlyInline):
    model = MdtDecision
    fields = ["meeting_date", "outcome", "reasons", "decided_by"]


class TransitionInline(ReadOnlyInline):
    model = StageTransition
    fields = ["recorded_at", "from_stage", "to_stage", "effective_date", "actor", "reason"]
    show_change_link = False


class MyCasesFilter(admin.SimpleListFilter):
    title = "my cases"
    parameter_name = "mine"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Lead clinician or on the care team")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() != "yes":
            return queryset
        user_id = request.user.pk
        return queryset.filter(
            Q(lead_clinician_id=user_id) | Q(care_team__user_id=user_id)
        ).distinct()


class TeamMemberFilter(admin.SimpleListFilter):
    """Cases a colleague leads or is on the care team of."""

    title = "team member"
    parameter_name = "member"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        people = (
            get_user_model().objects.all()
            if request.user.is_superuser
            else team_people(access.team_ids(request.user))
        )
        return [(str(p.pk), p.get_full_name() or p.get_username()) for p in people[:200]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        return queryset.filter(Q(lead_clinician_id=value) | Q(care_team__user_id=value)).distinct()


@admin.register(Case)
class CaseAdmin(TeamScopedAdmin):
    logs_reads = True
    list_display = [
        "case_page",
        "limb",
        "stage",
        "days_in_stage",
        "implant_system",
        "lead_clinician",
        "referral_date",
    ]
    # The case page (admin:case_overview, see osseo_mdt/admin_site.py) is where a case is
    # opened; its details form is one link from there.
    list_display_links = None
    list_filter = [
        MyCasesFilter,
        "stage",
        TeamMemberFilter,
        ("implant_system", admin.RelatedOnlyFieldListFilter),
        "staging_plan",
        ("team", admin.RelatedOnlyFieldListFilter),
        "side",
    ]
    search_fields = ["patient__hospital_number", "patient__family_name", "patient__given_name"]
    list_per_page = 50
    readonly_fields = [
        "stage",
        "stage_before_hold",
        "stage_changed_at",
        "status_reason",
        "next_steps",
        "rehab_chart",
    ]
    exclude = ["entered_in_error", "entered_in_error_reason"]
    inlines = [CareTeamInline, SurgeryInline, DecisionInline, TransitionInline]
    action_form = StageActionForm
    actions = ["move_to_stage"]
    autocomplete_fields = ["patient"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return (
            super()
            .get_queryset(request)
            .filter(entered_in_error=False)
            .select_related("patient", "team", "implant_system", "lead_clinician")
        )

    @admin.display(description="Case", ordering="patient__hospital_number")
    def case_page(self, obj: Case) -> str:
        return format_html(
            '<a href="{}"><strong>{}</strong> {}, {}</a>',
            reverse("admin:case_overview", args=[obj.pk]),
            obj.patient.hospital_number,
            obj.patient.family_name.upper(),
            obj.patient.given_name,
        )

    @admin.display(description="Limb")
    def limb(self, obj: Case) -> str:
        return f"{obj.get_side_display()} {obj.get_amputation_level_display().lower()}"

    @admin.display(description="Days in stage", ordering="-stage_changed_at")
    def days_in_stage(self, obj: Case) -> int:
        return (services.team_today(obj.team) - obj.stage_changed_at.date()).days

    def response_change(self, request: HttpRequest, obj: Case) -> HttpResponse:
        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_change(request, obj)
        self.message_user(request, f"{obj}: saved.", level=messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:case_overview", args=[obj.pk]))

    def response_add(self, request: HttpRequest, obj: Case, post_url_continue: Any = None) -> Any:
        if "_continue" in request.POST or "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"{obj}: added.", level=messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:case_overview", args=[obj.pk]))

    @admin.display(description="Rehabilitation progress")
    def rehab_chart(self, obj: Case) -> str:
        if not obj.pk:
            return "-"
        return format_html(
            '<img src="{}" alt="Rehabilitation progress chart: target and achieved load, pain, '
            'flags and complications" style="max-width: 100%; height: auto;">',
            reverse("case-rehab-chart", args=[obj.pk]),
        )

    @admin.display(description="Next steps")
    def next_steps(self, obj: Case) -> str:
        if not obj.pk:
            return "-"
        steps = pathway.next_steps(services.case_facts(obj), frozenset(pathway.Role.values))
        return (
            format_html_join(
                "",
                "<div>{}: {}</div>",
                ((step.to, "possible" if step.permitted else step.refusal) for step in steps),
            )
            or "-"
        )

    @admin.action(description="Move selected cases to the chosen stage")
    def move_to_stage(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        to = request.POST.get("to", "")
        reason = request.POST.get("reason", "")
        if not to:
            self.message_user(request, "Choose a stage to move to.", level=messages.WARNING)
            return
        for case in queryset:
            try:
                services.case_transition(actor=request.user, case_id=case.pk, to=to, reason=reason)
            except DomainError as exc:
                self.message_user(request, f"{case}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{case}: moved to {to}.", level=messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: Case, form: Any, change: bool) -> None:
        data = {f: form.cleaned_data[f] for f in form.cleaned_data if f not in ("team",)}
        if change:
            changed = {f: data[f] for f in form.changed_data if f in data}
            services.case_update(actor=request.user, case=obj, **changed)
        else:
            data.pop("patient")
            created = services.case_create(
                actor=request.user, team=obj.patient.team, patient=obj.patient, **data
            )
            obj.pk = created.pk

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is CareTeamMember and form.instance.pk:
            services.case_update(
                actor=request.user,
                case=form.instance,
                care_team=[
                    (f.cleaned_data["user"], f.cleaned_data["role"])
                    for f in formset.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                ],
            )
            return
        super().save_formset(request, form, formset, change)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.exclude, "team"]


@admin.register(Assessment)
class AssessmentAdmin(TeamScopedAdmin):
    team_lookup = "case__team_id"
    list_display = ["case", "assessed_on", "assessed_by"]
    readonly_fields = ["assessed_by", "eligibility_summary"]
    exclude = ["entered_in_error", "entered_in_error_reason"]
    autocomplete_fields = ["case"]

    @admin.display(description="Eligibility summary (informs the MDT; never decides)")
    def eligibility_summary(self, obj: Assessment) -> str:
        if not obj.pk:
            return "Saved assessments show their summary here."
        summary = selectors.eligibility_summary(obj)
        parts = [
            ("Absolute contraindications", [f.message for f in summary.absolute_contraindications]),
            ("Relative contraindications", [f.message for f in summary.relative_contraindications]),
            ("Socket failure criterion", ["met" if summary.socket_failure_met else "not met"]),
            ("Still missing", summary.missing_items),
        ]
        return format_html_join(
            "",
            "<p><strong>{}</strong>: {}</p>",
            ((title, "; ".join(items) or "none") for title, items in parts),
        )

    def save_model(self, request: HttpRequest, obj: Assessment, form: Any, change: bool) -> None:
        services.assessment_save(actor=request.user, assessment=obj)


class ComponentInline(admin.TabularInline):
    model = ImplantComponent
    extra = 1
    can_delete = False


@admin.register(Surgery)
class SurgeryAdmin(TeamScopedAdmin):
    team_lookup = "case__team_id"
    list_display = ["case", "kind", "planned_date", "performed_date", "outcome"]
    list_filter = ["kind", "outcome"]
    exclude = ["entered_in_error", "entered_in_error_reason"]
    inlines = [ComponentInline]
    autocomplete_fields = ["case"]

    def save_model(self, request: HttpRequest, obj: Surgery, form: Any, change: bool) -> None:
        data = {f: form.cleaned_data[f] for f in form.cleaned_data if f not in ("surgeons",)}
        if change:
            changed = {f: data[f] for f in form.changed_data if f in data}
            changed.pop("case", None)
            services.surgery_update(
                actor=request.user,
                surgery=obj,
                surgeons=form.cleaned_data.get("surgeons"),
                **changed,
            )
        else:
            created = services.surgery_record(
                actor=request.user, surgeons=form.cleaned_data.get("surgeons", []), **data
            )
            obj.pk = created.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Surgeons are set by the service; only component rows are saved here.
        for formset in formsets:
            self.save_formset(request, form, formset, change)


@admin.register(MdtDecision)
class MdtDecisionAdmin(TeamScopedAdmin):
    team_lookup = "case__team_id"
    list_display = ["case", "meeting_date", "outcome", "decided_by"]
    list_filter = ["outcome"]
    readonly_fields = ["decided_by"]
    exclude = ["entered_in_error", "entered_in_error_reason"]
    autocomplete_fields = ["case"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: MdtDecision, form: Any, change: bool) -> None:
        created = services.mdt_decision_record(
            actor=request.user,
            case=form.cleaned_data["case"],
            meeting_date=form.cleaned_data["meeting_date"],
            outcome=form.cleaned_data["outcome"],
            reasons=form.cleaned_data["reasons"],
            attendees=form.cleaned_data.get("attendees", []),
        )
        obj.pk = created.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Attendees are set by the service."""


@admin.register(StageTransition)
class StageTransitionAdmin(admin.ModelAdmin):
    """The transition log: read-only, never deleted."""

    list_display = ["case", "from_stage", "to_stage", "effective_date", "actor", "recorded_at"]
    list_filter = ["to_stage"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StageTransition]:
        qs = super().get_queryset(request).select_related("case__patient", "actor")
        if request.user.is_superuser:
            return qs
        return qs.filter(case__team_id__in=access.team_ids(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# =============================================================================================
# --- Rehabilitation and monitoring -----------------------------------------------------------
# Sessions, complications, outcomes, plans and prosthesis settings are added through their
# services and never edited afterwards (a wrong one is marked entered in error; a setting is
# changed by adding the new one). Who may add what follows cases/permissions.py, not the
# Django model permissions: prosthesis settings are the prosthetist's alone, even for a
# superuser who is not one.


def _holds_write_role(request: HttpRequest, record: str) -> bool:
    roles = set().union(*access.roles_by_team(request.user).values())
    return bool(roles & WRITE_ROLES[record])


class ServiceWrittenAdmin(TeamScopedAdmin):
    """Add through a service; never change (the change page shows the record read-only)."""

    team_lookup = "case__team_id"
    write_record = ""
    add_fields: list[str] = []
    exclude = ["entered_in_error", "entered_in_error_reason"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(entered_in_error=False)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _holds_write_role(request, self.write_record)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fields if obj is None else super().get_fields(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "case" and not request.user.is_superuser:
            kwargs["queryset"] = selectors.cases_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        created = self.create(request, dict(form.cleaned_data))
        obj.__dict__.update(created.__dict__)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Everything is written by the service."""


class RehabPhaseInline(admin.TabularInline):
    model = RehabPhase
    extra = 0
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

    def _editable(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or RehabProtocolAdmin.may_edit(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)


@admin.register(RehabProtocol)
class RehabProtocolAdmin(ScopedHistoryMixin, SimpleHistoryAdmin):
    """Versioned: a version used by a plan is read-only; "Make a new version" copies it
    (a shared example is copied into your team)."""

    list_display = ["name", "version", "code", "team", "is_example", "is_active", "in_use"]
    list_filter = ["is_example", "is_active", ("team", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "code"]
    readonly_fields = ["version", "supersedes", "is_example", "created_by", "created_at"]
    inlines = [RehabPhaseInline]
    actions = ["make_new_version"]

    @staticmethod
    def may_edit(request: HttpRequest, protocol: RehabProtocol) -> bool:
        if protocol.is_in_use:
            return False
        if protocol.team_id is None:
            return bool(request.user.is_superuser)
        roles = access.roles_in(request.user, protocol.team_id)
        return request.user.is_superuser or bool(roles & WRITE_ROLES["rehab_protocol"])

    def get_queryset(self, request: HttpRequest) -> QuerySet[RehabProtocol]:
        qs = super().get_queryset(request).select_related("team")
        if request.user.is_superuser:
            return qs
        return qs.filter(Q(team__isnull=True) | Q(team_id__in=access.team_ids(request.user)))

    @admin.display(boolean=True, description="In use")
    def in_use(self, obj: RehabProtocol) -> bool:
        return obj.is_in_use

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or _holds_write_role(request, "rehab_protocol")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return self.may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "team" and not request.user.is_superuser:
            kwargs["queryset"] = Team.objects.filter(pk__in=access.team_ids(request.user))
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: RehabProtocol, form: Any, change: bool) -> None:
        if change:
            services.require_protocol_editable(obj)
        else:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)

    @admin.action(description="Make a new version of the selected protocols", permissions=["view"])
    def make_new_version(self, request: HttpRequest, queryset: QuerySet[RehabProtocol]) -> None:
        team_ids = access.team_ids(request.user)
        team = Team.objects.filter(pk=team_ids[0]).first() if len(team_ids) == 1 else None
        for protocol in queryset:
            try:
                copy = services.rehab_protocol_new_version(
                    actor=request.user, protocol=protocol, team=team
                )
            except DomainError as exc:
                self.message_user(request, f"{protocol}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{copy} created: edit it before use.")


@admin.register(RehabPlan)
class RehabPlanAdmin(ServiceWrittenAdmin):
    write_record = "rehab_plan"
    add_fields = ["case", "protocol", "start_date", "load_cap_kg", "notes"]
    list_display = ["case", "protocol", "start_date", "body_weight_kg", "load_cap_kg", "ended_on"]
    list_filter = [("protocol", admin.RelatedOnlyFieldListFilter)]
    autocomplete_fields = ["case"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and "start_date" in form.base_fields:
            form.base_fields["start_date"].required = False
            form.base_fields[
                "start_date"
            ].help_text = "Empty: the stoma-making surgery's date plus the protocol's delay."
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "protocol":
            kwargs["queryset"] = RehabProtocol.objects.filter(is_active=True).filter(
                Q(team__isnull=True) | Q(team_id__in=access.team_ids(request.user))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        return services.rehab_plan_start(actor=request.user, **data)


SESSION_FIELDS = [
    "case",
    "session_date",
    "load_kg",
    "load_leg",
    "load_measured_with",
    "duration_minutes",
    "pain_nrs_before",
    "pain_nrs_after",
    "walking_aid",
    "stoma_findings",
    "wear_hours_per_day",
    "notes",
]


class RehabSessionForm(forms.ModelForm):
    stoma_findings = forms.MultipleChoiceField(
        choices=StomaFinding.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = RehabSession
        fields = SESSION_FIELDS


@admin.register(RehabSession)
class RehabSessionAdmin(ServiceWrittenAdmin):
    form = RehabSessionForm
    write_record = "rehab_session"
    add_fields = SESSION_FIELDS
    list_display = [
        "case",
        "session_date",
        "load_kg",
        "target_kg",
        "pain_nrs_before",
        "pain_nrs_after",
        "flag_kinds",
        "recorded_by",
    ]
    list_filter = ["holds_plan", "session_date"]
    autocomplete_fields = ["case"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("case__patient", "recorded_by")

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        session = services.rehab_session_record(actor=request.user, **data)
        for flag in session.raised_flags:
            self.message_user(request, f"Flag raised: {flag.detail}", level=messages.WARNING)
        return session


COMPLICATION_FIELDS = [
    "case",
    "kind",
    "infection_grade",
    "onset_date",
    "severity",
    "treatments",
    "surgery",
    "description",
    "resolved_on",
]


class ComplicationForm(forms.ModelForm):
    treatments = forms.MultipleChoiceField(
        choices=Treatment.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Complication
        fields = COMPLICATION_FIELDS


@admin.register(Complication)
class ComplicationAdmin(ServiceWrittenAdmin):
    form = ComplicationForm
    write_record = "complication"
    add_fields = COMPLICATION_FIELDS
    list_display = ["case", "kind", "infection_grade", "severity", "onset_date", "resolved_on"]
    list_filter = ["kind", "severity", "infection_grade"]
    autocomplete_fields = ["case"]
    actions = ["resolve_today"]

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        complication = services.complication_record(actor=request.user, **data)
        if services.complication_suggests_on_hold(complication, complication.case):
            self.message_user(
                request,
                "Serious complication: the surgeon has an urgent task. Consider putting the "
                "case on hold (Cases > Move to stage).",
                level=messages.WARNING,
            )
        return complication

    @admin.action(
        description="Mark the selected complications resolved today", permissions=["view"]
    )
    def resolve_today(self, request: HttpRequest, queryset: QuerySet[Complication]) -> None:
        for complication in queryset.select_related("case__team"):
            try:
                services.complication_resolve(
                    actor=request.user,
                    complication=complication,
                    resolved_on=services.team_today(complication.case.team),
                )
            except DomainError as exc:
                self.message_user(request, f"{complication}: {exc.message}", level=messages.ERROR)


@admin.register(OutcomeMeasure)
class OutcomeMeasureAdmin(ServiceWrittenAdmin):
    write_record = "outcome_measure"
    add_fields = [
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
    ]
    list_display = ["case", "kind", "time_point", "measured_on", "display_value", "recorded_by"]
    list_filter = ["kind", "time_point"]
    autocomplete_fields = ["case"]

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        return services.outcome_measure_record(actor=request.user, **data)


@admin.register(ProsthesisSetting)
class ProsthesisSettingAdmin(ServiceWrittenAdmin):
    """Only prosthetists add settings (a change is a new setting); everyone else reads."""

    write_record = "prosthesis_setting"
    add_fields = ["case", "component", "component_model", "parameters", "reason", "set_on"]
    list_display = ["case", "component", "component_model", "parameters", "set_on", "set_by"]
    list_filter = ["component"]
    autocomplete_fields = ["case"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("case__patient", "set_by")

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        return services.prosthesis_setting_change(actor=request.user, **data)


@admin.register(SafetyFlag)
class SafetyFlagAdmin(TeamScopedAdmin):
    team_lookup = "case__team_id"
    list_display = ["case", "kind", "raised_on", "detail", "resolved_at", "resolved_by"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    actions = ["resolve"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("case__patient", "resolved_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Resolve the selected flags", permissions=["view"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[SafetyFlag]) -> None:
        for flag in queryset:
            try:
                services.flag_resolve(actor=request.user, flag=flag, note="Resolved in the admin.")
            except DomainError as exc:
                self.message_user(request, f"{flag}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{flag}: resolved.", level=messages.SUCCESS)


@admin.register(AccessLogEntry)
class AccessLogAdmin(admin.ModelAdmin):
    """Who read which patient's record: coordinators see their teams' log; nobody edits it."""

    list_display = ["at", "user", "patient", "case", "via", "ip_address", "path"]
    list_filter = ["via", ("team", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "patient__hospital_number"]
    date_hierarchy = "at"

    def _coordinated_team_ids(self, request: HttpRequest) -> list[int]:
        return [
            t for t, roles in access.roles_by_team(request.user).items() if "coordinator" in roles
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessLogEntry]:
        qs = super().get_queryset(request).select_related("user", "patient", "case")
        if request.user.is_superuser:
            return qs
        return qs.filter(team_id__in=self._coordinated_team_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or bool(self._coordinated_team_ids(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    """Integration clients: their teams are their memberships; tokens via
    `manage.py create_service_account`."""

    list_display = ["user", "description", "read_only", "created_at"]
    list_filter = ["read_only"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)
