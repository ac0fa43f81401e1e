"""store/daily.py: subscriptions, exactly-once claims with leases, no-repeat picks, failures."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from quotebot.store.daily import DISABLE_AFTER, NO_QUOTE, DailyStore, iso
from quotebot.store.quotes import GOOD, RAND_KEY_MAX, NewHighlight, NewQuote, QuoteStore
from tests.conftest import GREG, ILYA, PODCAST, STAGE, quotes, share_operator_library, source

MORNING = datetime(2024, 11, 20, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def day(n: int) -> str:
    """The local date `n` days after 2024-11-20."""
    return (date(2024, 11, 20) + timedelta(days=n)).isoformat()


def at(n: int, minutes: float = 0) -> datetime:
    """08:00 UTC of day `n`, plus `minutes`."""
    return MORNING + timedelta(days=n, minutes=minutes)


async def subscribe(store: DailyStore, channel: str = "C1", *, platform: str = "discord",
                    workspace: str = "G1", speaker_id: int | None = None,
                    source_id: int | None = None, now: datetime = MORNING,
                    created_by: str = "100", local_time: str = "08:00",
                    timezone: str = "UTC"):
    sub, _ = await store.upsert(platform=platform, workspace=workspace, channel=channel,
                                local_time=local_time, timezone=timezone,
                                speaker_id=speaker_id, source_id=source_id,
                                created_by=created_by, now=now)
    return sub


async def claim(store: DailyStore, sub_id: int, n: int, *, minutes: float = 0, by: str = "a",
                rand_key: int = 0, dry_run: bool = False):
    """Claim day `n` at 08:00 + `minutes` as process `by`, holding a five-minute lease."""
    now = at(n, minutes)
    return await store.claim(sub_id, day(n), now=now, lease_until=now + LEASE, process_id=by,
                             rand_key=rand_key, dry_run=dry_run)


async def send(store: DailyStore, sub_id: int, n: int, *, rand_key: int = 0):
    """Claim day `n` and record it sent; the claim."""
    got = await claim(store, sub_id, n, rand_key=rand_key)
    assert got is not None
    assert await store.mark_sent(got, now=at(n, 1), message_ref=f"msg-{n}")
    return got


async def speaker_id(db, name: str) -> int:
    return await db.scalar("SELECT id FROM speakers WHERE name = ?", (name,))


async def source_id(db, slug: str) -> int:
    return await db.scalar("SELECT id FROM sources WHERE slug = ?", (slug,))


async def good_ids(db, where: str = "TRUE", params: tuple = ()) -> set[int]:
    rows = await db.fetchall(f"SELECT id FROM quotes WHERE quotability >= ? AND {where}",
                             (GOOD, *params))
    return {row[0] for row in rows}


@pytest.fixture
def db(any_db):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


GREG_LINES = [
    "We just make payments really good, and that was the secret sauce.",
    "You can only control your inputs, you can control the experiments you run.",
    "The hard part was never the model, it was everything around the model.",
    "Hey.",
]


@pytest.fixture
async def highlighted(db):
    """A talk with three highlights (two stand alone, one may need context), and a podcast
    without any."""
    await share_operator_library(db)
    store = QuoteStore(db)
    talk = [NewQuote(GREG.name, text, float(i), i, 0.8) for i, text in enumerate(GREG_LINES)]
    passages = [NewHighlight(GREG.name, 0, 0, GREG_LINES[0], 0.0, 0.8),
                NewHighlight(GREG.name, 1, 1, GREG_LINES[1], 1.0, 0.6),
                NewHighlight(GREG.name, 2, 2, GREG_LINES[2], 2.0, 0.3)]
    await store.replace_source(source("stage", "Greg Brockman on stage"), [GREG], talk, passages)
    await store.replace_source(source("podcast", "Ilya on a podcast"), [ILYA],
                               quotes([row for row in PODCAST if row[0] is ILYA]))
    return db


# ---- subscriptions ----------------------------------------------------------------------


async def test_upsert_creates_then_updates_the_same_channel_row(db):
    store = DailyStore(db)
    created, new = await store.upsert(platform="discord", workspace="G1", channel="C1",
                                      local_time="08:00", timezone="UTC", speaker_id=None,
                                      source_id=None, created_by="100", now=MORNING)
    assert new
    assert (created.local_time, created.timezone, created.created_by) == ("08:00", "UTC", "100")
    assert created.active_from == created.created_at == iso(MORNING)
    assert (created.enabled, created.cycle, created.failures) == (True, 0, 0)
    assert created.latest_post_id is None and created.last_sent_at is None

    later = MORNING + timedelta(hours=3)
    changed, new = await store.upsert(platform="discord", workspace="G1", channel="C1",
                                      local_time="09:30", timezone="Europe/Paris",
                                      speaker_id=None, source_id=None, created_by="200",
                                      now=later)
    assert not new
    assert changed.id == created.id
    assert (changed.local_time, changed.timezone) == ("09:30", "Europe/Paris")
    assert changed.active_from == iso(later)  # a time already past today first runs tomorrow
    assert (changed.created_by, changed.created_at) == ("100", iso(MORNING))  # the creator stays
    assert [s.id for s in await store.list()] == [created.id]


async def test_the_same_channel_id_on_another_workspace_or_platform_is_another_subscription(db):
    store = DailyStore(db)
    ids = {(await subscribe(store, "C1", platform=p, workspace=w)).id
           for p, w in (("discord", "G1"), ("discord", "G2"), ("slack", "G1"))}
    assert len(ids) == 3


async def test_upsert_re_enables_a_disabled_subscription_keeping_its_cycle_and_history(library):
    store = DailyStore(library.db)
    stage = await source_id(library.db, "stage")  # two good quotes: a cycle of two days
    sub = await subscribe(store, source_id=stage)
    for n in range(3):
        await send(store, sub.id, n)
    failing = await claim(store, sub.id, 3)
    assert await store.mark_failed(failing, now=at(3, 1), error="missing access",
                                   retry_at=at(3, 30), permanent=True, disable_after=1)
    disabled = await store.get(sub.id)
    assert not disabled.enabled and disabled.cycle == 1

    again, new = await store.upsert(platform="discord", workspace="G1", channel="C1",
                                    local_time="08:00", timezone="UTC", speaker_id=None,
                                    source_id=stage, created_by="100", now=at(3, 2))
    assert not new
    assert again.enabled and again.cycle == 1
    assert (again.failures, again.last_error, again.disabled_reason) == (0, None, None)
    assert [p.local_date for p in await store.posts(sub.id)] == [day(0), day(1), day(2), day(3)]


async def test_find_get_and_list_by_platform_workspace_and_enabled(library):
    store = DailyStore(library.db)
    a = await subscribe(store, "C1", workspace="G1")
    b = await subscribe(store, "C2", workspace="G2")
    c = await subscribe(store, "C3", platform="slack", workspace="T1")
    assert (await store.find("discord", "G2", "C2")).id == b.id
    assert await store.find("discord", "G1", "C2") is None
    assert (await store.get(c.id)).channel == "C3"
    assert await store.get(c.id + 100) is None

    got = await claim(store, b.id, 0)
    await store.mark_failed(got, now=at(0, 1), error="gone", retry_at=at(0, 30),
                            permanent=True, disable_after=1)

    def ids(subs):
        return [s.id for s in subs]

    assert ids(await store.list()) == [a.id, b.id, c.id]
    assert ids(await store.list(platform="discord")) == [a.id, b.id]
    assert ids(await store.list(platform="discord", workspace="G2")) == [b.id]
    assert ids(await store.list(workspace="T1")) == [c.id]
    assert ids(await store.list(enabled=False)) == [b.id]
    assert ids(await store.list(enabled=True)) == [a.id, c.id]
    assert ids(await store.list(platform="slack", enabled=False)) == []


async def test_delete_removes_the_subscription_and_its_history(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    other = await subscribe(store, "C2")
    await send(store, sub.id, 0)
    await send(store, other.id, 0)
    assert await store.delete(sub.id)
    assert await store.get(sub.id) is None and await store.find("discord", "G1", "C1") is None
    assert await store.posts(sub.id) == []
    assert [p.subscription_id for p in await store.posts()] == [other.id]
    assert not await store.delete(sub.id)


async def test_subscription_shows_its_latest_post(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    await send(store, sub.id, 0)
    pending = await claim(store, sub.id, 1)
    seen = await store.get(sub.id)
    assert (seen.latest_post_id, seen.latest_date) == (pending.post_id, day(1))
    assert seen.latest_sent_at is None and seen.latest_lease_until == iso(at(1) + LEASE)
    assert seen.last_sent_at == iso(at(0, 1))  # the last day that did go out


# ---- claims: exactly once ---------------------------------------------------------------


async def test_a_day_is_claimed_once_until_its_lease_ends_then_taken_over(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    first = await claim(store, sub.id, 0, by="a")
    assert first is not None and not first.taken_over
    assert (first.local_date, first.claimed_by, first.attempts) == (day(0), "a", 0)
    assert first.lease_until == at(0) + LEASE

    assert await claim(store, sub.id, 0, minutes=4.9, by="b") is None  # the lease holds

    second = await claim(store, sub.id, 0, minutes=5, by="b")  # the lease ran out
    assert second is not None and second.taken_over
    assert second.post_id == first.post_id and second.claimed_by == "b"
    assert second.quote.id == first.quote.id  # a take-over posts the same quote
    (post,) = await store.posts(sub.id)
    assert (post.claimed_by, post.lease_until) == ("b", iso(at(0, 5) + LEASE))


async def test_a_stale_holders_failure_moves_nothing_once_its_claim_was_taken_over(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    first = await claim(store, sub.id, 0, by="a")
    second = await claim(store, sub.id, 0, minutes=5, by="b")  # a's lease ran out
    assert second is not None and second.taken_over
    # a's send finally fails, permanently: b's lease and the failure count stay as they were.
    assert not await store.mark_failed(first, now=at(0, 6), error="missing access",
                                       retry_at=at(0, 7), permanent=True, disable_after=1)
    (post,) = await store.posts(sub.id)
    assert (post.claimed_by, post.lease_until, post.attempts) == (
        "b", iso(at(0, 5) + LEASE), 0)
    assert (await store.get(sub.id)).enabled  # one permanent failure would have disabled it
    assert await store.mark_sent(second, now=at(0, 6), message_ref="m1")


async def test_a_sent_day_is_never_claimed_again(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    got = await claim(store, sub.id, 0)
    assert await store.mark_sent(got, now=at(0, 1), message_ref="m1")
    for minutes, by in ((2, "a"), (6, "b"), (15 * 60, "c")):
        assert await claim(store, sub.id, 0, minutes=minutes, by=by) is None
    assert not await store.mark_sent(got, now=at(0, 2), message_ref="m2")  # already sent
    # A late failure report (a process that lost its lease) leaves the sent post alone.
    await store.mark_failed(got, now=at(0, 3), error="timed out", retry_at=at(0, 4),
                            permanent=False)
    (post,) = await store.posts(sub.id)
    assert (post.sent_at, post.message_ref, post.attempts) == (iso(at(0, 1)), "m1", 1)


async def test_a_failed_send_is_retried_from_its_retry_time_with_the_same_quote(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    got = await claim(store, sub.id, 0, by="a")
    assert not await store.mark_failed(got, now=at(0, 1), error="rate limited",
                                       retry_at=at(0, 10), permanent=False)
    assert await claim(store, sub.id, 0, minutes=9, by="b") is None
    retry = await claim(store, sub.id, 0, minutes=10, by="b")
    assert retry.taken_over and retry.attempts == 1 and retry.quote.id == got.quote.id
    seen = await store.get(sub.id)
    assert (seen.failures, seen.last_error, seen.enabled) == (0, "rate limited", True)


async def test_a_disabled_or_unknown_subscription_claims_nothing(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    assert await claim(store, sub.id + 1, 0) is None
    got = await claim(store, sub.id, 0)
    await store.mark_failed(got, now=at(0, 1), error="gone", retry_at=at(0, 2),
                            permanent=True, disable_after=1)
    assert await claim(store, sub.id, 1) is None
    assert [p.local_date for p in await store.posts(sub.id)] == [day(0)]


async def test_a_dry_run_claim_says_what_it_would_pick_and_records_nothing(library):
    store = DailyStore(library.db)
    stage = await source_id(library.db, "stage")
    sub = await subscribe(store, source_id=stage)
    await send(store, sub.id, 0)
    await send(store, sub.id, 1)  # the cycle is used up: the next claim starts another
    dry = await claim(store, sub.id, 2, dry_run=True, rand_key=123)
    assert dry is not None and dry.quote is not None
    assert len(await store.posts(sub.id)) == 2 and (await store.get(sub.id)).cycle == 0
    real = await claim(store, sub.id, 2, rand_key=123)
    assert (real.quote.id, real.cycle) == (dry.quote.id, dry.cycle)
    assert real.cycle == 1


# ---- claims: what is picked --------------------------------------------------------------


async def test_without_highlights_a_claim_picks_a_good_quote(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    got = await claim(store, sub.id, 0, rand_key=RAND_KEY_MAX // 2)
    assert got.quote.highlight_id is None
    assert got.quote.id in await good_ids(library.db)
    assert (await store.posts(sub.id))[0].quote_id == got.quote.id


async def test_a_cycle_never_repeats_a_quote_until_every_good_one_was_posted(library):
    store = DailyStore(library.db)
    pool = await good_ids(library.db)
    assert len(pool) == 6
    sub = await subscribe(store)
    rng = random.Random(5)
    picks = []
    for n in range(2 * len(pool)):
        got = await send(store, sub.id, n, rand_key=rng.randint(0, RAND_KEY_MAX))
        picks.append((got.quote.id, got.cycle))
    first, second = picks[:len(pool)], picks[len(pool):]
    assert {q for q, _ in first} == pool and {c for _, c in first} == {0}
    assert {q for q, _ in second} == pool and {c for _, c in second} == {1}
    assert second[0][0] != first[-1][0]  # the new cycle does not open with yesterday's quote
    assert (await store.get(sub.id)).cycle == 1
    assert [p.cycle for p in await store.posts(sub.id)] == [0] * 6 + [1] * 6


async def test_a_new_cycle_avoids_the_quote_posted_last_even_when_the_key_lands_on_it(library):
    store = DailyStore(library.db)
    stage = await source_id(library.db, "stage")
    sub = await subscribe(store, source_id=stage)
    await send(store, sub.id, 0, rand_key=0)
    last = await send(store, sub.id, 1, rand_key=0)
    key = await library.db.scalar("SELECT rand_key FROM quotes WHERE id = ?",
                                  (last.quote.id,))
    opening = await claim(store, sub.id, 2, rand_key=key)
    assert opening.cycle == 1 and opening.quote.id != last.quote.id


async def test_a_pool_of_one_quote_repeats_it_cycle_after_cycle(db):
    await share_operator_library(db)
    store = DailyStore(db)
    await QuoteStore(db).replace_source(source("one", "One line"), [GREG],
                                        quotes([(GREG, GREG_LINES[0], None, 0.9)]))
    sub = await subscribe(store)
    picks = [(await send(store, sub.id, n, rand_key=n)) for n in range(3)]
    assert len({p.quote.id for p in picks}) == 1
    assert [p.cycle for p in picks] == [0, 1, 2]


async def test_speaker_and_source_filters_restrict_picks(library):
    db = library.db
    store = DailyStore(db)
    greg = await speaker_id(db, GREG.name)
    podcast = await source_id(db, "podcast")
    by_greg = await subscribe(store, "C1", speaker_id=greg)
    on_podcast = await subscribe(store, "C2", source_id=podcast)
    greg_pool = await good_ids(db, "speaker_id = ?", (greg,))
    podcast_pool = await good_ids(db, "source_id = ?", (podcast,))
    assert (len(greg_pool), len(podcast_pool)) == (2, 4)
    rng = random.Random(9)
    for n in range(8):
        got = await send(store, by_greg.id, n, rand_key=rng.randint(0, RAND_KEY_MAX))
        assert got.quote.id in greg_pool and got.quote.speaker_id == greg
        got = await send(store, on_podcast.id, n, rand_key=rng.randint(0, RAND_KEY_MAX))
        assert got.quote.id in podcast_pool and got.quote.source_id == podcast
    assert (await store.get(by_greg.id)).cycle == 3  # eight days over a pool of two
    assert (await store.get(on_podcast.id)).cycle == 1


async def test_has_eligible_says_whether_any_good_quote_matches(library):
    db = library.db
    store = DailyStore(db)
    greg = await speaker_id(db, GREG.name)
    dwarkesh = await speaker_id(db, "Dwarkesh Patel")
    podcast, stage = await source_id(db, "podcast"), await source_id(db, "stage")
    assert await store.has_eligible(None, None)
    assert await store.has_eligible(greg, None) and await store.has_eligible(None, podcast)
    assert await store.has_eligible(greg, stage)
    assert await store.has_eligible(dwarkesh, podcast)  # one good line beside a "Yeah."
    assert not await store.has_eligible(greg, podcast)  # Greg is not on the podcast
    assert not await store.has_eligible(greg + 100, None)


async def test_claims_prefer_highlights_standalone_first_and_never_repeat_within_a_cycle(
        highlighted):
    store = DailyStore(highlighted)
    rows = await highlighted.fetchall("SELECT id, score, text FROM highlights")
    standalone = {r["id"] for r in rows if r["score"] >= 0.45}
    texts = {r["id"]: r["text"] for r in rows}
    assert len(rows) == 3 and len(standalone) == 2
    # The one that may need context gets the lowest key, so that seeking from key 0 would
    # find it first: only the standalone-first rule keeps it for last.
    async with highlighted.transaction() as conn:
        await conn.execute("UPDATE highlights SET rand_key = CASE WHEN score >= 0.45 "
                           "THEN 1000 + id ELSE 0 END")
    sub = await subscribe(store)
    picks = []
    for n in range(6):
        got = await send(store, sub.id, n, rand_key=0)
        assert got.quote.text == texts[got.quote.highlight_id]  # the highlight's words
        picks.append((got.quote.highlight_id, got.cycle))
    for cycle in (picks[:3], picks[3:]):
        assert {h for h, _ in cycle[:2]} == standalone  # those that stand alone come first
        assert len({h for h, _ in cycle}) == 3
    assert [c for _, c in picks] == [0, 0, 0, 1, 1, 1]


async def test_filters_matching_no_highlight_fall_back_to_good_quotes(highlighted):
    store = DailyStore(highlighted)
    podcast = await source_id(highlighted, "podcast")
    sub = await subscribe(store, source_id=podcast)
    pool = await good_ids(highlighted, "source_id = ?", (podcast,))
    got = await claim(store, sub.id, 0, rand_key=RAND_KEY_MAX)
    assert got.quote.highlight_id is None and got.quote.id in pool


async def test_a_take_over_whose_quote_was_deleted_by_a_re_ingest_picks_another(library):
    db = library.db
    store = DailyStore(db)
    stage = await source_id(db, "stage")
    sub = await subscribe(store, source_id=stage)
    first = await claim(store, sub.id, 0, by="a")
    kept = [row for row in STAGE if row[1] != first.quote.text]
    await QuoteStore(db).replace_source(source("stage", "Greg Brockman on stage"), [GREG],
                                        quotes(kept))
    assert await db.scalar("SELECT quote_id FROM daily_posts WHERE id = ?",
                           (first.post_id,)) is None  # the re-ingest deleted it
    again = await claim(store, sub.id, 0, minutes=5, by="b")
    assert again.taken_over and again.post_id == first.post_id
    assert again.quote is not None and again.quote.id != first.quote.id
    assert again.quote.id in await good_ids(db, "source_id = ?", (stage,))


async def test_pick_shows_the_next_claims_quote_without_claiming_it(library):
    store = DailyStore(library.db)
    stage = await source_id(library.db, "stage")
    sub = await subscribe(store, source_id=stage)
    for n, key in enumerate((0, RAND_KEY_MAX // 3)):
        shown = await store.pick(sub.id, rand_key=key)
        got = await send(store, sub.id, n, rand_key=key)
        assert shown.id == got.quote.id
    # The cycle is used up; the key lands on the quote posted last, which the next claim
    # (a new cycle) avoids: so must what pick shows.
    last = got.quote.id
    key = await library.db.scalar("SELECT rand_key FROM quotes WHERE id = ?", (last,))
    shown = await store.pick(sub.id, rand_key=key)
    assert len(await store.posts(sub.id)) == 2 and (await store.get(sub.id)).cycle == 0
    got = await claim(store, sub.id, 2, rand_key=key)
    assert shown.id == got.quote.id != last
    assert await store.pick(sub.id + 1, rand_key=0) is None


# ---- failures -----------------------------------------------------------------------------


async def test_a_day_without_an_eligible_quote_is_abandoned_and_counted_once(library):
    db = library.db
    store = DailyStore(db)
    greg, podcast = await speaker_id(db, GREG.name), await source_id(db, "podcast")
    sub = await subscribe(store, speaker_id=greg, source_id=podcast)
    assert await claim(store, sub.id, 0) is None
    assert await claim(store, sub.id, 0, minutes=60, by="b") is None  # not retried all day
    (post,) = await store.posts(sub.id)
    assert post.quote_id is None and post.abandoned_at == iso(at(0))
    assert post.last_error == NO_QUOTE and post.sent_at is None
    seen = await store.get(sub.id)
    assert (seen.failures, seen.last_error, seen.enabled) == (1, NO_QUOTE, True)

    for n in range(1, DISABLE_AFTER):
        assert await claim(store, sub.id, n) is None
    seen = await store.get(sub.id)
    assert (seen.failures, seen.enabled, seen.disabled_reason) == (
        DISABLE_AFTER, False, NO_QUOTE)


async def test_permanent_failures_disable_after_the_limit_keeping_the_reason(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    got = await claim(store, sub.id, 0)
    for attempt in range(1, DISABLE_AFTER):
        assert not await store.mark_failed(got, now=at(0, attempt), error="missing access",
                                           retry_at=at(0, attempt), permanent=True)
        assert (await store.get(sub.id)).failures == attempt
        got = await claim(store, sub.id, 0, minutes=attempt, by="b")
        assert got.attempts == attempt
    # A transient failure in between is no step toward disabling.
    assert not await store.mark_failed(got, now=at(0, 10), error="rate limited",
                                       retry_at=at(0, 10), permanent=False)
    assert (await store.get(sub.id)).failures == DISABLE_AFTER - 1
    got = await claim(store, sub.id, 0, minutes=10)
    assert await store.mark_failed(got, now=at(0, 11), error="missing access",
                                   retry_at=at(0, 20), permanent=True)
    seen = await store.get(sub.id)
    assert not seen.enabled
    assert (seen.failures, seen.disabled_reason) == (DISABLE_AFTER, "missing access")
    (post,) = await store.posts(sub.id)
    assert post.abandoned_at == iso(at(0, 11)) and post.attempts == DISABLE_AFTER + 1
    assert await claim(store, sub.id, 0, minutes=30) is None
    assert await claim(store, sub.id, 1) is None


async def test_a_sent_post_resets_the_failure_count(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    for n in range(2):
        for attempt in range(DISABLE_AFTER - 1):
            got = await claim(store, sub.id, n, minutes=10 * attempt)
            assert not await store.mark_failed(got, now=at(n, 10 * attempt), error="denied",
                                               retry_at=at(n, 10 * attempt), permanent=True)
        got = await claim(store, sub.id, n, minutes=30)
        assert await store.mark_sent(got, now=at(n, 31), message_ref=f"m{n}")
        seen = await store.get(sub.id)
        assert (seen.enabled, seen.failures, seen.last_error) == (True, 0, None)


async def test_disable_after_is_a_parameter(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    got = await claim(store, sub.id, 0)
    assert await store.mark_failed(got, now=at(0, 1), error="channel deleted",
                                   retry_at=at(0, 2), permanent=True, disable_after=1)
    assert (await store.get(sub.id)).disabled_reason == "channel deleted"


# ---- abandoning and history ---------------------------------------------------------------


async def test_abandon_stale_abandons_unsent_claims_of_earlier_days_for_good(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    await send(store, sub.id, 0)
    got = await claim(store, sub.id, 1)
    await store.mark_failed(got, now=at(1, 1), error="rate limited", retry_at=at(1, 2),
                            permanent=False)
    assert await store.abandon_stale(sub.id, day(1), now=at(1, 3)) == 0  # not before itself
    assert await store.abandon_stale(sub.id, day(2), now=at(2)) == 1
    sent, missed = await store.posts(sub.id)
    assert sent.abandoned_at is None and sent.sent_at is not None
    assert missed.abandoned_at == iso(at(2)) and missed.sent_at is None
    seen = await store.get(sub.id)
    assert seen.last_error == (f"missed the post of {day(1)}: the day ended before it went out"
                               " (last error: rate limited)")
    assert seen.latest_abandoned_at == iso(at(2))
    assert await claim(store, sub.id, 1, minutes=60, by="b") is None  # never retried
    assert await store.abandon_stale(sub.id, day(2), now=at(2, 1)) == 0


async def test_claiming_a_new_day_abandons_the_unsent_claims_of_earlier_days(library):
    store = DailyStore(library.db)
    sub = await subscribe(store)
    await claim(store, sub.id, 0)
    assert await claim(store, sub.id, 1) is not None
    stale, fresh = await store.posts(sub.id)
    assert stale.abandoned_at == iso(at(1)) and fresh.abandoned_at is None
    assert await claim(store, sub.id, 0, minutes=60, by="b") is None
    assert (await store.get(sub.id)).last_error.startswith(f"missed the post of {day(0)}")


async def test_posts_list_history_oldest_first(library):
    store = DailyStore(library.db)
    a = await subscribe(store, "C1")
    b = await subscribe(store, "C2")
    for n in (2, 0, 1):  # claimed out of order; listed by local date
        await send(store, a.id, n)
    await send(store, b.id, 1)
    history = await store.posts(a.id)
    assert [p.local_date for p in history] == [day(0), day(1), day(2)]
    assert [p.message_ref for p in history] == ["msg-0", "msg-1", "msg-2"]
    assert all(p.subscription_id == a.id and p.claimed_by == "a" for p in history)
    assert [(p.subscription_id, p.local_date) for p in await store.posts()] == [
        (a.id, day(0)), (a.id, day(1)), (b.id, day(1)), (a.id, day(2))]
    assert await store.posts(b.id + 1) == []
