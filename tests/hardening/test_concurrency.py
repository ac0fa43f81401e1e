"""Concurrency: readers never wait for writers nor see their open work; busy means a message."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

import quotebot.store.db as store_db
from quotebot.adapters.cli import cli
from quotebot.bot.ingest.runner import ingest_paths
from quotebot.bot.library import QuoteLibrary
from quotebot.store.db import Database, StoreError
from quotebot.store.quotes import QuoteStore
from tests.hardening.conftest import ROOT

pytestmark = pytest.mark.slow  # several processes on one database

# Holds SQLite's write lock, writing, until its stdin closes (or `seconds` pass).
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE quotes SET quotability = quotability")
conn.executemany("INSERT INTO meta (key, value) VALUES (?, 'x')",
                 [(f"junk{i}",) for i in range(20000)])
print("locked", flush=True)
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('tick', ?)", (str(time.time()),))
    time.sleep(0.05)
conn.execute("COMMIT")
print("released", flush=True)
"""


QUOTEBOT = [sys.executable, "-c", "from quotebot.adapters.cli import main; main()"]


def hold_write_lock(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.fixture
async def ingested(tmp_path, corpus):
    path = tmp_path / "q.db"
    db = await Database.open(path)
    await ingest_paths(QuoteStore(db), sorted(corpus))
    await db.close()
    return path


async def test_reads_never_see_another_tasks_open_transaction(library):
    store = library.store
    before = await store.count_quotes()
    inside, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with library.db.transaction() as conn:
            await conn.execute("DELETE FROM quotes")
            inside.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await inside.wait()
    # Another task, while the delete is uncommitted: the quotes are all still there.
    assert await store.count_quotes() == before
    assert await library.search("ideas are cheap")
    release.set()
    await task
    assert await store.count_quotes() == 0


async def test_searches_and_opens_never_wait_for_another_processes_writer(ingested, corpus):
    words = [w for ws in corpus.values() for w in ws]
    db = await Database.open(ingested)
    library = QuoteLibrary(db)
    await library.load()
    holder = hold_write_lock(ingested, 3.0)
    slowest, count = 0.0, 0
    try:
        while holder.poll() is None:
            for n, word in enumerate(words[:8]):
                started = time.monotonic()
                if n == 0:
                    # What `quotebot search` and a bot's start-up do: open, load, search.
                    other = await Database.open(ingested)
                    fresh = QuoteLibrary(other)
                    await fresh.load()
                    assert await fresh.search(word)
                    await other.close()
                else:
                    assert await library.search(word), word
                slowest = max(slowest, time.monotonic() - started)
                count += 1
    finally:
        holder.wait(timeout=30)
        await db.close()
    print(f"{count} searches during a 3 s write transaction; slowest {slowest * 1000:.0f} ms")
    assert holder.stdout.readline().strip() == "released"
    assert count >= 10
    assert slowest < 1.0


def test_cli_search_runs_while_another_process_holds_the_write_lock(ingested, corpus):
    word = next(iter(corpus.values()))[0]
    holder = hold_write_lock(ingested, 60)
    try:
        started = time.monotonic()
        result = subprocess.run(
            [*QUOTEBOT, "--db", str(ingested), "--no-bundled", "search", word],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
        )
        took = time.monotonic() - started
        assert holder.poll() is None  # the lock was held throughout
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 0, result.stderr
    assert word in result.stdout.casefold()
    assert "Traceback" not in result.stderr
    print(f"quotebot search under a held write lock: {took:.2f} s")


async def test_a_bot_starts_and_answers_while_another_process_holds_the_write_lock(
        ingested, corpus):
    """Bot start-up (open, the bundled-corpus check, load, the watcher) reads only: it
    waited for the writer and died with `database is locked` after 10 s (issue 11, item 2)."""
    from quotebot.adapters.console import Console
    from quotebot.bot.all_commands import build_registry
    from quotebot.bot.app import open_services
    from quotebot.bot.models import QuoteReply

    word = next(iter(corpus.values()))[0]
    holder = hold_write_lock(ingested, 60)
    try:
        async with open_services(ingested, bundled=True, watch=True) as services:
            reply = await Console(build_registry(), services).run(f"/quote {word}")
        assert holder.poll() is None  # the lock was held throughout
    finally:
        holder.kill()
        holder.wait()
    assert isinstance(reply, QuoteReply) and word in reply.quotes[0].text.casefold()


async def test_a_writer_kept_waiting_too_long_gets_a_store_error(ingested, monkeypatch):
    monkeypatch.setattr(store_db, "WRITE_WAIT_MS", 200)
    db = await Database.open(ingested)
    holder = hold_write_lock(ingested, 60)
    try:
        with pytest.raises(StoreError, match="busy"):
            await QuoteStore(db).set_meta("k", "v")
    finally:
        holder.kill()
        holder.wait()
        await db.close()


def test_cli_ingest_kept_waiting_exits_with_a_message_not_a_traceback(
        ingested, tmp_path, monkeypatch):
    monkeypatch.setattr(store_db, "WRITE_WAIT_MS", 200)
    extra = tmp_path / "extra.txt"
    extra.write_text("---\ntitle: Extra\n---\n\nSomeone New: A sentence worth keeping here.\n")
    holder = hold_write_lock(ingested, 60)
    try:
        result = CliRunner().invoke(
            cli, ["--db", str(ingested), "--no-bundled", "ingest", str(extra)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2, result.output
    assert "is busy" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


async def test_two_openers_of_a_new_database_migrate_it_once(tmp_path):
    path = tmp_path / "new.db"
    first, second = await asyncio.gather(Database.open(path), Database.open(path))
    try:
        for db in (first, second):
            assert await db.scalar("PRAGMA user_version") == store_db.SCHEMA_VERSION
    finally:
        await first.close()
        await second.close()


async def test_opening_an_up_to_date_database_writes_nothing(ingested):
    conn = sqlite3.connect(ingested)
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    db = await Database.open(ingested)
    await db.close()
    assert conn.execute("PRAGMA data_version").fetchone()[0] == version
    conn.close()
