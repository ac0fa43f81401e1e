"""Queries over sources, speakers and quotes: ingest writes, lookups, FTS matches, random picks."""

from __future__ import annotations

import json
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from quotebot.store import derived, fts
from quotebot.store.db import Database
from quotebot.store.fts import TextQuery, filter_tags
from quotebot.store.saved import SavedFrom, write_origins
from quotebot.store.schema import GOOD_QUOTABILITY, OPERATOR_COLLECTION

log = logging.getLogger(__name__)

GOOD = GOOD_QUOTABILITY
# Highlights scoring at least this stand alone; those under it may need context and are
# drawn only after every highlight that stands alone (bot.highlights scores them).
STANDALONE_SCORE = 0.45
# Most quotes inserted by one statement: 9 bound values a row, within SQLite's limit on
# variables (32766 since 3.32; 999 before).
INSERT_CHUNK_ROWS = 2048 if sqlite3.sqlite_version_info >= (3, 32, 0) else 64
_INSERT_QUOTES = ("INSERT INTO quotes (source_id, speaker_id, position, start, text, quotability, "
                  "rand_key, tags, collection_id) VALUES ")
RAND_KEY_MAX = 2**31 - 1  # keys are getrandbits(31): 0..RAND_KEY_MAX, 6x cheaper than randint

@dataclass(frozen=True, slots=True)
class QuoteRow:
    """A quote as the store reads it, with its speaker and source (`QUOTE_SELECT`).

    A highlight read the same way (`HIGHLIGHT_SELECT`) carries its own text, start and
    score (as `quotability`), the id and position of the quote it starts in, its
    `highlight_id`, `last_position` and `reasons` (JSON).
    """

    id: int
    text: str
    start: float | None
    position: int
    quotability: float
    source_id: int
    speaker_id: int | None
    speaker: str | None
    source: str
    source_slug: str
    speaker_role: str | None
    venue: str | None
    source_url: str | None
    highlight_id: int | None
    last_position: int
    reasons: str | None = None


@dataclass(frozen=True, slots=True)
class SpeakerRow:
    """A speaker with their aliases and how many quotes they have."""

    id: int
    name: str
    role: str | None
    aliases: tuple[str, ...]
    quotes: int


@dataclass(frozen=True, slots=True)
class SourceRow:
    """A source as the library lists it; `corrections` is its JSON list of name fixes."""

    id: int
    slug: str
    title: str
    date: str | None
    venue: str | None
    corrections: str | None
    quotes: int
    collection_id: int = OPERATOR_COLLECTION


@dataclass(frozen=True, slots=True)
class UnitRow:
    """One quote unit of a source, as highlight selection reads it."""

    speaker: str | None
    text: str
    position: int
    start: float | None


# Per-channel settings, each a column of channel_settings (`/quote settings`).
CHANNEL_SETTINGS = frozenset({"style", "card"})


def _setting_column(name: str) -> str:
    """`name` as a column to write into SQL: only one of our own setting names."""
    if name not in CHANNEL_SETTINGS:
        raise ValueError(f"no channel setting called {name!r}")
    return name


def _corrections(meta_json: str | None) -> str | None:
    """A source's corrections as JSON text (None when it has none), from its meta_json."""
    try:
        corrections = json.loads(meta_json or "{}").get("corrections")
    except (ValueError, AttributeError):
        return None
    return None if corrections is None else json.dumps(corrections, ensure_ascii=False)


def quote_row(row) -> QuoteRow | None:
    """A `QuoteRow` from a row of `QUOTE_SELECT` or `HIGHLIGHT_SELECT` (None stays None)."""
    return None if row is None else QuoteRow(*row)


# A quote with its speaker and source: the columns every quote read returns, in
# `QuoteRow`'s order (store/daily.py reads claims with these same fragments).
QUOTE_COLUMNS = """
    q.id, q.text, q.start, q.position, q.quotability, q.source_id, q.speaker_id,
    sp.name AS speaker, so.title AS source, so.slug AS source_slug,
    sp.role AS speaker_role, so.venue AS venue, so.url AS source_url,
    NULL AS highlight_id, q.position AS last_position
"""
# What a quote `q` joins to for those columns.
QUOTE_JOINS = """
    JOIN sources so ON so.id = q.source_id
    LEFT JOIN speakers sp ON sp.id = q.speaker_id
"""
QUOTE_SELECT = f"SELECT {QUOTE_COLUMNS} FROM quotes q {QUOTE_JOINS}"
# A highlight read with the columns of a quote: `id` and `position` are those of the
# quote it starts in, `text` its own exact words, `quotability` its highlight score.
HIGHLIGHT_COLUMNS = """
    q.id, h.text, h.start, h.first_position AS position, h.score AS quotability,
    h.source_id, h.speaker_id, sp.name AS speaker, so.title AS source,
    so.slug AS source_slug, sp.role AS speaker_role, so.venue AS venue,
    so.url AS source_url, h.id AS highlight_id, h.last_position, h.reasons
"""
# What a highlight `h` joins to for those columns.
HIGHLIGHT_JOINS = """
    JOIN quotes q ON q.source_id = h.source_id AND q.position = h.first_position
    JOIN sources so ON so.id = h.source_id
    LEFT JOIN speakers sp ON sp.id = h.speaker_id
"""
HIGHLIGHT_SELECT = f"SELECT {HIGHLIGHT_COLUMNS} FROM highlights h {HIGHLIGHT_JOINS}"


@dataclass(frozen=True)
class NewSource:
    """What the ingester hands the store for one transcript file."""

    slug: str
    title: str
    date: str | None
    venue: str | None
    url: str | None
    path: str | None
    format: str
    content_hash: str
    meta: dict
    # When the source was first stored; None means now. An import keeps the exported time.
    ingested_at: str | None = None


@dataclass(frozen=True, slots=True)
class NewQuote:
    """One quote unit to store; `speaker` is a canonical name or None."""

    speaker: str | None
    text: str
    start: float | None
    position: int
    quotability: float

    # Ingest workers send every quote to the writing process pickled. By constructor
    # arguments, not the slotted dataclass default (a fields() walk per object): 122k
    # quotes pickle in 0.26 s instead of 0.71 and unpickle in 0.28 s instead of 0.61.
    def __reduce__(self):
        return (NewQuote, (self.speaker, self.text, self.start, self.position, self.quotability))


@dataclass(frozen=True, slots=True)
class NewHighlight:
    """A passage worth posting: exact `text` spanning quote positions `first`..`last`."""

    speaker: str | None
    first: int
    last: int
    text: str
    start: float | None
    score: float
    reasons: tuple[str, ...] = ()

    def __reduce__(self):  # see NewQuote.__reduce__
        return (NewHighlight, (self.speaker, self.first, self.last, self.text, self.start,
                               self.score, self.reasons))


@dataclass(frozen=True)
class SpeakerInfo:
    """A speaker as written in a transcript's metadata."""

    name: str
    role: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class ReplaceResult:
    """What a source replacement did, in quote counts."""

    source_id: int
    kept: int
    added: int
    removed: int
    replaced: bool = False  # a source with this slug was stored before


@dataclass(frozen=True)
class SourceRecords:
    """One source with all its rows, as a library import hands them to the store;
    `hidden` holds the positions of its quotes hidden from random and daily, `saved` the
    chat messages its quotes were saved from, by position."""

    source: NewSource
    quotes: Sequence[NewQuote]
    highlights: Sequence[NewHighlight] = ()
    hidden: frozenset[int] = frozenset()
    saved: Mapping[int, SavedFrom] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredSource:
    """A stored source as the operator commands show it."""

    id: int
    slug: str
    title: str
    path: str | None
    quotes: int
    collection_id: int = OPERATOR_COLLECTION


@dataclass(frozen=True)
class RemoveResult:
    """What removing sources deleted, in rows."""

    sources: int
    quotes: int
    subscriptions_disabled: int


# PostgreSQL's unranked matches (QuoteStore._match_postgres): from this many quotes holding
# the rarest word a GIN bitmap costs more than reading rows in table order (~6 ms at 1M
# quotes), and PG_SCAN_ROWS bounds that read (~8 ms) before the index takes over.
PG_DENSE_DOCS = 20_000
PG_SCAN_ROWS = 10_000
PG_SIMILAR_MS = 30  # the time a trigram lookup of mistyped words gets (QuoteStore.similar)


def _chunk_sizes(rows: int) -> list[int]:
    """Statement sizes for inserting `rows` quotes: full chunks, then the rest in powers of
    two. The connection keeps its last 128 statements compiled, and a statement of a few
    hundred rows compiles to ~0.3 MB: one size per file would hold 40+ MB; these are ~12."""
    sizes = [INSERT_CHUNK_ROWS] * (rows // INSERT_CHUNK_ROWS)
    rest = rows % INSERT_CHUNK_ROWS
    sizes += [1 << bit for bit in range(rest.bit_length() - 1, -1, -1) if rest >> bit & 1]
    return sizes


# Random draws and daily posts skip hidden quotes (`quote hide`) and every highlight
# spanning one; search and show still find them. The highlight test probes the partial
# index `quotes_hidden`, which holds hidden quotes only (see schema.py, migration 5).
VISIBLE_QUOTE = "q.hidden = 0"
VISIBLE_HIGHLIGHT = (
    "NOT EXISTS (SELECT 1 FROM quotes hq WHERE hq.source_id = h.source_id "
    "AND hq.position BETWEEN h.first_position AND h.last_position AND hq.hidden = 1)"
)


def quote_filters(
    speaker_id: int | None, source_id: int | None, *, good: bool = True,
    collections: Sequence[int] | None = None,
) -> tuple[list[str], list]:
    """WHERE terms (over alias `q`) and parameters for the speaker/source/quality filters.

    The literal `q.quotability >= GOOD` matches the partial indexes of schema.py, so SQLite
    can seek them.
    """
    where, params = highlight_filters(speaker_id, source_id, alias="q",
                                      collections=collections)
    where.insert(0, VISIBLE_QUOTE)
    return ([f"q.quotability >= {GOOD}", *where] if good else where), params


def highlight_filters(speaker_id: int | None, source_id: int | None, *, alias: str = "h",
                      collections: Sequence[int] | None = None) -> tuple[list[str], list]:
    """WHERE terms and parameters for the speaker, source and collection filters of a table
    with those columns (`alias` is one of our own table aliases, never user input).

    `collections` (a library's, see store/libraries.py) first: a single one is an equality,
    which the (collection_id, ...) random-key indexes seek.
    """
    where: list[str] = []
    params: list = []
    if collections is not None:
        where.append(in_collections(alias, collections))
        params.extend(collections)
    if speaker_id is not None:
        where.append(f"{alias}.speaker_id = ?")
        params.append(speaker_id)
    if source_id is not None:
        where.append(f"{alias}.source_id = ?")
        params.append(source_id)
    return where, params


def in_collections(alias: str, collections: Sequence[int]) -> str:
    """`alias.collection_id` in `collections` (bound: one `?` each), as one WHERE term."""
    if not collections:
        return "0 = 1"  # a library that sees nothing
    if len(collections) == 1:
        return f"{alias}.collection_id = ?"
    return f"{alias}.collection_id IN ({','.join('?' * len(collections))})"


def _seek_sql(table: str, alias: str, column: str, parts: list[tuple[list[str], list]]
              ) -> tuple[str, list]:
    """The seek of a random draw, as a scalar subquery: the id of the first row of `table`
    (as `alias`) at or after the key `keys.k` of `_draw_sql`'s statement in `column`
    order that matches one of `parts` (each WHERE terms and their values: a library's
    collection, say). One index seek per part, and the smallest key wins: exactly the row
    one seek over their union would find, so draws stay uniform over a library, at
    O(parts x log n) with no scan. The names are our own, never user input."""
    seeks, params = [], []
    key = f"{alias}.{column}"
    for i, (where, values) in enumerate(parts):
        seeks.append(f"SELECT * FROM (SELECT {key} AS seek_key, {alias}.id "
                     f"FROM {table} {alias} WHERE {key} >= keys.k AND {' AND '.join(where)} "
                     f"ORDER BY {key} LIMIT 1) AS s{i}")
        params.extend(values)
    return (f"(SELECT seeks.id FROM ({' UNION ALL '.join(seeks)}) AS seeks "
            "ORDER BY seeks.seek_key LIMIT 1)", params)


def _draw_sql(keys: Sequence[int], seek: tuple[str, list], read: str
              ) -> tuple[str, list]:
    """A random draw's one statement: for each of `keys`, then for key 0 (numbered
    len(keys)), its number and the row `read` reads (a `*_COLUMNS` select from `picks`)
    of what `seek` (a `_seek_sql`) finds at or after it; no row past the last one.

    One statement for all of a draw's tries (rejection sampling): one round trip, and
    PostgreSQL plans it once per connection (its generic plan), where a statement per
    try, each planned afresh (1.5-5 ms for a join at 1M quotes), made the slowest draws
    several times slower than the median.
    """
    # Typed, so PostgreSQL knows them without a column to infer from.
    rows = ", ".join(["(CAST(? AS INTEGER), CAST(? AS BIGINT))"] * (len(keys) + 1))
    sql = (f"WITH keys (i, k) AS (VALUES {rows}), "
           f"picks AS (SELECT keys.i, {seek[0]} AS id FROM keys) {read}")
    return sql, [v for i, key in enumerate((*keys, 0)) for v in (i, key)] + seek[1]


def _seek_scopes(collections: Sequence[int] | None) -> list[tuple[int, ...] | None]:
    """The collections filter of each seek of a draw within `collections`: one seek per
    collection (None: one over the whole database; none at all: one that finds nothing)."""
    if collections is None:
        return [None]
    return [(c,) for c in dict.fromkeys(collections)] or [()]


def _highlights_draw_sql(keys: Sequence[int], speaker_id, source_id, deck, min_score,
                         collections) -> tuple[str, list]:
    """The statement of `QuoteStore.random_highlights`, as `_draw_sql`'s."""
    parts = []
    for scope in _seek_scopes(collections):
        where, values = highlight_filters(speaker_id, source_id, collections=scope)
        where.append(VISIBLE_HIGHLIGHT)
        if min_score is not None:
            where.append("h.score >= ?")
            values.append(min_score)
        if deck is not None:
            where.append("NOT EXISTS (SELECT 1 FROM decks d WHERE d.deck = ? "
                         "AND d.highlight_id = h.id)")
            values.append(deck)
        parts.append((where, values))
    return _draw_sql(keys, _seek_sql("highlights", "h", "rand_key", parts),
                     f"SELECT picks.i, {HIGHLIGHT_COLUMNS} FROM picks "
                     f"JOIN highlights h ON h.id = picks.id {HIGHLIGHT_JOINS}")


def _quotes_draw_sql(keys: Sequence[int], column: str, speaker_id, source_id, good,
                     exclude: Sequence[int], collections) -> tuple[str, list]:
    """The statement of `QuoteStore.random_quotes`, as `_draw_sql`'s, seeking `column`
    (`rand_key`, or `position` within a source)."""
    parts = []
    for scope in _seek_scopes(collections):
        where, values = quote_filters(speaker_id, source_id, good=good, collections=scope)
        if exclude:
            where.append(f"q.id NOT IN ({','.join('?' * len(exclude))})")
            values.extend(exclude)
        parts.append((where, values))
    return _draw_sql(keys, _seek_sql("quotes", "q", column, parts),
                     f"SELECT picks.i, {QUOTE_COLUMNS} FROM picks "
                     f"JOIN quotes q ON q.id = picks.id {QUOTE_JOINS}")


class SlugTaken(ValueError):
    """A source's slug is already used by another collection (slugs are database-wide)."""

    def __init__(self, slug: str, collection: str) -> None:
        super().__init__(f"source '{slug}' already belongs to collection '{collection}'")
        self.slug = slug
        self.collection = collection


async def delete_sources(conn, ids: Sequence[int], *, engine: str) -> RemoveResult:
    """Delete these sources with their quotes, inside the caller's transaction on `conn`
    (`quotebot sources remove`, `/quote sources remove`), and rebuild the term snapshot.

    Highlights go with their source and deck entries with their highlights (foreign keys,
    ON DELETE CASCADE). A daily subscription limited to a removed source is disabled, not
    widened to the whole library (the foreign key alone would set its source to NULL).
    The quotes generation is bumped, so running bots reload their speaker and source
    lists, and the snapshot rebuilt here is recorded as matching it. `engine` is the
    database's (`Database.engine`): each counts the index's words its own way.
    """
    marks = ",".join("?" * len(ids))
    params = tuple(ids)
    cur = await conn.execute(
        f"UPDATE subscriptions SET enabled = 0, "
        f"disabled_reason = 'its source was removed from the library' "
        f"WHERE source_id IN ({marks}) AND enabled = 1",
        params,
    )
    disabled = cur.rowcount
    cur = await conn.execute(f"DELETE FROM quotes WHERE source_id IN ({marks})", params)
    quotes = cur.rowcount
    cur = await conn.execute(f"DELETE FROM sources WHERE id IN ({marks})", params)
    sources = cur.rowcount
    # The term snapshot in the same transaction: no moment sees the quotes gone but
    # their words still counted (or a crash leave it so).
    await derived.recount_terms(conn, engine)
    await derived.mark_quotes_changed(conn)
    await conn.execute(
        "INSERT INTO meta (key, value) SELECT ?, value FROM meta WHERE key = ? "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (derived.TERMS_GENERATION, derived.QUOTES_GENERATION),
    )
    return RemoveResult(sources, quotes, disabled)


class QuoteStore:
    """All SQL about quotes. Every parameter is bound; nothing is string-formatted.

    Writes (ingest, import) go into one collection. By default a new source goes into the
    operator's own library and a stored one is updated where it is, whichever collection
    that is (a slug names one source in the whole database): re-ingesting a folder does
    what it did before libraries. `in_collection` names the collection: then only its
    sources count as stored, and a slug another collection holds is refused (`SlugTaken`).
    Reads that serve a library take its collections.
    """

    def __init__(self, db: Database, collection_id: int = OPERATOR_COLLECTION, *,
                 strict: bool = False) -> None:
        self.db = db
        self.collection_id = collection_id
        self.strict = strict

    def in_collection(self, collection_id: int) -> QuoteStore:
        """This store, writing into (and checking slugs and hashes against) `collection_id`
        only."""
        return QuoteStore(self.db, collection_id, strict=True)

    def _scoped(self, alias: str = "") -> tuple[str, tuple]:
        """A WHERE term (" AND ...") keeping sources of this store's collection, if strict."""
        if not self.strict:
            return "", ()
        return f" AND {alias}collection_id = ?", (self.collection_id,)

    # ---- ingest -------------------------------------------------------------------------

    async def source_hash(self, slug: str) -> str | None:
        where, params = self._scoped()
        value = await self.db.scalar(
            f"SELECT content_hash FROM sources WHERE slug = ?{where}", (slug, *params))
        return None if value is None else str(value)

    async def slug_owner(self, slug: str) -> str | None:
        """The name of the collection holding a source with this slug, if another one does
        (slugs are unique across the database)."""
        if not self.strict:
            return None
        value = await self.db.scalar(
            "SELECT c.name FROM sources so JOIN collections c ON c.id = so.collection_id "
            "WHERE so.slug = ? AND so.collection_id != ?", (slug, self.collection_id))
        return None if value is None else str(value)

    async def content_hashes(self) -> frozenset[str]:
        """Hashes of the stored source files (this collection's, if strict), to skip
        unchanged files before parsing."""
        where, params = self._scoped()
        rows = await self.db.fetchall(f"SELECT content_hash FROM sources WHERE TRUE{where}",
                                      params)
        return frozenset(r[0] for r in rows)

    async def slug_for_hash(self, digest: str) -> str | None:
        value = await self.db.scalar(
            f"SELECT slug FROM sources WHERE content_hash = ?{self._scoped()[0]} LIMIT 1",
            (digest, *self._scoped()[1]),
        )
        return None if value is None else str(value)

    async def source_path(self, slug: str) -> str | None:
        where, params = self._scoped()
        value = await self.db.scalar(
            f"SELECT path FROM sources WHERE slug = ?{where}", (slug, *params))
        return None if value is None else str(value)

    async def replace_source(
        self,
        source: NewSource,
        speakers: Sequence[SpeakerInfo],
        quotes: Sequence[NewQuote],
        highlights: Sequence[NewHighlight] = (),
    ) -> ReplaceResult:
        """Store a source, its quotes and its highlights atomically, keeping unchanged ids.

        A quote keeps its id when a quote with the same speaker and the same text existed in
        this source before; its position and start time are updated. Other old quotes are
        deleted (their ids are never reused) and new ones inserted, all in one transaction.
        Highlights keep their ids the same way.
        """
        async with self.db.transaction() as conn:
            speaker_ids = await self._upsert_speakers(conn, speakers, quotes)
            return await self._write_source(conn, source, speaker_ids, quotes, highlights)

    async def replace_sources(
        self, speakers: Sequence[SpeakerInfo], items: Sequence[SourceRecords]
    ) -> list[ReplaceResult]:
        """Store many sources (a library import) in ONE transaction: all of them or none.

        Each source replaces the stored source with its slug, as `replace_source` does;
        `speakers` are stored even when no quote names them.
        """
        async with self.db.transaction() as conn:
            speaker_ids = await self._upsert_speakers(
                conn, speakers, (q for item in items for q in item.quotes)
            )
            results = []
            for item in items:
                result = await self._write_source(conn, item.source, speaker_ids, item.quotes,
                                                  item.highlights)
                # The file says which quotes are hidden: kept quotes lose an old flag too.
                await conn.execute("UPDATE quotes SET hidden = 0 WHERE source_id = ? "
                                   "AND hidden = 1", (result.source_id,))
                await conn.executemany(
                    "UPDATE quotes SET hidden = 1 WHERE source_id = ? AND position = ?",
                    [(result.source_id, position) for position in sorted(item.hidden)])
                await write_origins(conn, result.source_id, item.saved)
                results.append(result)
            return results

    async def _write_source(
        self, conn, source: NewSource, speaker_ids: dict[str, int],
        quotes: Sequence[NewQuote], highlights: Sequence[NewHighlight],
    ) -> ReplaceResult:
        """Upsert one source and replace its quotes and highlights, inside the caller's
        transaction."""
        now = source.ingested_at or datetime.now(UTC).isoformat(timespec="seconds")
        async with conn.execute(
            "SELECT so.collection_id, c.name FROM sources so JOIN collections c "
            "ON c.id = so.collection_id WHERE so.slug = ?", (source.slug,)
        ) as c:
            owner = await c.fetchone()
        collection_id = self.collection_id
        if owner is not None and owner[0] != collection_id:
            if self.strict:
                # Replacing it would move another library's source (and its quotes) into
                # this one: refused, never done quietly.
                raise SlugTaken(source.slug, owner[1])
            collection_id = owner[0]  # updated where it is
        existed = owner is not None
        await conn.execute(
            """
            INSERT INTO sources (slug, title, date, venue, url, path, format, content_hash,
                                 meta_json, ingested_at, collection_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (slug) DO UPDATE SET
                title = excluded.title, date = excluded.date, venue = excluded.venue,
                url = excluded.url, path = excluded.path, format = excluded.format,
                content_hash = excluded.content_hash, meta_json = excluded.meta_json,
                ingested_at = excluded.ingested_at
            """,
            (
                source.slug, source.title, source.date, source.venue, source.url,
                source.path, source.format, source.content_hash,
                json.dumps(source.meta, ensure_ascii=False, default=str), now,
                collection_id,
            ),
        )
        async with conn.execute("SELECT id FROM sources WHERE slug = ?", (source.slug,)) as c:
            source_id = (await c.fetchone())[0]
        # Marks the terms snapshot stale with the change itself: a crash before the
        # refresh at the end of the ingest leaves it marked, and it is rebuilt.
        await derived.mark_quotes_changed(conn)
        counts = await self._replace_quotes(conn, source_id, speaker_ids, quotes,
                                            collection_id)
        await self._replace_highlights(conn, source_id, speaker_ids, highlights,
                                       collection_id)
        return ReplaceResult(source_id, *counts, replaced=existed)

    async def _replace_quotes(
        self, conn, source_id: int, speaker_ids: dict[str, int], quotes: Sequence[NewQuote],
        collection_id: int,
    ) -> tuple[int, int, int]:
        """The source's quotes become `quotes`, an unchanged quote keeping its id:
        (kept, added, removed)."""
        old: dict[tuple[int | None, str], list[int]] = {}
        async with conn.execute(
            "SELECT id, speaker_id, text FROM quotes WHERE source_id = ? ORDER BY position",
            (source_id,),
        ) as cur:
            async for qid, sid, text in cur:
                old.setdefault((sid, text), []).append(qid)

        updates, inserts = [], []
        for q in quotes:
            sid = speaker_ids.get(q.speaker.casefold()) if q.speaker else None
            ids = old.get((sid, q.text))
            if ids:
                updates.append((q.position, q.start, q.quotability, ids.pop(0)))
            else:
                inserts.append(
                    (source_id, sid, q.position, q.start, q.text, q.quotability,
                     random.getrandbits(31), filter_tags(sid, source_id, collection_id),
                     collection_id)
                )
        removed = [(qid,) for ids in old.values() for qid in ids]
        if removed:
            await conn.executemany("DELETE FROM quotes WHERE id = ?", removed)
        if updates:
            await conn.executemany(
                "UPDATE quotes SET position = ?, start = ?, quotability = ? WHERE id = ?",
                updates,
            )
        # One multi-row INSERT per chunk of rows: the FTS trigger then runs inside a
        # few statements. Row-by-row inserts open a statement savepoint per row, and
        # FTS5 flushes its pending index at every savepoint (measured: 4x slower).
        # Bound values, not a JSON array read back with json_each: SQLite parsed each
        # row's JSON once per column (122k quotes: 2.7 -> 1.8 s).
        begin = 0
        for size in _chunk_sizes(len(inserts)):
            chunk = inserts[begin : begin + size]
            begin += size
            await conn.execute(
                _INSERT_QUOTES + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * size),
                [value for row in chunk for value in row],
            )
        return len(updates), len(inserts), len(removed)

    async def _replace_highlights(
        self, conn, source_id: int, speaker_ids: dict[str, int],
        highlights: Sequence[NewHighlight], collection_id: int,
    ) -> None:
        """The source's highlights become `highlights`; an unchanged passage keeps its id."""
        old: dict[tuple[int | None, str], list[int]] = {}
        async with conn.execute(
            "SELECT id, speaker_id, text FROM highlights WHERE source_id = ?", (source_id,)
        ) as cur:
            async for hid, sid, text in cur:
                old.setdefault((sid, text), []).append(hid)
        updates, inserts = [], []
        for h in highlights:
            sid = speaker_ids.get(h.speaker.casefold()) if h.speaker else None
            row = (h.first, h.last, h.start, h.score, json.dumps(list(h.reasons)))
            ids = old.get((sid, h.text))
            if ids:
                updates.append((*row, ids.pop(0)))
            else:
                inserts.append((source_id, sid, h.text, random.randint(0, RAND_KEY_MAX), *row,
                                collection_id))
        removed = [(hid,) for ids in old.values() for hid in ids]
        if removed:
            await conn.executemany("DELETE FROM highlights WHERE id = ?", removed)
        if updates:
            await conn.executemany(
                "UPDATE highlights SET first_position = ?, last_position = ?, start = ?, "
                "score = ?, reasons = ? WHERE id = ?",
                updates,
            )
        if inserts:
            await conn.executemany(
                "INSERT INTO highlights (source_id, speaker_id, text, rand_key, first_position, "
                "last_position, start, score, reasons, collection_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts,
            )

    async def _upsert_speakers(
        self, conn, speakers: Sequence[SpeakerInfo], quotes: Iterable[NewQuote]
    ) -> dict[str, int]:
        """Insert or update every speaker named; return casefolded name -> id."""
        infos = {s.name.casefold(): s for s in speakers}
        for q in quotes:
            if q.speaker and q.speaker.casefold() not in infos:
                infos[q.speaker.casefold()] = SpeakerInfo(q.speaker, None, ())
        ids: dict[str, int] = {}
        for key, info in infos.items():
            await conn.execute(
                """
                INSERT INTO speakers (name, role) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET role = coalesce(excluded.role, speakers.role)
                """,
                (info.name, info.role),
            )
            async with conn.execute("SELECT id FROM speakers WHERE name = ?", (info.name,)) as c:
                ids[key] = (await c.fetchone())[0]
            await conn.executemany(
                "INSERT INTO speaker_aliases (alias, speaker_id) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                [(alias, ids[key]) for alias in info.aliases if alias.strip()],
            )
        return ids

    @asynccontextmanager
    async def bulk_writes(self, *, large: bool) -> AsyncIterator[None]:
        """Write many files faster: checkpoint the WAL less often (1M quotes: 5.0 -> 5.4
        MB/s) and, for a large load into an empty library, build the random-key indexes
        once at the end instead of row by row. Everything is restored on the way out, and
        indexes a killed earlier load left missing are built too."""
        if self.db.engine != "sqlite":  # PostgreSQL: no WAL knobs, no indexes dropped
            yield
            return
        defer = large and await self.count_quotes() == 0
        await self.db.conn.execute("PRAGMA wal_autocheckpoint = 16384")
        if defer:
            await self.db.drop_random_indexes()
        try:
            yield
        finally:
            await self.db.create_random_indexes()
            await self.db.conn.execute("PRAGMA wal_autocheckpoint = 1000")
            await self.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def sources_by_slug(self, slugs: Sequence[str]) -> list[StoredSource]:
        """The stored sources with these slugs (unknown slugs are left out)."""
        if not slugs:
            return []
        marks = ",".join("?" * len(slugs))
        return await self._stored_sources(f"so.slug IN ({marks})", tuple(slugs))

    async def sources_under(self, folder: str) -> list[StoredSource]:
        """The stored sources whose file path lies inside `folder` (an absolute path)."""
        prefix = folder.rstrip("/") + "/"
        # substr, not LIKE: a folder name may hold % or _.
        return await self._stored_sources(
            "substr(so.path, 1, length(?)) = ?" + self._scoped("so.")[0],
            (prefix, prefix, *self._scoped()[1])
        )

    async def _stored_sources(self, where: str, params: tuple) -> list[StoredSource]:
        rows = await self.db.fetchall(
            "SELECT so.id, so.slug, so.title, so.path, "
            "(SELECT count(*) FROM quotes q WHERE q.source_id = so.id) AS quotes, "
            f"so.collection_id FROM sources so WHERE {where} ORDER BY so.slug",
            params,
        )
        return [StoredSource(*r) for r in rows]

    async def remove_sources(self, ids: Sequence[int]) -> RemoveResult:
        """Delete these sources and their quotes in one transaction (`delete_sources`)."""
        if not ids:
            return RemoveResult(0, 0, 0)
        async with self.db.transaction() as conn:
            return await delete_sources(conn, ids, engine=self.db.engine)

    async def refresh_terms(self) -> None:
        """Rebuild the term -> document-frequency snapshot the search planner reads."""
        await derived.refresh_terms(self.db)

    async def terms_stale(self) -> bool:
        """Whether quotes changed since the terms snapshot was last rebuilt."""
        return await derived.terms_stale(self.db)

    async def rebuild_stale(self) -> None:
        """Rebuild stale derived state now (an ingest, at its end, holding its lease)."""
        await self.db.create_random_indexes()
        if await self.terms_stale():
            await self.refresh_terms()

    async def repair(self) -> bool:
        """Rebuild stale derived state unless an ingest is running; whether it did."""
        return await derived.repair(self.db)

    async def generations(self) -> tuple[int, int | None]:
        """(quotes generation, terms generation): each changes when that state changes."""
        return await derived.generations(self.db)

    async def data_version(self) -> int:
        """A counter that moves when another process commits: a cheap "anything changed?"
        (SQLite's `PRAGMA data_version`; PostgreSQL's change notifications)."""
        return await self.db.data_version()

    async def set_meta(self, key: str, value: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    async def get_meta(self, key: str) -> str | None:
        value = await self.db.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    # ---- reads --------------------------------------------------------------------------

    async def frequent_terms(self, min_docs: int, limit: int) -> AsyncIterator[tuple[str, int]]:
        """The `limit` most frequent terms in at least `min_docs` quotes, streamed in batches
        (a list of 300,000 rows at once would set the serving process's peak memory)."""
        async with self.db.reader.execute(
            "SELECT term, docs FROM terms WHERE docs >= ? ORDER BY docs DESC LIMIT ?",
            (min_docs, limit),
        ) as cursor:
            while batch := await cursor.fetchmany(5000):
                for row in batch:
                    yield row[0], row[1]

    async def term_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        found = {t: 0 for t in terms}
        if not terms:
            return found
        marks = ",".join("?" * len(found))
        rows = await self.db.fetchall(
            f"SELECT term, docs FROM terms WHERE term IN ({marks})", tuple(found)
        )
        found.update((r[0], r[1]) for r in rows)
        return found

    async def terms_with_prefix(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Up to `limit` (term, docs) starting with `prefix`, in term order (a B-tree range)."""
        rows = await self.db.fetchall(
            "SELECT term, docs FROM terms WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [(r[0], r[1]) for r in rows]

    async def count_sources(self) -> int:
        return int(await self.db.scalar("SELECT count(*) FROM sources"))

    async def count_quotes(self) -> int:
        return int(await self.db.scalar("SELECT count(*) FROM quotes"))

    async def get_quotes(self, ids: Sequence[int], collections: Sequence[int] | None = None
                         ) -> list[QuoteRow]:
        """Rows for these ids, in the order given (missing ids, and with `collections` the
        ids of quotes in no collection of them, are skipped)."""
        if not ids:
            return []
        # One bound parameter per id; the placeholder string is built from a count only.
        marks = ",".join("?" * len(ids))
        sql, params = QUOTE_SELECT + f" WHERE q.id IN ({marks})", tuple(ids)
        if collections is not None:
            sql += " AND " + in_collections("q", collections)
            params += tuple(collections)
        rows = await self.db.fetchall(sql, params)
        by_id = {r["id"]: QuoteRow(*r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    async def list_quotes(self, collections: Sequence[int], *, speaker_id: int | None = None,
                          source_id: int | None = None, offset: int = 0, limit: int = 10
                          ) -> list[QuoteRow]:
        """A page of the quotes of `collections` (one speaker's, one source's): the most
        recently added source first, each source's quotes in the order they were said.

        `quotes_by_source` gives the order by source; SQLite sorts only each source's
        positions ("temp b-tree for right part of order by") and stops at the page.
        """
        where = [in_collections("q", collections)]
        params: list = list(collections)
        if speaker_id is not None:
            where.append("q.speaker_id = ?")
            params.append(speaker_id)
        if source_id is not None:
            where.append("q.source_id = ?")
            params.append(source_id)
        rows = await self.db.fetchall(
            QUOTE_SELECT + " WHERE " + " AND ".join(where)
            + " ORDER BY q.source_id DESC, q.position LIMIT ? OFFSET ?",
            (*params, limit, offset))
        return [QuoteRow(*r) for r in rows]

    async def count_listed(self, collections: Sequence[int], *, speaker_id: int | None,
                           source_id: int) -> int:
        """How many quotes of one source `list_quotes` finds (one speaker's, if given)."""
        params: tuple = (source_id, *collections)
        sql = ("SELECT count(*) FROM quotes q WHERE q.source_id = ? AND "
               + in_collections("q", collections))
        if speaker_id is not None:
            sql += " AND q.speaker_id = ?"
            params += (speaker_id,)
        return int(await self.db.scalar(sql, params))

    async def hidden_among(self, ids: Sequence[int]) -> frozenset[int]:
        """Which of these quotes are hidden (`/quote hide`)."""
        if not ids:
            return frozenset()
        marks = ",".join("?" * len(ids))
        rows = await self.db.fetchall(
            f"SELECT id FROM quotes WHERE hidden = 1 AND id IN ({marks})", tuple(ids))
        return frozenset(r[0] for r in rows)

    async def neighbours(self, source_id: int, position: int, before: int, after: int
                         ) -> list[QuoteRow]:
        rows = await self.db.fetchall(
            QUOTE_SELECT
            + " WHERE q.source_id = ? AND q.position BETWEEN ? AND ? ORDER BY q.position",
            (source_id, position - before, position + after),
        )
        return [QuoteRow(*r) for r in rows]

    async def match(self, query: TextQuery, limit: int, *, ranked: bool
                    ) -> list[tuple[int, float]]:
        """(id, bm25) of the quotes `query` finds (see `quotebot.store.fts`).

        Unranked asks for the first `limit` matches in rowid order, which costs O(limit) even
        when the terms are common; ranked computes BM25 for every match, so callers use it only
        for selective expressions.
        """
        if self.db.engine == "postgresql":
            return await self._match_postgres(query, limit, ranked=ranked)
        if ranked:
            sql = (
                "SELECT rowid, rank FROM quotes_fts WHERE quotes_fts MATCH ? "
                "ORDER BY rank LIMIT ?"
            )
        else:
            sql = "SELECT rowid, 0.0 FROM quotes_fts WHERE quotes_fts MATCH ? LIMIT ?"
        params = (fts.expression(query), limit)
        rows = await self.db.fetchall(sql, params)
        return [(r[0], r[1]) for r in rows]

    async def _match_postgres(self, query: TextQuery, limit: int, *, ranked: bool
                              ) -> list[tuple[int, float]]:
        """`match` on PostgreSQL: the words column's GIN index; rank is -ts_rank, so that
        lower is better, as FTS5's bm25 rank.

        GIN has no first-matches-first read: it collects every match into a bitmap before
        the LIMIT applies, ~0.3 us a match (130,000 matches: 40 ms at 1M quotes), while
        FTS5 stops at the limit. So an unranked query of common words (`rarest_docs`) scans
        rows first (see `_scan_postgres`); the index answers when that was not enough.
        """
        text = fts.tsquery(query)
        if not ranked and query.rarest_docs >= PG_DENSE_DOCS:
            # (A small library's quotes are read by their collection's index: migration 7.)
            rows = await self._scan_postgres(query, text, limit)
            if rows is not None:
                return rows
        where, params = self._pg_filters(query, ["q.words @@ to_tsquery('simple', ?)"], [text])
        # The rank's tsquery is a subquery, made once: in the generic plan a pooled
        # connection settles on after five runs, to_tsquery(?) is parsed again for every row.
        rank = "-ts_rank(q.words, (SELECT to_tsquery('simple', ?)))" if ranked else "0.0"
        sql = (f"SELECT q.id, {rank} AS rank FROM quotes q WHERE " + " AND ".join(where)
               + (" ORDER BY rank" if ranked else "") + " LIMIT ?")
        values = ([params[0]] if ranked else []) + params + [limit]
        rows = await self.db.fetchall(sql, tuple(values))
        return [(r[0], float(r[1])) for r in rows]

    async def _scan_postgres(self, query: TextQuery, text: str, limit: int
                             ) -> list[tuple[int, float]] | None:
        """The first (up to `limit`) matches among the first PG_SCAN_ROWS quotes the filters
        allow, in table order (a speaker's or a source's by their index); None when that
        read found none and did not read every allowed quote, for the index to answer.

        Common words match densely, so the limit is reached after a few hundred rows
        (2 ms); a speaker's quotes are a few thousand, read whole. When the words are
        common but seldom together, the matches of that read are the candidates: the first
        ones in table order, as FTS5's unranked matches are the first in rowid order, only
        fewer (a GIN bitmap of words this common costs 30-200 ms at 1M quotes). A LIMIT
        subquery keeps the words test out of it, so the planner cannot turn it back into a
        GIN bitmap.
        """
        where, params = self._pg_filters(query, [], [])
        filters = " WHERE " + " AND ".join(where) if where else ""
        allowed = f"SELECT q.id, q.words FROM quotes q{filters} LIMIT {PG_SCAN_ROWS}"
        rows = await self.db.fetchall(  # (the tsquery made once: see _match_postgres)
            f"SELECT s.id, 0.0 FROM ({allowed}) AS s"
            " WHERE s.words @@ (SELECT to_tsquery('simple', ?)) LIMIT ?", (*params, text, limit))
        if not rows:
            seen = await self.db.scalar(
                f"SELECT count(*) FROM (SELECT 1 FROM quotes q{filters} LIMIT {PG_SCAN_ROWS})"
                " AS s", tuple(params))
            if seen >= PG_SCAN_ROWS:
                return None  # not every allowed quote was read: the index has the rest
        return [(r[0], 0.0) for r in rows]

    @staticmethod
    def _pg_filters(query: TextQuery, where: list[str], params: list
                    ) -> tuple[list[str], list]:
        """`where` and `params` with `query`'s speaker, source and collection filters."""
        if query.speaker_id is not None:
            where.append("q.speaker_id = ?")
            params.append(query.speaker_id)
        if query.source_id is not None:
            where.append("q.source_id = ?")
            params.append(query.source_id)
        if query.collections is not None and query.collections_in_index:
            where.append(in_collections("q", query.collections))
            params.extend(query.collections)
        return where, params

    async def similar(self, query: TextQuery, limit: int) -> list[tuple[int, float]]:
        """(id, -similarity) of quotes holding words spelled like each of `query`'s words
        (the first term of each), best first: pg_trgm's word similarity on the trigram
        index of the text, for words the vocabulary cannot correct. PostgreSQL only: on
        SQLite, which has no trigram index, nothing.

        A word made of common trigrams ("manaed") makes the index offer a large share of
        the quotes to check (0.2-0.5 s at 1M quotes), so the lookup gets PG_SIMILAR_MS and
        finds nothing past it: it is a last resort, never worth a slow reply.
        """
        if self.db.engine != "postgresql" or not query.words:
            return []
        from quotebot.store.pg_db import driver

        where, params = [], []
        for terms in query.words:  # `<%`: word_similarity at least pg_trgm's threshold (0.6)
            where.append("? <% q.text")
            params.append(terms[0])
        where, params = self._pg_filters(query, where, params)
        score = " + ".join("word_similarity(?, q.text)" for _ in query.words)
        sql = (f"SELECT q.id, -({score}) AS rank FROM quotes q WHERE " + " AND ".join(where)
               + " ORDER BY rank LIMIT ?")
        values = [terms[0] for terms in query.words] + params + [limit]
        try:
            async with self.db.transaction() as conn:
                await conn.execute(f"SET LOCAL statement_timeout = {PG_SIMILAR_MS}")
                rows = await (await conn.execute(sql, tuple(values))).fetchall()
        except driver().QueryCanceledError:
            log.info("trigram lookup of %s gave up after %d ms", query.words, PG_SIMILAR_MS)
            return []
        return [(r[0], float(r[1])) for r in rows]

    async def texts(self, ids: Sequence[int], collections: Sequence[int] | None = None
                    ) -> dict[int, str]:
        """The text of each of `ids` that is in `collections` (a library's; None: any)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = f"SELECT id, text FROM quotes WHERE id IN ({marks})"
        params = tuple(ids)
        if collections is not None:
            sql += f" AND collection_id IN ({','.join('?' * len(collections)) or 'NULL'})"
            params += tuple(collections)
        rows = await self.db.fetchall(sql, params)
        return {r[0]: r[1] for r in rows}

    async def random_quotes(
        self, keys: Sequence[int], *, speaker_id: int | None = None,
        source_id: int | None = None, good: bool = True, exclude: Sequence[int] = (),
        collections: Sequence[int] | None = None,
    ) -> list[QuoteRow]:
        """For each of `keys` (0..RAND_KEY_MAX), the first quote at or after it (wrapping
        around once) matching the filters and not in `exclude`; [] when there is none.

        Seeks a partial random-key index: one index probe (plus a step past each excluded
        id met on the way) per key and per collection of `collections` (a library's;
        None: the whole database), all in one statement. A source lies in one collection,
        which its caller resolved within the library; a source alone seeks positions
        (0..n-1, each key taken modulo n).
        """
        column = "rand_key"
        if source_id is not None:
            collections = None
            if speaker_id is None:
                size = await self.db.scalar(
                    "SELECT max(position) FROM quotes WHERE source_id = ?", (source_id,))
                if size is None:
                    return []
                column, keys = "position", [key % (int(size) + 1) for key in keys]
        return await self._drawn(_quotes_draw_sql(keys, column, speaker_id, source_id, good,
                                                  exclude, collections), len(keys))

    async def _drawn(self, statement: tuple[str, list], count: int) -> list[QuoteRow]:
        """The rows of a `_draw_sql` statement over `count` keys, a key past the last row
        taking key 0's (the first row): [] when nothing matched."""
        found = {row[0]: QuoteRow(*row[1:]) for row in await self.db.fetchall(*statement)}
        first = found.get(count)
        return [] if first is None else [found.get(i, first) for i in range(count)]

    # ---- highlights and decks -------------------------------------------------------------

    async def get_highlight(self, highlight_id: int, collections: Sequence[int] | None = None
                            ) -> QuoteRow | None:
        """A highlight by id (None if gone, or in no collection of `collections`)."""
        sql, params = HIGHLIGHT_SELECT + " WHERE h.id = ?", (highlight_id,)
        if collections is not None:
            sql += " AND " + in_collections("h", collections)
            params += tuple(collections)
        return quote_row(await self.db.fetchone(sql, params))

    async def highlight_at(self, source_id: int, position: int) -> QuoteRow | None:
        """The highlight whose span holds the quote at `position` of a source, if any."""
        return quote_row(await self.db.fetchone(
            HIGHLIGHT_SELECT + " WHERE h.source_id = ? AND h.first_position <= ? "
            "AND h.last_position >= ? ORDER BY h.first_position DESC LIMIT 1",
            (source_id, position, position),
        ))

    async def has_highlights(self, speaker_id: int | None, source_id: int | None,
                             collections: Sequence[int] | None = None) -> bool:
        where, params = highlight_filters(speaker_id, source_id, collections=collections)
        where.append(VISIBLE_HIGHLIGHT)
        sql = "SELECT 1 FROM highlights h WHERE " + " AND ".join(where)
        return await self.db.scalar(sql + " LIMIT 1", tuple(params)) is not None

    async def random_highlights(
        self, keys: Sequence[int], *, speaker_id: int | None, source_id: int | None,
        deck: str | None, min_score: float | None = None,
        collections: Sequence[int] | None = None,
    ) -> list[QuoteRow]:
        """For each of `keys`, the first highlight at or after it (wrapping around once)
        that `deck` has not been shown, matching the filters and scoring at least
        `min_score`; [] when there is none. Within `collections` (a library's; a source
        lies in one collection, which its caller resolved): one index seek per collection
        and key, all in one statement (see `_draw_sql`).
        """
        return await self._drawn(_highlights_draw_sql(
            keys, speaker_id, source_id, deck, min_score,
            collections if source_id is None else None), len(keys))

    async def mark_shown(self, deck: str, highlight_id: int) -> bool:
        """Put the highlight in `deck`; False if it was there already: another draw (in
        any process) showed it at the same moment. The key decides, on both engines."""
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO decks (deck, highlight_id, shown_at) VALUES (?, ?, ?) "
                "ON CONFLICT (deck, highlight_id) DO NOTHING RETURNING highlight_id",
                (deck, highlight_id, now),
            )
            return await cur.fetchone() is not None

    async def restart_deck(self, deck: str, keep: int | None) -> None:
        """Start a new round: forget what `deck` was shown, except highlight `keep` (the
        last one shown), so a new round never opens with the draw that closed the old."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM decks WHERE deck = ? AND highlight_id IS DISTINCT FROM ?",
                (deck, keep)
            )

    async def last_shown(self, deck: str) -> int | None:
        value = await self.db.scalar(
            "SELECT highlight_id FROM decks WHERE deck = ? ORDER BY shown_at DESC LIMIT 1",
            (deck,),
        )
        return None if value is None else int(value)

    async def source_units(self, source_id: int) -> list[UnitRow]:
        """Every quote unit of a source, in order."""
        rows = await self.db.fetchall(
            "SELECT sp.name AS speaker, q.text, q.position, q.start FROM quotes q "
            "LEFT JOIN speakers sp ON sp.id = q.speaker_id WHERE q.source_id = ? "
            "ORDER BY q.position",
            (source_id,),
        )
        return [UnitRow(*r) for r in rows]

    async def channel_setting(self, platform: str, workspace: str, channel: str,
                              name: str) -> str | int | None:
        """A channel's setting `name` (a column of CHANNEL_SETTINGS), None when never set."""
        column = _setting_column(name)
        return await self.db.scalar(
            f"SELECT {column} FROM channel_settings WHERE platform = ? AND workspace = ? "
            "AND channel = ?", (platform, workspace, channel),
        )

    async def set_channel_setting(self, platform: str, workspace: str, channel: str,
                                  name: str, value: str | int) -> None:
        """Set one of a channel's settings, leaving the others as they were."""
        column = _setting_column(name)
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO channel_settings (platform, workspace, channel, {column}) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (platform, workspace, channel) "
                f"DO UPDATE SET {column} = excluded.{column}",
                (platform, workspace, channel, value),
            )

    async def speakers(self, counts: bool = True) -> list[SpeakerRow]:
        """Speakers with their aliases and quote counts, most quoted first (without
        `counts`: every count 0, by name, with no pass over the quotes)."""
        aliases: dict[int, list[str]] = {}
        for speaker_id, alias in await self.db.fetchall(
                "SELECT speaker_id, alias FROM speaker_aliases ORDER BY speaker_id, alias"):
            aliases.setdefault(speaker_id, []).append(alias)
        if not counts:
            rows = await self.db.fetchall(
                "SELECT sp.id, sp.name, sp.role, 0 FROM speakers sp ORDER BY sp.name")
        else:
            # One pass over the quotes (GROUP BY) rather than a count per speaker: there is
            # no index on speaker_id alone, and 400 speakers x 1M rows took 50 s.
            rows = await self.db.fetchall(
                """
                WITH counts AS (
                    SELECT speaker_id, count(*) AS quotes FROM quotes GROUP BY speaker_id
                )
                SELECT sp.id, sp.name, sp.role, coalesce(c.quotes, 0) AS quotes
                FROM speakers sp LEFT JOIN counts c ON c.speaker_id = sp.id
                ORDER BY quotes DESC, sp.name
                """
            )
        return [SpeakerRow(r[0], r[1], r[2], tuple(aliases.get(r[0], ())), r[3])
                for r in rows]

    async def speaker_counts(self) -> dict[int, dict[int, int]]:
        """collection id -> speaker id -> how many quotes they have there (one pass).

        With `speakers(counts=False)` this is what a library's speaker list is built from.
        """
        rows = await self.db.fetchall(
            "SELECT collection_id, speaker_id, count(*) FROM quotes "
            "WHERE speaker_id IS NOT NULL GROUP BY collection_id, speaker_id"
        )
        counts: dict[int, dict[int, int]] = {}
        for collection, speaker, quotes in rows:
            counts.setdefault(collection, {})[speaker] = quotes
        return counts

    async def sources(self) -> list[SourceRow]:
        """Every source with its quote count, by title."""
        rows = await self.db.fetchall(
            """
            SELECT so.id, so.slug, so.title, so.date, so.venue, so.meta_json,
                   (SELECT count(*) FROM quotes q WHERE q.source_id = so.id) AS quotes,
                   so.collection_id
            FROM sources so ORDER BY so.title
            """
        )
        # The corrections are read from the JSON here, not by SQL: the engines spell JSON
        # paths differently.
        return [SourceRow(*r[:5], _corrections(r[5]), *r[6:]) for r in rows]

    async def stats(self, collections: Sequence[int] | None = None) -> dict:
        """Counts and the file's size; quotes, sources, speakers and highlights only of
        `collections` (a library's) when given."""
        where, params = "", ()
        if collections is not None:
            where = "WHERE " + in_collections("x", collections)
            params = tuple(collections)
        row = await self.db.fetchone(
            f"""
            SELECT (SELECT count(*) FROM quotes x {where}) AS quotes,
                   (SELECT count(*) FROM quotes x {where}
                     AND quotability >= {GOOD}) AS good_quotes,
                   (SELECT count(*) FROM sources x {where}) AS sources,
                   (SELECT count(DISTINCT speaker_id) FROM quotes x {where}) AS speakers,
                   (SELECT count(*) FROM terms) AS terms,
                   (SELECT count(*) FROM highlights x {where}) AS highlights
            """, params * 5
        ) if collections is not None else await self.db.fetchone(
            f"""
            SELECT (SELECT count(*) FROM quotes) AS quotes,
                   (SELECT count(*) FROM quotes WHERE quotability >= {GOOD}) AS good_quotes,
                   (SELECT count(*) FROM sources) AS sources,
                   (SELECT count(*) FROM speakers) AS speakers,
                   (SELECT count(*) FROM terms) AS terms,
                   (SELECT count(*) FROM highlights) AS highlights
            """
        )
        return {**dict(row), "bytes": await self._size()}

    async def _size(self) -> int:
        """The database's size on disk, in bytes (the whole database, whatever the scope)."""
        if self.db.engine == "postgresql":
            return int(await self.db.scalar("SELECT pg_database_size(current_database())"))
        page_count = await self.db.scalar("PRAGMA page_count")
        page_size = await self.db.scalar("PRAGMA page_size")
        return int(page_count) * int(page_size)
