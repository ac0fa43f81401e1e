"""Search inside a library that is most of the database: the index is not narrowed (that
costs more than it saves there), yet no other library's quote is counted or shown."""

from __future__ import annotations

import pytest

from quotebot.bot.library import QuoteLibrary
from quotebot.store.quotes import NewQuote, NewSource, SpeakerInfo

pytestmark = pytest.mark.both_engines
BIG = SpeakerInfo("Bea Major", None, ())
SMALL = SpeakerInfo("Sol Minor", None, ())


async def test_a_large_librarys_search_sees_its_own_quotes_only(db):
    library = QuoteLibrary(db)
    big = await library.writer(library=("discord", "1"))
    await big.replace_source(
        NewSource("big", "Big Show", None, None, None, None, "t", "h-b", {}), [BIG],
        [NewQuote(BIG.name, f"The zebra crossing number {i} was painted on a Tuesday.",
                  float(i), i, 0.9) for i in range(40)])
    small = await library.writer(library=("discord", "2"))
    await small.replace_source(
        NewSource("small", "Small Show", None, None, None, None, "t", "h-s", {}), [SMALL],
        [NewQuote(SMALL.name, f"A zebra crossing, painted number {i}, on a Tuesday.",
                  float(i), i, 0.9) for i in range(3)])
    await library.store.refresh_terms()
    await library.load()
    mine = await library.scope_of("discord", "1")
    theirs = await library.scope_of("discord", "2")
    assert library._most_of_it(mine) and not library._most_of_it(theirs)

    found, total = await library.search_page("zebra crossing tuesday", limit=50,
                                             scope=mine)
    assert total == 40 and {q.speaker for q in found} == {"Bea Major"}
    found, total = await library.search_page("zebra crossing tuesday", limit=50,
                                             scope=theirs)
    assert total == 3 and {q.speaker for q in found} == {"Sol Minor"}
    typed = await library.search("zebra crossing tues", prefix_last=True, limit=25,
                                 scope=mine)
    assert typed and {q.speaker for q in typed} == {"Bea Major"}
