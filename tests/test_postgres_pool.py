"""tests/postgres_pool.py: a reused PostgreSQL test database holds the template's rows again."""

from __future__ import annotations

from quotebot.store.libraries import LibraryStore
from quotebot.store.pg_db import PgDatabase
from quotebot.store.quotes import QuoteStore
from tests.conftest import GREG, _nothing, quotes, source

TABLES = ("meta", "collections", "library_collections", "sources", "speakers",
          "speaker_aliases", "quotes", "terms")


async def rows(db: PgDatabase) -> dict[str, list[tuple]]:
    return {t: sorted(tuple(r) for r in await db.fetchall(f"SELECT * FROM {t}"))
            for t in TABLES}


async def test_a_database_given_back_is_the_templates_again_ids_included(
        postgres_server, postgres_pools):
    postgres_databases = postgres_pools("empty", _nothing)
    name = postgres_databases.take()
    db = await PgDatabase.open(postgres_server.url(name))
    fresh = await rows(db)
    assert fresh["collections"] and fresh["library_collections"]  # the migration's rows
    await LibraryStore(db).create_shared("talks")
    await QuoteStore(db).replace_source(source("s", "S"), [GREG],
                                        quotes([(GREG, "Ship it on Friday.", None, 0.9)]))
    await QuoteStore(db).refresh_terms()
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM library_collections")
    left_open = await PgDatabase.open(postgres_server.url(name))  # a test forgot to close it
    await db.close()
    postgres_databases.give_back(name)

    assert postgres_databases.take() == name  # reused, not copied again
    db = await PgDatabase.open(postgres_server.url(name))
    try:
        assert await rows(db) == fresh
        made = await LibraryStore(db).create_shared("talks")
        assert made.id == 3  # the identity sequences start where the template's do
    finally:
        await db.close()
        postgres_databases.give_back(name)
    await left_open.close()
