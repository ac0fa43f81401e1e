"""store/quotes.py: replacing a source keeps ids, highlights and decks, and the stats."""

from __future__ import annotations

import pytest

from quotebot.store.quotes import NewHighlight, NewQuote, QuoteStore
from quotebot.store.schema import OPERATOR_COLLECTION
from tests.conftest import GREG, source

pytestmark = pytest.mark.both_engines
SAUCE = "We just make payments really good, and that was the secret sauce for us."
INPUTS = "You can only control your inputs, you can control the experiments you run."


def talk(*texts: str) -> list[NewQuote]:
    return [NewQuote(GREG.name, text, float(i), i, 0.8) for i, text in enumerate(texts)]


async def test_re_ingesting_keeps_the_ids_of_unchanged_quotes_and_highlights(db):
    store = QuoteStore(db)
    passage = NewHighlight(GREG.name, 0, 0, SAUCE, 0.0, 0.7, ("+0.05 present tense",))
    first = await store.replace_source(source("stage", "On stage"), [GREG],
                                       talk(SAUCE, INPUTS), [passage])
    assert (first.kept, first.added, first.removed) == (0, 2, 0)
    ids = dict(await db.fetchall("SELECT text, id FROM quotes"))
    (highlight_id,) = [row[0] for row in await db.fetchall("SELECT id FROM highlights")]

    # The file changed: a line was inserted before the others, one was dropped.
    again = await store.replace_source(source("stage", "On stage"), [GREG],
                                       talk("A new opening line for the talk today.", SAUCE),
                                       [NewHighlight(GREG.name, 1, 1, SAUCE, 1.0, 0.7)])
    assert (again.kept, again.added, again.removed) == (1, 1, 1)
    now = dict(await db.fetchall("SELECT text, id FROM quotes"))
    assert now[SAUCE] == ids[SAUCE] and INPUTS not in now
    assert await db.scalar("SELECT position FROM quotes WHERE id = ?", (ids[SAUCE],)) == 1
    assert [row[0] for row in await db.fetchall("SELECT id FROM highlights")] == [highlight_id]


async def two_highlights(db) -> QuoteStore:
    """A store holding one source of two quotes, each its own highlight."""
    store = QuoteStore(db)
    passages = [NewHighlight(GREG.name, i, i, text, float(i), 0.7)
                for i, text in enumerate((SAUCE, INPUTS))]
    await store.replace_source(source("stage", "On stage"), [GREG], talk(SAUCE, INPUTS),
                               passages)
    return store


async def test_a_deck_never_draws_a_shown_highlight_until_it_restarts(db):
    store = await two_highlights(db)

    async def draw():
        rows = await store.random_highlights([0], speaker_id=None, source_id=None, deck="c")
        return rows[0].highlight_id if rows else None

    seen = []
    for _ in range(2):
        seen.append(await draw())
        await store.mark_shown("c", seen[-1])
    assert sorted(seen) == sorted(set(seen))
    assert await draw() is None
    assert await store.last_shown("c") == seen[-1]
    await store.restart_deck("c", keep=seen[-1])
    assert await draw() == seen[0]  # the last one shown stays out of the new round


async def test_a_draw_wraps_past_the_last_key_and_sees_only_its_collections(db):
    store = await two_highlights(db)
    keys = dict(await db.fetchall("SELECT rand_key, id FROM highlights"))
    first, last = min(keys), max(keys)
    drawn = await store.random_highlights([first, last, last + 1], speaker_id=None,
                                          source_id=None, deck=None)
    assert [row.highlight_id for row in drawn] == [keys[first], keys[last], keys[first]]
    assert len(await store.random_quotes([0, 2**31 - 1])) == 2
    for seen, found in ((OPERATOR_COLLECTION,), 2), ((OPERATOR_COLLECTION + 1,), 0), ((), 0):
        assert len(await store.random_highlights([0, 7], speaker_id=None, source_id=None,
                                                 deck=None, collections=seen)) == found
        assert len(await store.random_quotes([0, 7], collections=seen)) == found


async def test_stats_count_what_was_stored(db):
    store = QuoteStore(db)
    await store.replace_source(source("stage", "On stage"), [GREG], talk(SAUCE, INPUTS))
    stats = await store.stats()
    assert (stats["quotes"], stats["good_quotes"], stats["sources"], stats["speakers"]) == (
        2, 2, 1, 1)
    assert stats["bytes"] > 0


async def test_repair_rebuilds_stale_words_once_and_waits_for_a_running_ingest(db):
    store = QuoteStore(db)
    await store.replace_source(source("stage", "On stage"), [GREG], talk(SAUCE, INPUTS))
    assert await store.terms_stale()
    async with db.ingesting():  # an ingest rebuilds at its end: a repair keeps out
        assert not await store.repair()
    assert await store.repair()
    assert not await store.terms_stale()
    assert await store.term_frequencies(["sauce", "inputs"]) == {"sauce": 1, "inputs": 1}
    assert not await store.repair()  # nothing stale: nothing done
