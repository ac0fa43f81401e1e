"""Derived state (the terms snapshot, the random-key indexes): marked stale, rebuilt when stale.

Every change to the quotes bumps `quotes_generation` in `meta` inside its own transaction;
a terms refresh records the generation it was built from as `terms_generation`. The
snapshot is stale exactly when the two differ, so no crash point can leave it stale
unnoticed. Missing random-key indexes are their own mark (they are dropped in a
transaction during a bulk load). `repair` rebuilds whatever is stale; it runs at open, at
the end of every ingest and in a running bot's library watcher.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from quotebot.store.schema import RANDOM_INDEXES

if TYPE_CHECKING:
    import aiosqlite

    from quotebot.store.db import Database

log = logging.getLogger(__name__)

QUOTES_GENERATION = "quotes_generation"  # bumped by every change to quotes/sources/speakers
TERMS_GENERATION = "terms_generation"  # the quotes generation the terms snapshot matches


async def mark_quotes_changed(conn: aiosqlite.Connection) -> None:
    """Bump the quotes generation. Call inside the transaction that changes the quotes."""
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)",
        (QUOTES_GENERATION,),
    )


async def generations(db: Database) -> tuple[int, int | None]:
    """(quotes generation, terms generation or None when no snapshot was ever recorded)."""
    rows = await db.fetchall(
        "SELECT key, value FROM meta WHERE key IN (?, ?)", (QUOTES_GENERATION, TERMS_GENERATION)
    )
    values = {r[0]: int(r[1]) for r in rows}
    return values.get(QUOTES_GENERATION, 0), values.get(TERMS_GENERATION)


async def terms_stale(db: Database) -> bool:
    quotes, terms = await generations(db)
    # No recorded snapshot: a database from before generations existed (possibly left
    # stale by a crash) or a new one; one refresh settles it.
    return terms is None or terms != quotes


async def missing_random_indexes(db: Database) -> list[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'index'")
    present = {r[0] for r in rows}
    return [name for name in RANDOM_INDEXES if name not in present]


async def stale(db: Database) -> bool:
    """Whether anything derived needs rebuilding (reads only; takes no lock)."""
    return bool(await missing_random_indexes(db)) or await terms_stale(db)


async def create_random_indexes(db: Database) -> None:
    """Create the random-key indexes that are missing; no write lock when none is."""
    missing = await missing_random_indexes(db)
    if not missing:
        return
    started = time.monotonic()
    async with db.transaction() as conn:
        for name in missing:
            await conn.execute(RANDOM_INDEXES[name])
    log.info("built random-key indexes %s in %.1f s", ", ".join(missing),
             time.monotonic() - started)


async def refresh_terms(db: Database) -> None:
    """Rebuild the term -> document-frequency snapshot the search planner reads.

    The expensive part, reading every term of the FTS index, fills a temporary table
    without SQLite's write lock (temporary tables are private to the connection); the write
    transaction then only applies the difference, so other writers, and the readers'
    snapshot, wait for the changed rows only (1M quotes: see docs/concurrency.md).
    """
    if db.engine == "postgresql":
        await _refresh_terms_postgres(db)
        return
    started = time.monotonic()
    async with db.writer() as conn:
        # Read before the scan: the scan sees at least this generation, so recording it
        # can only err towards "stale" (and another refresh), never towards "fresh".
        generation = await _quotes_generation(conn)
        await conn.execute("DROP TABLE IF EXISTS temp.fresh_terms")
        await conn.execute(
            "CREATE TEMP TABLE fresh_terms (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) "
            "WITHOUT ROWID"
        )
        try:
            await conn.execute(
                "INSERT INTO temp.fresh_terms (term, docs) "
                "SELECT term, doc FROM quotes_vocab WHERE col = 'text'"
            )
            scanned = time.monotonic()
            async with db.begun(conn):
                await conn.execute(
                    "DELETE FROM terms WHERE NOT EXISTS "
                    "(SELECT 1 FROM temp.fresh_terms f WHERE f.term = terms.term)"
                )
                await conn.execute(
                    "INSERT OR REPLACE INTO terms (term, docs) "
                    "SELECT f.term, f.docs FROM temp.fresh_terms f "
                    "LEFT JOIN terms t ON t.term = f.term WHERE t.docs IS NOT f.docs"
                )
                await _record_terms_generation(conn, generation)
        finally:
            await conn.execute("DROP TABLE IF EXISTS temp.fresh_terms")
    done = time.monotonic()
    log.info("refreshed the terms snapshot: %.2f s reading the index, %.2f s holding the "
             "write lock", scanned - started, done - scanned)


async def _refresh_terms_postgres(db) -> None:
    """`refresh_terms` on PostgreSQL: ts_stat counts each lexeme's quotes, in one
    transaction (MVCC: readers keep their snapshot meanwhile). Refreshes by several
    processes at once (each ingest ends with one) take turns: the table lock lets readers
    in but not a second refresh, whose inserts would collide with the first's."""
    async with db.transaction() as conn:
        await conn.execute("LOCK TABLE terms IN EXCLUSIVE MODE")
        generation = await _quotes_generation(conn)
        await conn.execute("DELETE FROM terms")
        await conn.execute("INSERT INTO terms (term, docs) "
                           "SELECT word, ndoc FROM ts_stat('SELECT words FROM quotes')")
        await _record_terms_generation(conn, generation)


async def _quotes_generation(conn) -> int:
    async with conn.execute("SELECT value FROM meta WHERE key = ?",
                            (QUOTES_GENERATION,)) as cur:
        row = await cur.fetchone()
    return 0 if row is None else int(row[0])


async def _record_terms_generation(conn, generation: int) -> None:
    """The terms snapshot now matches quotes generation `generation`."""
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (TERMS_GENERATION, str(generation)))


async def repair(db: Database) -> bool:
    """Rebuild whatever derived state is stale; returns whether anything was rebuilt.

    Reads only when nothing is stale. Skipped (returns False) while an ingest runs in any
    process: that ingest rebuilds at its end, and a rebuild now would only be undone by its
    next file.
    """
    if not await stale(db):
        return False
    async with db.maintenance() as granted:
        if not granted:
            log.debug("derived state is stale but an ingest is running; it will rebuild it")
            return False
        await create_random_indexes(db)
        if await terms_stale(db):
            await refresh_terms(db)
    return True
