"""Peak memory of ingesting a 32 MB transcript, measured in a fresh process (ru_maxrss)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # a 32 MB transcript in a fresh process

MB = 2**20
SIZE = 32 * MB  # big enough to dwarf start-up (word lists included); small enough for CI

MEASURE = """
import asyncio, json, resource, sys
from pathlib import Path
import pytest
from quotebot.bot.highlights import common_words
from quotebot.bot.ingest.runner import prepare, store_prepared
from quotebot.store.db import Database
from quotebot.store.quotes import QuoteStore

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KB

async def store(prepared):
    db = await Database.open(Path(sys.argv[2]))
    try:
        return await store_prepared(QuoteStore(db), prepared)
    finally:
        await db.close()

common_words()  # the word list is loaded once per process, whatever the file's size
base = peak()
prepared = prepare(Path(sys.argv[1]), frozenset())
parsed = peak()
result = asyncio.run(store(prepared)) if prepared.records else None
print(json.dumps({"base": base, "parse": parsed, "ingest": peak(), "error": prepared.error,
                  "quotes": result.quotes if result else 0}))
"""


# Linux carries a process's peak RSS across exec: a child of pytest would start with
# pytest's. A small Python in between makes the measuring process start from its own.
HOP = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def measure(path, db) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", HOP, sys.executable, "-c", MEASURE, str(path), str(db)],
        capture_output=True, text=True, timeout=600, check=True,
    )
    return json.loads(out.stdout)


def write_transcript(path, size: int) -> None:
    """A dialogue of ordinary sentences, about 160 characters a line, `size` bytes long."""
    lines = [
        f"{('Ada Lovelace', 'Charles Babbage')[k % 2]}: The engine weaves algebraic patterns "
        f"number {k} just as the loom weaves flowers, and the mill does the arithmetic. "
        f"It ran for {k % 97} hours.\n"
        for k in range(4000)
    ]
    block = "".join(lines)
    with path.open("w") as f:
        for _ in range(size // len(block)):
            f.write(block)
        f.write(block[: size % len(block)].rpartition("\n")[0] + "\n")


def test_a_single_50_mb_line_is_refused_without_a_memory_spike(tmp_path):
    path = tmp_path / "oneline.txt"
    path.write_text("word " * (SIZE // 5))
    got = measure(path, tmp_path / "q.db")
    print(f"{SIZE // MB} MB on one line: peak {got['parse'] / MB:.0f} MB")
    assert got["error"].startswith(f"{path}:1: line is {SIZE // 5 * 5:,} characters long")
    assert got["parse"] - got["base"] <= 10 * SIZE  # was 15x the file


def test_peak_memory_of_a_50_mb_transcript(tmp_path):
    path = tmp_path / "long.txt"
    write_transcript(path, SIZE)
    got = measure(path, tmp_path / "q.db")
    print(f"{SIZE // MB} MB transcript ({got['quotes']} quotes): base {got['base'] / MB:.0f} MB, "
          f"read+parse+segment peak {got['parse'] / MB:.0f} MB, "
          f"with the database write {got['ingest'] / MB:.0f} MB")
    assert got["error"] is None and got["quotes"] > 100_000
    # What the file costs: the interpreter and its word lists (base) are there without it.
    assert got["parse"] - got["base"] <= 10 * SIZE
    assert got["ingest"] - got["base"] <= 10 * SIZE
