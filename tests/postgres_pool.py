"""Cheap PostgreSQL databases for tests: copies of a template, put back to its rows and reused.

`CREATE DATABASE … TEMPLATE` copies a whole database (its catalogs are most of it) and
took 0.3-0.5 s on the two-core CI machine under load; putting back the template's rows of
the few tables a test changed takes about 0.02 s. `Databases` keeps the restored ones for
the next test of the same process. Everything runs on `Admin`'s own event loop and thread, so
fixtures can call it whether or not a test's loop is running.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field

_names = itertools.count(1)


class Admin:
    """A connection to the server's `postgres` database on an event loop of its own thread."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.conn = self.run(_connect(url))

    def run(self, coroutine):
        """Run `coroutine` on the admin's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def execute(self, sql: str) -> None:
        self.run(self.conn.execute(sql))

    def close(self) -> None:
        self.run(self.conn.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


async def _connect(url: str):
    import asyncpg

    return await asyncpg.connect(url)


def new_name(kind: str) -> str:
    """A database name no other fixture of this process uses (`postgres_db` takes test_N)."""
    return f"{kind}_{next(_names)}"


@dataclass
class _Snapshot:
    """What a used database is brought back to: the template's rows and sequences, and per
    table what tells whether a test changed it (`_marks`)."""

    tables: list[str]
    rows: dict[str, tuple[list[str], list[tuple]]]
    sequences: list[tuple[str, int | None]]
    marks: dict[str, tuple[int, int]]


def _name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def _marks(conn, tables: list[str]) -> dict[str, tuple[int, int]]:
    """table -> (rows, newest xmin): a row inserted or updated since has a newer xmin (no
    test run comes near the wraparound of transaction ids), a row deleted lowers the count;
    so a table whose mark is the template's holds the template's rows."""
    found = await conn.fetch(" UNION ALL ".join(
        f"SELECT {_literal(t)}, count(*), coalesce(max(xmin::text::bigint), 0) "
        f"FROM {_name(t)}" for t in tables))
    return {r[0]: (r[1], r[2]) for r in found}


async def _snapshot(conn) -> _Snapshot:
    tables = [r[0] for r in await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename != 'schema_migrations' ORDER BY tablename")]
    rows = {}
    for table in tables:
        columns = [r[0] for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position", table)]
        found = await conn.fetch(
            f"SELECT {', '.join(_name(c) for c in columns)} FROM {_name(table)}")
        rows[table] = (columns, [tuple(r) for r in found])
    sequences = [(r[0], r[1]) for r in await conn.fetch(
        "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences "
        "WHERE schemaname = 'public'")]
    return _Snapshot(tables, rows, sequences, await _marks(conn, tables))


@dataclass
class Databases:
    """Databases for tests holding `template`'s rows: copies of it, put back to its rows
    after each test and reused."""

    admin: Admin
    server: object  # tests.postgres.PostgresServer
    template: str
    free: list[str] = field(default_factory=list)
    snapshot: _Snapshot | None = None

    def take(self) -> str:
        """A database holding exactly the template's rows, whoever used it before; its name."""
        if self.free:
            return self.free.pop()
        name = new_name("reused")
        # FILE_COPY: copying the files (after a checkpoint) beats writing them through the
        # WAL, PostgreSQL 15's default, for databases this small.
        self.admin.execute(
            f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY')
        return name

    def give_back(self, name: str) -> None:
        """Put `name` back to the template's rows for the next test (or drop it, if that
        fails: a test may have left it in any state)."""
        try:
            self.admin.run(self._restore(name))
        except Exception:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            self.free.append(name)

    async def _restore(self, name: str) -> None:
        # Whatever the test left connected (a pool it never closed) goes first.
        await self.admin.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            name)
        if self.snapshot is None:
            template = await _connect_typed(self.server.url(self.template))
            try:
                self.snapshot = await _snapshot(template)
            finally:
                await template.close()
        conn = await _connect_typed(self.server.url(name))
        try:
            await _restore(conn, self.snapshot)
        finally:
            await conn.close()

    def close(self) -> None:
        for name in self.free:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.free.clear()


async def _connect_typed(url: str):
    """A connection that reads and writes the schema's `citext` columns as text."""
    from quotebot.store.pg_db import register_types

    conn = await _connect(url)
    await register_types(conn)
    return conn


async def _restore(conn, snapshot: _Snapshot) -> None:
    """Put back the template's rows of every table a test changed, and every sequence.

    DELETE, not TRUNCATE: TRUNCATE makes new files for every table and index (0.12 s for
    all of them against 0.02). Replica mode skips the foreign keys' checks (the order of
    the tables does not matter) and the tables' triggers.
    """
    now = await _marks(conn, snapshot.tables)
    changed = [t for t in snapshot.tables if now[t] != snapshot.marks[t]]
    async with conn.transaction():
        # A sequence never used (no last value) starts again at its first, 1.
        await conn.execute(
            "SET LOCAL session_replication_role = replica; "
            + " ".join(f"DELETE FROM {_name(t)};" for t in changed)
            + " SELECT " + ", ".join(
                f"setval({_literal(seq)}, {int(last)})" if last is not None
                else f"setval({_literal(seq)}, 1, false)" for seq, last in snapshot.sequences))
        for table in changed:
            columns, rows = snapshot.rows[table]
            if rows:
                await conn.copy_records_to_table(table, records=rows, columns=columns)
