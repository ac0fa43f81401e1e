"""PgDatabase on a real PostgreSQL server: parameters, transactions, leases, many processes."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from quotebot.store.db import StoreError
from quotebot.store.pg_db import PgDatabase, translate


def test_parameters_become_numbered_outside_strings_names_and_casts():
    assert translate("SELECT ? , '?', \"a?\", x::text, ? -- ?\n") == (
        "SELECT $1 , '?', \"a?\", x::text, $2 -- ?\n", 2)
    assert translate("UPDATE t SET a = :a, b = :b WHERE a = :a AND s = ':a'") == (
        "UPDATE t SET a = $1, b = $2 WHERE a = $1 AND s = ':a'", ("a", "b"))
    with pytest.raises(ValueError, match="mixes"):
        translate("SELECT ?, :a")


@pytest.fixture
async def pg(postgres_db):
    database = await PgDatabase.open(postgres_db)
    yield database
    await database.close()


async def test_open_migrates_and_reads_with_either_parameter_style(pg):
    assert await pg.scalar("SELECT name FROM collections WHERE id = ?", (2,)) == "bundled"
    row = await pg.fetchone("SELECT id, kind FROM collections WHERE name = :name",
                            {"name": "local"})
    assert (row[0], row["kind"]) == (1, "library")
    rows = await pg.fetchall("SELECT name FROM collections ORDER BY id")
    assert [r["name"] for r in rows] == ["local", "bundled"]


async def test_a_transaction_commits_whole_or_not_at_all(pg):
    async with pg.transaction() as conn:
        cur = await conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) RETURNING key", ("a", "1"))
        assert (await cur.fetchone())["key"] == "a"
        await conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                               [("b", "2"), ("c", "3")])
        async with conn.execute("UPDATE meta SET value = value || '!' WHERE key <> ?",
                                ("c",)) as cur:
            assert cur.rowcount == 2
    with pytest.raises(RuntimeError):
        async with pg.transaction() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('d', '4')")
            raise RuntimeError("half way")
    rows = await pg.fetchall("SELECT key, value FROM meta ORDER BY key")
    assert [tuple(r) for r in rows] == [("a", "1!"), ("b", "2!"), ("c", "3")]


async def test_the_ingest_lease_is_shared_by_ingests_and_excludes_repairs(postgres_db):
    first, second = await PgDatabase.open(postgres_db), await PgDatabase.open(postgres_db)
    try:
        assert not await second.ingest_running()
        async with first.ingesting(), second.ingesting():  # two ingests at once
            assert await second.ingest_running()
            async with second.maintenance() as granted:
                assert granted is False
        async with second.maintenance() as granted:
            assert granted is True
    finally:
        await first.close()
        await second.close()


async def test_concurrent_transactions_each_see_their_own_work(pg):
    async def add(n: int) -> None:
        async with pg.transaction() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"k{n}", str(n)))
            await asyncio.sleep(0.01)
            if n % 3 == 0:
                raise ValueError(n)

    results = await asyncio.gather(*(add(n) for n in range(12)), return_exceptions=True)
    assert sum(isinstance(r, ValueError) for r in results) == 4
    assert await pg.scalar("SELECT count(*) FROM meta") == 8


async def test_an_unreachable_server_is_a_store_error_without_the_password():
    with pytest.raises(StoreError) as caught:
        await PgDatabase.open("postgresql://bot:s3cret@127.0.0.1:1/quotes")
    assert "postgresql://bot@127.0.0.1:1/quotes" in str(caught.value)
    assert "s3cret" not in str(caught.value)


async def test_a_server_that_goes_away_is_a_store_error_naming_it_not_a_driver_traceback():
    from tests.postgres import PostgresServer

    server = PostgresServer.create().start()
    try:
        db = await PgDatabase.open(server.create_database("going"))
        assert await db.scalar("SELECT 1") == 1
    finally:
        server.stop()
    try:
        with pytest.raises(StoreError, match=r"lost the connection to postgresql://"):
            await db.fetchall("SELECT id FROM quotes")
        with pytest.raises(StoreError, match="lost the connection"):
            async with db.transaction() as conn:
                await conn.execute("DELETE FROM quotes")
    finally:
        await asyncio.wait_for(db.pool.close(), 5)


async def test_no_connection_to_spare_says_which_setting_to_change(postgres_server):
    admin = await asyncpg.connect(postgres_server.url())
    try:  # superusers are never refused: an ordinary role, allowed two connections
        await admin.execute("CREATE ROLE crowd LOGIN CONNECTION LIMIT 2")
        await admin.execute("CREATE DATABASE crowded OWNER crowd")
    finally:
        await admin.close()
    url = postgres_server.url("crowded").replace("://quotebot@", "://crowd@")
    assert "crowd@" in url
    db = await PgDatabase.open(url, min_size=1, max_size=4)
    try:
        async with db.transaction() as conn:  # the pool's one connection is busy
            await conn.execute("SELECT 1")
            async with db.transaction() as other:  # the role's second
                await other.execute("SELECT 1")
                with pytest.raises(StoreError, match=r"refuses more connections .*--db-pool "
                                                     r"\(now 4 per process\)"):
                    await db.fetchall("SELECT 1")  # a third is past the limit
    finally:
        await db.close()


async def test_the_pool_size_option_reaches_the_pool(postgres_db):
    from quotebot.store.engine import open_database

    db = await open_database(postgres_db, pool_size=3)
    try:
        assert db.pool.get_max_size() == 3
    finally:
        await db.close()
