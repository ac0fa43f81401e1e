"""`QuoteStore.match` on PostgreSQL: common words read rows in table order, not a GIN bitmap."""

from __future__ import annotations

import pytest

from quotebot.bot.library import QuoteLibrary
from quotebot.store import quotes as quotes_module
from quotebot.store.fts import ALL, TextQuery
from tests.conftest import DWARKESH, GREG, add_lines, fill

COMMON = [f"the cat sat on mat number {i}" for i in range(12)]


@pytest.fixture
async def library(postgres_db) -> QuoteLibrary:
    from quotebot.store.pg_db import PgDatabase

    db = await PgDatabase.open(postgres_db)
    lib = QuoteLibrary(db)
    await fill(lib)
    await add_lines(lib, "cats", "Cats", DWARKESH, COMMON)
    await add_lines(lib, "zoo", "Zoo", GREG, ["a zebra met the cat at last"])
    await lib.load()
    yield lib
    await db.close()


SCAN = 12  # rows a scan reads here: the 8 quotes of `fill`, then the first 4 of COMMON


@pytest.fixture
def small_scans(monkeypatch):
    """Every query counts as dense, and a scan reads SCAN rows at most."""
    monkeypatch.setattr(quotes_module, "PG_DENSE_DOCS", 1)
    monkeypatch.setattr(quotes_module, "PG_SCAN_ROWS", SCAN)


@pytest.fixture
def statements(library, monkeypatch) -> list[str]:
    """The SQL each `match` sends, in order."""
    sent: list[str] = []
    for name in ("fetchall", "scalar"):
        real = getattr(library.db, name)

        async def spy(sql, params=(), real=real):
            sent.append(" ".join(sql.split()))
            return await real(sql, params)

        monkeypatch.setattr(library.db, name, spy)
    return sent


def _query(*words: str, speaker_id: int | None = None, dense: bool = True) -> TextQuery:
    return TextQuery(tuple((w,) for w in words), ALL, 0, speaker_id,
                     rarest_docs=10**6 if dense else 0)


async def _texts(library, rows) -> list[str]:
    found = await library.store.texts([qid for qid, _ in rows])
    return [found[qid] for qid, _ in rows]


async def test_a_dense_query_keeps_the_first_matches_it_reads(library, small_scans,
                                                             statements):
    rows = await library.store.match(_query("the", "cat"), 10, ranked=False)
    # The first SCAN quotes in table order hold four matches: those, and no GIN bitmap.
    assert len(statements) == 1 and f"LIMIT {SCAN}" in statements[0]
    assert await _texts(library, rows) == COMMON[:4]
    # What the index finds (not dense): the limit, from every match.
    every = await library.store.match(_query("the", "cat", dense=False), 10, ranked=False)
    assert len(every) == 10 and {qid for qid, _ in rows} <= {qid for qid, _ in every}


async def test_when_the_rows_read_hold_no_match_the_index_answers(library, small_scans,
                                                                  statements):
    rows = await library.store.match(_query("zebra"), 10, ranked=False)
    scan, count, index = statements
    assert await _texts(library, rows) == ["a zebra met the cat at last"]
    assert f"LIMIT {SCAN}" in scan and "count(*)" in count and "q.words @@" in index


async def test_a_speakers_quotes_are_read_whole_when_few(library, small_scans, statements):
    greg = {s.name: s.id for s in library.speakers}["Greg Brockman"]
    # Greg has fewer quotes than a scan reads: none holds "mat", and that is the answer.
    assert await library.store.match(_query("mat", speaker_id=greg), 10, ranked=False) == []
    assert len(statements) == 2  # the scan, and the count that says it read them all
    rows = await library.store.match(_query("zebra", speaker_id=greg), 10, ranked=False)
    assert await _texts(library, rows) == ["a zebra met the cat at last"]


async def test_ranked_queries_keep_to_the_index(library, small_scans):
    ranked = await library.store.match(_query("zebra", "cat"), 10, ranked=True)
    assert await _texts(library, ranked) == ["a zebra met the cat at last"]
    assert ranked[0][1] < 0  # -ts_rank: lower is better, as FTS5's bm25
    # A library's scan that finds nothing in the rows it may read: the index answers.
    narrowed = TextQuery((("zebra",),), ALL, 0, None, None, (1,), True, 10**6)
    rows = await library.store.match(narrowed, 10, ranked=False)
    assert await _texts(library, rows) == ["a zebra met the cat at last"]


async def test_a_small_librarys_own_quotes_are_read_not_a_bitmap_of_the_database(
        library, small_scans, statements):
    """One community's library among many: a query of common words reads that library's
    quotes (by their collection's index, migration 7) and keeps its matches; it used to
    read a GIN bitmap of every match in the database first (100-300 ms at 1M quotes)."""
    theirs = ["the cat of the community", "no match here", "another cat for them"]
    await add_lines(library, "theirs", "Theirs", GREG, theirs, owner=("discord", "g1"))
    collection = await library.db.scalar(
        "SELECT id FROM collections WHERE platform = 'discord' AND workspace = 'g1'")
    statements.clear()
    query = TextQuery((("cat",),), ALL, 0, None, None, (collection,), True, 10**6)
    rows = await library.store.match(query, 10, ranked=False)
    assert len(statements) == 1 and f"LIMIT {SCAN}" in statements[0]
    assert "collection_id" in statements[0]
    assert await _texts(library, rows) == [theirs[0], theirs[2]]
