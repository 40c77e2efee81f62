"""Demo data for `manage.py seed_demo`: idempotent, clearly fictional."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Membership, MembershipRole, Team
from .roles import Role

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "oi-demo-2026")

# (username, first name, last name, roles)
DEMO_STAFF = [
    ("surgeon", "Sam", "Carver", [Role.SURGEON]),
    ("prosthetist", "Pat", "Fitter", [Role.PROSTHETIST]),
    ("physio", "Phil", "Walker", [Role.PHYSIOTHERAPIST]),
    ("nurse", "Nia", "Dresser", [Role.NURSE]),
    ("coordinator", "Cora", "Planner", [Role.COORDINATOR]),
    ("psychologist", "Psyche", "Listener", [Role.PSYCHOLOGIST]),
    ("rehabdoc", "Rhea", "Mobile", [Role.REHAB_PHYSICIAN, Role.PHYSIOTHERAPIST]),
]


@dataclass
class DemoTeams:
    main: Team
    other: Team


def _user(username: str, first: str, last: str, *, superuser: bool = False) -> object:
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@demo.invalid",
            "is_staff": superuser,
            "is_superuser": superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _member(team: Team, user: object, roles: list[Role]) -> None:
    membership, _ = Membership.objects.get_or_create(team=team, user=user)
    for role in roles:
        MembershipRole.objects.get_or_create(membership=membership, role=role)


@transaction.atomic
def seed_teams() -> DemoTeams:
    main, _ = Team.objects.get_or_create(slug="demo", defaults={"name": "Demo OI Service"})
    other, _ = Team.objects.get_or_create(
        slug="demo-north", defaults={"name": "Demo North OI Service"}
    )
    _user("admin", "Ada", "Admin", superuser=True)
    for username, first, last, roles in DEMO_STAFF:
        _member(main, _user(username, first, last), roles)
    _member(other, _user("north-coordinator", "Noor", "Th"), [Role.COORDINATOR])
    return DemoTeams(main=main, other=other)


def demo_logins() -> list[tuple[str, str]]:
    logins = [("admin", "superuser")]
    logins += [(u, ", ".join(Role(r).label for r in roles)) for u, _, _, roles in DEMO_STAFF]
    logins.append(("north-coordinator", "Coordinator, other team"))
    return logins


# --- Clinical demo data -----------------------------------------------------------------------

EXAMPLE_IMPLANTS = [
    # Example entries only: the team must check every value against the IFU.
    dict(
        manufacturer="Integrum",
        name="OPRA Implant System (example)",
        fixation="screw",
        usual_staging="two_stage",
        min_residual_bone_length_mm=160,
        bones="femur, humerus",
    ),
    dict(
        manufacturer="Permedica",
        name="OGAP-OPL (example)",
        fixation="press_fit",
        usual_staging="single_stage",
        min_residual_bone_length_mm=140,
        bones="femur, tibia",
    ),
    dict(
        manufacturer="Generic",
        name="Press-fit two-stage (example)",
        fixation="press_fit",
        usual_staging="two_stage",
        min_residual_bone_length_mm=120,
        bones="femur, tibia",
    ),
]

TWO_STAGE_PATH = [
    "screening",
    "assessment",
    "mdt_review",
    "awaiting_surgery",
    "stage1_surgery",
    "interstage",
    "stage2_surgery",
    "rehabilitation",
    "follow_up",
    "discharged",
]
SINGLE_STAGE_PATH = [
    "screening",
    "assessment",
    "mdt_review",
    "awaiting_surgery",
    "stage1_surgery",
    "rehabilitation",
    "follow_up",
    "discharged",
]

# (hospital number, given, family, staging plan, target stage, side exit or None)
DEMO_CASES = [
    ("DEMO-0001", "Alex", "Example", "two_stage", "referred", None),
    ("DEMO-0002", "Billie", "Sample", "single_stage", "screening", None),
    ("DEMO-0003", "Casey", "Testcase", "two_stage", "assessment", None),
    ("DEMO-0004", "Dana", "Placeholder", "single_stage", "mdt_review", None),
    ("DEMO-0005", "Eli", "Fictional", "two_stage", "awaiting_surgery", None),
    ("DEMO-0006", "Frankie", "Madeup", "two_stage", "stage1_surgery", None),
    ("DEMO-0007", "Gray", "Notreal", "two_stage", "interstage", None),
    ("DEMO-0008", "Harper", "Invented", "two_stage", "stage2_surgery", None),
    ("DEMO-0009", "Indy", "Specimen", "single_stage", "rehabilitation", None),
    ("DEMO-0010", "Jules", "Dummy", "two_stage", "rehabilitation", None),
    ("DEMO-0011", "Kit", "Mockup", "single_stage", "follow_up", None),
    ("DEMO-0012", "Lee", "Sketch", "two_stage", "discharged", None),
    ("DEMO-0013", "Morgan", "Standin", "single_stage", "assessment", "on_hold"),
    ("DEMO-0014", "Noel", "Proxy", "two_stage", "mdt_review", "declined"),
    ("DEMO-0015", "Oakley", "Figure", "single_stage", "screening", "withdrawn"),
    ("DEMO-0016", "Parker", "Surrogate", "single_stage", "follow_up", "explanted"),
]


def seed_clinical(teams: DemoTeams) -> None:
    from datetime import date, timedelta

    from . import services
    from .models import Assessment, ImplantSystem, Patient

    team = teams.main
    User = get_user_model()
    coordinator = User.objects.get(username="coordinator")
    surgeon = User.objects.get(username="surgeon")
    physio = User.objects.get(username="physio")
    implants = {}
    for spec in EXAMPLE_IMPLANTS:
        implant, _ = ImplantSystem.objects.get_or_create(
            team=None,
            manufacturer=spec["manufacturer"],
            name=spec["name"],
            defaults={
                **spec,
                "is_example": True,
                "notes": "Example entry: check every value against the IFU.",
            },
        )
        implants[spec["usual_staging"]] = implant

    today = services.team_today(team)
    for n, (number, given, family, plan, target, exit_to) in enumerate(DEMO_CASES):
        if Patient.objects.filter(team=team, hospital_number=number).exists():
            continue
        patient = services.patient_create(
            actor=coordinator,
            team=team,
            hospital_number=number,
            given_name=given,
            family_name=family,
            date_of_birth=date(1960 + n, 1 + n % 12, 10),
            sex=["female", "male", "other"][n % 3],
            weight_kg=70 + n,
        )
        case = services.case_create(
            actor=coordinator,
            team=team,
            patient=patient,
            side=["left", "right"][n % 2],
            amputation_level="transfemoral",
            bone="femur",
            residual_bone_length_mm=180 + n,
            amputation_cause="trauma",
            referral_date=today - timedelta(days=400),
            referral_source="Demo referral",
            implant_system=implants[plan],
            staging_plan=plan,
            lead_clinician=surgeon,
            care_team=[
                (surgeon, "surgeon"),
                (physio, "physiotherapist"),
                (coordinator, "coordinator"),
            ],
        )
        if target not in ("referred", "screening"):
            services.assessment_save(
                actor=physio,
                assessment=Assessment(
                    case=case,
                    assessed_on=today - timedelta(days=380),
                    prosthesis_wear_hours_per_week=20 + n,
                    continuous_walking_km=0.5,
                    socket_loosens_weekly=True,
                    blisters_or_pressure_sores=n % 2 == 0,
                    skeletally_mature=True,
                    diabetes=False,
                    smoker=n % 4 == 0,
                    bmi=24 + n % 9,
                    active_infection=False,
                    active_malignancy=False,
                    xray_done=True,
                    ct_done=True,
                    dexa_done=n % 3 != 0,
                    psychological_assessment_done=True,
                    funding_approved=True,
                    peer_contact_made=True,
                    can_follow_rehabilitation=True,
                ),
            )
        case = walk_case(
            case,
            target,
            coordinator=coordinator,
            surgeon=surgeon,
            attendees=[coordinator, surgeon, physio],
            start=today - timedelta(days=390),
        )
        if exit_to == "explanted":
            services.surgery_record(
                actor=surgeon,
                case=case,
                kind="removal",
                performed_date=today,
                surgeons=[surgeon],
                notes="Demo: septic loosening",
            )
        if exit_to:
            services.case_transition(
                actor=surgeon, case_id=case.pk, to=exit_to, reason=f"Demo: {exit_to}"
            )
    seed_rehab(teams)


def walk_case(
    case: Any,
    target: str,
    *,
    coordinator: Any,
    surgeon: Any,
    attendees: list[Any] | None = None,
    start: Any = None,
    step_days: int = 30,
) -> Any:
    """Move a case along its main path to `target` as a team would: an eligible MDT decision
    before awaiting_surgery, each stoma-making surgery performed before the stage after it.
    Dates start at `start` (default: the referral date) and advance `step_days` per step,
    never past today."""
    from datetime import timedelta

    from . import pathway, services

    path = TWO_STAGE_PATH if case.staging_plan == "two_stage" else SINGLE_STAGE_PATH
    steps = path[: path.index(target) + 1] if target != "referred" else []
    today = services.team_today(case.team)
    day = start or case.referral_date
    for stage in steps:
        if stage == "awaiting_surgery":
            services.mdt_decision_record(
                actor=coordinator,
                case=case,
                meeting_date=day,
                outcome="eligible",
                reasons="Meets criteria.",
                attendees=attendees or [coordinator, surgeon],
            )
        surgery_kind = None
        if stage in ("interstage", "rehabilitation") and case.stage == "stage1_surgery":
            surgery_kind = "stage1" if case.staging_plan == "two_stage" else "single_stage"
        if stage == "rehabilitation" and case.stage == "stage2_surgery":
            surgery_kind = "stage2"
        if surgery_kind:
            services.surgery_record(
                actor=surgeon,
                case=case,
                kind=surgery_kind,
                performed_date=day,
                surgeons=[surgeon],
                outcome="uneventful",
            )
        allowed = pathway.roles_allowed(case.stage, stage)
        actor = surgeon if "surgeon" in allowed else coordinator
        case = services.case_transition(
            actor=actor, case_id=case.pk, to=stage, effective_date=day, reason="Pathway step"
        )
        day = min(day + timedelta(days=step_days), today)
    return case


# --- Rehabilitation demo data -----------------------------------------------------------------

# (hospital number, protocol code, load cap kg): the demo cases in rehabilitation.
DEMO_REHAB = [
    ("DEMO-0009", "standard-6-week-fwb", None),
    ("DEMO-0010", "slow-12-week", 40),
]
DEMO_REHAB_DAYS = 21


def seed_rehab(teams: DemoTeams) -> None:
    """Three weeks of rehabilitation on the demo cases in rehabilitation: a plan, near-daily
    sessions with one overload and one pain-gate day (so their flags and tasks show), a
    complication, outcome measures and a prosthesis setting. Idempotent: a case that has a
    plan is left alone."""
    from datetime import timedelta

    from . import protocol_examples, services
    from .models import Case, RehabPhase, RehabPlan, RehabProtocol

    protocol_examples.install(RehabProtocol, RehabPhase)
    team = teams.main
    User = get_user_model()
    physio = User.objects.get(username="physio")
    nurse = User.objects.get(username="nurse")
    prosthetist = User.objects.get(username="prosthetist")
    today = services.team_today(team)
    start = today - timedelta(days=DEMO_REHAB_DAYS)
    for number, code, cap in DEMO_REHAB:
        case = Case.objects.filter(
            team=team, patient__hospital_number=number, stage="rehabilitation"
        ).first()
        if case is None or RehabPlan.objects.filter(case=case).exists():
            continue
        protocol = RehabProtocol.objects.get(team=None, code=code, version=1)
        plan = services.rehab_plan_start(
            actor=physio,
            case=case,
            protocol=protocol,
            start_date=start,
            load_cap_kg=cap,
            notes="Demo plan.",
        )
        held: set = set()
        for day in range(3, DEMO_REHAB_DAYS + 1):
            on = start + timedelta(days=day)
            if day in (9, 17):  # days without a session
                continue
            target = services.plan_target_kg(plan, on, held)
            load = round(target * (1.3 if day == 12 else 0.95), 1)
            pain = 6 if day == 15 else 2 + day % 3
            session = services.rehab_session_record(
                actor=physio,
                case=case,
                session_date=on,
                load_kg=load,
                duration_minutes=30,
                pain_nrs_before=min(pain, 3),
                pain_nrs_after=pain,
                walking_aid="static_only" if day < 11 else "parallel_bars",
                stoma_findings=["clean"],
                wear_hours_per_day=min(2 + day // 4, 10),
                notes="Demo session.",
            )
            if session.holds_plan:
                held.add(on)
        services.outcome_measure_record(
            actor=physio,
            case=case,
            kind="qtfa",
            time_point="baseline",
            measured_on=case.referral_date + timedelta(days=30),
            qtfa_prosthetic_use=35,
            qtfa_mobility=40,
            qtfa_problem=55,
            qtfa_global=33,
        )
        services.outcome_measure_record(
            actor=physio,
            case=case,
            kind="six_minute_walk",
            time_point="baseline",
            measured_on=case.referral_date + timedelta(days=30),
            value=210,
        )
        services.outcome_measure_record(
            actor=physio,
            case=case,
            kind="k_level",
            time_point="baseline",
            measured_on=case.referral_date + timedelta(days=30),
            k_level="K2",
        )
        services.prosthesis_setting_change(
            actor=prosthetist,
            case=case,
            component="safety_adapter",
            component_model="Fail-safe adapter (example)",
            parameters={"release_setting": "low"},
            reason="Training prosthesis fitted: lowest release setting while loading rises.",
            set_on=start + timedelta(days=3),
        )
        if number == "DEMO-0010":
            services.complication_record(
                actor=nurse,
                case=case,
                kind="hypergranulation",
                onset_date=today - timedelta(days=5),
                severity="mild",
                treatments=["silver_nitrate", "local_care"],
                description="Demo: hypergranulation at the stoma margin.",
            )
