"""Open the database, bring the bundled corpus up to date and hand out the core services."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from quotebot.bot.ingest.runner import IngestReport, Progress, ingest_paths
from quotebot.bot.library import WATCH_INTERVAL, QuoteLibrary
from quotebot.bot.registry import Services
from quotebot.store.engine import open_database
from quotebot.store.quotes import QuoteStore
from quotebot.store.schema import BUNDLED_COLLECTION

log = logging.getLogger(__name__)

BUNDLE_KEY = "bundled_digest"


async def ensure_bundled(
    store: QuoteStore, progress: Progress | None = None
) -> IngestReport | None:
    """Ingest the bundled transcripts when the database is empty or holds an older bundle.

    A database that has sources but never received the bundle (the user's own library) is
    left alone. Returns the ingest report, or None when nothing had to be done.
    """
    from quotebot.transcripts import bundle_digest, bundled_files

    digest = bundle_digest()
    stored = await store.get_meta(BUNDLE_KEY)
    if stored == digest:
        return None
    if stored is None and await store.count_sources():
        return None
    log.info("ingesting the bundled transcripts")
    # New files into the shared `bundled` collection, which libraries enable by default;
    # one stored already is updated wherever it is (not a failure at every start).
    report = await ingest_paths(QuoteStore(store.db, BUNDLED_COLLECTION), bundled_files(),
                                progress=progress)
    if not report.failed:
        await store.set_meta(BUNDLE_KEY, digest)
    return report


@asynccontextmanager
async def open_services(
    db_path: str | Path,
    *,
    bundled: bool = True,
    progress: Progress | None = None,
    watch: bool = False,
    pool_size: int | None = None,
) -> AsyncIterator[Services]:
    """Services over the database `db_path` names (a SQLite file or a PostgreSQL URL),
    closed on exit.

    `watch` (for long-running bots): the library follows ingests made by other processes
    while the services are open; see `watching`. `pool_size`: see `open_database`.
    """
    db = await open_database(db_path, pool_size=pool_size)
    try:
        library = QuoteLibrary(db)
        if bundled:
            await ensure_bundled(library.store, progress)
        await library.load()
        # What was just loaded (the vocabulary: hundreds of thousands of objects at 1M
        # quotes) lives as long as the process: out of the collector's way, so its full
        # collections stop pausing requests for milliseconds (garbage collected first, so
        # none of it is kept for good).
        gc.collect()
        gc.freeze()
        if watch:
            async with watching(library):
                yield Services(library=library)
        else:
            yield Services(library=library)
    finally:
        await db.close()


@asynccontextmanager
async def watching(
    library: QuoteLibrary, interval: float = WATCH_INTERVAL
) -> AsyncIterator[asyncio.Task]:
    """Run the library watcher (`QuoteLibrary.watch`) while inside: new speakers, sources
    and words ingested by any process show up within about `interval` seconds."""
    task = asyncio.create_task(library.watch(interval), name="library-watcher")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
