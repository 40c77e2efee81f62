"""The in-process measurements, run in a child process whose DATABASE_URL points at one
benchmark database (bench/__main__.py starts it). Prints one JSON object on stdout.

Each API figure is timed through Django's test client (the whole middleware, DRF, the
serializer and the JSON renderer) next to its **floor**: the same rows fetched with one
hand-written SQL query through psycopg and encoded with json.dumps, on a connection kept
open, as a hand-written endpoint would do at best.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import django

WARMUP = 20


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000}


# --- Floors: one hand-written query each --------------------------------------------------------

# The caller's teams, inline (the service looks them up once per request, cases.access).
MY_TEAMS = """
    SELECT m.team_id FROM cases_membership m JOIN cases_team tm ON tm.id = m.team_id
    WHERE m.user_id = %(user)s AND m.is_active AND tm.is_active
"""

TASKS_SQL = f"""
SELECT t.id, t.case_id AS case, p.hospital_number || ' ' || c.side || ' ' || c.amputation_level
         AS case_label,
       c.team_id AS team, t.title, t.details, t.role, t.assignee_id AS assignee,
       coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), u.username)
         AS assignee_name,
       t.due_date, t.priority, t.status, t.status_reason,
       t.due_date < (now() AT TIME ZONE tm.time_zone)::date AS is_overdue,
       t.template_id IS NOT NULL AS is_generated, t.template_id AS template,
       coalesce(tt.code, '') AS template_code, t.occurrence, t.event_key,
       t.agenda_item_id AS agenda_item, t.appointment_id AS appointment,
       t.created_by_id AS created_by, t.created_at, t.updated_at, t.completed_at,
       t.completed_by_id AS completed_by, t.completion_note,
       count(*) OVER () AS total
FROM scheduling_task t
JOIN cases_case c ON c.id = t.case_id
JOIN cases_patient p ON p.id = c.patient_id
JOIN cases_team tm ON tm.id = c.team_id
LEFT JOIN auth_user u ON u.id = t.assignee_id
LEFT JOIN scheduling_tasktemplate tt ON tt.id = t.template_id
WHERE t.assignee_id = %(user)s
  AND t.status IN ('requested', 'accepted', 'in-progress', 'on-hold')
  AND NOT c.entered_in_error AND c.team_id IN ({MY_TEAMS})
ORDER BY t.due_date,
         CASE t.priority WHEN 'urgent' THEN 2 WHEN 'soon' THEN 1 ELSE 0 END DESC, t.id
LIMIT 50
"""

CASES_SQL = f"""
SELECT c.id, c.team_id AS team, c.patient_id AS patient, p.hospital_number, c.side,
       c.amputation_level, c.bone, c.residual_bone_length_mm, c.amputation_cause,
       c.amputation_date, c.referral_date, c.referral_source, c.implant_system_id,
       c.staging_plan, c.stage, c.stage_before_hold, c.stage_changed_at,
       c.lead_clinician_id, c.status_reason, c.created_at, c.updated_at,
       (SELECT coalesce(json_agg(json_build_object('user', ct.user_id, 'role', ct.role,
                 'name', trim(cu.first_name || ' ' || cu.last_name))), '[]')
          FROM cases_careteammember ct JOIN auth_user cu ON cu.id = ct.user_id
          WHERE ct.case_id = c.id) AS care_team,
       (SELECT json_build_object(
                 'start_date', rp.start_date, 'body_weight_kg', rp.body_weight_kg,
                 'load_cap_kg', rp.load_cap_kg,
                 'phases', (SELECT json_agg(ph ORDER BY ph.position) FROM cases_rehabphase ph
                            WHERE ph.protocol_id = rp.protocol_id),
                 'held', (SELECT coalesce(json_agg(s.session_date), '[]')
                          FROM cases_rehabsession s
                          WHERE s.plan_id = rp.id AND s.holds_plan AND NOT s.entered_in_error))
          FROM cases_rehabplan rp
          WHERE rp.case_id = c.id AND rp.ended_on IS NULL AND NOT rp.entered_in_error
          LIMIT 1) AS current_plan,
       (SELECT coalesce(json_agg(json_build_object('id', f.id, 'kind', f.kind,
                 'raised_on', f.raised_on)), '[]')
          FROM cases_safetyflag f WHERE f.case_id = c.id AND f.resolved_at IS NULL)
         AS open_flags,
       count(*) OVER () AS total
FROM cases_case c JOIN cases_patient p ON p.id = c.patient_id
WHERE c.stage = 'rehabilitation' AND NOT c.entered_in_error AND c.team_id IN ({MY_TEAMS})
ORDER BY c.referral_date DESC, c.id DESC
LIMIT 50
"""

REHAB_SQL = f"""
SELECT c.id, c.team_id, tm.time_zone,
       (SELECT json_build_object(
                 'id', rp.id, 'start_date', rp.start_date, 'body_weight_kg', rp.body_weight_kg,
                 'body_weight_measured_on', rp.body_weight_measured_on,
                 'load_cap_kg', rp.load_cap_kg, 'ended_on', rp.ended_on, 'notes', rp.notes,
                 'protocol', (SELECT row_to_json(pr) FROM cases_rehabprotocol pr
                              WHERE pr.id = rp.protocol_id),
                 'phases', (SELECT json_agg(ph ORDER BY ph.position) FROM cases_rehabphase ph
                            WHERE ph.protocol_id = rp.protocol_id),
                 'sessions', (SELECT json_agg(json_build_array(s.session_date, s.load_kg,
                                  s.pain_nrs_before, s.pain_nrs_after, s.holds_plan))
                              FROM cases_rehabsession s
                              WHERE s.plan_id = rp.id AND NOT s.entered_in_error))
          FROM cases_rehabplan rp
          WHERE rp.case_id = c.id AND rp.ended_on IS NULL AND NOT rp.entered_in_error
          ORDER BY rp.start_date DESC, rp.id DESC LIMIT 1) AS plan,
       (SELECT coalesce(json_agg(f), '[]') FROM cases_safetyflag f WHERE f.case_id = c.id)
         AS flags,
       (SELECT coalesce(json_agg(x), '[]') FROM cases_complication x
          WHERE x.case_id = c.id AND NOT x.entered_in_error) AS complications
FROM cases_case c JOIN cases_team tm ON tm.id = c.team_id
WHERE c.id = %(case)s AND NOT c.entered_in_error AND c.team_id IN ({MY_TEAMS})
"""


class Floor:
    """A psycopg connection of its own, kept open."""

    def __init__(self, dsn: str) -> None:
        import psycopg
        from psycopg.rows import dict_row

        self.conn = psycopg.connect(dsn, autocommit=True, row_factory=dict_row)

    def run(self, sql: str, params: dict[str, Any]) -> str:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return json.dumps(rows, default=str)


# --- The service ----------------------------------------------------------------------------


class Queries:
    """Counts the SQL statements run inside the block (a test client request resets Django's
    own query log when it starts, so CaptureQueriesContext would miss them)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements.append(sql)
        return execute(sql, params, many, context)

    def __enter__(self) -> Queries:
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._wrapper.__exit__(*exc)

    def __len__(self) -> int:
        return len(self.statements)


def _timed(get: Callable[[], Any], floor: Callable[[], str], runs: int) -> dict[str, Any]:
    for _ in range(WARMUP):
        get()
        floor()
    # Counted in the steady state: the first request of a process also reads what it keeps
    # (the phases of the protocol versions in use, one query per page).
    with Queries() as queries:
        body = get().content
    # Interleaved, so that both see the same noise from the rest of the machine.
    service, floored = [], []
    for _ in range(runs):
        start = time.perf_counter()
        get()
        middle = time.perf_counter()
        floor()
        service.append(middle - start)
        floored.append(time.perf_counter() - middle)
    return {
        "service": summary(service),
        "floor": summary(floored),
        "queries": len(queries),
        "sql": queries.statements if os.environ.get("BENCH_SHOW_SQL") else None,
        "bytes": len(body),
    }


def api_figure(
    client: Any, url: str, token: str, floor: Callable[[], str], runs: int
) -> dict[str, Any]:
    """The endpoint as deployed (a repeated read is answered from the kept answers,
    osseo_mdt.api.cache), and built on every request (the kept answers turned off), each
    interleaved with its floor."""
    from django.conf import settings
    from django.test.utils import override_settings

    def get() -> Any:
        response = client.get(url, HTTP_AUTHORIZATION=f"Token {token}")
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        return response

    served = _timed(get, floor, runs)
    dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    with override_settings(CACHES={**settings.CACHES, "api": dummy}):
        built = _timed(get, floor, runs)
    assert built["bytes"] == served["bytes"], "a kept answer differs from a built one"
    return {**served, "built": built, "floor_bytes": len(floor())}


def token_for(user: Any) -> str:
    """A fresh API token; the user's earlier ones go (knox reads them all on every request)."""
    from knox.models import AuthToken

    AuthToken.objects.filter(user=user).delete()
    return str(AuthToken.objects.create(user)[1])


def transition_figure(runs: int) -> dict[str, Any]:
    """screening -> assessment (the most task templates fire on entering assessment), on a
    fresh case each time, as a coordinator's request would: roles looked up, case locked,
    guards, log row, tasks generated, committed. Each move is undone afterwards (outside the
    timing) so that the database stays as generated."""
    from django.db import transaction

    from cases import access, services
    from cases.models import Case, MembershipRole, StageTransition
    from scheduling.models import Task

    cases = list(
        Case.objects.filter(stage="screening", entered_in_error=False).order_by("pk")[:runs]
    )
    samples, counts, generated = [], [], []
    last_sql: list[str] = []
    for case in cases:
        coordinator = (
            MembershipRole.objects.filter(
                role="coordinator", membership__team_id=case.team_id, membership__is_active=True
            )
            .select_related("membership__user")
            .first()
        )
        assert coordinator is not None
        actor = coordinator.membership.user
        access.forget(actor)
        with Queries() as queries:
            start = time.perf_counter()
            services.case_transition(actor=actor, case_id=case.pk, to="assessment")
            samples.append(time.perf_counter() - start)
        counts.append(len(queries))
        last_sql = queries.statements
        move = StageTransition.objects.filter(case=case).order_by("-pk").first()
        assert move is not None
        with transaction.atomic():
            made = Task.objects.filter(case=case, anchor=f"transition:{move.pk}")
            generated.append(made.count())
            made.delete()
            move.delete()
            Case.objects.filter(pk=case.pk).update(
                stage=case.stage, stage_changed_at=case.stage_changed_at
            )
            Case.history.filter(id=case.pk, history_date__gte=move.recorded_at).delete()
    result = summary(samples)
    return {
        **result,
        "queries": max(counts),
        "queries_min": min(counts),
        "tasks_generated": statistics.median(generated),
        "sql": last_sql if os.environ.get("BENCH_SHOW_SQL") else None,
        "runs": len(samples),
    }


def digest_figure() -> dict[str, Any]:
    from django.utils import timezone

    from scheduling import digest
    from scheduling.weeks import week_of

    week = week_of(timezone.now(), "Europe/London")
    digest.build_digests(week)  # warm
    with Queries() as queries:
        start = time.perf_counter()
        built = digest.build_digests(week)
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "queries": len(queries),
        "recipients": len(built),
        "lines": sum(
            len(d.overdue)
            + len(d.due_this_week)
            + len(d.due_next_week)
            + len(d.unassigned)
            + len(d.flags)
            for d in built
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--only", choices=["all", "growth"], default="all")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osseo_mdt.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from cases.models import Case, Membership
    from scheduling.management.commands.generate_load_data import (
        BENCH_REHAB_MARKER,
        BUSY_CLINICIAN,
    )

    dsn = os.environ["DATABASE_URL"]
    floor = Floor(dsn)
    client = Client()
    busy = get_user_model().objects.get(username=BUSY_CLINICIAN)
    rehab_case = Case.objects.get(referral_source=BENCH_REHAB_MARKER)
    team_id = Membership.objects.filter(user=busy).values_list("team_id", flat=True).first()
    assert team_id is not None
    reader = (
        Membership.objects.filter(team_id=team_id, roles__role="coordinator")
        .select_related("user")
        .first()
    )
    assert reader is not None
    reader_token = token_for(reader.user)
    busy_token = token_for(busy)

    out: dict[str, Any] = {
        "database": connection.settings_dict["NAME"],
        "cases": Case.objects.count(),
        "busy_clinician_open_tasks": busy.assigned_tasks.filter(
            status__in=["requested", "accepted", "in-progress", "on-hold"]
        ).count(),
        "rehab_case_sessions": rehab_case.rehab_sessions.count(),
    }
    # A small authenticated endpoint that is not kept (middleware, token, DRF, a model
    # serializer, two queries of its own): context for the figures below.
    out["overhead"] = api_figure(
        client, "/api/v1/me/", busy_token, lambda: floor.run("SELECT 1", {}), args.runs
    )
    out["tasks"] = api_figure(
        client,
        "/api/v1/tasks/?mine=true&status=open",
        busy_token,
        lambda: floor.run(TASKS_SQL, {"user": busy.pk}),
        args.runs,
    )
    out["rehab"] = api_figure(
        client,
        f"/api/v1/cases/{rehab_case.pk}/rehab/",
        reader_token,
        lambda: floor.run(REHAB_SQL, {"case": rehab_case.pk, "user": reader.user.pk}),
        args.runs,
    )
    if args.only == "all":
        out["cases_list"] = api_figure(
            client,
            "/api/v1/cases/?stage=rehabilitation",
            reader_token,
            lambda: floor.run(CASES_SQL, {"user": reader.user.pk}),
            args.runs,
        )
        out["transition"] = transition_figure(min(args.runs, 40))
        out["digest"] = digest_figure()
        out["throughput_token"] = busy_token
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
