"""The data generation: a number PostgreSQL raises whenever a transaction that wrote clinical
data commits, so that an answer built from the database can be kept and reused for exactly as
long as nothing it could show has changed (osseo_mdt.api.cache).

How it is kept, all inside PostgreSQL, so that every way of writing counts (services, admin,
``QuerySet.update``, bulk inserts, raw SQL, ``TRUNCATE``, another program):

- every *watched* table has a statement-level trigger that notes, in the row of
  ``osseo_data_change`` for the current transaction id, the next value of the sequence
  ``osseo_data_write_seq`` (that row is the transaction's own: no other transaction waits
  for it);
- that row's insert fires a constraint trigger deferred to commit, which adds one to one of
  the 16 rows of ``osseo_data_generation`` and deletes the note. The generation is their
  sum, so it rises by exactly one per committed writing transaction. The trigger takes a
  row no other committing transaction holds (``SKIP LOCKED``), so a commit does not wait for
  another and cannot deadlock on it (with more than 16 commits at the same instant it waits
  for one); a rolled-back transaction raises nothing.

A reader takes ``GENERATION_SQL`` in its first query: the committed generation and, if its
own transaction has uncommitted writes (a test, a management command), the sequence value of
its latest write. Both together name the state the reader sees: a later commit changes the
first, an own write the second, and a savepoint rolled back returns to a value that named
exactly that state. Sequence values are never reused.

Watched: every table of the ``cases`` and ``scheduling`` apps and ``auth_user``, except the
ones below, which no cached answer shows and which are written by reads or by background jobs
(watching them would only throw cached answers away). History tables are written together
with the rows they copy. The triggers are (re)installed after every ``migrate``, so a table a
later migration adds is watched without anyone remembering to.

PostgreSQL only: on SQLite (the embedded default) there is no generation and nothing is
cached.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connections
from django.db.models import Model

WATCHED_APPS = ("cases", "scheduling")
WATCHED_MODELS = ("auth.User",)
NOT_WATCHED = frozenset(
    {
        "cases.AccessLogEntry",  # written by every read of a record
        "scheduling.WorkerHeartbeat",  # written by the worker every minute
        "scheduling.DigestDelivery",  # the weekly email's send log
        "scheduling.WebhookEvent",  # outbox, written with the change it reports
        "scheduling.WebhookDelivery",  # delivery log
    }
)

TRIGGER = "osseo_data_change"

INSTALL = """
CREATE SEQUENCE IF NOT EXISTS osseo_data_write_seq;
CREATE TABLE IF NOT EXISTS osseo_data_generation (
    slot smallint PRIMARY KEY CHECK (slot >= 0 AND slot < 16),
    value bigint NOT NULL
);
INSERT INTO osseo_data_generation (slot, value)
SELECT slot, 0 FROM generate_series(0, 15) AS slot ON CONFLICT (slot) DO NOTHING;
CREATE TABLE IF NOT EXISTS osseo_data_change (
    txid bigint PRIMARY KEY,
    write_seq bigint NOT NULL
);
CREATE OR REPLACE FUNCTION osseo_note_data_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO osseo_data_change (txid, write_seq)
    VALUES (txid_current(), nextval('osseo_data_write_seq'))
    ON CONFLICT (txid) DO UPDATE SET write_seq = EXCLUDED.write_seq;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION osseo_raise_data_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Any slot no other committing transaction holds: a commit never waits for another.
    UPDATE osseo_data_generation SET value = value + 1
    WHERE slot = (SELECT slot FROM osseo_data_generation FOR UPDATE SKIP LOCKED LIMIT 1);
    IF NOT FOUND THEN  -- all 16 taken at this instant: wait for one
        UPDATE osseo_data_generation SET value = value + 1 WHERE slot = NEW.txid % 16;
    END IF;
    DELETE FROM osseo_data_change WHERE txid = NEW.txid;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS osseo_raise_data_generation ON osseo_data_change;
CREATE CONSTRAINT TRIGGER osseo_raise_data_generation
    AFTER INSERT ON osseo_data_change DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION osseo_raise_data_generation();
"""

WATCH = (
    f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON {table} FOR EACH STATEMENT EXECUTE FUNCTION osseo_note_data_change();"
)
UNWATCH = f"DROP TRIGGER IF EXISTS {TRIGGER} ON {{table}};"

GENERATION_SQL = (
    "(SELECT sum(value)::text FROM osseo_data_generation)"
    " || coalesce('.' || (SELECT write_seq::text FROM osseo_data_change"
    " WHERE txid = txid_current_if_assigned()), '')"
)


def _is_history(model: type[Model]) -> bool:
    # django-simple-history's generated models carry the model they copy.
    return hasattr(model, "instance_type")


def watched(model: type[Model]) -> bool:
    meta = model._meta
    if not meta.managed or meta.proxy or _is_history(model) or meta.label in NOT_WATCHED:
        return False
    return meta.app_label in WATCHED_APPS or meta.label in WATCHED_MODELS


def tables() -> tuple[list[str], list[str]]:
    """(watched tables, tables of the watched apps left alone), each once."""
    watch: set[str] = set()
    leave: set[str] = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label not in WATCHED_APPS and model._meta.label not in WATCHED_MODELS:
            continue
        (watch if watched(model) else leave).add(model._meta.db_table)
    return sorted(watch), sorted(leave - watch)


def install(using: str = "default", *, only_if_missing: bool = False) -> None:
    """Create the generation and (re)attach the triggers; idempotent. ``only_if_missing``:
    a single catalog query when nothing is missing (after a test's flush)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    existing = set(connection.introspection.table_names())
    watch, leave = tables()
    watch = [table for table in watch if table in existing]
    if (
        only_if_missing
        and "osseo_data_generation" in existing
        and _triggered(connection) == set(watch)
    ):
        return
    with connection.cursor() as cursor:
        cursor.execute(INSTALL)
        for table in watch:
            cursor.execute(WATCH.format(table=connection.ops.quote_name(table)))
        for table in leave:
            if table in existing:
                cursor.execute(UNWATCH.format(table=connection.ops.quote_name(table)))


def install_after_migrate(using: str = "default", plan: Any = None, **kwargs: Any) -> None:
    """``post_migrate`` receiver of the cases app (cases.apps: by then every app's tables are
    there): a full install after a migrate, a check after a flush (which has no plan)."""
    install(using, only_if_missing=plan is None)


def uninstall(using: str = "default") -> None:
    """Remove the triggers, functions and tables (migration cases 0009, backwards)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if "osseo_data_change" in connection.introspection.table_names():
            # This transaction's own writes first raise the generation (a table with
            # trigger events pending cannot be dropped).
            cursor.execute("SET CONSTRAINTS osseo_raise_data_generation IMMEDIATE")
        for table in sorted(_triggered(connection)):
            cursor.execute(UNWATCH.format(table=connection.ops.quote_name(table)))
        cursor.execute(
            "DROP TABLE IF EXISTS osseo_data_change, osseo_data_generation;"
            " DROP FUNCTION IF EXISTS osseo_note_data_change(), osseo_raise_data_generation();"
            " DROP SEQUENCE IF EXISTS osseo_data_write_seq;"
        )


def _triggered(connection: Any) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s",
            [TRIGGER],
        )
        return {row[0] for row in cursor.fetchall()}


def current(using: str = "default") -> str | None:
    """The generation this connection sees now (a query of its own; tests and tools)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {GENERATION_SQL}")
        row = cursor.fetchone()
    return None if row is None else row[0]
