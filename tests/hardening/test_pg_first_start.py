"""The processes of a deployment all start at once on a new PostgreSQL database: each
migrates, ingests the bundled transcripts or finds them there, and answers."""

from __future__ import annotations

import asyncio
import sys

import asyncpg
import pytest

from tests.hardening.conftest import spawn

pytestmark = pytest.mark.slow  # six processes

QUOTEBOT = [sys.executable, "-c", "from quotebot.adapters.cli import main; main()"]


def test_six_processes_starting_together_on_an_empty_database_all_answer(postgres_db):
    processes = [spawn([*QUOTEBOT, "--db", postgres_db, "search", "--json", "age of scaling"])
                 for _ in range(6)]
    results = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
        assert '"speaker": "Ilya Sutskever"' in out

    async def counts():
        conn = await asyncpg.connect(postgres_db)
        try:
            return (await conn.fetchval("SELECT count(*) FROM sources"),
                    await conn.fetchval("SELECT count(*) FROM terms"),
                    await conn.fetchval("SELECT count(*) FROM meta WHERE key = 'bundled_digest'"))
        finally:
            await conn.close()

    sources, terms, digests = asyncio.run(counts())
    assert (sources, digests) == (2, 1) and terms > 1000  # the bundle once, and its words
