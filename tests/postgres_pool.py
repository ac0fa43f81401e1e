"""Cheap PostgreSQL databases for tests: made by copying a template, reused once emptied.

`CREATE DATABASE … TEMPLATE` copies a whole database (its catalogs are most of it) and
took 0.3-0.5 s on the two-core CI machine under load; a test's database emptied back to
the template's rows takes about 0.02 s. `Databases` keeps the emptied ones for the next
test of the same process. Everything runs on `Admin`'s own event loop and thread, so
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
    """What an emptied database is brought back to: the template's rows and sequences."""

    tables: list[str]
    rows: dict[str, tuple[list[str], list[tuple]]]
    sequences: list[tuple[str, int | None]]


def _name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
        if found:
            rows[table] = (columns, [tuple(r) for r in found])
    sequences = [(r[0], r[1]) for r in await conn.fetch(
        "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences "
        "WHERE schemaname = 'public'")]
    return _Snapshot(tables, rows, sequences)


@dataclass
class Databases:
    """Migrated databases for tests: copies of `template`, emptied and reused after each."""

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
        """Empty `name` back to the template's rows for the next test (or drop it, if that
        fails: a test may have left it in any state)."""
        try:
            self.admin.run(self._empty(name))
        except Exception:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            self.free.append(name)

    async def _empty(self, name: str) -> None:
        # Whatever the test left connected (a pool it never closed) goes first.
        await self.admin.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            name)
        conn = await _connect(self.server.url(name))
        try:
            if self.snapshot is None:
                template = await _connect(self.server.url(self.template))
                try:
                    self.snapshot = await _snapshot(template)
                finally:
                    await template.close()
            await _restore(conn, self.snapshot)
        finally:
            await conn.close()

    def close(self) -> None:
        for name in self.free:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.free.clear()


async def _restore(conn, snapshot: _Snapshot) -> None:
    """Delete every row and put the template's back, with its sequences, in one transaction.

    DELETE, not TRUNCATE: these tables hold a few rows, and TRUNCATE makes new files for
    every table and index (0.12 s against 0.02). Replica mode skips the foreign keys' checks
    (the order of the deletes does not matter) and the tables' triggers.
    """
    async with conn.transaction():
        # A sequence never used (no last value) starts again at its first, 1.
        await conn.execute(
            "SET LOCAL session_replication_role = replica; "
            + " ".join(f"DELETE FROM {_name(t)};" for t in snapshot.tables)
            + " SELECT " + ", ".join(
                f"setval({_literal(seq)}, {int(last)})" if last is not None
                else f"setval({_literal(seq)}, 1, false)" for seq, last in snapshot.sequences))
        for table, (columns, rows) in snapshot.rows.items():
            await conn.copy_records_to_table(table, records=rows, columns=columns)
