"""bot/library.py: paging a search, seeded draws, styles and context over a real database."""

from __future__ import annotations

import random

import pytest

from quotebot.bot.library import CLEAN, EXACT, QuoteLibrary
from quotebot.bot.models import ChannelRef

pytestmark = pytest.mark.both_engines

async def test_a_page_of_matches_counts_every_match(library):
    everything = await library.search("that", limit=100)
    first, total = await library.search_page("that", offset=0, limit=1)
    second, same_total = await library.search_page("that", offset=1, limit=1)
    assert total == same_total == len(everything) > 1
    assert [first[0].id, second[0].id] == [q.id for q in everything[:2]]
    assert await library.search_page("that", offset=total, limit=1) == ([], total)


async def test_draws_from_a_seeded_library_repeat_exactly(library):
    async def draws(seed: int) -> list[int]:
        seeded = QuoteLibrary(library.db, rng=random.Random(seed))
        await seeded.load()
        picked = [await seeded.random() for _ in range(5)]
        return [draw.quote.id for draw in picked if draw is not None]

    first = await draws(7)
    assert len(first) == 5 and first == await draws(7)


async def test_a_channel_without_a_setting_sees_the_clean_form(library):
    channel = ChannelRef("discord", "1", "2")
    assert await library.style_for(channel) == CLEAN
    await library.store.set_channel_setting("discord", "1", "2", "style", EXACT)
    assert await library.style_for(channel) == EXACT
    assert await library.style_for(None) == CLEAN


async def test_context_is_the_quote_among_its_neighbours_in_order(library):
    (quote,) = await library.search("secret sauce", limit=1)
    around = await library.context(quote, 1)
    positions = [q.position for q in around]
    assert positions == sorted(positions) and quote.id in [q.id for q in around]
    assert all(q.source_id == quote.source_id for q in around)
