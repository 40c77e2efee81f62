"""factory_boy factories for every model the tests build."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model

from cases.models import Membership, MembershipRole, Team

PASSWORD = "correct horse battery staple"


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"OI Service {n}")
    slug = factory.Sequence(lambda n: f"oi-{n}")
    time_zone = "Europe/London"


class UserFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"clinician{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance: Any, create: bool, results: Any = None) -> None:
        if create:
            instance.save()


def member(team: Team, *roles: str, user: Any = None, **user_fields: Any) -> Any:
    """A user holding `roles` in `team` (created if not given)."""
    user = user or UserFactory.create(**user_fields)
    membership, _ = Membership.objects.get_or_create(team=team, user=user)
    for role in roles:
        MembershipRole.objects.get_or_create(membership=membership, role=role)
    from cases import access

    access.forget(user)
    return user


# --- The clinical record (built through the services, as users would) -------------------------


def patient(team: Team, actor: Any = None, **fields: Any) -> Any:
    from datetime import date

    from cases import services

    actor = actor or member(team, "coordinator")
    n = Team.objects.count() * 1000 + _next()
    defaults = {
        "hospital_number": f"H{n:06d}",
        "given_name": "Robin",
        "family_name": f"Testpatient{n}",
        "date_of_birth": date(1970, 5, 17),
        "sex": "female",
    }
    return services.patient_create(actor=actor, team=team, **{**defaults, **fields})


def case(team: Team, actor: Any = None, **fields: Any) -> Any:
    from datetime import timedelta

    from cases import services

    actor = actor or member(team, "coordinator")
    today = services.team_today(team)
    defaults = {
        "side": "left",
        "amputation_level": "transfemoral",
        "bone": "femur",
        "residual_bone_length_mm": 200,
        "staging_plan": "two_stage",
        "referral_date": today - timedelta(days=365),
    }
    fields = {**defaults, **fields}
    if "patient" not in fields:
        fields["patient"] = patient(team, actor)
    return services.case_create(actor=actor, team=team, **fields)


_counter = [0]


def _next() -> int:
    _counter[0] += 1
    return _counter[0]
