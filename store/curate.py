"""Curating single quotes (remove, hide, re-attribute), each change with its audit row."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quotebot.store import derived
from quotebot.store.db import Database
from quotebot.store.fts import filter_tags
from quotebot.store.quotes import RemoveResult, delete_sources

log = logging.getLogger(__name__)

_RECORD_SELECT = """
    SELECT q.id, q.source_id, so.slug AS source, q.position, q.speaker_id,
           sp.name AS speaker, q.text, q.hidden, q.collection_id
    FROM quotes q
    JOIN sources so ON so.id = q.source_id
    LEFT JOIN speakers sp ON sp.id = q.speaker_id
    WHERE q.id = ?
"""


_SOURCE_SELECT = """
    SELECT so.id, so.slug, so.title,
           (SELECT count(*) FROM quotes q WHERE q.source_id = so.id), so.collection_id
    FROM sources so WHERE so.slug = ?
"""


@dataclass(frozen=True)
class Actor:
    """Who made a change, as the platform names them."""

    platform: str
    id: str
    name: str | None = None


@dataclass(frozen=True)
class QuoteRecord:
    """A quote as the audit log records it before and after a change."""

    id: int
    source_id: int
    source: str  # the source's slug
    position: int
    speaker_id: int | None
    speaker: str | None
    text: str
    hidden: bool
    collection_id: int = 0  # not in the audit's JSON: the audit row has its own column

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "position": self.position,
                "speaker": self.speaker, "speaker_id": self.speaker_id, "text": self.text,
                "hidden": self.hidden}


@dataclass(frozen=True)
class Change:
    """What one curating command did: the quote before and after (None once removed)."""

    before: QuoteRecord
    after: QuoteRecord | None
    new_speaker: bool = False  # a re-attribution created the speaker


@dataclass(frozen=True)
class SourceRecord:
    """A source as the audit log records it before its removal."""

    id: int
    slug: str
    title: str
    quotes: int
    collection_id: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "slug": self.slug, "title": self.title, "quotes": self.quotes}


@dataclass(frozen=True)
class SourceRemoval:
    """What `/quote sources remove` did: the source before, and the rows deleted."""

    before: SourceRecord
    result: RemoveResult


@dataclass(frozen=True)
class AuditEntry:
    """One audit row: who did what to which target, with the target before and after."""

    id: int
    at: str
    actor_platform: str
    actor_id: str
    actor_name: str | None
    action: str
    target_kind: str
    target_id: str
    before: dict | None
    after: dict | None


def _record(row) -> QuoteRecord | None:
    if row is None:
        return None
    return QuoteRecord(row["id"], row["source_id"], row["source"], row["position"],
                       row["speaker_id"], row["speaker"], row["text"], bool(row["hidden"]),
                       row["collection_id"])


def _within(record: QuoteRecord | None, collections: Sequence[int] | None
            ) -> QuoteRecord | None:
    """`record` if it lies in `collections` (None: anywhere), else None (not found)."""
    if record is None or collections is None or record.collection_id in collections:
        return record
    return None


def _now(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="seconds")


class CurateStore:
    """All SQL of curation. Every change and its audit row commit in one transaction.

    A change names the `collections` it may touch (a library's own, say): a quote of any
    other is "no such quote", exactly as a missing one. None means any collection.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def quote(self, quote_id: int, collections: Sequence[int] | None = None
                    ) -> QuoteRecord | None:
        record = _record(await self.db.fetchone(_RECORD_SELECT, (quote_id,)))
        return _within(record, collections)

    async def is_hidden(self, quote_id: int) -> bool:
        return bool(await self.db.scalar("SELECT hidden FROM quotes WHERE id = ?",
                                         (quote_id,)))

    async def remove_quote(self, quote_id: int, actor: Actor, *,
                           collections: Sequence[int] | None = None,
                           now: datetime | None = None) -> Change | None:
        """Delete one quote and the highlights spanning it (their words include it);
        None if there is no such quote. A re-ingest of its unchanged transcript brings it
        back, as it brings back any line the file still holds."""
        async with self.db.transaction() as conn:
            before = _within(await self._read(conn, quote_id), collections)
            if before is None:
                return None
            await conn.execute(
                "DELETE FROM highlights WHERE source_id = ? AND first_position <= ? "
                "AND last_position >= ?", (before.source_id, before.position, before.position))
            await conn.execute("DELETE FROM quotes WHERE id = ?", (quote_id,))
            await derived.mark_quotes_changed(conn)
            await self._audit(conn, actor, "remove", before, None, now)
        return Change(before, None)

    async def source(self, slug: str) -> SourceRecord | None:
        """The source with this slug (slugs are unique in the whole database), any
        collection's."""
        row = await self.db.fetchone(_SOURCE_SELECT, (slug,))
        return None if row is None else SourceRecord(*row)

    async def remove_source(self, slug: str, actor: Actor, *,
                            collections: Sequence[int] | None = None,
                            now: datetime | None = None) -> SourceRemoval | None:
        """Delete a source with its quotes, highlights and deck entries, as
        `quotebot sources remove` does (`delete_sources`), and its audit row, in one
        transaction; None if no source of `collections` has this slug."""
        async with self.db.transaction() as conn:
            async with conn.execute(_SOURCE_SELECT, (slug,)) as cur:
                row = await cur.fetchone()
            before = None if row is None else SourceRecord(*row)
            if before is None or (collections is not None
                                  and before.collection_id not in collections):
                return None
            result = await delete_sources(conn, [before.id], engine=self.db.engine)
            await conn.execute(
                "INSERT INTO audit (at, actor_platform, actor_id, actor_name, action, "
                "target_kind, target_id, before_json, after_json, collection_id) "
                "VALUES (?, ?, ?, ?, 'remove', 'source', ?, ?, NULL, ?)",
                (_now(now), actor.platform, actor.id, actor.name, before.slug,
                 json.dumps(before.to_json(), ensure_ascii=False), before.collection_id))
        return SourceRemoval(before, result)

    async def set_hidden(self, quote_id: int, hidden: bool, actor: Actor, *,
                         collections: Sequence[int] | None = None,
                         now: datetime | None = None) -> Change | None:
        """Hide a quote from random draws and daily posts, or show it again; None if there
        is no such quote. An unchanged flag changes nothing and writes no audit row."""
        async with self.db.transaction() as conn:
            before = _within(await self._read(conn, quote_id), collections)
            if before is None:
                return None
            if before.hidden == hidden:
                return Change(before, before)
            await conn.execute("UPDATE quotes SET hidden = ? WHERE id = ?",
                               (int(hidden), quote_id))
            after = await self._read(conn, quote_id)
            await self._audit(conn, actor, "hide" if hidden else "unhide", before, after, now)
        return Change(before, after)

    async def reattribute(self, quote_id: int, actor: Actor, *, speaker_id: int | None = None,
                          new_speaker: str | None = None,
                          collections: Sequence[int] | None = None,
                          now: datetime | None = None) -> Change | None:
        """Attribute a quote to speaker `speaker_id`, or to `new_speaker` (created unless a
        speaker of that name exists); the words never change. None if there is no such
        quote. Highlights spanning it follow when every quote they span is now the new
        speaker's."""
        async with self.db.transaction() as conn:
            before = _within(await self._read(conn, quote_id), collections)
            if before is None:
                return None
            created = False
            if new_speaker is not None:
                cur = await conn.execute(
                    "INSERT INTO speakers (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
                    (new_speaker,))
                created = cur.rowcount == 1
                async with conn.execute("SELECT id FROM speakers WHERE name = ?",
                                        (new_speaker,)) as cur:
                    speaker_id = (await cur.fetchone())[0]
            if speaker_id == before.speaker_id:
                return Change(before, before)
            await conn.execute("UPDATE quotes SET speaker_id = ?, tags = ? WHERE id = ?",
                               (speaker_id, filter_tags(speaker_id, before.source_id,
                                                       before.collection_id),
                                quote_id))
            await conn.execute(
                """
                UPDATE highlights SET speaker_id = ?
                WHERE source_id = ? AND first_position <= ? AND last_position >= ?
                  AND NOT EXISTS (SELECT 1 FROM quotes q WHERE q.source_id = highlights.source_id
                                  AND q.position BETWEEN highlights.first_position
                                                     AND highlights.last_position
                                  AND q.speaker_id IS DISTINCT FROM ?)
                """,
                (speaker_id, before.source_id, before.position, before.position, speaker_id))
            await derived.mark_quotes_changed(conn)
            after = await self._read(conn, quote_id)
            await self._audit(conn, actor, "edit", before, after, now)
        return Change(before, after, created)

    async def audit(self, limit: int = 50, collection_id: int | None = None
                    ) -> list[AuditEntry]:
        """The newest `limit` audit rows (of changes to one collection's quotes when
        `collection_id` is given), newest first."""
        where, params = "", (limit,)
        if collection_id is not None:
            where, params = "WHERE collection_id = ? ", (collection_id, limit)
        rows = await self.db.fetchall(
            "SELECT id, at, actor_platform, actor_id, actor_name, action, target_kind, "
            f"target_id, before_json, after_json FROM audit {where}ORDER BY id DESC LIMIT ?",
            params)
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                           json.loads(r[8]) if r[8] else None,
                           json.loads(r[9]) if r[9] else None) for r in rows]

    async def _read(self, conn, quote_id: int) -> QuoteRecord | None:
        async with conn.execute(_RECORD_SELECT, (quote_id,)) as cur:
            return _record(await cur.fetchone())

    async def _audit(self, conn, actor: Actor, action: str, before: QuoteRecord,
                     after: QuoteRecord | None, now: datetime | None) -> None:
        await conn.execute(
            "INSERT INTO audit (at, actor_platform, actor_id, actor_name, action, target_kind, "
            "target_id, before_json, after_json, collection_id) "
            "VALUES (?, ?, ?, ?, ?, 'quote', ?, ?, ?, ?)",
            (_now(now), actor.platform, actor.id, actor.name, action, str(before.id),
             json.dumps(before.to_json(), ensure_ascii=False),
             None if after is None else json.dumps(after.to_json(), ensure_ascii=False),
             before.collection_id))
