"""The scheduler over a real SQLite file: exactly-once, no repeats, failures, DST, the loop."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from quotebot.bot.daily.poster import PermanentPostError, TransientPostError
from quotebot.bot.daily.schedule import local_day, run_at
from quotebot.bot.daily.scheduler import MAX_SLEEP, PERMANENT_RETRY, TRANSIENT_BASE
from quotebot.bot.daily.service import DailyError, DailyService
from quotebot.store.daily import NO_QUOTE, DailyStore
from tests.bot.daily.conftest import (
    ADMIN,
    GOOD_TOTAL,
    FakeClock,
    ScriptedPoster,
    chan,
    open_library,
    utc,
)

pytestmark = pytest.mark.both_engines


def make(lib, clock, poster, name="a", seed=1, **posters) -> DailyService:
    return DailyService(lib, DailyStore(lib.db), posters={"discord": poster, **posters},
                        clock=clock, sleep=clock.sleep, rng=random.Random(seed),
                        process_id=name)


async def run_loop(service: DailyService, clock: FakeClock, until: datetime) -> None:
    """Run the real loop with the fake sleep until the clock reaches `until`."""
    clock.until = until
    clock.on_limit = service.scheduler.stop
    await asyncio.wait_for(service.scheduler.run(), timeout=60)


# ---- no repeats ---------------------------------------------------------------------------


async def test_every_good_quote_once_before_any_repeat(service, clock, poster, lib):
    await service.set(chan(), time="09:00", actor=ADMIN)
    for day in range(2 * GOOD_TOTAL):
        clock.set(utc(2024, 11, 21, 9, 0) + timedelta(days=day))
        await service.scheduler.run_once()
    ids = [s.quote_id for s in poster.sent]
    assert len(ids) == 2 * GOOD_TOTAL
    assert len(set(ids[:GOOD_TOTAL])) == GOOD_TOTAL  # the first cycle: all distinct
    assert len(set(ids[GOOD_TOTAL:])) == GOOD_TOTAL  # the second cycle too
    assert ids[GOOD_TOTAL] != ids[GOOD_TOTAL - 1]  # no back-to-back repeat at the seam
    for quote_id in set(ids):
        assert (await lib.get(quote_id)).quotability >= 0.5
    cycles = [p.cycle for p in await service.store.posts()]
    assert cycles == [0] * GOOD_TOTAL + [1] * GOOD_TOTAL


@pytest.mark.parametrize("speaker, source, expected", [
    ("bob", None, {("Bob Kahn", "alpha")}),
    ("Ada Lovelace", "beta", {("Ada Lovelace", "beta")}),
    (None, "Beta Interviews", {("Ada Lovelace", "beta")}),
])
async def test_filters_narrow_the_cycle(service, clock, poster, lib, speaker, source,
                                        expected):
    await service.set(chan(), time="09:00", speaker=speaker, source=source, actor=ADMIN)
    for day in range(8):
        clock.set(utc(2024, 11, 21, 9, 0) + timedelta(days=day))
        await service.scheduler.run_once()
    quotes = [await lib.get(s.quote_id) for s in poster.sent]
    assert {(q.speaker, q.source_slug) for q in quotes} == expected
    eligible = len({q.id for q in quotes})
    assert [q.id for q in quotes[:eligible]] == list(dict.fromkeys(q.id for q in quotes))
    assert all(q.quotability >= 0.5 for q in quotes)


@pytest.mark.parametrize("speaker, source, message", [
    ("Cy", None, "No quote by Cy Twombly is good enough"),
    ("Bob", "beta", "No quote by Bob Kahn and from Beta Interviews"),
    ("Zed Nobody", None, "No speaker called"),
    (None, "gamma rays", "No source called"),
])
async def test_a_filter_matching_no_good_quote_is_refused_on_set(service, speaker, source,
                                                                 message):
    with pytest.raises(DailyError, match=message):
        await service.set(chan(), time="09:00", speaker=speaker, source=source, actor=ADMIN)
    assert await service.list() == []


# ---- exactly once -------------------------------------------------------------------------


async def test_crash_between_claim_and_send_is_retried_once_after_the_lease(lib, clock):
    first = make(lib, clock, ScriptedPoster(clock), "process-a")
    await first.set(chan(), time="09:00", timezone="Europe/Paris", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 8, 0))  # 09:00 in Paris
    (sub,) = await first.list()
    claim = await first.scheduler.claim(sub, clock())
    assert claim is not None and claim.local_date == "2024-11-21"
    # "Crash": process a never sends. Process b starts on its own connection to the file.
    lib2 = await open_library(lib.db.path)
    try:
        poster = ScriptedPoster(clock)
        second = make(lib2, clock, poster, "process-b", seed=2)
        clock.advance(60)
        result = await second.scheduler.run_once()
        assert result.outcomes == []  # the lease still holds: not even attempted
        assert poster.sent == []
        assert result.next_wake == claim.lease_until  # sleeps until the lease expires
        clock.set(claim.lease_until)
        result = await second.scheduler.run_once()
        assert [o.status for o in result.outcomes] == ["sent"]
        for _ in range(20):
            clock.advance(600)
            await second.scheduler.run_once()
        assert [(s.quote_id, s.key) for s in poster.sent] == [
            (claim.quote.id, f"qb-{sub.id}-2024-11-21")]
        (post,) = await second.store.posts()
        assert post.claimed_by == "process-b" and post.sent_at and post.message_ref == "msg-1"
    finally:
        await lib2.db.close()


async def test_a_claim_whose_local_day_ended_is_abandoned_not_posted_late(lib, clock):
    first = make(lib, clock, ScriptedPoster(clock), "process-a")
    await first.set(chan(), time="23:50", timezone="America/New_York", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 4, 50))  # 23:50 on 20 Nov in New York
    (sub,) = await first.list()
    assert await first.scheduler.claim(sub, clock()) is not None
    poster = ScriptedPoster(clock)
    second = make(lib, clock, poster, "process-b", seed=2)
    clock.set(utc(2024, 11, 21, 5, 10))  # 00:10 on 21 Nov: the lease and the day are over
    result = await second.scheduler.run_once()
    assert result.outcomes == [] and poster.sent == []
    (post,) = await second.store.posts()
    assert post.local_date == "2024-11-20" and post.abandoned_at and post.sent_at is None
    (sub,) = await second.list()
    assert "missed the post of 2024-11-20" in sub.last_error
    assert result.next_wake == utc(2024, 11, 22, 4, 50)
    clock.set(result.next_wake)
    await second.scheduler.run_once()
    assert [s.key for s in poster.sent] == [f"qb-{sub.id}-2024-11-21"]


async def test_missed_post_is_sent_late_the_same_local_day_only(service, clock, poster):
    await service.set(chan(), time="09:00", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 17, 0))  # the bot was down from 08:00 to 17:00
    await service.scheduler.run_once()
    assert [s.at for s in poster.sent] == [utc(2024, 11, 21, 17, 0)]
    clock.set(utc(2024, 11, 23, 8, 0))  # down all of the 22nd: that day is simply missed
    await service.scheduler.run_once()
    assert len(poster.sent) == 1
    clock.set(utc(2024, 11, 23, 9, 0))
    await service.scheduler.run_once()
    assert [p.local_date for p in await service.store.posts()] == ["2024-11-21", "2024-11-23"]


async def test_a_time_already_past_today_first_posts_tomorrow(service, clock, poster):
    clock.set(utc(2024, 11, 21, 10, 0))
    result = await service.set(chan(), time="09:00", actor=ADMIN)
    assert result.next_at == utc(2024, 11, 22, 9, 0)
    out = await service.scheduler.run_once()
    assert poster.sent == [] and out.next_wake == utc(2024, 11, 22, 9, 0)


@pytest.mark.slow
async def test_two_schedulers_on_one_file_post_exactly_once_per_day(lib, clock):
    lib2 = await open_library(lib.db.path)
    try:
        poster_a, poster_b = ScriptedPoster(clock), ScriptedPoster(clock)
        a = make(lib, clock, poster_a, "a", seed=1, slack=poster_a)
        b = make(lib2, clock, poster_b, "b", seed=2, slack=poster_b)
        clock.set(utc(2024, 10, 23, 0, 0))
        schedules = [("C1", "09:00", "UTC"), ("C2", "02:30", "America/New_York"),
                     ("C3", "00:00", "Europe/Berlin"), ("C4", "23:59", "Australia/Sydney"),
                     ("C5", "02:30", "Europe/Berlin")]
        for channel, at, tz in schedules:
            await a.set(chan(channel), time=at, timezone=tz, actor=ADMIN)
        await a.set(chan("S1", "slack", "T1"), time="12:00", timezone="Asia/Tokyo",
                    actor=ADMIN)
        end = utc(2024, 11, 8, 0, 0)  # across the EU (27 Oct) and US (3 Nov) fall-back
        rng = random.Random(5)
        wake = clock()
        while clock() < end:
            # Both wake when due (as their loops would) and at random times in between.
            clock.set(min(wake, clock() + timedelta(seconds=rng.choice((60, 600, 1800)))))
            results = await asyncio.gather(a.scheduler.run_once(clock()),
                                           b.scheduler.run_once(clock()))
            wake = min(r.next_wake for r in results)
        sent = poster_a.sent + poster_b.sent
        assert poster_a.sent and poster_b.sent  # both won some claims: they did contend
        counts = Counter(s.key for s in sent)
        assert counts and set(counts.values()) == {1}
        per_channel = Counter(s.channel.channel for s in sent)
        assert set(per_channel.values()) <= {15, 16}  # ~15.5 days, one post per local day
        assert len(per_channel) == 6
        for s in sent:  # each went out on its own local day
            sub = next(x for x in await a.list() if x.channel == s.channel.channel)
            assert s.key.endswith(local_day(s.at, ZoneInfo(sub.timezone)).isoformat())
        assert len(await a.store.posts()) == len(sent)
    finally:
        await lib2.db.close()


async def test_each_shard_posts_only_for_its_own_guilds(lib, clock):
    poster_a = ScriptedPoster(clock, owned={"G1"})
    poster_b = ScriptedPoster(clock, owned={"G2"})
    a, b = make(lib, clock, poster_a, "a"), make(lib, clock, poster_b, "b", seed=2)
    await a.set(chan("C1", workspace="G1"), time="09:00", actor=ADMIN)
    await a.set(chan("C2", workspace="G2"), time="10:00", actor=ADMIN)
    assert (await a.scheduler.run_once()).next_wake == utc(2024, 11, 21, 9, 0)
    assert (await b.scheduler.run_once()).next_wake == utc(2024, 11, 21, 10, 0)
    clock.set(utc(2024, 11, 21, 11, 0))
    await a.scheduler.run_once()
    await b.scheduler.run_once()
    assert [s.channel.channel for s in poster_a.sent] == ["C1"]
    assert [s.channel.channel for s in poster_b.sent] == ["C2"]


async def test_dry_run_records_nothing(service, clock, poster):
    await service.set(chan(), time="09:00", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 9, 30))
    dry = await service.scheduler.run_once(dry_run=True)
    assert [o.status for o in dry.outcomes] == ["dry-run"]
    assert await service.store.posts() == []
    real = await service.scheduler.run_once()
    assert [o.status for o in real.outcomes] == ["sent"]
    assert len(poster.sent) == 2  # the preview, then the real post


async def test_post_now_does_not_use_up_the_day(service, clock, poster):
    await service.set(chan(), time="13:00", actor=ADMIN)
    sub, quote, ref = await service.post_now(chan(), actor=ADMIN)
    assert ref == "msg-1" and poster.sent[0].quote_id == quote.id
    assert poster.sent[0].key.startswith(f"qb-{sub.id}-n") and len(poster.sent[0].key) <= 25
    clock.set(utc(2024, 11, 20, 13, 0))
    await service.scheduler.run_once()
    assert len(poster.sent) == 2 and len(await service.store.posts()) == 1


async def test_a_quote_deleted_after_the_claim_is_replaced_on_takeover(lib, clock):
    first = make(lib, clock, ScriptedPoster(clock), "a")
    await first.set(chan(), time="09:00", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 9, 0))
    (sub,) = await first.list()
    claim = await first.scheduler.claim(sub, clock())
    async with lib.db.transaction() as conn:
        await conn.execute("DELETE FROM quotes WHERE id = ?", (claim.quote.id,))
    poster = ScriptedPoster(clock)
    second = make(lib, clock, poster, "b", seed=3)
    clock.set(claim.lease_until)
    await second.scheduler.run_once()
    assert len(poster.sent) == 1 and poster.sent[0].quote_id != claim.quote.id


# ---- failures -----------------------------------------------------------------------------


async def test_transient_failures_are_retried_with_backoff_then_sent(service, clock, poster):
    await service.set(chan(), time="09:00", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 8, 59))
    poster.script = [TransientPostError("rate limited"), TransientPostError("HTTP 502"), None]
    await run_loop(service, clock, utc(2024, 11, 21, 12, 0))
    times = [at for _, at in poster.attempts]
    assert times[0] == utc(2024, 11, 21, 9, 0)
    first_gap = (times[1] - times[0]).total_seconds()
    second_gap = (times[2] - times[1]).total_seconds()
    assert TRANSIENT_BASE <= first_gap <= TRANSIENT_BASE * 1.2 + 1
    assert 2 * TRANSIENT_BASE <= second_gap <= 2 * TRANSIENT_BASE * 1.2 + 1
    assert len(poster.attempts) == 3 and len({key for key, _ in poster.attempts}) == 1
    assert len(poster.sent) == 1
    (post,) = await service.store.posts()
    assert post.attempts == 3 and post.sent_at and post.last_error is None
    (sub,) = await service.list()
    assert sub.failures == 0 and sub.last_error is None and sub.enabled


async def test_a_rate_limit_retry_after_is_honoured(service, clock, poster):
    await service.set(chan(), time="09:00", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 9, 0))
    poster.script = [TransientPostError("429", retry_after=600)]
    out = await service.scheduler.run_once()
    assert out.outcomes[0].status == "transient"
    assert out.next_wake >= utc(2024, 11, 21, 9, 10)
    clock.set(utc(2024, 11, 21, 9, 9))
    await service.scheduler.run_once()
    assert len(poster.attempts) == 1
    clock.set(out.next_wake)
    await service.scheduler.run_once()
    assert len(poster.sent) == 1


async def test_three_permanent_failures_disable_with_the_reason(service, clock, poster):
    await service.set(chan(), time="09:00", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 8, 59))
    poster.failing = PermanentPostError("the channel was deleted")
    await run_loop(service, clock, utc(2024, 11, 23, 12, 0))
    times = [at for _, at in poster.attempts]
    assert len(times) == 3  # then disabled: nothing more, not even the next days
    assert all((b - a).total_seconds() >= PERMANENT_RETRY for a, b in itertools.pairwise(times))
    (sub,) = await service.list()
    assert not sub.enabled and sub.disabled_reason == "the channel was deleted"
    assert "disabled: the channel was deleted" in str(service.describe(sub))
    (post,) = await service.store.posts()
    assert post.abandoned_at and post.sent_at is None
    # Setting it again re-enables it and clears the errors.
    poster.failing = None
    await service.set(chan(), time="09:00", actor=ADMIN)
    (sub,) = await service.list()
    assert sub.enabled and sub.failures == 0 and sub.disabled_reason is None


async def test_a_success_resets_the_permanent_failure_count(service, clock, poster):
    await service.set(chan(), time="09:00", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 9, 0))
    poster.script = [PermanentPostError("missing Send Messages permission"), None]
    out = await service.scheduler.run_once()
    (sub,) = await service.list()
    assert sub.failures == 1 and sub.last_error == "missing Send Messages permission"
    assert "last error: missing Send Messages permission" in str(service.describe(sub))
    clock.set(out.next_wake)
    await service.scheduler.run_once()
    (sub,) = await service.list()
    assert len(poster.sent) == 1 and sub.failures == 0 and sub.last_error is None


async def test_no_quote_left_for_the_filters_abandons_the_day_without_spinning(
        service, clock, poster, lib):
    await service.set(chan(), time="09:00", speaker="Bob", actor=ADMIN)
    async with lib.db.transaction() as conn:
        await conn.execute("DELETE FROM quotes WHERE speaker_id = "
                           "(SELECT id FROM speakers WHERE name = 'Bob Kahn')")
    for day in range(3):
        clock.set(utc(2024, 11, 21, 9, 0) + timedelta(days=day))
        out = await service.scheduler.run_once()
        assert out.outcomes[0].status == "skipped"
        assert out.next_wake == clock() + timedelta(days=1) or day == 2
    (sub,) = await service.list()
    assert poster.sent == [] and not sub.enabled and sub.disabled_reason == NO_QUOTE


# ---- the loop -----------------------------------------------------------------------------


@pytest.mark.parametrize("zone_name, at, first_day, special_day", [
    ("America/New_York", "02:30", date(2024, 3, 8), date(2024, 3, 10)),
    ("America/New_York", "01:30", date(2024, 11, 1), date(2024, 11, 3)),
    ("Europe/Berlin", "02:30", date(2024, 3, 29), date(2024, 3, 31)),
    ("Europe/Berlin", "02:30", date(2024, 10, 25), date(2024, 10, 27)),
    ("Australia/Sydney", "02:30", date(2024, 10, 4), date(2024, 10, 6)),
    ("Australia/Sydney", "02:30", date(2024, 4, 5), date(2024, 4, 7)),
])
async def test_one_post_per_local_day_across_dst_end_to_end(lib, zone_name, at, first_day,
                                                            special_day):
    tz = ZoneInfo(zone_name)
    start = datetime.combine(first_day, time(0, 0), tz).astimezone(UTC)
    clock = FakeClock(start)
    poster = ScriptedPoster(clock)
    service = make(lib, clock, poster)
    await service.set(chan(), time=at, timezone=zone_name, actor=ADMIN)
    days = [first_day + timedelta(days=i) for i in range(5)]
    await run_loop(service, clock, datetime.combine(days[-1] + timedelta(days=1), time(0, 0),
                                                    tz).astimezone(UTC))
    posted = {local_day(s.at, tz): s.at for s in poster.sent}
    assert len(poster.sent) == len(days) and sorted(posted) == days
    local = time.fromisoformat(at)
    for day in days:
        assert posted[day] == run_at(day, local, tz)  # on time, to the second
    assert special_day in posted
    # Slept until due, never spun: at most one wake per MAX_SLEEP, plus one per post.
    assert all(s >= 1 for s in clock.sleeps)
    assert len(clock.sleeps) <= len(days) * (86400 / MAX_SLEEP + 2)


async def test_a_change_wakes_the_sleeping_scheduler(service, clock):
    calls: list[float] = []

    async def sleep_forever(seconds: float) -> None:
        calls.append(seconds)
        await asyncio.Event().wait()

    scheduler = service.scheduler
    scheduler.sleep = sleep_forever
    scheduler.max_sleep = 86400
    task = asyncio.create_task(scheduler.run())

    async def wait_for_calls(n: int) -> None:
        for _ in range(200):
            if len(calls) >= n:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {n} sleeps, got {calls}")

    await wait_for_calls(1)
    assert calls == [86400]  # nothing subscribed: sleep the maximum
    await service.set(chan(), time="13:00", actor=ADMIN)  # clock is 12:00 UTC
    await wait_for_calls(2)
    assert calls[1] == 3600  # woke at once, now sleeps until 13:00
    scheduler.stop()
    await asyncio.wait_for(task, 5)


async def test_changing_the_time_after_todays_post_waits_for_tomorrow(service, clock, poster):
    await service.set(chan(), time="09:00", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 9, 0))
    await service.scheduler.run_once()
    clock.set(utc(2024, 11, 21, 12, 0))
    result = await service.set(chan(), time="18:00", actor=ADMIN)
    assert result.next_at == utc(2024, 11, 22, 18, 0)
    clock.set(utc(2024, 11, 21, 18, 0))
    await service.scheduler.run_once()
    assert len(poster.sent) == 1
