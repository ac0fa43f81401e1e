"""Reading a whole library back out, as the records an import writes (`quotebot export`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from quotebot.store.db import Database
from quotebot.store.quotes import (
    NewHighlight,
    NewQuote,
    NewSource,
    SourceRecords,
    SpeakerInfo,
    in_collections,
)
from quotebot.store.saved import read_origins

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LibraryDump:
    """Every speaker and every source with its quotes and highlights, in a stable order
    (speakers by name, sources by slug, rows by position): the inverse of
    `QuoteStore.replace_sources`."""

    speakers: list[SpeakerInfo]
    sources: list[SourceRecords]


class ExchangeStore:
    """The SQL that reads a library for export. Ids stay behind: rows name their source
    by slug and their speaker by name, so an import can give them new ids."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def dump(self, collections: Sequence[int] | None = None) -> LibraryDump:
        """The whole database, or the sources of `collections` with the speakers their
        quotes name. Reads through one read transaction, so that an ingest committing
        meanwhile is either wholly in the dump or not at all."""
        if self.db.engine == "postgresql":
            # The same one snapshot: a read-only REPEATABLE READ transaction on one pooled
            # connection (SET TRANSACTION must come first in it).
            async with self.db.transaction() as conn:
                await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                return await self._dump(conn, collections)
        async with self.db.side_reader() as view:
            conn = view.reader
            # A read transaction on the side connection: one snapshot for every query.
            own = view.reader is not view.conn
            if own:
                await conn.execute("BEGIN")
            try:
                return await self._dump(conn, collections)
            finally:
                if own:
                    await conn.execute("COMMIT")

    async def _dump(self, conn, collections: Sequence[int] | None) -> LibraryDump:
        where, params = "", ()
        if collections is not None:
            where, params = "WHERE " + in_collections("x", collections), tuple(collections)
        aliases: dict[int, list[str]] = {}
        async with conn.execute(
            "SELECT speaker_id, alias FROM speaker_aliases ORDER BY speaker_id, alias"
        ) as cur:
            async for speaker_id, alias in cur:
                aliases.setdefault(speaker_id, []).append(alias)
        speakers = []
        async with conn.execute("SELECT id, name, role FROM speakers ORDER BY name") as cur:
            async for speaker_id, name, role in cur:
                speakers.append(SpeakerInfo(name, role, tuple(aliases.get(speaker_id, ()))))

        quotes: dict[int, list[NewQuote]] = {}
        hidden: dict[int, set[int]] = {}
        async with conn.execute(
            "SELECT x.source_id, sp.name, x.text, x.start, x.position, x.quotability, "
            "x.hidden "
            "FROM quotes x LEFT JOIN speakers sp ON sp.id = x.speaker_id "
            f"{where} ORDER BY x.source_id, x.position, x.id", params
        ) as cur:
            while rows := await cur.fetchmany(5000):
                for source_id, speaker, text, start, position, quotability, hide in rows:
                    quotes.setdefault(source_id, []).append(
                        NewQuote(speaker, text, start, position, quotability))
                    if hide:
                        hidden.setdefault(source_id, set()).add(position)
        highlights: dict[int, list[NewHighlight]] = {}
        async with conn.execute(
            "SELECT x.source_id, sp.name, x.first_position, x.last_position, x.text, "
            "x.start, x.score, x.reasons FROM highlights x "
            "LEFT JOIN speakers sp ON sp.id = x.speaker_id "
            f"{where} ORDER BY x.source_id, x.first_position, x.id", params
        ) as cur:
            while rows := await cur.fetchmany(5000):
                for source_id, speaker, first, last, text, start, score, reasons in rows:
                    highlights.setdefault(source_id, []).append(NewHighlight(
                        speaker, first, last, text, start, score,
                        tuple(json.loads(reasons or "[]"))))
        saved = await read_origins(conn, where, params)
        sources = []
        async with conn.execute(
            "SELECT id, slug, title, date, venue, url, path, format, content_hash, meta_json, "
            f"ingested_at FROM sources x {where} ORDER BY slug", params
        ) as cur:
            async for row in cur:
                source = NewSource(row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                                   row[8], json.loads(row[9] or "{}"), row[10])
                sources.append(SourceRecords(source, quotes.pop(row[0], []),
                                             highlights.pop(row[0], []),
                                             frozenset(hidden.pop(row[0], ())),
                                             saved.pop(row[0], {})))
        if collections is not None:  # only the speakers these collections quote
            named = {q.speaker for item in sources for q in item.quotes} | {
                h.speaker for item in sources for h in item.highlights}
            speakers = [s for s in speakers if s.name in named]
        return LibraryDump(speakers, sources)
