"""Quotes saved from chat and added by hand: the quote rows, where they came from, the audit.

A saved quote is an ordinary quote (FTS tags, random key, maybe a one-unit highlight) in a
source of its library's own collection; `saved_quotes` (schema migration 7) keeps the
message it came from and who saved it. Everything about one save commits in one
transaction with its audit row.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quotebot.store import derived
from quotebot.store.db import Database
from quotebot.store.fts import filter_tags

log = logging.getLogger(__name__)

# Source formats of saved quotes: one source per library for messages saved from chat, one
# per "where it was said" for lines added by hand (`/quote add source:`).
CHAT, ADDED = "chat", "added"
SLUG_TRIES = 100  # suffixes tried when a slug is taken (an import from another database)


@dataclass(frozen=True)
class SavedFrom:
    """Where a saved quote came from and who saved it.

    `message_id`, `author_id` and `link` are None for a line added by hand. `said_at` and
    `saved_at` are ISO 8601 times (UTC).
    """

    platform: str
    workspace: str
    channel: str
    message_id: str | None
    author_id: str | None
    author_name: str | None
    link: str | None
    said_at: str | None
    saved_by_id: str
    saved_by_name: str | None
    saved_at: str

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform, "workspace": self.workspace,
                "channel": self.channel, "message_id": self.message_id,
                "author_id": self.author_id, "author_name": self.author_name,
                "link": self.link, "said_at": self.said_at, "saved_by_id": self.saved_by_id,
                "saved_by_name": self.saved_by_name, "saved_at": self.saved_at}


@dataclass(frozen=True)
class NewSaved:
    """One quote to save: its words, speaker name and source, and its scores.

    `source_format` is CHAT or ADDED; a source of that format and `source_title` in the
    collection is reused, else one is created with `source_slug` (made unique). A
    `highlight_score` makes the whole text its own highlight (`highlight_text`, the passage
    the highlight judge chose, defaults to the whole text). `tokens` are the words as the
    index sees them (`quotebot.bot.tokens.tokenize`), counted into the terms snapshot at
    once so a search finds the new words before the next snapshot refresh.
    """

    text: str
    speaker: str | None
    source_format: str
    source_title: str
    source_slug: str
    quotability: float
    origin: SavedFrom
    highlight_score: float | None = None
    highlight_reasons: tuple[str, ...] = ()
    highlight_text: str | None = None
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class SaveResult:
    """What a save did: the quote's id; `created` False when the message was already saved
    (then `quote_id` is the earlier quote); `renamed`, how many earlier quotes of the same
    author now carry their current name."""

    quote_id: int
    created: bool
    renamed: int = 0


_ORIGIN_COLUMNS = ("platform, workspace, channel, message_id, author_id, author_name, link, "
                   "said_at, saved_by_id, saved_by_name, saved_at")


def _now(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="seconds")


class SavedStore:
    """All SQL of saving quotes from chat."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def origin(self, quote_id: int) -> SavedFrom | None:
        """Where quote `quote_id` was saved from, or None (a transcript's quote)."""
        row = await self.db.fetchone(
            f"SELECT {_ORIGIN_COLUMNS} FROM saved_quotes WHERE quote_id = ?", (quote_id,))
        return None if row is None else SavedFrom(*row)

    async def sources_with_links(self) -> set[int]:
        """The sources holding a quote saved with a link back to its message."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT q.source_id FROM saved_quotes s JOIN quotes q ON q.id = s.quote_id "
            "WHERE s.link IS NOT NULL")
        return {r[0] for r in rows}

    async def links(self, quote_ids: Sequence[int]) -> dict[int, str]:
        """quote id -> the link back to its message, for those of `quote_ids` that have one."""
        if not quote_ids:
            return {}
        marks = ",".join("?" * len(quote_ids))
        rows = await self.db.fetchall(
            f"SELECT quote_id, link FROM saved_quotes WHERE quote_id IN ({marks}) "
            "AND link IS NOT NULL", tuple(quote_ids))
        return {r[0]: r[1] for r in rows}

    async def saved_message(self, platform: str, workspace: str, channel: str,
                            message_id: str) -> int | None:
        """The id of the quote this message was saved as, if it was."""
        value = await self.db.scalar(
            "SELECT quote_id FROM saved_quotes WHERE platform = ? AND workspace = ? "
            "AND channel = ? AND message_id = ?", (platform, workspace, channel, message_id))
        return None if value is None else int(value)

    async def save(self, collection_id: int, item: NewSaved, actor_platform: str, *,
                   now: datetime | None = None) -> SaveResult:
        """Store `item` as a quote of `collection_id` with its origin and an audit row.

        A message saved before (same platform, workspace, channel and message id) is not
        stored twice: the result names the earlier quote. When the message has an author
        id, that author's earlier saved quotes of the same workspace whose speaker is still
        the name recorded for them move to `item.speaker` (a rename follows).
        """
        origin = item.origin
        async with self.db.transaction() as conn:
            if origin.message_id is not None:
                async with conn.execute(
                    "SELECT quote_id FROM saved_quotes WHERE platform = ? AND workspace = ? "
                    "AND channel = ? AND message_id = ?",
                    (origin.platform, origin.workspace, origin.channel, origin.message_id),
                ) as cur:
                    found = await cur.fetchone()
                if found is not None:
                    return SaveResult(found[0], False)
            source_id = await _source(conn, collection_id, item)
            # A message's author is a chat user, whoever their name says; a line added by
            # hand names its speaker (`by:`), who may well be the interviewee.
            speaker_id = await _speaker(conn, item.speaker, origin.platform,
                                        qualify=origin.message_id is not None)
            async with conn.execute(
                "SELECT coalesce(max(position), -1) + 1 FROM quotes WHERE source_id = ?",
                (source_id,),
            ) as cur:
                position = (await cur.fetchone())[0]
            cur = await conn.execute(
                "INSERT INTO quotes (source_id, speaker_id, position, start, text, quotability, "
                "rand_key, tags, collection_id) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (source_id, speaker_id, position, item.text, item.quotability,
                 random.getrandbits(31), filter_tags(speaker_id, source_id, collection_id),
                 collection_id))
            quote_id = (await cur.fetchone())[0]
            if item.highlight_score is not None:
                await conn.execute(
                    "INSERT INTO highlights (source_id, speaker_id, first_position, "
                    "last_position, start, text, score, reasons, rand_key, collection_id) "
                    "VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
                    (source_id, speaker_id, position, position,
                     item.highlight_text or item.text, item.highlight_score,
                     json.dumps(list(item.highlight_reasons)),
                     random.getrandbits(31), collection_id))
            await write_origin(conn, quote_id, origin)
            renamed = await _follow_rename(conn, origin, speaker_id, item.speaker)
            # Count the new words now (searches plan with the snapshot's frequencies); the
            # generation bump leaves the snapshot marked stale, so the library watcher
            # rebuilds it exactly later, as after any curating change.
            # `terms.docs`: PostgreSQL finds a bare `docs` ambiguous (the row or excluded).
            await conn.executemany(
                "INSERT INTO terms (term, docs) VALUES (?, 1) "
                "ON CONFLICT (term) DO UPDATE SET docs = terms.docs + 1",
                [(t,) for t in dict.fromkeys(item.tokens)])
            await derived.mark_quotes_changed(conn)
            after = {"id": quote_id, "source_id": source_id, "position": position,
                     "speaker": item.speaker, "speaker_id": speaker_id, "text": item.text,
                     "saved_from": origin.to_json()}
            await conn.execute(
                "INSERT INTO audit (at, actor_platform, actor_id, actor_name, action, "
                "target_kind, target_id, before_json, after_json, collection_id) "
                "VALUES (?, ?, ?, ?, ?, 'quote', ?, NULL, ?, ?)",
                (_now(now), actor_platform, origin.saved_by_id, origin.saved_by_name,
                 "add" if origin.message_id is None else "save", str(quote_id),
                 json.dumps(after, ensure_ascii=False), collection_id))
        return SaveResult(quote_id, True, renamed)


async def write_origin(conn, quote_id: int, origin: SavedFrom) -> None:
    """Record (or replace) where quote `quote_id` came from, inside the caller's transaction.

    An import may bring a message already saved as another quote here: the imported quote
    takes the message over (the last write wins), as the file says."""
    # What INSERT OR REPLACE does, in SQL both engines speak: the rows either key names go.
    await conn.execute(
        "DELETE FROM saved_quotes WHERE quote_id = ? OR (platform = ? AND workspace = ? "
        "AND channel = ? AND message_id = ?)",
        (quote_id, origin.platform, origin.workspace, origin.channel, origin.message_id))
    await conn.execute(
        f"INSERT INTO saved_quotes (quote_id, {_ORIGIN_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (quote_id, origin.platform, origin.workspace, origin.channel, origin.message_id,
         origin.author_id, origin.author_name, origin.link, origin.said_at,
         origin.saved_by_id, origin.saved_by_name, origin.saved_at))


async def write_origins(conn, source_id: int, saved: Mapping[int, SavedFrom]) -> None:
    """Record the origins of a source's quotes by position (an import), in the caller's
    transaction."""
    for position, origin in sorted(saved.items()):
        async with conn.execute("SELECT id FROM quotes WHERE source_id = ? AND position = ?",
                                (source_id, position)) as cur:
            row = await cur.fetchone()
        if row is not None:
            await write_origin(conn, row[0], origin)


async def read_origins(conn, where: str, params: tuple) -> dict[int, dict[int, SavedFrom]]:
    """source id -> position -> origin of the saved quotes matching `where` (a term over
    the alias `x` of quotes, one of our own, never user input) on `conn` (an export)."""
    found: dict[int, dict[int, SavedFrom]] = {}
    columns = ", ".join(f"s.{c.strip()}" for c in _ORIGIN_COLUMNS.split(","))
    async with conn.execute(
        f"SELECT x.source_id, x.position, {columns} FROM saved_quotes s "
        f"JOIN quotes x ON x.id = s.quote_id {where}", params,
    ) as cur:
        async for row in cur:
            found.setdefault(row[0], {})[row[1]] = SavedFrom(*row[2:])
    return found


async def _source(conn, collection_id: int, item: NewSaved) -> int:
    """The collection's source of this format and title, created if new."""
    async with conn.execute(
        # lower(), not COLLATE NOCASE (SQLite's alone): both fold ASCII letters in SQLite.
        "SELECT id FROM sources WHERE collection_id = ? AND format = ? "
        "AND lower(title) = lower(?) ORDER BY id LIMIT 1",
        (collection_id, item.source_format, item.source_title),
    ) as cur:
        row = await cur.fetchone()
    if row is not None:
        return row[0]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for attempt in range(SLUG_TRIES):
        slug = item.source_slug if attempt == 0 else f"{item.source_slug}-{attempt + 1}"
        cur = await conn.execute(
            "INSERT INTO sources (slug, title, format, content_hash, meta_json, ingested_at, "
            "collection_id) VALUES (?, ?, ?, ?, '{}', ?, ?) ON CONFLICT (slug) DO NOTHING "
            "RETURNING id",
            # No file behind it: the format stands in for the hash (never a file's digest,
            # so an ingest never takes a file for this source).
            (slug, item.source_title, item.source_format, item.source_format, now,
             collection_id))
        inserted = await cur.fetchone()  # None: the slug is taken
        if inserted is not None:
            return inserted[0]
    raise ValueError(f"no free slug for {item.source_slug!r}")


# How a chat user's name is told apart from a transcript's speaker of the same name.
_PLATFORM_LABELS = {"discord": "Discord", "slack": "Slack"}


def chat_speaker_name(name: str, platform: str) -> str:
    """The speaker name of a chat user called like a transcript's speaker: "Ana (Discord)"."""
    return f"{name} ({_PLATFORM_LABELS.get(platform, platform)})"


async def _speaker(conn, name: str | None, platform: str, *, qualify: bool) -> int | None:
    """The speaker row of a chat author called `name`. Speakers are unique by name, so a
    name that a transcript's speaker holds (one with a role or aliases, such as the bundled
    interviewees) gets the platform after it when `qualify`: a Discord user called "Ilya
    Sutskever" must never be shown with the interviewee's role, or drawn as him."""
    if not name:
        return None
    async with conn.execute(
        "SELECT role IS NOT NULL OR EXISTS (SELECT 1 FROM speaker_aliases a "
        "WHERE a.speaker_id = speakers.id) FROM speakers WHERE name = ?", (name,),
    ) as cur:
        taken = await cur.fetchone()
    if qualify and taken is not None and taken[0]:
        name = chat_speaker_name(name, platform)
    await conn.execute("INSERT INTO speakers (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
                       (name,))
    async with conn.execute("SELECT id FROM speakers WHERE name = ?", (name,)) as cur:
        return (await cur.fetchone())[0]


async def _follow_rename(conn, origin: SavedFrom, speaker_id: int | None,
                         name: str | None) -> int:
    """Move the author's earlier saved quotes (still under the name recorded at their save)
    to `speaker_id`; how many moved. Quotes an admin re-attributed since are left alone."""
    if origin.author_id is None or speaker_id is None:
        return 0
    async with conn.execute(
        "SELECT q.id, q.source_id, q.position, q.collection_id FROM saved_quotes s "
        "JOIN quotes q ON q.id = s.quote_id LEFT JOIN speakers sp ON sp.id = q.speaker_id "
        "WHERE s.platform = ? AND s.workspace = ? AND s.author_id = ? "
        "AND q.speaker_id IS DISTINCT FROM ? AND (lower(sp.name) = lower(s.author_name) "
        "OR lower(sp.name) = lower(s.author_name || ' (' || ? || ')'))",
        (origin.platform, origin.workspace, origin.author_id, speaker_id,
         _PLATFORM_LABELS.get(origin.platform, origin.platform)),
    ) as cur:
        moving = await cur.fetchall()
    for quote_id, source_id, position, collection_id in moving:
        await conn.execute("UPDATE quotes SET speaker_id = ?, tags = ? WHERE id = ?",
                           (speaker_id, filter_tags(speaker_id, source_id, collection_id),
                            quote_id))
        await conn.execute(
            "UPDATE highlights SET speaker_id = ? WHERE source_id = ? AND first_position = ? "
            "AND last_position = ?", (speaker_id, source_id, position, position))
    await conn.execute(
        "UPDATE saved_quotes SET author_name = ? WHERE platform = ? AND workspace = ? "
        "AND author_id = ?", (name, origin.platform, origin.workspace, origin.author_id))
    return len(moving)
