"""Changes committed through one PostgreSQL connection pool (one process) are heard by the
others at once: LISTEN/NOTIFY behind `data_version` and `on_change`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from quotebot.store.daily import DailyStore
from quotebot.store.pg_db import PgDatabase
from quotebot.store.quotes import QuoteStore

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


async def until(condition, timeout: float = 5.0) -> float:
    """Wait until `condition()` holds; how long it took (fails after `timeout`)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not condition():
        assert loop.time() - started < timeout, "not heard within the timeout"
        await asyncio.sleep(0.02)
    return loop.time() - started


async def subscribe(store: DailyStore, channel: str, local_time: str = "09:00"):
    sub, _ = await store.upsert(platform="discord", workspace="1", channel=channel,
                                local_time=local_time, timezone="UTC", speaker_id=None,
                                source_id=None, created_by="u", now=NOW)
    return sub


async def test_a_generation_bumped_by_one_process_moves_anothers_data_version(postgres_db):
    here, there = await PgDatabase.open(postgres_db), await PgDatabase.open(postgres_db)
    try:
        before = await there.data_version()
        assert await there.data_version() == before  # nothing committed: nothing moves
        await QuoteStore(here).set_meta("quotes_generation", "41")
        await until(lambda: there._changes != before)
        assert await there.data_version() > before
    finally:
        await here.close()
        await there.close()


async def test_new_and_rescheduled_subscriptions_are_heard_but_not_each_posts_bookkeeping(
        postgres_db):
    here, there = await PgDatabase.open(postgres_db), await PgDatabase.open(postgres_db)
    heard: list[str] = []
    try:
        unfollow = await DailyStore(there).follow(lambda: heard.append("changed"))
        heard.clear()  # the first connection's "look at everything"
        sub = await subscribe(DailyStore(here), "10")
        await until(lambda: heard == ["changed"])
        await subscribe(DailyStore(here), "10", local_time="07:30")  # rescheduled
        await until(lambda: len(heard) == 2)
        async with here.transaction() as conn:  # what each post writes: no wake-up
            await conn.execute("UPDATE subscriptions SET failures = 0, last_error = NULL, "
                               "cycle = cycle + 1 WHERE id = ?", (sub.id,))
        await asyncio.sleep(0.5)
        assert len(heard) == 2
        assert await DailyStore(here).delete(sub.id)
        await until(lambda: len(heard) == 3)
        unfollow()
        await subscribe(DailyStore(here), "11")
        await asyncio.sleep(0.5)
        assert len(heard) == 3  # no longer followed
    finally:
        await here.close()
        await there.close()


async def test_a_lost_listening_connection_comes_back_and_says_to_look_again(postgres_db):
    here, there = await PgDatabase.open(postgres_db), await PgDatabase.open(postgres_db)
    heard: list[str] = []
    try:
        await there.on_change(heard.append)
        heard.clear()
        admin = await asyncpg.connect(postgres_db)
        try:  # what a server restart or a dropped network does to the listener
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
        finally:
            await admin.close()
        assert killed >= 1
        await until(lambda: "*" in heard, timeout=10)
        await subscribe(DailyStore(here), "12")
        await until(lambda: "subscriptions" in heard)
    finally:
        await here.close()
        await there.close()
