"""Seeds the whole demo: the clinical record (cases.demo) and the scheduling on top of it."""

from __future__ import annotations

from django.db import transaction

from cases.demo import DEMO_PASSWORD, demo_logins, seed_clinical, seed_teams

__all__ = ["DEMO_PASSWORD", "demo_logins", "seed_all"]


@transaction.atomic
def seed_all() -> None:
    teams = seed_teams()
    seed_clinical(teams)
