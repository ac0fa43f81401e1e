"""The database: migrations, pragmas, transactions and the FTS index kept in sync."""

from __future__ import annotations

import sqlite3

import pytest

from quotebot.store.db import Database, StoreError, database_path
from quotebot.store.fts import TextQuery
from quotebot.store.quotes import NewQuote, QuoteStore
from quotebot.store.schema import SCHEMA_VERSION
from tests.conftest import GREG, ILYA, source

pytestmark = pytest.mark.both_engines


async def test_new_database_is_migrated_with_wal_and_foreign_keys(tmp_path):
    db = await Database.open(tmp_path / "new.db")
    try:
        assert await db.scalar("PRAGMA user_version") == SCHEMA_VERSION
        assert await db.scalar("PRAGMA journal_mode") == "wal"
        assert await db.scalar("PRAGMA foreign_keys") == 1
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        for table in ("sources", "speakers", "quotes", "quotes_fts", "subscriptions",
                      "daily_posts", "slack_installations", "terms"):
            assert table in tables
    finally:
        await db.close()


async def test_reopening_does_not_migrate_twice(tmp_path):
    path = tmp_path / "q.db"
    db = await Database.open(path)
    await db.close()
    db = await Database.open(path)
    try:
        assert await db.scalar("PRAGMA user_version") == SCHEMA_VERSION
    finally:
        await db.close()


async def test_database_from_the_future_is_refused(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        await Database.open(path)


async def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite at all, just text " * 100)
    with pytest.raises(StoreError):
        await Database.open(path)


@pytest.mark.parametrize("url", ["postgresql://bot@db.internal/quotes", "postgres://x/y",
                                 "mysql://a/b", "sqlite://relative.db"])
async def test_a_url_for_another_database_is_refused_and_creates_nothing(tmp_path, monkeypatch,
                                                                         url):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="not supported"):
        await Database.open(url)
    assert list(tmp_path.iterdir()) == []  # it once made a folder named "postgresql:"


async def test_a_sqlite_url_opens_the_file_it_names(tmp_path):
    path = tmp_path / "quotes.db"
    assert database_path(f"sqlite:///{path}") == str(path)  # four slashes: absolute
    assert database_path("sqlite:///quotes.db") == "quotes.db"  # three: relative
    assert database_path("sqlite:///:memory:") == ":memory:"
    db = await Database.open(f"sqlite:///{path}")
    await db.close()
    assert path.exists()


async def test_transaction_rolls_back_everything_on_error(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            raise RuntimeError("boom")
    assert await db.scalar("SELECT count(*) FROM meta WHERE key = 'a'") == 0


async def test_replace_keeps_ids_of_unchanged_quotes_and_syncs_fts(db):
    store = QuoteStore(db)
    first = [
        NewQuote(ILYA.name, "Ideas are cheap, execution is everything.", 1.0, 0, 0.9),
        NewQuote(ILYA.name, "Scaling sucked out all the air in the room.", 2.0, 1, 0.8),
    ]
    await store.replace_source(source("s", "S"), [ILYA], first)
    before = {r["text"]: r["id"] for r in await db.fetchall("SELECT id, text FROM quotes")}

    second = [
        NewQuote(ILYA.name, "A brand new opening line about compute.", 0.5, 0, 0.7),
        NewQuote(ILYA.name, "Ideas are cheap, execution is everything.", 1.0, 1, 0.9),
    ]
    result = await store.replace_source(source("s", "S"), [ILYA], second)
    assert (result.kept, result.added, result.removed) == (1, 1, 1)
    after = {r["text"]: r["id"] for r in await db.fetchall("SELECT id, text FROM quotes")}
    assert after["Ideas are cheap, execution is everything."] == before[
        "Ideas are cheap, execution is everything."]
    new_id = after["A brand new opening line about compute."]
    assert new_id not in before.values()  # ids are never reused

    async def fts(term):
        return [row[0] for row in await store.match(TextQuery(((term,),)), 10, ranked=False)]

    assert await fts("scaling") == []  # the removed quote left the index
    assert await fts("brand") == [new_id]
    assert await db.scalar(
        "SELECT position FROM quotes WHERE text LIKE 'Ideas are cheap%'") == 1
    if db.engine == "sqlite":  # the FTS5 index agrees with its content table
        await db.conn.execute(
            "INSERT INTO quotes_fts (quotes_fts, rank) VALUES ('integrity-check', 1)")


async def test_same_text_by_a_different_speaker_is_a_different_quote(db):
    store = QuoteStore(db)
    await store.replace_source(source("s", "S"), [ILYA, GREG],
                               [NewQuote(ILYA.name, "Yes, exactly that.", None, 0, 0.3)])
    result = await store.replace_source(source("s", "S"), [ILYA, GREG],
                                        [NewQuote(GREG.name, "Yes, exactly that.", None, 0, 0.3)])
    assert (result.kept, result.added, result.removed) == (0, 1, 1)


async def test_speakers_keep_roles_and_aliases(library):
    ilya = library.resolve_speaker("ilya")
    assert ilya.name == "Ilya Sutskever"
    assert ilya.role == "Chief Scientist"
    assert set(ilya.aliases) == {"Ilya", "Sutskever"}


async def test_missing_random_indexes_are_recreated_on_open(tmp_path):
    path = tmp_path / "q.db"
    db = await Database.open(path)
    await db.drop_random_indexes()  # as a bulk load killed half-way would leave it
    await db.close()
    db = await Database.open(path)
    try:
        names = {r[0] for r in await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"quotes_good", "quotes_good_by_speaker"} <= names
    finally:
        await db.close()
