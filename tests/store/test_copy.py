"""`quotebot copy`: a whole database SQLite -> PostgreSQL -> SQLite, nothing lost or changed."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import asyncpg
import pytest

from quotebot.bot.library import QuoteLibrary
from quotebot.store import copy as copy_module
from quotebot.store.copy import TABLES, CopyError, copy_database
from quotebot.store.db import Database
from tests.conftest import copy_database as copy_file
from tests.postgres import count_rows

# One row (at least) in every table the bundled ingest leaves empty, with the awkward values
# a copy must carry: NULLs, floats, unicode, JSON text, zero and negative numbers.
EXTRA_ROWS = """
INSERT INTO collections (id, name, kind, platform, workspace)
    VALUES (3, 'discord:111', 'library', 'discord', '111'), (4, 'talks', 'shared', NULL, NULL);
INSERT INTO library_collections VALUES ('discord', '111', 2), ('discord', '111', 4);
INSERT INTO subscriptions (id, platform, workspace, channel, local_time, timezone, speaker_id,
    source_id, created_by, created_at, enabled, cycle, failures, last_error, disabled_reason,
    active_from)
    VALUES (7, 'discord', '111', '222', '09:00', 'Europe/Zürich', NULL, 1, 'u1',
            '2026-11-30T08:00:00+00:00', 1, 2, 0, NULL, NULL, '2026-12-01'),
           (9, 'slack', 'T1', 'C1', '17:30', 'America/New_York', 1, NULL, 'U2',
            '2026-11-29T08:00:00+00:00', 0, 0, 3, 'missing_scope', 'gone', NULL);
INSERT INTO daily_posts (subscription_id, local_date, quote_id, cycle, claimed_by, claimed_at,
    lease_until, sent_at, message_ref, attempts, last_error, abandoned_at, highlight_id)
    VALUES (7, '2026-11-30', 5, 2, 'host-a:12', '2026-11-30T08:00:01+00:00',
            '2026-11-30T08:05:01+00:00', '2026-11-30T08:00:02+00:00', '333', 1, NULL, NULL, 3),
           (9, '2026-11-29', NULL, 0, 'host-b:9', '2026-11-29T22:30:00+00:00',
            '2026-11-29T22:35:00+00:00', NULL, NULL, 5, 'rate limited', '2026-11-30', NULL);
INSERT INTO decks VALUES ('discord:111:222', 3, '2026-11-30T08:00:02+00:00'),
                         ('cli', 4, '2026-11-30T09:00:00+00:00');
INSERT INTO channel_settings VALUES ('discord', '111', '222', 'exact', 1),
                                    ('slack', 'T1', 'C1', 'clean', 0);
INSERT INTO slack_installations (client_id, enterprise_id, team_id, user_id,
    is_enterprise_install, data_json, installed_at)
    VALUES ('cid', '', 'T1', 'U2', 0, '{"bot_token": "xoxb-1", "scopes": ["commands"]}',
            '2026-11-01T00:00:00+00:00');
INSERT INTO slack_oauth_states VALUES ('state-1', '2026-12-01T00:10:00+00:00');
INSERT INTO audit (at, actor_platform, actor_id, actor_name, action, target_kind, target_id,
    before_json, after_json, collection_id)
    VALUES ('2026-11-30T10:00:00+00:00', 'discord', 'u1', 'Zoë', 'hide', 'quote', '12',
            '{"hidden": 0}', '{"hidden": 1}', 2);
UPDATE quotes SET hidden = 1 WHERE id = 12;
INSERT INTO saved_quotes VALUES (20, 'slack', 'T1', 'C1', '1700000100.000200', 'U0ANA', 'Ana',
    'https://test.slack.com/archives/C1/p1700000100000200', '2023-11-14T22:15:00+00:00',
    'U2', 'caller', '2026-11-30T10:05:00+00:00'),
    (21, 'discord', '111', '', NULL, NULL, NULL, NULL, NULL, 'u1', NULL,
     '2026-11-30T10:06:00+00:00');
"""


def _dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        tables = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                  for t in TABLES}
        tables["sqlite_sequence"] = sorted(conn.execute("SELECT * FROM sqlite_sequence"))
        return tables
    finally:
        conn.close()


@pytest.fixture
def filled(bundled_file, tmp_path) -> Path:
    path = copy_file(bundled_file, _mkdir(tmp_path / "from"))
    conn = sqlite3.connect(path)
    conn.executescript(EXTRA_ROWS)
    # A quote deleted after ingest: its id must never come back (AUTOINCREMENT).
    conn.execute("DELETE FROM quotes WHERE id = (SELECT max(id) FROM quotes)")
    conn.commit()
    conn.close()
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


async def test_sqlite_to_postgresql_and_back_keeps_every_row_id_and_counter(
        filled, postgres_db, tmp_path):
    before = _dump(filled)
    assert [t for t in TABLES if not before[t]] == []  # every table has rows to carry
    there = await copy_database(str(filled), postgres_db)
    back = _mkdir(tmp_path / "back") / "quotes.db"
    again = await copy_database(postgres_db, f"sqlite:///{back}")
    assert there.rows == again.rows
    assert there.rows["quotes"] == len(before["quotes"]) > 300
    after = _dump(back)
    for table in [*TABLES, "sqlite_sequence"]:
        assert after[table] == before[table], table

    # The copy is a working database: its search index was rebuilt row by row.
    database = await Database.open(back)
    try:
        library = QuoteLibrary(database)
        await library.load()
        hits = await library.search("ideas are cheap execution is everything")
        assert hits and "execution is everything" in hits[0].text
    finally:
        await database.close()


async def test_on_postgresql_the_words_are_searchable_and_ids_continue(filled, postgres_db):
    await copy_database(str(filled), postgres_db)
    top = sqlite3.connect(filled).execute(
        "SELECT seq FROM sqlite_sequence WHERE name = 'quotes'").fetchone()[0]
    conn = await asyncpg.connect(postgres_db)
    try:
        found = await conn.fetch(
            "SELECT text FROM quotes WHERE words @@ plainto_tsquery('simple', $1)",
            "ideas cheap execution")
        assert any("execution is everything" in r["text"] for r in found)
        typo = await conn.fetchval(
            "SELECT text FROM quotes ORDER BY similarity(text, $1) DESC LIMIT 1",
            "ideas are cheep, execusion is everything")
        assert "execution is everything" in typo
        # The deleted last quote's id is not handed out again.
        new_id = await conn.fetchval(
            "INSERT INTO quotes (source_id, position, text, quotability, rand_key, tags)"
            " VALUES (1, 9999, 'new', 0.5, 1, '') RETURNING id")
        assert new_id == top + 1
    finally:
        await conn.close()


async def test_a_target_that_holds_data_is_refused_and_left_as_it_was(filled, tmp_path):
    target = copy_file(filled, _mkdir(tmp_path / "target"))
    before = _dump(target)
    with pytest.raises(CopyError, match="already holds data"):
        await copy_database(str(filled), str(target))
    assert _dump(target) == before


async def test_a_failed_copy_leaves_the_postgresql_target_empty(filled, postgres_db):
    _spoil(filled, "INSERT INTO decks VALUES ('dangling', 999999, 'x')")  # no such highlight
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await copy_database(str(filled), postgres_db)
    assert await count_rows(postgres_db, "quotes") == 0
    assert await count_rows(postgres_db, "collections") == 2  # as migrated


def test_every_sqlite_table_is_copied(empty_file):
    """A table added by a new SQLite migration must be added to PostgreSQL's schema and to
    the copy (the column check in the round trip then holds it to the same columns)."""
    conn = sqlite3.connect(empty_file)
    try:
        names = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'quotes_fts%' AND name NOT IN ('sqlite_sequence', 'quotes_vocab')")}
    finally:
        conn.close()
    assert names == set(TABLES)


async def test_a_new_postgresql_database_starts_as_a_new_sqlite_one(empty_file, postgres_db):
    """What the migrations seed (the operator's library seeing `bundled`) is the same on
    both engines: a drift here once left the operator's library empty on PostgreSQL."""
    conn = sqlite3.connect(empty_file)
    try:
        sqlite_rows = {
            "collections": sorted(conn.execute(
                "SELECT id, name, kind, platform, workspace FROM collections").fetchall()),
            "library_collections": sorted(conn.execute(
                "SELECT * FROM library_collections").fetchall()),
        }
    finally:
        conn.close()
    from quotebot.store.pg_db import PgDatabase

    pg = await PgDatabase.open(postgres_db)
    try:
        pg_rows = {
            "collections": sorted(tuple(r) for r in await pg.fetchall(
                "SELECT id, name, kind, platform, workspace FROM collections")),
            "library_collections": sorted(tuple(r) for r in await pg.fetchall(
                "SELECT * FROM library_collections")),
        }
    finally:
        await pg.close()
    assert pg_rows == sqlite_rows


async def _indexes(url: str) -> list[tuple[str, str, str]]:
    """Every index and constraint of the database at `url`, with its definition."""
    conn = await asyncpg.connect(url)
    try:
        indexes = [tuple(r) for r in await conn.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema() ORDER BY indexname")]
        constraints = [tuple(r) for r in await conn.fetch(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"
            " ORDER BY 1, 2")]
        return indexes + constraints
    finally:
        await conn.close()


@pytest.fixture
async def migrated(postgres_server) -> str:
    """A second new database with the schema applied: the indexes a copy must leave."""
    from quotebot.store.pg_db import PgDatabase

    url = postgres_server.create_database(f"migrated_{uuid.uuid4().hex[:12]}")
    await (await PgDatabase.open(url)).close()
    return url


async def test_big_tables_are_loaded_without_indexes_and_get_them_all_back(
        filled, postgres_db, migrated, monkeypatch):
    # The bundled corpus's quotes, highlights and terms count as big here.
    monkeypatch.setattr(copy_module, "BULK_INDEX_ROWS", 100)
    dropped: list[str] = []
    real_execute = asyncpg.Connection.execute

    async def execute(self, query, *args, **kwargs):
        if "DROP INDEX" in query or "DROP CONSTRAINT" in query:
            dropped.append(query.split()[-1].strip('"'))
        return await real_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    await copy_database(str(filled), postgres_db)
    # The GIN indexes search needs and the foreign keys were among those dropped, and all
    # came back as migrated.
    assert {"quotes_words", "quotes_trigrams", "quotes_good", "quotes_source_id_fkey",
            "quotes_speaker_id_fkey"} <= set(dropped)
    assert await _indexes(postgres_db) == await _indexes(migrated)
    conn = await asyncpg.connect(postgres_db)
    try:
        await conn.execute("SET enable_seqscan = off")  # the rebuilt index answers
        found = await conn.fetch(
            "SELECT text FROM quotes WHERE words @@ plainto_tsquery('simple', $1)",
            "ideas cheap execution")
        assert any("execution is everything" in r["text"] for r in found)
        # The copy left statistics for the planner (ANALYZE) and a vacuumed table.
        stats = await conn.fetchrow(
            "SELECT last_analyze, last_vacuum FROM pg_stat_user_tables"
            " WHERE relname = 'quotes'")
        assert stats["last_analyze"] is not None and stats["last_vacuum"] is not None
    finally:
        await conn.close()


async def test_a_failed_bulk_copy_leaves_every_index_as_migrated(filled, postgres_db,
                                                                 migrated, monkeypatch):
    monkeypatch.setattr(copy_module, "BULK_INDEX_ROWS", 100)
    _spoil(filled, "INSERT INTO decks VALUES ('dangling', 999999, 'x')")  # after the quotes
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await copy_database(str(filled), postgres_db)
    assert await _indexes(postgres_db) == await _indexes(migrated)


async def test_a_bulk_loaded_row_that_breaks_a_foreign_key_fails_the_copy(
        filled, postgres_db, migrated, monkeypatch):
    monkeypatch.setattr(copy_module, "BULK_INDEX_ROWS", 100)
    _spoil(filled, "UPDATE quotes SET source_id = 999999 WHERE id = 7")  # no such source
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await copy_database(str(filled), postgres_db)
    assert await count_rows(postgres_db, "quotes") == 0
    assert await _indexes(postgres_db) == await _indexes(migrated)


def _spoil(path, sql: str) -> None:
    """Write a row that breaks a foreign key into the SQLite database, behind its back."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(sql)
    conn.commit()
    conn.close()

