"""Random draws inside a library seek the (collection, rand_key) indexes: one seek per
collection and key, all keys of a draw in one statement, never a scan of the
quotes or the highlights."""

from __future__ import annotations

from quotebot.store.quotes import _highlights_draw_sql, _quotes_draw_sql


async def plan(db, sql, params) -> str:
    return " | ".join(r[3] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql, params))


async def test_a_draw_over_a_library_seeks_each_collection_by_index(db):
    for speaker_id, index in ((None, "quotes_good"), (7, "quotes_good_by_speaker")):
        found = await plan(db, *_quotes_draw_sql([5, 9], "rand_key", speaker_id, None, True,
                                                 (3,), (1, 2)))
        assert found.count(f"SEARCH q USING INDEX {index} (collection_id=?") == 2, found
        assert "SCAN q" not in found, found
    for speaker_id, index in ((None, "highlights_random"), (7, "highlights_by_speaker")):
        found = await plan(db, *_highlights_draw_sql([5, 9], speaker_id, None, "deck", 0.45,
                                                     (1, 2)))
        assert found.count(f"SEARCH h USING INDEX {index} (collection_id=?") == 2, found
        assert "SCAN h" not in found, found
