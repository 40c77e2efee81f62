"""What the API serves, per resource type: the scoped queryset (what the caller's teams may
see, prefetched so a page costs a fixed number of queries), the search parameters and the
builder. The CapabilityStatement is generated from this registry, so it lists exactly what
is supported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.db.models import CharField, F, Prefetch, Q, QuerySet, Value

from cases import access, rehab_selectors, selectors
from cases.models import (
    Complication,
    ComplicationKind,
    OutcomeMeasure,
    RehabPlan,
    RehabSession,
    Surgery,
    SurgeryOutcome,
)
from scheduling import selectors as scheduling_selectors
from scheduling.models import Task, TaskStatus

from . import mapping
from . import terminology as t
from .search import (
    Token,
    codes_in,
    invalid,
    not_found,
    parse_date,
    parse_reference_ids,
    parse_tokens,
    string_q,
)

Resource = dict[str, Any]
SPEC = "http://hl7.org/fhir/SearchParameter/"


@dataclass(frozen=True)
class Param:
    """A search parameter: ``build(raw, modifier)`` turns one occurrence into a criterion (a
    ``Q`` for model resources)."""

    name: str
    type: str  # token | reference | date | string
    documentation: str
    build: Callable[[str, str | None], Any]
    modifiers: frozenset[str] = frozenset()
    definition: str | None = None


@dataclass(frozen=True)
class Found:
    record: Any
    resource: Resource


class ResourceType(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def params(self) -> dict[str, Param]: ...

    # Its records are patients' records: every read goes to the access log.
    @property
    def audited(self) -> bool: ...

    def read(self, user: Any, resource_id: str) -> Found: ...

    def search(
        self, user: Any, criteria: list[Any], offset: int, count: int
    ) -> tuple[int, list[Found]]: ...


@dataclass(frozen=True)
class ModelResource:
    name: str
    queryset: Callable[[Any], QuerySet[Any]]
    build: Callable[[Any], Resource]
    params: dict[str, Param]
    ordering: tuple[str, ...]
    audited: bool = False

    def read(self, user: Any, resource_id: str) -> Found:
        record = None
        if resource_id.isdigit():
            record = self.queryset(user).filter(pk=int(resource_id)).first()
        if record is None:
            raise not_found(f"{self.name}/{resource_id} is not known.")
        return Found(record, self.build(record))

    def search(
        self, user: Any, criteria: list[Any], offset: int, count: int
    ) -> tuple[int, list[Found]]:
        found = self.queryset(user)
        for criterion in criteria:
            found = found.filter(criterion)
        total = found.count()
        records = list(found.order_by(*self.ordering)[offset : offset + count]) if count else []
        return total, [Found(record, self.build(record)) for record in records]


# --- Parameters shared by several types ---------------------------------------------------------


def _ids_q(raw: str, modifier: str | None) -> Q:
    ids = [token.code for token in parse_tokens(raw, "_id")]
    return Q(pk__in=[int(i) for i in ids if i.isdigit()])


ID_PARAM = Param(
    "_id", "token", "The resource's id (comma-separated: any of).", _ids_q, definition=None
)


def _reference_param(
    name: str, target: str, field_name: str, documentation: str, definition: str | None
) -> Param:
    def build(raw: str, modifier: str | None) -> Q:
        return Q(**{f"{field_name}__in": parse_reference_ids(raw, name, target)})

    return Param(name, "reference", documentation, build, definition=definition)


def _date_param(name: str, field_name: str, documentation: str, definition: str | None) -> Param:
    def build(raw: str, modifier: str | None) -> Q:
        return parse_date(raw, name).q(field_name)

    return Param(name, "date", documentation, build, definition=definition)


def _patient_param(field_name: str, resource: str) -> Param:
    return _reference_param(
        "patient",
        "Patient",
        field_name,
        f"The patient the {resource} is about (Patient/123 or 123).",
        SPEC + "clinical-patient",
    )


# --- Patient ----------------------------------------------------------------------------------


def _identifier_q(raw: str, modifier: str | None) -> Q:
    found = Q(pk__in=[])
    for token in parse_tokens(raw, "identifier"):
        if token.system in (None, t.patient_identifier_system()):
            found |= Q(hospital_number=token.code)
    return found


def _gender_q(raw: str, modifier: str | None) -> Q:
    genders = ("male", "female", "other", "unknown")
    return Q(sex__in=codes_in(raw, "gender", genders, "http://hl7.org/fhir/administrative-gender"))


def _patients(user: Any) -> QuerySet[Any]:
    return selectors.patients_for(user).select_related("team")


STRING_MODIFIERS = frozenset({"contains", "exact"})

PATIENT = ModelResource(
    name="Patient",
    queryset=_patients,
    build=mapping.patient,
    ordering=("hospital_number", "id"),
    audited=True,
    params={
        "_id": ID_PARAM,
        "identifier": Param(
            "identifier",
            "token",
            "The hospital number: system|value, or the value alone.",
            _identifier_q,
            definition=SPEC + "Patient-identifier",
        ),
        "name": Param(
            "name",
            "string",
            "Starts a given or family name (case-insensitive); :contains, :exact.",
            lambda raw, modifier: string_q(raw, "name", modifier, ["given_name", "family_name"]),
            STRING_MODIFIERS,
            SPEC + "Patient-name",
        ),
        "family": Param(
            "family",
            "string",
            "Starts the family name (case-insensitive); :contains, :exact.",
            lambda raw, modifier: string_q(raw, "family", modifier, ["family_name"]),
            STRING_MODIFIERS,
            SPEC + "individual-family",
        ),
        "birthdate": _date_param(
            "birthdate", "date_of_birth", "Date of birth.", SPEC + "individual-birthdate"
        ),
        "gender": Param(
            "gender",
            "token",
            "male | female | other | unknown.",
            _gender_q,
            definition=SPEC + "individual-gender",
        ),
    },
)


# --- Practitioner (the staff our references point at) -----------------------------------------


def _practitioners(user: Any) -> QuerySet[Any]:
    # Everyone who is or was a member of the caller's teams: old tasks still name them.
    teams = access.team_ids(user)
    return get_user_model().objects.filter(
        pk__in=get_user_model().objects.filter(memberships__team_id__in=teams).values("pk")
    )


def _username_q(raw: str, modifier: str | None) -> Q:
    found = Q(pk__in=[])
    for token in parse_tokens(raw, "identifier"):
        if token.system in (None, t.staff_identifier_system()):
            found |= Q(username=token.code)
    return found


PRACTITIONER = ModelResource(
    name="Practitioner",
    queryset=_practitioners,
    build=mapping.practitioner,
    ordering=("last_name", "first_name", "id"),
    params={
        "_id": ID_PARAM,
        "identifier": Param(
            "identifier",
            "token",
            "The staff member's username: system|value, or the value alone.",
            _username_q,
            definition=SPEC + "Practitioner-identifier",
        ),
        "name": Param(
            "name",
            "string",
            "Starts a given or family name (case-insensitive); :contains, :exact.",
            lambda raw, modifier: string_q(raw, "name", modifier, ["first_name", "last_name"]),
            STRING_MODIFIERS,
            SPEC + "Practitioner-name",
        ),
    },
)


# --- EpisodeOfCare and CarePlan ---------------------------------------------------------------


def _episodes(user: Any) -> QuerySet[Any]:
    return selectors.cases_for(user).prefetch_related(
        "transitions",
        Prefetch("complications", queryset=Complication.objects.filter(entered_in_error=False)),
    )


def _stage_status_param(
    name: str, status_by_stage: dict[str, str], statuses: tuple[str, ...], system: str, doc: str
) -> Param:
    def build(raw: str, modifier: str | None) -> Q:
        wanted = codes_in(raw, name, statuses, system)
        return Q(stage__in=t.stages_with(status_by_stage, wanted))

    return Param(name, "token", doc, build, definition=None)


EPISODE_OF_CARE = ModelResource(
    name="EpisodeOfCare",
    queryset=_episodes,
    build=mapping.episode_of_care,
    ordering=("-referral_date", "-id"),
    audited=True,
    params={
        "_id": ID_PARAM,
        "patient": _patient_param("patient_id", "episode"),
        "status": _stage_status_param(
            "status",
            t.EPISODE_STATUS_BY_STAGE,
            t.EPISODE_STATUSES,
            "http://hl7.org/fhir/episode-of-care-status",
            "waitlist (referred to MDT review) | active (awaiting surgery to follow-up) | "
            "onhold | finished (discharged, explanted) | cancelled (declined, withdrawn).",
        ),
        "care-manager": _reference_param(
            "care-manager",
            "Practitioner",
            "lead_clinician_id",
            "The case's lead clinician.",
            SPEC + "EpisodeOfCare-care-manager",
        ),
    },
)


def _care_plans(user: Any) -> QuerySet[Any]:
    from django.db.models.functions import Coalesce

    surgeries = (
        Surgery.objects.filter(entered_in_error=False)
        .prefetch_related("surgeons")
        .order_by(Coalesce("performed_date", "planned_date"), "id")
    )
    plans = (
        RehabPlan.objects.filter(entered_in_error=False)
        .select_related("protocol", "started_by")
        .prefetch_related("protocol__phases")
        .order_by("start_date", "id")
    )
    return selectors.cases_for(user).prefetch_related(
        "transitions",
        Prefetch("surgeries", queryset=surgeries),
        Prefetch("rehab_plans", queryset=plans),
        Prefetch("tasks", queryset=Task.objects.order_by("due_date", "id")),
    )


CARE_PLAN = ModelResource(
    name="CarePlan",
    queryset=_care_plans,
    build=mapping.care_plan,
    ordering=("-referral_date", "-id"),
    params={
        "_id": ID_PARAM,
        "patient": _patient_param("patient_id", "care plan"),
        "status": _stage_status_param(
            "status",
            t.CAREPLAN_STATUS_BY_STAGE,
            t.CAREPLAN_STATUSES,
            "http://hl7.org/fhir/request-status",
            "active | on-hold | completed (discharged) | revoked (declined, withdrawn, explanted).",
        ),
    },
)


# --- Task -------------------------------------------------------------------------------------


def _tasks(user: Any) -> QuerySet[Any]:
    return scheduling_selectors.tasks_for(user)


def _performer_q(raw: str, modifier: str | None) -> Q:
    roles: set[str] = set()
    for token in parse_tokens(raw, "performer"):
        roles |= t.roles_for_token(token.system, token.code)
    return Q(role__in=sorted(roles))


def _priority_q(raw: str, modifier: str | None) -> Q:
    wanted = codes_in(
        raw,
        "priority",
        ("routine", "urgent", "asap", "stat"),
        "http://hl7.org/fhir/request-priority",
    )
    return Q(priority__in=[ours for ours, theirs in t.TASK_PRIORITY.items() if theirs in wanted])


TASK = ModelResource(
    name="Task",
    queryset=_tasks,
    build=mapping.task,
    ordering=("due_date", "-priority_rank", "id"),
    params={
        "_id": ID_PARAM,
        "owner": _reference_param(
            "owner",
            "Practitioner",
            "assignee_id",
            "The person the task is assigned to.",
            SPEC + "Task-owner",
        ),
        "status": Param(
            "status",
            "token",
            "requested | accepted | in-progress | on-hold | completed | cancelled.",
            lambda raw, modifier: Q(
                status__in=codes_in(
                    raw, "status", TaskStatus.values, "http://hl7.org/fhir/task-status"
                )
            ),
            definition=SPEC + "Task-status",
        ),
        "period": _date_param(
            "period",
            "due_date",
            "The due date (Task.restriction.period.end), e.g. period=ge2024-05-01&"
            "period=le2024-05-31. Unlike the standard Task-period (executionPeriod), this "
            "server's period searches due dates.",
            None,
        ),
        "patient": _reference_param(
            "patient",
            "Patient",
            "case__patient_id",
            "The patient the task is for (Task.for).",
            SPEC + "Task-patient",
        ),
        "focus": _reference_param(
            "focus",
            "EpisodeOfCare",
            "case_id",
            "The case (EpisodeOfCare) the task is on.",
            SPEC + "Task-focus",
        ),
        "performer": Param(
            "performer",
            "token",
            "The role pool (Task.performerType): a SNOMED CT occupation code or a code of "
            f"{t.local_system('role')}.",
            _performer_q,
            definition=SPEC + "Task-performer",
        ),
        "priority": Param(
            "priority",
            "token",
            "routine | urgent (ours: soon) | asap (ours: urgent).",
            _priority_q,
            definition=SPEC + "Task-priority",
        ),
    },
)


# --- Procedure --------------------------------------------------------------------------------

_PROCEDURE_STATUS_Q = {
    "completed": Q(performed_date__isnull=False) & ~Q(outcome=SurgeryOutcome.ABANDONED),
    "stopped": Q(performed_date__isnull=False, outcome=SurgeryOutcome.ABANDONED),
    "not-done": Q(performed_date__isnull=True, outcome=SurgeryOutcome.ABANDONED),
    "preparation": Q(performed_date__isnull=True) & ~Q(outcome=SurgeryOutcome.ABANDONED),
}


def _procedure_status_q(raw: str, modifier: str | None) -> Q:
    found = Q(pk__in=[])
    statuses = tuple(_PROCEDURE_STATUS_Q)
    for status in codes_in(raw, "status", statuses, "http://hl7.org/fhir/event-status"):
        found |= _PROCEDURE_STATUS_Q[status]
    return found


def _procedures(user: Any) -> QuerySet[Any]:
    return (
        selectors.surgeries_for(user)
        .filter(case__entered_in_error=False)
        .select_related("case__patient")
    )


PROCEDURE = ModelResource(
    name="Procedure",
    queryset=_procedures,
    build=mapping.procedure,
    ordering=("-performed_date", "-planned_date", "-id"),
    params={
        "_id": ID_PARAM,
        "patient": _patient_param("case__patient_id", "procedure"),
        "status": Param(
            "status",
            "token",
            "preparation (planned) | completed | stopped (abandoned) | not-done.",
            _procedure_status_q,
            definition=SPEC + "Procedure-status",
        ),
        "date": _date_param(
            "date", "performed_date", "The date the surgery was performed.", SPEC + "clinical-date"
        ),
    },
)


# --- Condition --------------------------------------------------------------------------------


def _conditions(user: Any) -> QuerySet[Any]:
    return (
        rehab_selectors.complications_for(user)
        .filter(case__entered_in_error=False)
        .select_related("case", "recorded_by")
    )


def _clinical_status_q(raw: str, modifier: str | None) -> Q:
    found = Q(pk__in=[])
    for status in codes_in(raw, "clinical-status", ("active", "resolved"), t.CONDITION_CLINICAL):
        found |= Q(resolved_on__isnull=status == "active")
    return found


def _condition_code_q(raw: str, modifier: str | None) -> Q:
    kinds = [
        token.code
        for token in parse_tokens(raw, "code")
        if token.system in (None, t.local_system("complication"))
        and token.code in ComplicationKind.values
    ]
    return Q(kind__in=kinds)


CONDITION = ModelResource(
    name="Condition",
    queryset=_conditions,
    build=mapping.condition,
    ordering=("-onset_date", "-id"),
    params={
        "_id": ID_PARAM,
        "patient": _patient_param("case__patient_id", "complication"),
        "clinical-status": Param(
            "clinical-status",
            "token",
            "active | resolved.",
            _clinical_status_q,
            definition=SPEC + "Condition-clinical-status",
        ),
        "onset-date": _date_param(
            "onset-date",
            "onset_date",
            "The complication's onset date.",
            SPEC + "Condition-onset-date",
        ),
        "code": Param(
            "code",
            "token",
            f"The kind of complication, a code of {t.local_system('complication')}.",
            _condition_code_q,
            definition=SPEC + "clinical-code",
        ),
    },
)


# --- Observation (rehab session parts and outcome measures) -----------------------------------

OUTCOME_PART = "outcome"
_SESSION_ID = re.compile(r"^rehab-session-(\d+)-(load|pain-before|pain-after|wear)$")
_OUTCOME_ID = re.compile(r"^outcome-measure-(\d+)$")


@dataclass
class _ObservationQuery:
    """Which branches (session parts, outcome kinds) a search still allows, and the filters
    on each."""

    parts: set[str] = field(default_factory=lambda: set(t.SESSION_OBSERVATIONS))
    kinds: set[str] = field(default_factory=lambda: set(t.OUTCOME_OBSERVATIONS))
    session_q: Q = field(default_factory=Q)
    outcome_q: Q = field(default_factory=Q)
    # _id given: the session pks allowed per part (a session id names one part).
    ids_by_part: dict[str, set[int]] | None = None


Narrow = Callable[[_ObservationQuery], None]


def _obs_patient(raw: str, modifier: str | None) -> Narrow:
    ids = parse_reference_ids(raw, "patient", "Patient")

    def narrow(query: _ObservationQuery) -> None:
        query.session_q &= Q(case__patient_id__in=ids)
        query.outcome_q &= Q(case__patient_id__in=ids)

    return narrow


def _obs_category(raw: str, modifier: str | None) -> Narrow:
    wanted = codes_in(raw, "category", t.OBSERVATION_CATEGORIES, t.OBSERVATION_CATEGORY)

    def narrow(query: _ObservationQuery) -> None:
        query.parts &= {p for p, c in t.SESSION_OBSERVATIONS.items() if c.category in wanted}
        query.kinds &= {k for k, c in t.OUTCOME_OBSERVATIONS.items() if c.category in wanted}

    return narrow


def _matches(code: t.ObservationCode, tokens: list[Token]) -> bool:
    return any(
        (token.system or system, token.code) == (system, value)
        for token in tokens
        for system, value in code.codes()
    )


def _obs_code(raw: str, modifier: str | None) -> Narrow:
    tokens = parse_tokens(raw, "code")

    def narrow(query: _ObservationQuery) -> None:
        query.parts &= {p for p, c in t.SESSION_OBSERVATIONS.items() if _matches(c, tokens)}
        query.kinds &= {k for k, c in t.OUTCOME_OBSERVATIONS.items() if _matches(c, tokens)}

    return narrow


def _obs_date(raw: str, modifier: str | None) -> Narrow:
    criterion = parse_date(raw, "date")

    def narrow(query: _ObservationQuery) -> None:
        query.session_q &= criterion.q("session_date")
        query.outcome_q &= criterion.q("measured_on")

    return narrow


def _obs_ids(raw: str, modifier: str | None) -> Narrow:
    wanted: dict[str, set[int]] = {}
    for token in parse_tokens(raw, "_id"):
        if match := _SESSION_ID.match(token.code):
            wanted.setdefault(match[2], set()).add(int(match[1]))
        elif match := _OUTCOME_ID.match(token.code):
            wanted.setdefault(OUTCOME_PART, set()).add(int(match[1]))

    def narrow(query: _ObservationQuery) -> None:
        query.parts &= set(wanted)
        if OUTCOME_PART not in wanted:
            query.kinds = set()
        query.outcome_q &= Q(pk__in=sorted(wanted.get(OUTCOME_PART, set())))
        if query.ids_by_part is None:
            query.ids_by_part = wanted
        else:
            previous = query.ids_by_part
            query.ids_by_part = {p: ids & previous.get(p, set()) for p, ids in wanted.items()}

    return narrow


class ObservationResource:
    """Observations come from two tables: each rehab session gives up to four (load, pain
    before, pain after, wear hours; id ``rehab-session-<pk>-<part>``), each outcome measure
    one (``outcome-measure-<pk>``). A search is one UNION of the branches it can match,
    ordered newest first, so paging and the total are exact."""

    name = "Observation"
    audited = False

    def __init__(self) -> None:
        self.params: dict[str, Param] = {
            "_id": Param("_id", "token", "The observation's id.", _obs_ids),
            "patient": Param(
                "patient",
                "reference",
                "The patient observed (Patient/123 or 123).",
                _obs_patient,
                definition=SPEC + "clinical-patient",
            ),
            "category": Param(
                "category",
                "token",
                "therapy (rehab loads) | survey (pain, Q-TFA, SF-36, falls) | exam (6-minute "
                "walk, Timed Up and Go, K-level) | activity (prosthesis wear hours).",
                _obs_category,
                definition=SPEC + "Observation-category",
            ),
            "code": Param(
                "code",
                "token",
                f"A LOINC code (e.g. {t.LOINC}|72514-3) or a code of "
                f"{t.local_system('observation')}.",
                _obs_code,
                definition=SPEC + "clinical-code",
            ),
            "date": Param(
                "date", "date", "The date observed.", _obs_date, definition=SPEC + "clinical-date"
            ),
        }

    # -- read --

    def read(self, user: Any, resource_id: str) -> Found:
        teams = access.team_ids(user)
        live = {"case__team_id__in": teams, "case__entered_in_error": False}
        if match := _SESSION_ID.match(resource_id):
            pk, part = int(match[1]), match[2]
            session = (
                RehabSession.objects.filter(pk=pk, entered_in_error=False, **live)
                .exclude(**{t.SESSION_FIELD[part]: None})
                .select_related("case", "recorded_by")
                .first()
            )
            if session is not None:
                return Found(session, mapping.session_observation(session, part))
        elif match := _OUTCOME_ID.match(resource_id):
            measure = (
                OutcomeMeasure.objects.filter(pk=int(match[1]), entered_in_error=False, **live)
                .select_related("case", "recorded_by")
                .first()
            )
            if measure is not None:
                return Found(measure, mapping.outcome_observation(measure))
        raise not_found(f"Observation/{resource_id} is not known.")

    # -- search --

    def _branches(self, user: Any, query: _ObservationQuery) -> list[QuerySet[Any, Any]]:
        teams = access.team_ids(user)
        live = Q(case__team_id__in=teams, case__entered_in_error=False, entered_in_error=False)
        by_part = query.ids_by_part
        branches: list[QuerySet[Any, Any]] = []
        for part in sorted(query.parts):
            only = Q(pk__in=sorted(by_part.get(part, set()))) if by_part is not None else Q()
            branches.append(
                RehabSession.objects.filter(live, query.session_q, only)
                .exclude(**{t.SESSION_FIELD[part]: None})
                .annotate(obs_date=F("session_date"), part=Value(part, output_field=CharField()))
                .values_list("id", "obs_date", "part")
                .order_by()
            )
        if query.kinds:
            branches.append(
                OutcomeMeasure.objects.filter(live, query.outcome_q, kind__in=sorted(query.kinds))
                .annotate(
                    obs_date=F("measured_on"), part=Value(OUTCOME_PART, output_field=CharField())
                )
                .values_list("id", "obs_date", "part")
                .order_by()
            )
        return branches

    def search(
        self, user: Any, criteria: list[Any], offset: int, count: int
    ) -> tuple[int, list[Found]]:
        query = _ObservationQuery()
        for narrow in criteria:
            narrow(query)
        branches = self._branches(user, query)
        if not branches:
            return 0, []
        union = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
        total = union.count()
        if not count:
            return total, []
        keys = list(union.order_by("-obs_date", "part", "-id")[offset : offset + count])
        session_ids = [pk for pk, _, part in keys if part != OUTCOME_PART]
        measure_ids = [pk for pk, _, part in keys if part == OUTCOME_PART]
        sessions = RehabSession.objects.select_related("case", "recorded_by").in_bulk(session_ids)
        measures = OutcomeMeasure.objects.select_related("case", "recorded_by").in_bulk(measure_ids)
        found = []
        for pk, _, part in keys:
            if part == OUTCOME_PART:
                found.append(Found(measures[pk], mapping.outcome_observation(measures[pk])))
            else:
                session = sessions[pk]
                found.append(Found(session, mapping.session_observation(session, part)))
        return total, found


OBSERVATION = ObservationResource()

REGISTRY: dict[str, ResourceType] = {
    resource.name: resource
    for resource in (
        PATIENT,
        PRACTITIONER,
        EPISODE_OF_CARE,
        CARE_PLAN,
        TASK,
        PROCEDURE,
        OBSERVATION,
        CONDITION,
    )
}


def lookup(name: str) -> ResourceType:
    resource = REGISTRY.get(name)
    if resource is None:
        raise not_found(
            f"Resource type '{name}' is not supported here; this server serves "
            f"{', '.join(sorted(REGISTRY))}."
        )
    return resource


__all__ = ["REGISTRY", "Found", "Param", "ResourceType", "invalid", "lookup"]
