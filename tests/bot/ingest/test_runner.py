"""The ingest runner: batches, the parsing worker, unchanged files, and all-or-nothing files."""

from __future__ import annotations

import pytest

import quotebot.bot.ingest.runner as runner
import quotebot.store.quotes as store_quotes
from quotebot.bot.ingest.runner import ingest_paths
from quotebot.store.quotes import QuoteStore

pytestmark = pytest.mark.both_engines(postgresql="slow")

TALK = """---
title: "Talk {n}"
participants:
  - name: Ada Lovelace
    role: Speaker
    aliases: [Ada]
---

Ada Lovelace: The engine might compose elaborate pieces of music number {n}. It weaves
algebraic patterns just as the loom weaves flowers and leaves.
"""


def write_talks(folder, count):
    folder.mkdir()
    for n in range(count):
        (folder / f"talk-{n}.txt").write_text(TALK.format(n=n))
    return folder


@pytest.mark.parametrize("pool_bytes", [pytest.param(1, marks=pytest.mark.slow), 10**9],
                         ids=["worker-process", "worker-thread"])
async def test_batch_is_ingested_by_either_worker(db, tmp_path, monkeypatch, pool_bytes):
    monkeypatch.setattr(runner, "PROCESS_POOL_BYTES", pool_bytes)
    store = QuoteStore(db)
    report = await ingest_paths(store, [write_talks(tmp_path / "talks", 3)])
    assert [f.status for f in report.files] == ["added"] * 3
    rows = await db.fetchall("SELECT DISTINCT speaker_id FROM quotes")
    assert len(rows) == 1
    assert await db.scalar("SELECT count(*) FROM sources") == 3
    assert await db.scalar("SELECT count(*) FROM terms WHERE term = 'loom'") == 1


async def test_unchanged_files_are_skipped_and_changed_ones_replaced(db, tmp_path):
    store = QuoteStore(db)
    folder = write_talks(tmp_path / "talks", 2)
    await ingest_paths(store, [folder])
    ids = [r[0] for r in await db.fetchall("SELECT id FROM quotes ORDER BY id")]
    (folder / "talk-1.txt").write_text(
        TALK.format(n=1) + "\nCharles Babbage: I have often wondered about that engine.\n")
    report = await ingest_paths(store, [folder])
    assert sorted(f.status for f in report.files) == ["replaced", "unchanged"]
    after = [r[0] for r in await db.fetchall("SELECT id FROM quotes ORDER BY id")]
    assert set(ids) <= set(after)  # unchanged quotes keep their ids


async def test_a_failing_write_leaves_nothing_half_ingested(db, tmp_path, monkeypatch):
    store = QuoteStore(db)
    folder = write_talks(tmp_path / "talks", 1)

    class FailingJson:
        """Fails while the quotes are written: after the source and speakers rows."""

        @staticmethod
        def dumps(*args, **kwargs):
            raise RuntimeError("disk full")

    monkeypatch.setattr(store_quotes, "json", FailingJson)
    with pytest.raises(RuntimeError):
        await ingest_paths(store, [folder])
    monkeypatch.undo()
    assert await db.scalar("SELECT count(*) FROM sources") == 0
    assert await db.scalar("SELECT count(*) FROM quotes") == 0


async def test_missing_paths_are_reported(db, tmp_path):
    report = await ingest_paths(QuoteStore(db), [tmp_path / "nope.txt"])
    assert report.failed and "no such file" in report.failed[0].error


async def test_two_files_with_one_name_do_not_overwrite_each_other(db, tmp_path):
    store = QuoteStore(db)
    first = write_talks(tmp_path / "a", 1) / "talk-0.txt"
    second_dir = tmp_path / "b"
    second_dir.mkdir()
    second = second_dir / "talk-0.txt"
    second.write_text(TALK.format(n=99))
    await ingest_paths(store, [first])
    before = await db.fetchall("SELECT id, text FROM quotes ORDER BY id")
    report = await ingest_paths(store, [second])
    assert report.failed and "already comes from" in report.failed[0].error
    assert "slug:" in report.failed[0].error
    after = await db.fetchall("SELECT id, text FROM quotes ORDER BY id")
    assert [tuple(r) for r in after] == [tuple(r) for r in before]


async def test_a_moved_file_replaces_its_source(db, tmp_path):
    store = QuoteStore(db)
    old = write_talks(tmp_path / "a", 1) / "talk-0.txt"
    await ingest_paths(store, [old])
    new_dir = tmp_path / "b"
    new_dir.mkdir()
    new = new_dir / "talk-0.txt"
    new.write_text(TALK.format(n=7))
    old.unlink()
    report = await ingest_paths(store, [new])
    assert [f.status for f in report.files] == ["replaced"]


@pytest.mark.slow
@pytest.mark.sqlite_only  # SQLite drops its random-key indexes for a large load
async def test_a_large_first_load_rebuilds_the_random_indexes(db, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "PROCESS_POOL_BYTES", 1)  # every batch counts as large
    await ingest_paths(QuoteStore(db), [write_talks(tmp_path / "talks", 3)])
    names = {r[0] for r in await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'quotes'")}
    assert {"quotes_good", "quotes_good_by_speaker"} <= names
    plan = await db.fetchall(
        "EXPLAIN QUERY PLAN SELECT id FROM quotes q WHERE q.rand_key >= 0 "
        "AND q.quotability >= 0.5 ORDER BY q.rand_key LIMIT 1")
    assert "quotes_good" in " ".join(str(tuple(r)) for r in plan)


async def test_sigterm_stops_the_batch_after_the_current_file(db, tmp_path):
    import os
    import signal

    def progress(i, total, result):
        if i == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    report = await ingest_paths(QuoteStore(db), [write_talks(tmp_path / "talks", 6)],
                                progress=progress, stop_on_sigterm=True)
    # The loop sees the signal at its next await: during file 1's progress or file 2's write.
    statuses = [f.status for f in report.files]
    added = statuses.count("added")
    assert added in (1, 2) and statuses == ["added"] * added + ["failed"] * (6 - added)
    assert all(f.error.endswith("not ingested: stopped by SIGTERM") for f in report.failed)
    assert await db.scalar("SELECT count(*) FROM sources") == added
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # a second one kills
