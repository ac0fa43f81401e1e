"""Writing a file's quotes: every row stored in order, in statements of a few sizes."""

from __future__ import annotations

import pickle

import pytest

from quotebot.store.fts import TextQuery
from quotebot.store.quotes import (
    INSERT_CHUNK_ROWS,
    NewHighlight,
    NewQuote,
    QuoteStore,
    _chunk_sizes,
)
from tests.conftest import ILYA, source

pytestmark = pytest.mark.both_engines

def test_chunk_sizes_cover_every_row_with_few_distinct_statements():
    sizes_seen: set[int] = set()
    for rows in range(0, 3 * INSERT_CHUNK_ROWS + 7):
        sizes = _chunk_sizes(rows)
        assert sum(sizes) == rows
        sizes_seen.update(sizes)
    # One compiled statement per size: a handful, not one per file length.
    assert len(sizes_seen) <= INSERT_CHUNK_ROWS.bit_length()


async def test_a_long_file_is_stored_whole_and_in_order(db):
    count = INSERT_CHUNK_ROWS + 345  # a full chunk and a rest of several sizes
    quotes = [NewQuote(ILYA.name, f"Quote number {i} is about scaling.", i * 1.5, i, 0.75)
              for i in range(count)]
    await QuoteStore(db).replace_source(source("long", "Long"), [ILYA], quotes)
    rows = await db.fetchall("SELECT position, start, text, quotability FROM quotes "
                             "ORDER BY id")
    assert [tuple(r) for r in rows] == [(q.position, q.start, q.text, q.quotability)
                                        for q in quotes]
    hits = await QuoteStore(db).match(TextQuery((("scaling",),)), count + 1, ranked=False)
    assert len(hits) == count


def test_new_rows_survive_the_trip_from_a_worker_process():
    quote = NewQuote(None, "Ideas are cheap.", None, 3, 0.6)
    passage = NewHighlight("Ilya Sutskever", 1, 2, "Ideas are cheap.", 4.5, 0.7, ("+0.03 x",))
    assert pickle.loads(pickle.dumps(quote)) == quote
    assert pickle.loads(pickle.dumps(passage)) == passage
