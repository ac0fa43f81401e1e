"""Daily claims from many hosts at once on one PostgreSQL: each day is claimed once, and an
expired claim is taken over by exactly one of the processes racing for it."""

from __future__ import annotations

import asyncio

from quotebot.store.daily import DailyStore
from quotebot.store.pg_db import PgDatabase
from quotebot.store.quotes import QuoteStore
from tests.conftest import ILYA, PODCAST, quotes, share_operator_library, source
from tests.store.test_daily import LEASE, at, day, subscribe

HOSTS = 8


async def _hosts(url: str) -> list[PgDatabase]:
    """HOSTS processes' worth of connections: one pool each."""
    return [await PgDatabase.open(url, max_size=2) for _ in range(HOSTS)]


async def test_hosts_racing_for_a_day_claim_it_once_and_take_it_over_once(postgres_db):
    hosts = await _hosts(postgres_db)
    try:
        first = hosts[0]
        await share_operator_library(first)
        await QuoteStore(first).replace_source(source("podcast", "Ilya on a podcast"), [ILYA],
                                               quotes([row for row in PODCAST
                                                       if row[0] is ILYA]))
        sub = await subscribe(DailyStore(first))
        stores = [DailyStore(db) for db in hosts]

        async def race(minutes: float) -> list:
            now = at(0, minutes)
            return await asyncio.gather(*(
                store.claim(sub.id, day(0), now=now, lease_until=now + LEASE,
                            process_id=f"host-{i}", rand_key=1000 * i)
                for i, store in enumerate(stores)))

        claims = [c for c in await race(0) if c is not None]
        assert len(claims) == 1 and not claims[0].taken_over
        # The holder dies without sending; once its lease is over, all race again.
        takeovers = [c for c in await race(LEASE.total_seconds() / 60 + 1) if c is not None]
        assert len(takeovers) == 1 and takeovers[0].taken_over
        assert takeovers[0].quote.id == claims[0].quote.id  # the day's quote is kept
        rows = await first.fetchall("SELECT claimed_by FROM daily_posts")
        assert [r[0] for r in rows] == [takeovers[0].claimed_by]
    finally:
        for db in hosts:
            await db.close()
