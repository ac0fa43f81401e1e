"""Crash safety: an ingest killed anywhere leaves a sound database that a re-run completes."""

from __future__ import annotations

import random
import signal
import sqlite3
import time

import pytest

from quotebot.bot.ingest.runner import ingest_paths
from quotebot.bot.library import QuoteLibrary
from quotebot.store.db import Database
from quotebot.store.quotes import QuoteStore
from tests.hardening.conftest import driver_command, spawn

pytestmark = pytest.mark.slow  # whole processes killed mid-ingest

KILLS = 24


async def ingest_clean(path, files) -> tuple[int, int]:
    """Ingest `files` into a new database: its (quote count, highlight count)."""
    db = await Database.open(path)
    try:
        report = await ingest_paths(QuoteStore(db), files)
        assert not report.failed
        return await QuoteStore(db).count_quotes(), await highlight_count(db)
    finally:
        await db.close()


async def highlight_count(db) -> int:
    return await db.scalar("SELECT count(*) FROM highlights")


async def check_after_crash(path, files, own_words, clean_count) -> list[str]:
    """Integrity, a re-run, the clean count and every file's words searchable."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    db = await Database.open(path)
    try:
        store = QuoteStore(db)
        report = await ingest_paths(store, files)
        assert not report.failed, report.failed
        # Highlights (derived from the quotes) are written with them, never half-way.
        assert (await store.count_quotes(), await highlight_count(db)) == clean_count
        assert await db.scalar("SELECT count(*) FROM sources") == len(files)
        library = QuoteLibrary(db)
        await library.load()
        for path_, words in own_words.items():
            for word in words[:2]:
                hits = await library.search(word)
                assert hits, f"{word} (from {path_.name}) is not searchable"
                assert all(word in q.text.casefold() for q in hits)
        return [f.status for f in report.files]
    finally:
        await db.close()


async def test_sigkill_at_random_moments_never_loses_or_breaks_anything(tmp_path, corpus):
    files = sorted(corpus)
    clean_count = await ingest_clean(tmp_path / "clean.db", files)
    assert clean_count[1] > 0  # the corpus has highlights to lose

    # How long one file takes to store, to spread the kills over the whole ingest.
    timing = spawn(driver_command(tmp_path / "timing.db", files))
    assert timing.stdout.readline().strip() == "go"
    go = time.monotonic()
    out, _ = timing.communicate(timeout=30)
    assert timing.returncode == 0
    per_file = max((time.monotonic() - go) / len(files), 0.01)

    rng = random.Random(11)
    outcomes = []
    for n in range(KILLS):
        path = tmp_path / f"kill-{n}.db"
        if n % 3 == 1:
            # A library that already has quotes: the kill hits an incremental ingest.
            await ingest_clean(path, files[:2])
        flags = ("--bulk",) if n % 3 == 2 else ()
        proc = spawn(driver_command(path, files, *flags))
        assert proc.stdout.readline().strip() == "go"
        # A random moment: after a random number of files (0 to all) plus a random part
        # of the next file's time; "all" lands in the snapshot refresh and the close.
        after = rng.randrange(len(files) + 1)
        for _ in range(after):
            assert proc.stdout.readline().startswith("stored")
        delay = rng.uniform(0, per_file)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
        statuses = await check_after_crash(path, files, corpus, clean_count)
        outcomes.append((after, round(delay, 3), code, statuses.count("added")))
    print(outcomes)
    killed = [o for o in outcomes if o[2] == -signal.SIGKILL]
    # Most kills land mid-ingest (some files stored, some not), not after it finished.
    assert len(killed) >= KILLS * 2 // 3
    assert len({added for *_, added in killed}) >= 3


async def test_killed_after_the_last_commit_before_the_terms_refresh(tmp_path, corpus):
    files = sorted(corpus)
    path = tmp_path / "q.db"
    # A library with quotes already, so that words only in the new files are the test.
    await ingest_clean(path, files[:2])
    proc = spawn(driver_command(path, files, "--die-before-refresh"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    # Died inside the ingest, after every file committed.
    assert out.splitlines()[-1] == f"stored {len(files)}"

    db = await Database.open(path)
    try:
        store = QuoteStore(db)
        report = await ingest_paths(store, files)
        assert [f.status for f in report.files] == ["unchanged"] * len(files)
        library = QuoteLibrary(db)
        await library.load()
        for words in corpus.values():
            assert await library.search(words[0]), words[0]
        assert not await store.terms_stale()
    finally:
        await db.close()


async def test_a_stale_snapshot_is_rebuilt_by_the_next_ingest_even_if_nothing_changed(
        db, corpus):
    """The ingest's own rebuild, without help from opening the database."""
    files = sorted(corpus)
    store = QuoteStore(db)
    await ingest_paths(store, files[:1])
    # What a kill after the last commit leaves: quotes stored, snapshot not refreshed.
    real_refresh = QuoteStore.refresh_terms

    async def skipped(self) -> None:
        raise KeyboardInterrupt  # the process dies here

    QuoteStore.refresh_terms = skipped
    try:
        try:
            await ingest_paths(store, files[1:2])
        except KeyboardInterrupt:
            pass
    finally:
        QuoteStore.refresh_terms = real_refresh
    new_word = corpus[files[1]][0]
    assert await store.terms_stale()
    assert await store.term_frequencies([new_word]) == {new_word: 0}

    report = await ingest_paths(store, files[1:2])
    assert [f.status for f in report.files] == ["unchanged"]
    assert (await store.term_frequencies([new_word]))[new_word] > 0
    assert not await store.terms_stale()


async def test_opening_rebuilds_derived_state_a_crash_left_stale(tmp_path, corpus):
    path = tmp_path / "q.db"
    files = sorted(corpus)
    proc = spawn(driver_command(path, files, "--die-before-refresh", "--bulk"))
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    terms = conn.execute("SELECT count(*) FROM terms").fetchone()[0]
    conn.close()
    assert terms == 0  # the kill came before the snapshot was built
    assert "quotes_good" in names  # the bulk load rebuilt its indexes before the refresh

    db = await Database.open(path)
    try:
        library = QuoteLibrary(db)
        await library.load()
        for words in corpus.values():
            assert await library.search(words[0]), words[0]
        indexes = {r[0] for r in await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"quotes_good", "quotes_good_by_speaker"} <= indexes
    finally:
        await db.close()


async def test_opening_leaves_derived_state_alone_while_an_ingest_runs(tmp_path, corpus):
    """A bulk load drops the random-key indexes to build them at its end; another process
    opening meanwhile must not build them half-way (and hold the write lock doing it)."""
    path = tmp_path / "q.db"
    await ingest_clean(path, sorted(corpus)[:1])
    ingesting = await Database.open(path)
    try:
        await ingesting.drop_random_indexes()
        async with ingesting.ingesting():
            other = await Database.open(path)
            assert await other.ingest_running()
            names = {r[0] for r in await other.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}
            await other.close()
            assert "quotes_good" not in names
        other = await Database.open(path)  # the ingest is gone (or died): now it is rebuilt
        names = {r[0] for r in await other.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        await other.close()
        assert {"quotes_good", "quotes_good_by_speaker"} <= names
    finally:
        await ingesting.close()
