"""Typos the vocabulary cannot correct, found on PostgreSQL by the trigram index of the text."""

from __future__ import annotations

import pytest

from quotebot.bot.library import QuoteLibrary
from quotebot.store.db import Database
from quotebot.store.quotes import QuoteStore
from tests.conftest import ILYA, add_lines, copy_database, fill

LINES = [
    "Photosynthesis turns sunlight into chemical energy, and that is the whole trick.",
    "Sunlight is free, but turning it into anything takes a machine.",
    "The whole trick is to keep going when nothing works.",
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def library(request, empty_file, tmp_path) -> QuoteLibrary:
    if request.param == "sqlite":
        db = await Database.open(copy_database(empty_file, tmp_path))
    else:
        from quotebot.store.pg_db import PgDatabase

        db = await PgDatabase.open(request.getfixturevalue("postgres_db"))
    lib = QuoteLibrary(db)
    await fill(lib)
    await add_lines(lib, "biology", "A talk on plants", ILYA, LINES)
    await lib.store.refresh_terms()
    await lib.load()
    yield lib
    await db.close()


# Both ends of the word changed (the vocabulary compares words that share a first or a last
# letter), or three letters of it (it allows two): no correction reaches the index.
MANGLED = ["fhotosynthesiz", "fhotosynthesiz sunlite"]


@pytest.mark.parametrize("query", MANGLED)
async def test_postgresql_finds_what_the_index_alone_misses(library, query, monkeypatch):
    hits = await library.search(query, limit=3)
    if library.db.engine == "sqlite":
        assert hits == []  # the tsquery / FTS5 path alone: nothing
        return
    assert hits and hits[0].text.startswith("Photosynthesis turns sunlight")

    # Without the trigram lookup, PostgreSQL's full-text index misses it too.
    async def nothing(self, query, limit):
        return []

    monkeypatch.setattr(QuoteStore, "similar", nothing)
    assert await library.search(query, limit=3) == []


async def test_the_lookup_respects_a_speaker_filter(library):
    speakers = {s.name: s for s in library.speakers}
    assert await library.search("fhotosynthesiz", speaker=speakers["Greg Brockman"]) == []
    hits = await library.search("fhotosynthesiz", speaker=speakers["Ilya Sutskever"])
    if library.db.engine == "sqlite":
        assert hits == []  # no trigram lookup there
    else:
        assert hits and hits[0].text.startswith("Photosynthesis")


async def test_words_the_vocabulary_corrects_are_found_the_same_on_both(library):
    hits = await library.search("photosynthesys sunlight", limit=1)
    assert hits and hits[0].text.startswith("Photosynthesis turns sunlight")


async def test_a_lookup_past_its_time_limit_gives_up_and_the_search_still_answers(
        library, caplog):
    """A trigram lookup that takes longer than PG_SIMILAR_MS (here: it waits for a lock
    another connection holds on the quotes) is cancelled by the server; the search answers
    without it, and the pooled connection serves the next one."""
    if library.db.engine == "sqlite":
        return  # no trigram lookup to time out (the test above shows SQLite's answer)
    import asyncpg

    holder = await asyncpg.connect(library.db._url)
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE quotes IN ACCESS EXCLUSIVE MODE")
            caplog.set_level("INFO")
            assert await library.search("fhotosynthesiz", limit=3) == []
            assert "trigram lookup of" in caplog.text and "gave up after" in caplog.text
    finally:
        await holder.close()
    hits = await library.search("fhotosynthesiz", limit=3)
    assert hits and hits[0].text.startswith("Photosynthesis turns sunlight")
