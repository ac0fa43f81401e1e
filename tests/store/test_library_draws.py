"""Random draws inside a library seek the (collection, rand_key) indexes: one seek per
collection in one statement, never a scan of the quotes or the highlights."""

from __future__ import annotations

from quotebot.store.quotes import _highlight_seek_sql, _seek_sql, quote_filters


def union(parts) -> tuple[str, tuple]:
    sql = " UNION ALL ".join(f"SELECT * FROM ({p}) AS s{i}" for i, (p, _) in enumerate(parts))
    return sql + " ORDER BY seek_key LIMIT 1", tuple(v for _, vals in parts
                                                     for v in (5, *vals[1:]))


async def plan(db, sql, params) -> str:
    return " | ".join(r[3] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql, params))


async def test_a_draw_over_a_library_seeks_each_collection_by_index(db):
    for speaker_id, index in ((None, "quotes_good"), (7, "quotes_good_by_speaker")):
        found = await plan(db, *union([_seek_sql("rand_key", *quote_filters(
            speaker_id, None, collections=(c,)), ()) for c in (1, 2)]))
        assert found.count(f"SEARCH q USING INDEX {index} (collection_id=?") == 2, found
        assert "SCAN q" not in found, found
    for speaker_id, index in ((None, "highlights_random"), (7, "highlights_by_speaker")):
        found = await plan(db, *union([_highlight_seek_sql(speaker_id, None, "deck", 5, 0.45,
                                                           (c,)) for c in (1, 2)]))
        assert found.count(f"SEARCH h USING INDEX {index} (collection_id=?") == 2, found
        assert "SCAN h" not in found, found
