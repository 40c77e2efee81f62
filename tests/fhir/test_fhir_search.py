"""Searching: each parameter, paging links, _count, and a fixed query count per page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osseo_mdt.fhir import search
from osseo_mdt.fhir import terminology as t
from scheduling import services as scheduling_services
from scheduling.models import Task

from .conftest import TODAY, Clinic, build_clinic, valid_r4

pytestmark = pytest.mark.django_db


def bundle(clinic: Clinic, query: str, user: Any = None) -> dict[str, Any]:
    response = clinic.client(user).get(f"/fhir/r4/{query}")
    assert response.status_code == 200, response.content
    return valid_r4(response.json())


def ids(clinic: Clinic, query: str, user: Any = None) -> list[str]:
    found = bundle(clinic, query, user)
    assert found["total"] == len(found["entry"]) or "_count" in query
    return [entry["resource"]["id"] for entry in found["entry"]]


def links(found: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    return {link["relation"]: parse_qs(urlsplit(link["url"]).query) for link in found["link"]}


# --- Task -------------------------------------------------------------------------------------


def test_task_owner_finds_the_tasks_assigned_to_a_person(clinic: Clinic) -> None:
    swab, diary = clinic.tasks
    assert ids(clinic, f"Task?owner=Practitioner/{clinic.nurse.pk}") == [str(swab.pk)]
    assert ids(clinic, f"Task?owner={clinic.physio.pk}") == [str(diary.pk)]


def test_task_status_takes_a_comma_separated_list(clinic: Clinic) -> None:
    swab, diary = clinic.tasks
    scheduling_services.task_accept(actor=clinic.nurse, task=swab)
    scheduling_services.task_complete(actor=clinic.physio, task=diary, note="Diary looks good.")
    assert ids(clinic, "Task?status=accepted") == [str(swab.pk)]
    both = ids(clinic, "Task?status=accepted,completed&_count=200")
    assert set(both) >= {str(swab.pk), str(diary.pk)}
    assert all(Task.objects.get(pk=pk).status in ("accepted", "completed") for pk in map(int, both))


def test_task_period_searches_due_dates_with_prefixes(clinic: Clinic) -> None:
    swab, diary = clinic.tasks  # due in 2 and in 10 days
    start = (TODAY + timedelta(days=1)).isoformat()
    end = (TODAY + timedelta(days=5)).isoformat()
    mine = f"owner={clinic.nurse.pk},{clinic.physio.pk}"
    assert ids(clinic, f"Task?{mine}&period=ge{start}&period=le{end}") == [str(swab.pk)]
    assert ids(clinic, f"Task?{mine}&period=gt{end}") == [str(diary.pk)]
    assert ids(clinic, f"Task?{mine}&period={(TODAY + timedelta(days=10)).isoformat()}") == [
        str(diary.pk)
    ]
    assert ids(clinic, f"Task?{mine}&period=lt{start}") == []
    # Month precision covers the whole month.
    assert set(ids(clinic, f"Task?{mine}&period=2026-03")) == {str(swab.pk), str(diary.pk)}


def test_task_patient_focus_performer_and_priority_narrow_the_search(clinic: Clinic) -> None:
    swab, _ = clinic.tasks
    everything = bundle(clinic, f"Task?patient=Patient/{clinic.patient.pk}&_count=0")["total"]
    assert everything == Task.objects.filter(case=clinic.case).count()
    assert bundle(clinic, f"Task?focus=EpisodeOfCare/{clinic.case.pk}&_count=0")["total"] == (
        everything
    )
    nurse_pool = ids(clinic, f"Task?performer={t.SNOMED}|224535009&_count=200")
    assert str(swab.pk) in nurse_pool
    assert all(Task.objects.get(pk=int(pk)).role == "nurse" for pk in nurse_pool)
    coordinators = ids(clinic, f"Task?performer={t.local_system('role')}|coordinator&_count=200")
    assert all(Task.objects.get(pk=int(pk)).role == "coordinator" for pk in coordinators)
    assert str(swab.pk) in ids(clinic, "Task?priority=asap&_count=200")


# --- Observation ------------------------------------------------------------------------------


def test_observation_patient_category_and_date_combine(clinic: Clinic) -> None:
    everything = bundle(clinic, f"Observation?patient={clinic.patient.pk}")
    assert everything["total"] == 12  # two sessions x four parts, four outcome measures
    therapy = ids(clinic, f"Observation?patient={clinic.patient.pk}&category=therapy")
    assert len(therapy) == 2 and all(i.endswith("-load") for i in therapy)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert len(ids(clinic, f"Observation?patient={clinic.patient.pk}&date={yesterday}")) == 4
    exams = ids(clinic, f"Observation?category=exam&date=le{yesterday}")
    walk, k_level = clinic.outcomes[1], clinic.outcomes[2]
    assert set(exams) == {f"outcome-measure-{walk.pk}", f"outcome-measure-{k_level.pk}"}
    assert ids(clinic, "Observation?category=survey,therapy&date=ge2027-01-01") == []


def test_observations_come_newest_first(clinic: Clinic) -> None:
    found = bundle(clinic, "Observation")
    dates = [entry["resource"]["effectiveDateTime"] for entry in found["entry"]]
    assert dates == sorted(dates, reverse=True)


def test_observation_id_search_finds_the_named_parts(clinic: Clinic) -> None:
    session = clinic.case.rehab_sessions.first()
    assert session is not None
    wanted = f"rehab-session-{session.pk}-wear,outcome-measure-{clinic.outcomes[0].pk}"
    assert set(ids(clinic, f"Observation?_id={wanted}")) == set(wanted.split(","))


# --- The other types --------------------------------------------------------------------------


def test_episode_of_care_status_maps_back_to_stages(clinic: Clinic, referred_case: Any) -> None:
    assert ids(clinic, "EpisodeOfCare?status=active") == [str(clinic.case.pk)]
    assert ids(clinic, "EpisodeOfCare?status=waitlist,cancelled") == [str(referred_case.pk)]
    assert ids(clinic, "EpisodeOfCare?status=finished") == []


@pytest.fixture
def referred_case(clinic: Clinic) -> Any:
    """A second case in the clinic's own team, still referred (waitlist)."""
    from tests.factories import case

    return case(clinic.team, clinic.lead)


def test_patient_search_by_identifier_name_birthdate_and_gender(clinic: Clinic) -> None:
    number = clinic.patient.hospital_number
    me = [str(clinic.patient.pk)]
    assert ids(clinic, f"Patient?identifier={number}") == me
    assert ids(clinic, f"Patient?identifier={t.patient_identifier_system()}|{number}") == me
    assert ids(clinic, f"Patient?identifier=https://elsewhere.example/mrn|{number}") == []
    assert ids(clinic, "Patient?name=ale") == me
    assert ids(clinic, "Patient?family:exact=example") == []
    assert ids(clinic, "Patient?family:contains=xamp") == me
    assert ids(clinic, "Patient?birthdate=1970-05&gender=female") == me
    assert ids(clinic, "Patient?gender=male") == []


def test_procedure_condition_care_plan_and_practitioner_searches(clinic: Clinic) -> None:
    assert len(ids(clinic, f"Procedure?patient={clinic.patient.pk}&status=completed")) == 2
    assert len(ids(clinic, "Procedure?status=preparation")) == 1
    assert len(ids(clinic, f"Procedure?date=ge{(TODAY - timedelta(days=30)).isoformat()}")) == 1
    infection, hypergranulation = clinic.complications
    assert ids(clinic, "Condition?clinical-status=active") == [str(infection.pk)]
    assert ids(clinic, f"Condition?onset-date=lt{TODAY - timedelta(days=5)}") == [
        str(hypergranulation.pk)
    ]
    assert ids(clinic, "Condition?code=infection") == [str(infection.pk)]
    assert ids(clinic, f"CarePlan?patient={clinic.patient.pk}&status=active") == [
        str(clinic.case.pk)
    ]
    assert ids(clinic, f"Practitioner?identifier={clinic.physio.username}") == [
        str(clinic.physio.pk)
    ]
    assert ids(clinic, "Practitioner?name=carv") == [str(clinic.lead.pk)]
    assert ids(clinic, f"EpisodeOfCare?care-manager=Practitioner/{clinic.lead.pk}") == [
        str(clinic.case.pk)
    ]


# --- Paging -----------------------------------------------------------------------------------


def test_paging_links_walk_the_whole_result_once(clinic: Clinic) -> None:
    seen: list[str] = []
    found = bundle(clinic, f"Observation?patient={clinic.patient.pk}&_count=5")
    pages = 0
    while True:
        pages += 1
        assert found["total"] == 12
        seen += [entry["resource"]["id"] for entry in found["entry"]]
        relations = links(found)
        assert relations["self"]["patient"] == [str(clinic.patient.pk)]
        next_link = next((x["url"] for x in found["link"] if x["relation"] == "next"), None)
        if next_link is None:
            break
        found = bundle(clinic, next_link.split("/fhir/r4/", 1)[1])
    assert pages == 3
    assert len(seen) == len(set(seen)) == 12
    assert links(found)["previous"]["_offset"] == ["5"]
    assert links(found)["last"]["_offset"] == ["10"]


def test_count_zero_gives_only_the_total(clinic: Clinic) -> None:
    found = bundle(clinic, "Observation?_count=0")
    assert found["total"] == 12
    assert "entry" not in found or found["entry"] == []


def test_count_is_capped(clinic: Clinic) -> None:
    found = bundle(clinic, "Task?_count=100000")
    assert links(found)["self"]["_count"] == [str(search.MAX_COUNT)]


# --- Query counts -----------------------------------------------------------------------------


def queries_for(clinic: Clinic, query: str) -> int:
    # A fresh user object, as a request has: its roles are not cached yet.
    api = clinic.client(get_user_model().objects.get(pk=clinic.lead.pk))
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/fhir/r4/{query}")
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # roles, count, page, patient+team joined; + one access-log INSERT per page
        ("Patient", 4),
        # roles, count, page, care team, transitions, complications; + access-log INSERT
        ("EpisodeOfCare", 7),
        # roles, count, page, care team, transitions, surgeries, their surgeons, rehab plans,
        # their protocols' phases, tasks
        ("CarePlan", 10),
        # roles, count, page
        ("Task", 3),
        # roles, count, page, surgeons, components
        ("Procedure", 5),
        # roles, count of the UNION, page keys, sessions, outcome measures
        ("Observation", 5),
        # roles, count, page
        ("Condition", 3),
        # roles, count, page
        ("Practitioner", 3),
    ],
)
def test_a_search_page_costs_the_same_queries_however_many_rows(
    query: str, expected: int, db: None
) -> None:
    clinic = build_clinic(sessions=1)
    assert queries_for(clinic, query) == expected
    # A second clinic in the same team doubles every kind of row the search returns.
    build_clinic(clinic.team, sessions=4)
    assert queries_for(clinic, query) == expected


def test_date_values_parse_at_every_precision() -> None:
    assert search.parse_date("2024", "date") == search.DateCriterion(
        "eq", date(2024, 1, 1), date(2024, 12, 31)
    )
    assert search.parse_date("ge2024-02", "date") == search.DateCriterion(
        "ge", date(2024, 2, 1), date(2024, 2, 29)
    )
    assert search.parse_date("lt2024-02-03T10:00:00Z", "date") == search.DateCriterion(
        "lt", date(2024, 2, 3), date(2024, 2, 3)
    )
    for bad in ("2024-13-01", "yesterday", "ap2024-01-01", "2024-02-30", "ge"):
        with pytest.raises(search.FhirError):
            search.parse_date(bad, "date")


def test_references_parse_in_every_form() -> None:
    for value in ("12", "Patient/12", "https://host/fhir/r4/Patient/12"):
        assert search.parse_reference_ids(value, "patient", "Patient") == [12]
    assert search.parse_reference_ids("Patient/abc", "patient", "Patient") == []
    with pytest.raises(search.FhirError):
        search.parse_reference_ids("Practitioner/12", "patient", "Patient")


def test_tasks_come_in_due_date_order(clinic: Clinic) -> None:
    found = bundle(clinic, "Task?_count=200")
    due = [entry["resource"]["restriction"]["period"]["end"] for entry in found["entry"]]
    assert len(due) > 2
    assert due == sorted(due)
