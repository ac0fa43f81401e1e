"""Curating quotes with their audit rows (both engines); migration 5 (hidden quotes, the audit
table) and the query plans of draws that skip hidden (SQLite's)."""

from __future__ import annotations

import sqlite3

import pytest

from quotebot.store.curate import Actor, CurateStore
from quotebot.store.db import Database
from quotebot.store.quotes import (
    QUOTE_SELECT,
    VISIBLE_HIGHLIGHT,
    NewHighlight,
    NewQuote,
    QuoteStore,
    quote_filters,
)
from quotebot.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.conftest import GREG, ILYA, source

pytestmark = pytest.mark.both_engines

CURATE_VERSION = 5  # the migration that added `hidden` and `audit`
# The random-key indexes as releases before libraries (migration 6) built them.
V4_RANDOM_INDEXES = (
    "CREATE INDEX quotes_good ON quotes (rand_key) WHERE quotability >= 0.5",
    "CREATE INDEX quotes_good_by_speaker ON quotes (speaker_id, rand_key) "
    "WHERE quotability >= 0.5",
)


def version_4_database(path) -> None:
    """A database as the release before curating made it, with a source and two quotes."""
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:CURATE_VERSION - 1]:
        conn.executescript(script)
    for sql in V4_RANDOM_INDEXES:
        conn.execute(sql)
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO sources (slug, title, format, content_hash, ingested_at) "
                 "VALUES ('old', 'Old talk', 'test', 'h', '2024-01-01T00:00:00')")
    conn.execute("INSERT INTO speakers (name) VALUES ('Ada')")
    conn.executemany(
        "INSERT INTO quotes (source_id, speaker_id, position, text, quotability, rand_key, tags) "
        "VALUES (1, 1, ?, ?, 0.9, ?, 's1 o1')",
        [(0, "First words kept from before.", 10), (1, "Second words kept too.", 20)])
    conn.commit()
    conn.close()


async def test_a_version_4_database_migrates_and_keeps_every_quote_visible(tmp_path):
    path = tmp_path / "v4.db"
    version_4_database(path)
    db = await Database.open(path)
    try:
        assert SCHEMA_VERSION >= CURATE_VERSION
        assert await db.scalar("PRAGMA user_version") == SCHEMA_VERSION
        rows = await db.fetchall("SELECT id, text, hidden FROM quotes ORDER BY id")
        assert [(r[1], r[2]) for r in rows] == [("First words kept from before.", 0),
                                                ("Second words kept too.", 0)]
        assert await db.scalar("SELECT count(*) FROM audit") == 0
        curate = CurateStore(db)
        change = await curate.set_hidden(rows[0][0], True, Actor("cli", "local"))
        assert change.after.hidden
        (entry,) = await curate.audit()
        assert entry.action == "hide" and entry.before["text"] == "First words kept from before."
    finally:
        await db.close()


@pytest.mark.sqlite_only  # SQLite's query plans
async def test_random_draws_that_skip_hidden_quotes_still_seek_the_partial_indexes(db):
    for speaker_id in (None, 7):
        filters, values = quote_filters(speaker_id, None, collections=(1,))
        sql = (QUOTE_SELECT + " WHERE q.rand_key >= ? AND " + " AND ".join(filters)
               + " ORDER BY q.rand_key LIMIT 1")
        plan = " ".join(r[3] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql,
                                                        (0, *values)))
        index = "quotes_good" if speaker_id is None else "quotes_good_by_speaker"
        assert f"USING INDEX {index} " in plan, plan
        assert "SCAN q" not in plan.replace(f"SCAN q USING INDEX {index}", ""), plan
        assert "TEMP B-TREE" not in plan, plan


@pytest.mark.sqlite_only  # SQLite's query plans
async def test_the_hidden_highlight_test_probes_an_index(db):
    sql = "SELECT h.id FROM highlights h WHERE h.collection_id = ? AND h.rand_key >= ? AND " \
        + VISIBLE_HIGHLIGHT + " ORDER BY h.rand_key LIMIT 1"
    plan = " ".join(r[3] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql, (1, 0)))
    assert "highlights_random" in plan, plan
    assert "SCAN hq" not in plan, plan  # the correlated check is an index search


async def test_hide_reattribute_and_remove_each_write_one_audit_row(db):
    store = QuoteStore(db)
    lines = ["Ship it on Friday.", "Then rest on Saturday.", "Plan on Sunday."]
    await store.replace_source(
        source("week", "The week"), [GREG, ILYA],
        [NewQuote(GREG.name, text, float(i), i, 0.9) for i, text in enumerate(lines)],
        [NewHighlight(GREG.name, 0, 1, " ".join(lines[:2]), 0.0, 0.8)])
    ids = [r[0] for r in await db.fetchall("SELECT id FROM quotes ORDER BY position")]
    curate, me = CurateStore(db), Actor("discord", "u1", "Ana")

    hidden = await curate.set_hidden(ids[0], True, me)
    assert hidden.after.hidden and await curate.is_hidden(ids[0])
    assert (await curate.set_hidden(ids[0], True, me)).after == hidden.after  # no change
    moved = await curate.reattribute(ids[2], me, new_speaker="Sam Altman")
    assert moved.new_speaker and moved.after.speaker == "Sam Altman"
    again = await curate.reattribute(ids[1], me, speaker_id=moved.after.speaker_id)
    assert not again.new_speaker and again.after.speaker == "Sam Altman"
    removed = await curate.remove_quote(ids[0], me)
    assert removed.after is None and await curate.quote(ids[0]) is None
    assert await db.scalar("SELECT count(*) FROM highlights") == 0  # it spanned the quote
    assert await curate.remove_quote(ids[0], me) is None
    assert await curate.quote(ids[1], collections=(2,)) is None  # another collection's

    gone = await curate.remove_source("week", me)
    assert (gone.before.quotes, gone.result.quotes) == (2, 2)
    assert await curate.source("week") is None
    audit = await curate.audit()
    assert [(e.action, e.target_kind) for e in audit] == [
        ("remove", "source"), ("remove", "quote"), ("edit", "quote"), ("edit", "quote"),
        ("hide", "quote")]
    assert audit[2].before["speaker"] == GREG.name and audit[2].after["speaker"] == "Sam Altman"
    assert [e.action for e in await curate.audit(collection_id=1, limit=2)] == [
        "remove", "remove"]
