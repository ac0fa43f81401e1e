"""On PostgreSQL a subscription made by one process wakes the schedulers of the others at
once, instead of at their next re-read (up to `MAX_SLEEP`, 15 minutes, later)."""

from __future__ import annotations

import asyncio
import random

from quotebot.bot.daily.service import DailyService
from quotebot.bot.library import QuoteLibrary
from quotebot.store.daily import DailyStore
from quotebot.store.pg_db import PgDatabase
from tests.bot.daily.conftest import GUILD, FakeClock, ScriptedPoster, fill, utc


async def test_a_subscription_made_elsewhere_is_posted_without_waiting_for_a_reread(
        postgres_db):
    elsewhere = await PgDatabase.open(postgres_db)
    here = await PgDatabase.open(postgres_db)
    try:
        library = QuoteLibrary(here)
        await fill(library)
        clock = FakeClock(utc(2024, 11, 20, 12, 0, 30))
        poster = ScriptedPoster(clock)
        # Real sleeps: the scheduler, finding nothing to do, sleeps its longest (900 s).
        service = DailyService(library, posters={"discord": poster}, clock=clock,
                               rng=random.Random(3), process_id="here")
        task = asyncio.create_task(service.scheduler.run())
        try:
            await asyncio.sleep(0.5)
            assert poster.sent == []
            await DailyStore(elsewhere).upsert(
                platform="discord", workspace=GUILD, channel="C9", local_time="12:00",
                timezone="UTC", speaker_id=None, source_id=None, created_by="u",
                now=utc(2024, 11, 20, 12, 0))
            for _ in range(100):
                if poster.sent:
                    break
                await asyncio.sleep(0.05)
            assert [s.channel.channel for s in poster.sent] == ["C9"]
        finally:
            await service.scheduler.shutdown(task, timeout=2)
    finally:
        await here.close()
        await elsewhere.close()
