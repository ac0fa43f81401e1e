"""Parser worker processes live and die with the ingest that started them (real processes)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import psutil
import pytest

pytestmark = pytest.mark.slow  # worker processes signalled and killed

# The real CLI, with every batch counting as large so the spawn process pool parses it.
INGEST = """
import sys
import quotebot.bot.ingest.runner as runner
from quotebot.adapters.cli import main
runner.PROCESS_POOL_BYTES = 1
sys.argv = ["quotebot", "--db", sys.argv[1], "--no-bundled", "ingest", sys.argv[2]]
main()
"""
FILES = 30
WORDS = "the engine weaves algebraic patterns just as a loom weaves flowers and leaves".split()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """30 files of 170 KB: a few seconds of parsing, so the batch can be stopped half-way."""
    folder = tmp_path_factory.mktemp("corpus")
    for n in range(FILES):
        lines = [
            f"{('Ada Lovelace', 'Charles Babbage')[k % 2]}: "
            + " ".join(WORDS[(k * 7 + j * 3 + n) % len(WORDS)] for j in range(14)).capitalize()
            + f" {n} {k}."
            for k in range(1500)
        ]
        (folder / f"talk-{n:02}.txt").write_text("\n".join(lines) + "\n")
    return folder


def start_ingest(tmp_path, corpus, stored: int):
    """Start `quotebot ingest` and return it once `stored` files are committed."""
    db = tmp_path / "quotes.db"
    process = subprocess.Popen(
        [sys.executable, "-c", INGEST, str(db), str(corpus)],
        stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while _sources(db) < stored:
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"ingest ended before {stored} files were stored: "
                        f"{process.stderr.read()}")
        time.sleep(0.05)
    workers = psutil.Process(process.pid).children(recursive=True)
    assert len(workers) >= 2, workers  # two parsers (and the resource tracker)
    return process, db, [], workers


def _sources(db) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM sources").fetchone()[0]
    except sqlite3.Error:
        return 0  # not created or migrated yet


def still_running(processes, timeout: float) -> list[psutil.Process]:
    """The processes still running (zombies count as ended) after up to `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for p in processes:
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_workers_exit_when_the_ingest_is_killed(tmp_path, corpus):
    process, _, _, workers = start_ingest(tmp_path, corpus, 1)
    process.kill()
    process.wait()
    alive = still_running(workers, timeout=10)
    for p in alive:  # clean up before failing, so no test leaves orphans behind
        p.kill()
    assert alive == []


def test_sigterm_stops_cleanly_after_the_current_file(tmp_path, corpus):
    process, db, seen, workers = start_ingest(tmp_path, corpus, 2)
    process.send_signal(signal.SIGTERM)
    try:
        # Orphaned workers would hold stderr open: the timeout catches that too.
        _, rest = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        rest = "(no exit within 60 s)"
        process.kill()
    stderr = "".join(seen) + rest
    alive = still_running(workers, timeout=10)
    for p in alive:
        p.kill()
    assert process.returncode == 1
    assert "Traceback" not in stderr
    added = int(stderr.split("ingest: ", 1)[1].split(" added", 1)[0])
    stopped = stderr.count(": not ingested: stopped by SIGTERM")
    assert 2 <= added < FILES and added + stopped == FILES
    assert f"ingest: {added} added, {stopped} failed" in stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM sources").fetchone()[0] == added
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert alive == []
