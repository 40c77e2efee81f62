"""Kept answers (osseo_mdt.api.cache) and the data generation they are keyed on
(osseo_mdt.data_generation): every way of writing makes the next read fresh, nothing is
shared between callers, and a kept answer costs one query."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from cases.models import AccessLogEntry, Case, Membership, Patient
from osseo_mdt import data_generation
from osseo_mdt.api import authentication
from osseo_mdt.api.cache import HEADER
from scheduling.models import Task
from tests.scheduling.factories import Staff, make_case, make_staff, make_task

pytestmark = pytest.mark.postgres

TASKS = "/api/v1/tasks/?mine=true&status=open"


def token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")
    return client


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


# --- The generation -----------------------------------------------------------------------


@pytest.mark.django_db
def test_every_table_of_the_clinical_apps_is_watched_except_logs_and_history() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s",
            [data_generation.TRIGGER],
        )
        watched = {row[0] for row in cursor.fetchall()}
    expected = set()
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        in_scope = meta.app_label in ("cases", "scheduling") or meta.label == "auth.User"
        if in_scope and meta.managed and not meta.proxy and not hasattr(model, "instance_type"):
            expected.add(meta.db_table)
    skipped = {apps.get_model(label)._meta.db_table for label in data_generation.NOT_WATCHED}
    assert watched == expected - skipped
    for table in ("scheduling_task", "cases_case", "cases_patient", "auth_user", "cases_team"):
        assert table in watched
    for table in ("cases_membership", "cases_membershiprole", "cases_rehabsession"):
        assert table in watched
    for table in ("cases_accesslogentry", "cases_historicalcase", "knox_authtoken"):
        assert table not in watched


@pytest.mark.django_db
def test_the_generation_can_be_removed_and_installed_again() -> None:
    # Migration cases/0009 backwards, then forwards (DDL is transactional: the test's own
    # transaction undoes both).
    staff = make_staff()
    data_generation.uninstall()
    assert data_generation._triggered(connection) == set()
    assert "osseo_data_generation" not in connection.introspection.table_names()
    make_case(staff)  # writes go on without the triggers
    data_generation.install()
    watched, _ = data_generation.tables()
    assert data_generation._triggered(connection) == set(watched)
    assert data_generation.current() is not None


def committed_generation() -> str:
    """The generation another connection sees (what a reader outside this one sees)."""
    found: list[Any] = []

    def read() -> None:
        try:
            found.append(data_generation.current())
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return str(found[0])


@pytest.mark.django_db(transaction=True)
def test_the_generation_rises_when_a_write_commits_and_only_then() -> None:
    staff = make_staff()
    case = make_case(staff)
    start = committed_generation()
    assert "." not in start
    with transaction.atomic():
        Patient.objects.filter(pk=case.patient_id).update(hospital_number="H-NEW")
        own = data_generation.current()
        assert own is not None and own.startswith(start + ".")  # its own write, seen
        assert committed_generation() == start  # not yet for anyone else
    after_commit = committed_generation()
    assert int(after_commit) == int(start) + 1
    assert data_generation.current() == after_commit

    with pytest.raises(RuntimeError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(referral_source="x")
        raise RuntimeError("roll back")
    assert committed_generation() == after_commit

    before = int(committed_generation())
    make_task(staff, case=case)  # a service: one transaction
    assert int(committed_generation()) == before + 1
    for write in (
        lambda: Task.objects.filter(case=case).delete(),
        lambda: connection.cursor().execute("UPDATE cases_team SET name = name || '!'"),
    ):
        before = int(committed_generation())
        write()
        assert int(committed_generation()) == before + 1


@pytest.mark.django_db(transaction=True)
def test_a_commit_does_not_wait_for_other_committing_transactions() -> None:
    staff = make_staff()
    case = make_case(staff)
    before = int(committed_generation())
    held, release = threading.Event(), threading.Event()

    def hold_all_slots_but_one() -> None:  # as 15 transactions committing at this instant
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT slot FROM osseo_data_generation WHERE slot > 0 FOR UPDATE")
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold_all_slots_but_one)
    thread.start()
    assert held.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting would fail the write
        Case.objects.filter(pk=case.pk).update(referral_source="committed without waiting")
    finally:
        release.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert int(committed_generation()) == before + 1


@pytest.mark.django_db(transaction=True)
def test_reads_that_write_the_access_log_leave_the_generation_alone() -> None:
    staff = make_staff()
    case = make_case(staff)
    before = committed_generation()
    client = token_client(staff.coordinator)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert AccessLogEntry.objects.filter(case=case).count() == 1
    assert committed_generation() == before


@pytest.mark.django_db
def test_a_savepoint_rolled_back_and_written_again_is_a_new_generation() -> None:
    staff = make_staff()
    make_case(staff)
    with transaction.atomic():
        sid = transaction.savepoint()
        Patient.objects.update(hospital_number="A")
        first = data_generation.current()
        transaction.savepoint_rollback(sid)
        Patient.objects.update(hospital_number="B")
        assert data_generation.current() != first


# --- Kept answers -------------------------------------------------------------------------


@pytest.fixture
def staff(db: None) -> Staff:
    return make_staff()


def test_a_repeated_read_is_answered_from_the_cache_in_one_query(staff: Staff) -> None:
    make_task(staff, assignee=staff.nurse, title="Dress the stoma")
    client = token_client(staff.nurse)
    first = client.get(TASKS)
    assert first[HEADER] == "miss"
    with CaptureQueriesContext(connection) as queries:
        second = client.get(TASKS)
    assert second[HEADER] == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert len(queries) == 1  # the token, with the generation


def test_a_write_through_the_api_is_seen_on_the_next_read(staff: Staff) -> None:
    task = make_task(staff, assignee=staff.nurse, title="Dress the stoma")
    client = token_client(staff.nurse)
    assert titles(client.get(TASKS)) == ["Dress the stoma"]
    assert client.post(f"/api/v1/tasks/{task.pk}/complete/", {}).status_code == 200
    again = client.get(TASKS)
    assert again[HEADER] == "miss"
    assert titles(again) == []


def test_writes_the_list_only_shows_through_joins_are_seen(staff: Staff) -> None:
    task = make_task(staff, assignee=staff.nurse)
    client = token_client(staff.nurse)
    label = client.get(TASKS).json()["results"][0]["case_label"]
    Patient.objects.filter(cases__tasks=task).update(hospital_number="HN-CHANGED")
    staff.nurse.__class__.objects.filter(pk=staff.nurse.pk).update(first_name="Renamed")
    row = client.get(TASKS).json()["results"][0]
    assert row["case_label"] != label and row["case_label"].startswith("HN-CHANGED")
    assert row["assignee_name"].startswith("Renamed")


@pytest.mark.django_db(transaction=True)
def test_a_write_by_another_program_is_seen_once_it_commits() -> None:
    staff = make_staff()
    task = make_task(staff, assignee=staff.nurse, title="Before")
    client = token_client(staff.nurse)
    assert titles(client.get(TASKS)) == ["Before"]
    assert client.get(TASKS)[HEADER] == "hit"
    with connection.cursor() as cursor:  # autocommit: as psql or a hospital script would
        cursor.execute("UPDATE scheduling_task SET title = 'After' WHERE id = %s", [task.pk])
    assert titles(client.get(TASKS)) == ["After"]


def test_callers_never_share_an_answer(staff: Staff) -> None:
    make_task(staff, assignee=staff.nurse, title="Nurse's")
    make_task(staff, assignee=staff.physio, role="physiotherapist", title="Physio's")
    assert titles(token_client(staff.nurse).get(TASKS)) == ["Nurse's"]
    physio = token_client(staff.physio).get(TASKS)
    assert physio[HEADER] == "miss"
    assert titles(physio) == ["Physio's"]


def test_leaving_the_team_takes_effect_on_the_next_read(staff: Staff) -> None:
    make_task(staff, assignee=staff.nurse, title="Dress the stoma")
    client = token_client(staff.nurse)
    assert titles(client.get(TASKS)) == ["Dress the stoma"]
    Membership.objects.filter(user=staff.nurse).update(is_active=False)
    response = client.get(TASKS)
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert titles(response) == []


def test_an_answer_does_not_outlive_its_date(staff: Staff) -> None:
    today = timezone.localdate()
    make_task(staff, assignee=staff.nurse, due_date=today + timedelta(days=1))
    client = token_client(staff.nurse)
    assert client.get(TASKS).json()["results"][0]["is_overdue"] is False
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        # A new token (the first expired meanwhile); tokens are not data: same generation.
        later = token_client(staff.nurse).get(TASKS)
    assert later[HEADER] == "miss"
    assert later.json()["results"][0]["is_overdue"] is True


def test_session_callers_and_other_formats_are_not_kept(staff: Staff) -> None:
    make_task(staff, assignee=staff.nurse)
    session = APIClient()
    session.force_authenticate(staff.nurse)
    assert HEADER not in session.get(TASKS)
    client = token_client(staff.nurse)
    assert HEADER not in client.get(TASKS, HTTP_ACCEPT="text/html")
    assert client.get(TASKS)[HEADER] == "miss"


def test_the_case_list_and_rehab_summary_are_kept_and_refreshed(staff: Staff) -> None:
    case = make_case(staff)
    client = token_client(staff.coordinator)
    for url in ("/api/v1/cases/", f"/api/v1/cases/{case.pk}/rehab/"):
        first = client.get(url)
        assert first.status_code == 200 and first[HEADER] == "miss"
        assert client.get(url)[HEADER] == "hit"
    Case.objects.filter(pk=case.pk).update(referral_source="changed")
    listed = client.get("/api/v1/cases/")
    assert listed[HEADER] == "miss"
    assert listed.json()["results"][0]["referral_source"] == "changed"


def test_errors_are_not_kept(staff: Staff) -> None:
    client = token_client(staff.coordinator)
    for _ in range(2):
        response = client.get("/api/v1/cases/999999/rehab/")
        assert response.status_code == 404
        assert HEADER not in response


def test_turned_off_every_read_is_built(staff: Staff, settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "api": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    make_task(staff, assignee=staff.nurse)
    client = token_client(staff.nurse)
    assert client.get(TASKS)[HEADER] == "miss"
    assert client.get(TASKS)[HEADER] == "miss"


# --- The token query ----------------------------------------------------------------------


def test_the_token_query_reads_what_the_orm_reads(staff: Staff) -> None:
    token, _ = AuthToken.objects.create(staff.coordinator)
    other_team = make_staff()
    Membership.objects.create(user=staff.coordinator, team=other_team.team)
    [fast] = authentication._candidates(token.token_key)
    [orm] = authentication._tokens_with_user_and_roles().filter(token_key=token.token_key)
    for name in ("digest", "token_key", "user_id", "created", "expiry"):
        assert getattr(fast, name) == getattr(orm, name)
    for field in type(orm.user)._meta.concrete_fields:
        assert getattr(fast.user, field.attname) == getattr(orm.user, field.attname)
    assert sorted(fast.team_roles.split(",")) == sorted(orm.team_roles.split(","))
    assert fast.data_generation == data_generation.current()
    assert authentication._candidates("nosuchkey") == []


def test_the_token_check_works_with_prepared_statements_turned_off(staff: Staff) -> None:
    # DATABASE_PREPARED_STATEMENTS=False (a pooler in transaction mode): plain statements.
    token, key = AuthToken.objects.create(staff.nurse)
    connection.ensure_connection()
    saved = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None
    try:
        [found] = authentication._candidates(token.token_key)
        assert found.user.pk == staff.nurse.pk
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/v1/me/").status_code == 200
    finally:
        connection.connection.prepare_threshold = saved
