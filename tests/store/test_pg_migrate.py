"""PostgreSQL migrations on a real server: each applied once, even when processes race."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import asyncpg
import pytest

from quotebot.store.pg_migrate import NewerSchema, migrate, schema_version

# Not idempotent on purpose: a second application fails (CREATE TABLE) or shows (INSERT).
MIGRATIONS = (
    "CREATE TABLE applied (n integer NOT NULL); SELECT pg_sleep(0.3);"
    " INSERT INTO applied VALUES (1);",
    "INSERT INTO applied VALUES (2);",
    "ALTER TABLE applied ADD COLUMN note text; INSERT INTO applied VALUES (3, 'three');",
)

RACER = """
import asyncio, sys
import asyncpg
from quotebot.store.pg_migrate import migrate
MIGRATIONS = {migrations!r}

async def main():
    conn = await asyncpg.connect(sys.argv[1])
    try:
        print(await migrate(conn, MIGRATIONS))
    finally:
        await conn.close()

asyncio.run(main())
"""


def _rows(url: str, sql: str):
    async def fetch():
        conn = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    return asyncio.run(fetch())


def test_four_processes_starting_at_once_apply_each_migration_exactly_once(postgres_db):
    script = RACER.format(migrations=MIGRATIONS)
    racers = [subprocess.Popen([sys.executable, "-c", script, postgres_db],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(4)]
    results = [r.communicate(timeout=60) for r in racers]
    assert [r.returncode for r in racers] == [0, 0, 0, 0], [err for _, err in results]
    applied = sorted(int(out) for out, _ in results)
    assert applied == [0, 0, 0, 3]  # one process applied all three; the others waited
    assert _rows(postgres_db, "SELECT n FROM applied ORDER BY n") == [(1,), (2,), (3,)]
    assert _rows(postgres_db, "SELECT version FROM schema_migrations ORDER BY 1") == [
        (1,), (2,), (3,)]


async def test_a_failing_migration_leaves_no_half_made_schema(postgres_db):
    conn = await asyncpg.connect(postgres_db)
    try:
        await migrate(conn, MIGRATIONS[:1])
        broken = (*MIGRATIONS[:1], "CREATE TABLE half (x int); SELECT no_such_function();")
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await migrate(conn, broken)
        assert await schema_version(conn) == 1
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await migrate(conn, MIGRATIONS) == 2  # the fixed list goes on from version 1
    finally:
        await conn.close()


async def test_a_database_from_a_newer_quotebot_is_refused_not_downgraded(postgres_db):
    conn = await asyncpg.connect(postgres_db)
    try:
        assert await schema_version(conn) == 0
        await migrate(conn, MIGRATIONS)
        with pytest.raises(NewerSchema, match="schema version 3; this quotebot knows 2"):
            await migrate(conn, MIGRATIONS[:2])
        assert await schema_version(conn) == 3
    finally:
        await conn.close()
