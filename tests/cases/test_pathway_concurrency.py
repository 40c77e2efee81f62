"""What only PostgreSQL can show: the one-open-case constraint and two clinicians moving one
case at the same moment."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction

from cases import services
from cases.errors import Conflict
from cases.models import Case, StageTransition
from tests.factories import TeamFactory, case, member

pytestmark = [pytest.mark.postgres]


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_case_on_the_same_limb() -> None:
    team = TeamFactory.create()
    first = case(team)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            team=team,
            patient=first.patient,
            side="left",
            amputation_level="transfemoral",
            bone="femur",
            staging_plan="two_stage",
        )


@pytest.mark.django_db
def test_a_closed_case_does_not_block_a_new_one_on_that_limb() -> None:
    team = TeamFactory.create()
    coordinator = member(team, "coordinator")
    first = case(team, coordinator)
    services.case_transition(actor=coordinator, case_id=first.pk, to="withdrawn")
    second = case(team, coordinator, patient=first.patient)
    assert second.stage == "referred"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_moves_of_one_case_let_exactly_one_through() -> None:
    team = TeamFactory.create()
    coordinators = [member(team, "coordinator"), member(team, "coordinator")]
    c = case(team, coordinators[0])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(actor: Any) -> None:
        close_old_connections()
        try:
            barrier.wait(timeout=10)
            services.case_transition(actor=actor, case_id=c.pk, to="screening")
            outcomes.append("moved")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(actor,)) for actor in coordinators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "moved"]
    assert StageTransition.objects.filter(case=c).count() == 1
    assert Case.objects.get(pk=c.pk).stage == "screening"
