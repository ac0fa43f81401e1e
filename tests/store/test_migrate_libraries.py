"""Migration 6 (libraries) over a database made by the release before it: nothing lost, the
user's sources become the operator's library `local`, the bundled ones `bundled`, and the
servers that used the bot keep seeing both."""

from __future__ import annotations

import sqlite3

from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef
from quotebot.store.db import Database
from quotebot.store.fts import TextQuery
from quotebot.store.schema import (
    BUNDLED_COLLECTION,
    MIGRATIONS,
    OPERATOR_COLLECTION,
    SCHEMA_VERSION,
)

LIBRARIES_VERSION = 6
# The random-key indexes as the release before libraries built them.
V5_RANDOM_INDEXES = (
    "CREATE INDEX quotes_good ON quotes (rand_key) WHERE quotability >= 0.5",
    "CREATE INDEX quotes_good_by_speaker ON quotes (speaker_id, rand_key) "
    "WHERE quotability >= 0.5",
)
BUNDLED_ROOT = "/usr/lib/python3/site-packages/quotebot/transcripts"


def version_5_database(path) -> None:
    """A database as the release before libraries left it: the bundle ingested (path in the
    installed package, its digest in meta), the user's own podcast, a hidden quote, an
    audit row, a daily subscription of a Discord server and a Slack channel's settings."""
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:LIBRARIES_VERSION - 1]:
        conn.executescript(script)
    for sql in V5_RANDOM_INDEXES:
        conn.execute(sql)
    conn.execute("PRAGMA user_version = 5")
    conn.execute("INSERT INTO meta (key, value) VALUES ('bundled_digest', 'abc')")
    sources = [
        (1, "brockman-wang-interview", f"{BUNDLED_ROOT}/brockman-wang-interview.txt"),
        (2, "my-podcast-1", "/home/me/podcasts/my-podcast-1.txt"),
        (3, "sutskever-patel-interview", f"{BUNDLED_ROOT}/sutskever-patel-interview.txt"),
        # The user's own copy of a file named like a bundled one, elsewhere: theirs.
        (4, "sutskever-notes", "/home/me/transcripts/sutskever-notes.txt"),
    ]
    conn.executemany(
        "INSERT INTO sources (id, slug, title, path, format, content_hash, ingested_at) "
        "VALUES (?, ?, ?, ?, 'txt', ?, '2024-01-01T00:00:00')",
        [(i, slug, slug.title(), path, f"h{i}") for i, slug, path in sources])
    conn.executemany("INSERT INTO speakers (id, name) VALUES (?, ?)",
                     [(1, "Greg Brockman"), (2, "Pat Host"), (3, "Ilya Sutskever")])
    quotes = [  # (id, source, speaker, position, text)
        (10, 1, 1, 0, "Payments were the secret sauce of the whole company."),
        (11, 1, 1, 1, "You can only control your inputs and the experiments you run."),
        (12, 2, 2, 0, "Welcome to my podcast about gardening tomatoes in winter."),
        (13, 2, 2, 1, "Tomatoes need warmth and patience more than anything else."),
        (14, 3, 3, 0, "Ideas are cheap and execution is everything in research."),
        (15, 4, 3, 0, "My own notes about the interview with plenty of tomatoes."),
    ]
    conn.executemany(
        "INSERT INTO quotes (id, source_id, speaker_id, position, text, quotability, rand_key, "
        "tags) VALUES (?, ?, ?, ?, ?, 0.9, ?, 's' || ? || ' o' || ?)",
        [(q, so, sp, pos, text, 1000 * q, sp, so) for q, so, sp, pos, text in quotes])
    conn.execute("UPDATE quotes SET hidden = 1 WHERE id = 13")
    conn.execute(
        "INSERT INTO highlights (source_id, speaker_id, first_position, last_position, text, "
        "score, rand_key) VALUES (1, 1, 0, 1, 'Payments were ... you run.', 0.8, 5), "
        "(2, 2, 0, 0, 'Welcome to my podcast about gardening tomatoes in winter.', 0.7, 9)")
    conn.execute(
        "INSERT INTO audit (at, actor_platform, actor_id, action, target_kind, target_id, "
        "before_json, after_json) VALUES ('2024-02-02', 'discord', '9', 'hide', 'quote', '13', "
        "'{\"source\": \"my-podcast-1\"}', '{\"hidden\": true}')")
    conn.execute(
        "INSERT INTO subscriptions (platform, workspace, channel, local_time, timezone, "
        "created_by, created_at) VALUES ('discord', 'G1', 'C1', '09:00', 'UTC', 'u', 'now')")
    conn.execute("INSERT INTO channel_settings (platform, workspace, channel, style) "
                 "VALUES ('slack', 'T1', 'C9', 'exact')")
    conn.commit()
    conn.close()


async def test_a_version_5_database_migrates_into_libraries_losing_nothing(tmp_path):
    path = tmp_path / "v5.db"
    version_5_database(path)
    db = await Database.open(path)
    try:
        assert await db.scalar("PRAGMA user_version") == SCHEMA_VERSION >= LIBRARIES_VERSION
        assert await db.scalar("PRAGMA integrity_check") == "ok"
        collections = {r[0]: tuple(r[1:]) for r in await db.fetchall(
            "SELECT name, id, kind FROM collections")}
        assert collections["local"] == (OPERATOR_COLLECTION, "library")
        assert collections["bundled"] == (BUNDLED_COLLECTION, "shared")
        placed = {r[0]: r[1] for r in await db.fetchall("SELECT slug, collection_id FROM sources")}
        assert placed == {"brockman-wang-interview": BUNDLED_COLLECTION,
                          "sutskever-patel-interview": BUNDLED_COLLECTION,
                          "my-podcast-1": OPERATOR_COLLECTION,
                          "sutskever-notes": OPERATOR_COLLECTION}
        # Every quote kept, with its id, its hidden flag, and its source's collection both
        # on the row and in the FTS tags.
        rows = await db.fetchall("SELECT q.id, q.collection_id, q.tags, q.hidden, s.collection_id "
                                 "FROM quotes q JOIN sources s ON s.id = q.source_id ORDER BY q.id")
        assert [r[0] for r in rows] == [10, 11, 12, 13, 14, 15]
        assert all(r[1] == r[4] and r[2].endswith(f" c{r[1]}") for r in rows)
        assert [r[0] for r in rows if r[3]] == [13]
        assert {r[0]: r[1] for r in await db.fetchall(
            "SELECT source_id, collection_id FROM highlights")} == {1: 2, 2: 1}
        assert await db.scalar("SELECT collection_id FROM audit") == OPERATOR_COLLECTION
        # The random-key indexes are rebuilt keyed by collection.
        indexes = {r[0]: r[1] for r in await db.fetchall(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
        for name in ("quotes_good", "quotes_good_by_speaker", "highlights_random",
                     "highlights_by_speaker"):
            assert "(collection_id," in indexes[name].replace(" ", ""), indexes[name]

        library = QuoteLibrary(db)
        await library.load()
        # The terminal (the operator's library) sees all it saw before.
        local = await library.scope(None)
        assert set(local.collections) == {OPERATOR_COLLECTION, BUNDLED_COLLECTION}
        assert {s.slug for s in local.sources} == set(placed)
        # A server that used the bot (a subscription, settings) keeps seeing both too.
        for channel in (ChannelRef("discord", "G1", "C1"), ChannelRef("slack", "T1", "C9")):
            scope = await library.scope(channel)
            assert {OPERATOR_COLLECTION, BUNDLED_COLLECTION} <= set(scope.collections)
            found = await library.search("tomatoes winter", scope=scope)
            assert found and found[0].id == 12
            assert (await library.get(14, scope=scope)) is not None
        # A server new since the upgrade gets the default: the bundled interviews only.
        new = await library.scope(ChannelRef("discord", "NEW", "C"))
        assert set(new.collections) == {new.own, BUNDLED_COLLECTION}
        assert await library.search("tomatoes winter", scope=new) == []
        assert await library.get(12, scope=new) is None
        assert (await library.get(14, scope=new)).id == 14
        hits = await library.store.match(
            TextQuery((("tomatoes",),), collections=(BUNDLED_COLLECTION,)), 10, ranked=False)
        assert hits == []
        draws = {(await library.random(scope=new)).quote.source_slug for _ in range(20)}
        assert draws <= {"brockman-wang-interview", "sutskever-patel-interview"}
    finally:
        await db.close()


async def test_a_version_5_database_that_never_had_the_bundle_keeps_everything_local(tmp_path):
    path = tmp_path / "v5-own.db"
    version_5_database(path)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM meta WHERE key = 'bundled_digest'")  # --no-bundled, say
    conn.commit()
    conn.close()
    db = await Database.open(path)
    try:
        assert {r[0] for r in await db.fetchall("SELECT DISTINCT collection_id FROM sources")} \
            == {OPERATOR_COLLECTION}
    finally:
        await db.close()
