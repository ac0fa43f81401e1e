"""A running bot follows ingests made by other processes, without a restart."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from quotebot.adapters.console import Console
from quotebot.bot.all_commands import build_registry
from quotebot.bot.app import open_services
from quotebot.bot.ingest.runner import ingest_paths
from quotebot.bot.models import ErrorReply, ListReply, QuoteReply
from quotebot.store.engine import open_database
from quotebot.store.quotes import QuoteStore
from tests.hardening.conftest import ROOT, driver_command, spawn

pytestmark = pytest.mark.slow  # a second process ingests while a bot runs

QUOTEBOT = [sys.executable, "-c", "from quotebot.adapters.cli import main; main()"]


async def first_library(path, files) -> None:
    db = await open_database(path)
    try:
        await ingest_paths(QuoteStore(db), files)
    finally:
        await db.close()


async def until(check, seconds: float) -> float:
    """Poll `check` until it is true; the seconds it took (fails after `seconds`)."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < seconds, "not seen in time"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_running_console_bot_sees_another_process_ingest_within_5_s(
        tmp_path, corpus, engine, request):
    files = sorted(corpus)
    # PostgreSQL: the other process's commit is heard by NOTIFY, not read from a file.
    path = tmp_path / "q.db" if engine == "sqlite" else request.getfixturevalue("postgres_db")
    await first_library(path, files[:1])
    new_file = files[1]
    speaker = "Grace Hopper"  # only in the second file (see corpus.py)
    word = corpus[new_file][0]
    typo = word[:3] + word[4] + word[3] + word[5:]  # two letters swapped

    async with open_services(path, bundled=False, watch=True) as services:
        console = Console(build_registry(), services)
        reply = await console.run(f"/quote random by:{speaker}")
        assert isinstance(reply, ErrorReply)  # "No speaker called …", as before the fix

        ingest = await asyncio.to_thread(
            subprocess.run, [*QUOTEBOT, "--db", str(path), "--no-bundled", "ingest",
                             str(new_file)],
            capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert ingest.returncode == 0, ingest.stderr
        done = time.monotonic()

        async def speaker_known() -> bool:
            return isinstance(await console.run(f"/quote random by:{speaker}"), QuoteReply)

        async def typo_corrected() -> bool:
            reply = await console.run(f"/quote {typo}")
            return isinstance(reply, QuoteReply) and word in reply.quotes[0].text.casefold()

        async def source_listed() -> bool:
            reply = await console.run("/quote sources")
            return isinstance(reply, ListReply) and any("Talk number 1" in i
                                                        for i in reply.items)

        await until(speaker_known, 5.0)
        await until(typo_corrected, 5.0)
        await until(source_listed, 5.0)
        print(f"seen {time.monotonic() - done:.2f} s after the ingest process exited")


async def test_a_running_bot_repairs_what_a_crashed_ingest_left_stale(tmp_path, corpus):
    files = sorted(corpus)
    path = tmp_path / "q.db"
    await first_library(path, files[:1])
    word = corpus[files[2]][0]
    async with open_services(path, bundled=False, watch=True) as services:
        console = Console(build_registry(), services)
        crash = spawn(driver_command(path, files, "--die-before-refresh"))
        await asyncio.to_thread(crash.communicate, timeout=60)
        assert crash.returncode < 0  # killed after its last file, before its refresh

        async def found() -> bool:
            reply = await console.run(f"/quote {word}")
            return isinstance(reply, QuoteReply)

        took = await until(found, 5.0)
        print(f"repaired and reloaded {took:.2f} s after the crash")
