"""Demo data for `manage.py seed_demo`: idempotent, clearly fictional."""

from __future__ import annotations

import os
from dataclasses import dataclass

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
