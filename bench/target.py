"""Where a benchmark serves from: a SQLite file, or a PostgreSQL database filled by `copy`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from quotebot.store.copy import USER_TABLES, copy_database, is_postgres
from quotebot.store.db import StoreError

log = logging.getLogger(__name__)

# What the report says of the PostgreSQL server: the settings that decide its latency.
SERVER_SETTINGS = ("shared_buffers", "effective_cache_size", "work_mem", "random_page_cost",
                   "jit", "max_parallel_workers_per_gather", "synchronous_commit", "fsync")
MIN_QUOTES = 200  # a database holding fewer cannot give the query mix its targets


async def open_database(target: str | Path):
    """The open database at `target`: a SQLite path, or a `postgresql://` URL."""
    from quotebot.store.engine import open_database as open_target

    return await open_target(target)


def open_services(target: str | Path):
    """The bot's services over `target`, as the bot opens them (the bundled interviews
    left out: the corpus is the bench's own)."""
    from quotebot.bot.app import open_services as open_bot_services

    return open_bot_services(target, bundled=False)


async def size_bytes(target: str | Path) -> int:
    """The database's size on disk: the SQLite file with its WAL, or the PostgreSQL
    database's (tables, indexes and TOAST)."""
    if is_postgres(str(target)):
        db = await open_database(target)
        try:
            return int(await db.scalar("SELECT pg_database_size(current_database())"))
        finally:
            await db.close()
    path = Path(target)
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
               if p.exists())


async def server(target: str | Path) -> dict | None:
    """The PostgreSQL server's version and latency-relevant settings (None for SQLite)."""
    if not is_postgres(str(target)):
        return None
    db = await open_database(target)
    try:
        info = {"version": await db.scalar("SHOW server_version")}
        for name in SERVER_SETTINGS:
            info[name] = await db.scalar(f"SHOW {name}")
        return info
    finally:
        await db.close()


async def contents(url: str) -> dict[str, int]:
    """Rows a user made in the PostgreSQL database at `url` (migrating it if it is new).

    Raises:
        RuntimeError: the server cannot be reached, or the database is not one quotebot
            can use (a migration fails on tables of something else).
    """
    try:
        db = await open_database(url)
    except StoreError as exc:
        raise RuntimeError(str(exc)) from exc
    except Exception as exc:  # asyncpg's errors: another application's tables, rights
        from quotebot.store.pg_db import redacted

        raise RuntimeError(f"cannot use {redacted(url)} as a quotebot database: {exc}") from exc
    try:
        return {t: int(await db.scalar(f"SELECT count(*) FROM {t}")) for t in USER_TABLES}
    finally:
        await db.close()


def usable(url: str, held: dict[str, int], fill: bool) -> bool:
    """Whether the PostgreSQL database holding `held` is reused as it is (True) or filled
    (False, only when empty).

    Raises:
        RuntimeError: it holds data but too few quotes to benchmark, or holds data while
            `fill` asks to copy into it.
    """
    from quotebot.store.pg_db import redacted

    rows = {t: n for t, n in held.items() if n}
    if not rows:
        return False
    listed = ", ".join(f"{n:,} {t}" for t, n in rows.items())
    if fill:
        raise RuntimeError(f"{redacted(url)} already holds data ({listed}): give a new, empty "
                           "database to copy into, or leave out --copy-from to benchmark "
                           "what it holds")
    if held.get("quotes", 0) < MIN_QUOTES:
        raise RuntimeError(f"{redacted(url)} holds data ({listed}) but fewer than "
                           f"{MIN_QUOTES} quotes: give a new, empty database (the bench fills "
                           "it) or one an earlier bench filled")
    return True


async def fill(sqlite_path: Path, url: str, say: Callable[[str], None]) -> dict:
    """Copy the SQLite database into the empty PostgreSQL one (`quotebot copy`), timed."""
    marks: dict[str, int] = {}

    def progress(table: str, done: int) -> None:
        if table == "quotes" and done // 200_000 > marks.get(table, 0) // 200_000:
            say(f"  {done:,} quotes copied")
        marks[table] = done

    started = time.perf_counter()
    result = await copy_database(str(sqlite_path), url, progress)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "rows": result.total,
            "quotes": result.rows.get("quotes", 0),
            "rows_per_s": round(result.total / seconds) if seconds else None}
