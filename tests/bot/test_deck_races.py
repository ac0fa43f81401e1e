"""Draws in one channel at the same moment, from several processes, never show a highlight
twice in a round: the deck's key hands each highlight to one draw."""

from __future__ import annotations

import asyncio

import pytest

from quotebot.bot.app import ensure_bundled
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef
from quotebot.store.engine import open_database
from tests.conftest import copy_database

CHANNEL = ChannelRef("slack", "T1", "C1")


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_simultaneous_draws_from_two_processes_never_repeat_within_a_round(
        engine, bundled_file, tmp_path, request):
    if engine == "sqlite":
        target = copy_database(bundled_file, tmp_path)
    else:
        target = request.getfixturevalue("postgres_db")
        first = await open_database(target)
        try:
            await ensure_bundled(QuoteLibrary(first).store)
        finally:
            await first.close()
    dbs = [await open_database(target), await open_database(target)]  # two "processes"
    try:
        libraries = [QuoteLibrary(db) for db in dbs]
        for library in libraries:
            await library.load()
        scope = await libraries[0].scope(CHANNEL)
        pool = await dbs[0].scalar("SELECT count(*) FROM highlights")
        assert pool > 40
        draws = await asyncio.gather(*(
            libraries[i % 2].random(deck="C1", scope=scope) for i in range(24)))
        shown = [draw.quote.highlight_id for draw in draws]
        assert None not in shown
        assert len(set(shown)) == len(shown), "a highlight was shown twice in one round"
    finally:
        for db in dbs:
            await db.close()
