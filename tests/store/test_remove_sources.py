"""Removing sources: quotes, words and daily subscriptions, all in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quotebot.store.daily import DailyStore
from quotebot.store.quotes import NewQuote, QuoteStore, SpeakerInfo
from tests.conftest import source

pytestmark = pytest.mark.both_engines
ADA = SpeakerInfo("Ada Lovelace", None, ())


async def add(store: QuoteStore, slug: str, text: str) -> int:
    result = await store.replace_source(source(slug, slug.title()), [ADA],
                                        [NewQuote(ADA.name, text, None, 0, 0.9)])
    return result.source_id


async def test_removing_a_source_drops_its_quotes_and_words_and_pauses_its_dailies(db):
    store = QuoteStore(db)
    keep = await add(store, "keep", "The engine weaves algebraic patterns.")
    drop = await add(store, "drop", "Zebras gallop across the savanna.")
    await store.refresh_terms()
    daily = DailyStore(db)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    sub, _ = await daily.upsert(platform="slack", workspace="T1", channel="C1",
                                local_time="09:00", timezone="UTC", speaker_id=None,
                                source_id=drop, created_by="u", now=now)
    other, _ = await daily.upsert(platform="slack", workspace="T1", channel="C2",
                                  local_time="09:00", timezone="UTC", speaker_id=None,
                                  source_id=keep, created_by="u", now=now)
    [found] = await store.sources_by_slug(["drop", "nope"])
    assert (found.slug, found.quotes) == ("drop", 1)
    result = await store.remove_sources([found.id])
    assert (result.sources, result.quotes, result.subscriptions_disabled) == (1, 1, 1)
    assert [s.slug for s in await store.sources_by_slug(["keep", "drop"])] == ["keep"]
    assert await db.scalar("SELECT count(*) FROM terms WHERE term = 'zebras'") == 0
    assert await db.scalar("SELECT count(*) FROM terms WHERE term = 'engine'") == 1
    paused = await db.fetchone("SELECT enabled, disabled_reason FROM subscriptions WHERE id = ?",
                               (sub.id,))
    assert paused[0] == 0 and "removed" in paused[1]
    assert await db.scalar("SELECT enabled FROM subscriptions WHERE id = ?", (other.id,)) == 1


async def test_sources_under_a_folder_match_by_path_prefix_only(db):
    store = QuoteStore(db)
    for slug, path in (("a", "/data/shows/a.txt"), ("b", "/data/shows/deep/b.txt"),
                       ("c", "/data/shows-old/c.txt"), ("d", "/data/sh%ws/d.txt")):
        record = source(slug, slug)
        record = type(record)(**{**record.__dict__, "path": path})
        await store.replace_source(record, [ADA], [NewQuote(ADA.name, f"Line {slug}.", None,
                                                            0, 0.9)])
    assert [s.slug for s in await store.sources_under("/data/shows")] == ["a", "b"]
    assert [s.slug for s in await store.sources_under("/data/sh%ws/")] == ["d"]
