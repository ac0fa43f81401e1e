"""Search words on a PostgreSQL database created with a language's collation (as many
servers are) come in code-point order, as on SQLite: prefix completion is the same."""

from __future__ import annotations

import asyncpg

from quotebot.store.db import Database
from quotebot.store.pg_db import PgDatabase
from quotebot.store.quotes import QuoteStore
from tests.conftest import copy_database

WORDS = ["ab", "abc", "abd", "ab-x", "abz", "b", "aa", "ab1", "abé", "abe", "ac", "abç"]


async def fill_terms(db) -> None:
    async with db.transaction() as conn:
        await conn.executemany("INSERT INTO terms (term, docs) VALUES (?, ?)",
                               [(w, 1) for w in WORDS])


async def prefixed(db, prefix: str, limit: int = 20) -> list[str]:
    return [term for term, _ in await QuoteStore(db).terms_with_prefix(prefix, limit)]


async def test_prefix_completion_is_in_code_point_order_under_a_language_collation(
        postgres_server, empty_file, tmp_path):
    admin = await asyncpg.connect(postgres_server.url())
    try:
        await admin.execute("CREATE DATABASE icu_english LOCALE_PROVIDER icu "
                            "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' TEMPLATE template0")
    finally:
        await admin.close()
    pg = await PgDatabase.open(postgres_server.url("icu_english"))
    sqlite = await Database.open(copy_database(empty_file, tmp_path))
    try:
        for db in (pg, sqlite):
            await fill_terms(db)
        expected = sorted(w for w in WORDS if w.startswith("ab"))  # Python: code points
        assert expected[-3:] == ["abz", "abç", "abé"]  # where a language collation differs
        for db in (pg, sqlite):
            assert await prefixed(db, "ab") == expected, db.engine
            assert await prefixed(db, "ab", limit=6) == expected[:6], db.engine
            assert await prefixed(db, "abz") == ["abz"], db.engine
    finally:
        await pg.close()
        await sqlite.close()
