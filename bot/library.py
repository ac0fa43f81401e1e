"""The quote library the commands use: search, random, lookup, context and name resolution."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.models import Quote
from bot.search import Searcher
from bot.tokens import fold, tokenize
from bot.vocabulary import Vocabulary
from store.db import Database
from store.quotes import QuoteStore

log = logging.getLogger(__name__)

RECENT_PER_KEY = 20
RECENT_KEYS = 5000
WATCH_INTERVAL = 2.0  # seconds between the library watcher's looks at the database
RELOAD_SPACING = 4  # during an ingest, after a reload of t seconds the next waits >= 4t


class LookupFailed(LookupError):
    """A speaker, source or quote the user named does not exist; carries suggestions."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions


@dataclass(frozen=True)
class Speaker:
    id: int
    name: str
    role: str | None
    aliases: tuple[str, ...]
    quotes: int


@dataclass(frozen=True)
class Source:
    id: int
    slug: str
    title: str
    date: str | None
    venue: str | None
    quotes: int


def quote_from_row(row) -> Quote:
    return Quote(
        id=row["id"], text=row["text"], speaker=row["speaker"], source=row["source"],
        source_slug=row["source_slug"], start=row["start"], position=row["position"],
        quotability=row["quotability"], source_id=row["source_id"], speaker_id=row["speaker_id"],
    )


class QuoteLibrary:
    """Everything the core asks of the quote store, with the in-memory indexes it needs.

    Call `load()` after opening; afterwards `reload()` (or the `watch()` task, which calls
    it when the database changed) keeps the vocabulary and the speaker and source lists in
    step with ingests by this or any other process.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.store = QuoteStore(db)
        self.searcher = Searcher(self.store, Vocabulary())
        self.speakers: list[Speaker] = []
        self.rewrites = QueryRewrites({})
        self.sources: list[Source] = []
        # Recently shown random quotes per channel/user, so "random" does not repeat at once.
        self._recent: OrderedDict[str, deque[int]] = OrderedDict()
        self._generations: tuple[int, int | None] = (-1, -1)  # what `load` last read

    async def load(self) -> None:
        """Read the vocabulary, speakers, sources and corrections from the database."""
        await self._load(vocabulary=True, names=True)

    async def reload(self) -> bool:
        """Reload what another process (or task) changed since the last load.

        Speakers, sources and corrections follow every committed file; the vocabulary
        follows the terms snapshot, which an ingest refreshes at its end. Returns whether
        anything was reloaded.
        """
        quotes, terms = await self.store.generations()
        old_quotes, old_terms = self._generations
        if (quotes, terms) == (old_quotes, old_terms):
            return False
        await self._load(vocabulary=terms != old_terms, names=quotes != old_quotes)
        log.info("reloaded the library (quotes generation %s, terms generation %s)",
                 quotes, terms)
        return True

    async def _load(self, *, vocabulary: bool, names: bool) -> None:
        # A connection of its own: the speaker counts alone take seconds at 1M quotes, and
        # searches must not queue behind them on the serving connection.
        async with self.db.side_reader() as side:
            store = QuoteStore(side)
            generations = await store.generations()
            searcher = self.searcher
            if vocabulary:
                vocab = await Vocabulary.load(store)
                vocab.store = self.store  # later lookups go through the serving connection
                searcher = Searcher(self.store, vocab)
            if names:
                speakers = [
                    Speaker(r["id"], r["name"], r["role"],
                            tuple(a for a in (r["aliases"] or "").split(",") if a),
                            r["quotes"])
                    for r in await store.speakers()
                ]
                rows = await store.sources()
                sources = [
                    Source(r["id"], r["slug"], r["title"], r["date"], r["venue"], r["quotes"])
                    for r in rows
                ]
                rewrites = QueryRewrites.from_corrections(
                    c for r in rows for c in json.loads(r["corrections"] or "[]")
                )
        # Swapped in together, after every await: a command never sees half a reload.
        self.searcher = searcher
        if names:
            self.speakers, self.sources, self.rewrites = speakers, sources, rewrites
        self._generations = generations

    async def watch(self, interval: float = WATCH_INTERVAL, *, sleep=asyncio.sleep) -> None:
        """Keep the library in step with the database until cancelled (run it as a task).

        Every `interval` seconds SQLite's `data_version` says whether anyone committed; if
        so, `reload`. While an ingest is still running elsewhere, reloads are spaced by
        their cost (speaker counts take seconds at 1M quotes), so a long ingest costs this
        process a bounded share of a core; the first tick after it ends reloads. Derived
        state a crashed ingest left stale is rebuilt here too, once no ingest runs.
        """
        version = await self.store.data_version()
        repair_pending = await self.store.terms_stale()
        changed = False
        spaced_until = 0.0
        while True:
            await sleep(interval)
            try:
                now = await self.store.data_version()
                changed = changed or now != version
                version = now
                if not changed and not repair_pending:
                    continue
                if await self.store.repair():
                    log.info("rebuilt stale derived state")
                repair_pending = await self.store.terms_stale()
                if not changed or (time.monotonic() < spaced_until
                                   and await self.db.ingest_running()):
                    continue
                started = time.monotonic()
                changed = False
                await self.reload()
                took = time.monotonic() - started
                spaced_until = time.monotonic() + RELOAD_SPACING * took
            except Exception:  # a watcher that dies silently is worse than one that logs
                log.exception("library watcher: reload failed; retrying")

    # ---- lookups --------------------------------------------------------------------------

    async def get(self, quote_id: int) -> Quote | None:
        rows = await self.store.get_quotes([quote_id])
        return quote_from_row(rows[0]) if rows else None

    async def context(self, quote: Quote, around: int) -> list[Quote]:
        rows = await self.store.neighbours(quote.source_id, quote.position, around, around)
        return [quote_from_row(r) for r in rows]

    async def search(
        self,
        query: str,
        *,
        speaker: Speaker | None = None,
        source: Source | None = None,
        limit: int = 10,
        prefix_last: bool = False,
    ) -> list[Quote]:
        scope = {
            "speaker_id": speaker.id if speaker else None,
            "source_id": source.id if source else None,
            "limit": limit,
            "prefix_last": prefix_last,
        }
        hits = await self.searcher.search(query, **scope)
        rewritten = self.rewrites.apply(query)
        if rewritten != query:
            # The user may type what the recording misheard ("dolly 2"): search the
            # corrected spelling too and keep the better score of each quote.
            best = {h.id: h for h in hits}
            for hit in await self.searcher.search(rewritten, **scope):
                if hit.id not in best or hit.score > best[hit.id].score:
                    best[hit.id] = hit
            hits = sorted(best.values(), key=lambda h: (-h.score, h.id))[:limit]
        rows = await self.store.get_quotes([h.id for h in hits])
        return [quote_from_row(r) for r in rows]

    async def random(
        self,
        *,
        speaker: Speaker | None = None,
        source: Source | None = None,
        recent_key: str | None = None,
    ) -> Quote | None:
        """A random quote worth reading, weighted by quotability, not one shown lately.

        Draws uniformly among quotes scoring at least 0.5 and accepts a draw with probability
        equal to its score (rejection sampling): the result is weighted by quotability at
        the cost of two index probes on average. Falls back to any quote when a filter
        leaves no good ones.
        """
        speaker_id = speaker.id if speaker else None
        source_id = source.id if source else None
        recent = list(self._recent.get(recent_key, ())) if recent_key else []
        # Good quotes not shown lately; else good ones but the last; else anything.
        chosen = None
        for avoid, good in ((recent, True), (recent[-1:], True), ([], False)):
            chosen = await self._draw(speaker_id, source_id, avoid, good)
            if chosen is not None:
                break
        if chosen is None:
            return None
        row = chosen
        if recent_key:
            self._remember(recent_key, row["id"])
        return quote_from_row(row)

    async def _draw(self, speaker_id, source_id, avoid: list[int], good: bool):
        """Rejection sampling: accept a uniform draw with probability equal to its score."""
        row = None
        for _ in range(8 if good else 1):
            row = await self.store.random_quote(
                speaker_id=speaker_id, source_id=source_id, good=good, exclude=avoid
            )
            if row is None or random.random() <= row["quotability"]:
                break
        return row

    def _remember(self, key: str, quote_id: int) -> None:
        recent = self._recent.pop(key, None) or deque(maxlen=RECENT_PER_KEY)
        if quote_id in recent:
            recent.remove(quote_id)  # keep one entry per id, so order means recency
        recent.append(quote_id)
        self._recent[key] = recent
        while len(self._recent) > RECENT_KEYS:
            self._recent.popitem(last=False)

    # ---- names ----------------------------------------------------------------------------

    def resolve_speaker(self, text: str) -> Speaker:
        """The speaker a user means by `text` ("ilya", "Brockman", "greg brokman")."""
        return _resolve(
            text, self.speakers, lambda s: (s.name, *s.aliases), "speaker",
            lambda s: s.name,
        )

    def resolve_source(self, text: str) -> Source:
        """The source a user means by `text` (slug, title or a fuzzy piece of the title)."""
        return _resolve(
            text, self.sources, lambda s: (s.slug, s.title), "source", lambda s: s.title,
        )

    def speaker_choices(self, partial: str, limit: int = 25) -> list[Speaker]:
        return _choices(partial, self.speakers, lambda s: (s.name, *s.aliases), limit)

    def source_choices(self, partial: str, limit: int = 25) -> list[Source]:
        return _choices(partial, self.sources, lambda s: (s.slug, s.title), limit)


class QueryRewrites:
    """The transcripts' documented name corrections, applied to what users type."""

    def __init__(self, pairs: dict[str, str]) -> None:
        self.pairs = pairs
        self.pattern = (
            re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(pairs, key=len,
                                                                        reverse=True))
                       + r")\b", re.IGNORECASE)
            if pairs else None
        )

    @classmethod
    def from_corrections(cls, corrections) -> QueryRewrites:
        pairs = {}
        for c in corrections:
            wrong, right = str(c.get("wrong") or ""), str(c.get("right") or "")
            if wrong.strip() and right.strip():
                pairs.setdefault(wrong.casefold(), right)
        return cls(pairs)

    def apply(self, query: str) -> str:
        if self.pattern is None:
            return query
        return self.pattern.sub(
            lambda m: self.pairs.get(m.group(0).casefold(), m.group(0)), query
        )


def _resolve(text, items, keys, kind, label):
    wanted = fold(text.strip())
    if not wanted:
        raise LookupFailed(f"Name a {kind}.")
    exact = [it for it in items if any(fold(k) == wanted for k in keys(it))]
    if len(exact) == 1:
        return exact[0]
    words = set(tokenize(wanted))
    partial = [
        it for it in items
        if words and any(words <= set(tokenize(k)) for k in keys(it))
    ]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        names = tuple(label(it) for it in partial[:5])
        raise LookupFailed(f"“{text}” could be several {kind}s: be more specific.", names)
    pool = {fold(k): it for it in items for k in keys(it)}
    matches = process.extract(wanted, list(pool), scorer=fuzz.WRatio, limit=3)
    if matches and matches[0][1] >= 86 and (len(matches) == 1 or matches[1][1] < matches[0][1]
                                            or pool[matches[1][0]] is pool[matches[0][0]]):
        return pool[matches[0][0]]
    suggestions = tuple(dict.fromkeys(label(pool[m[0]]) for m in matches if m[1] >= 50))
    raise LookupFailed(f"No {kind} called “{text}”.", suggestions)


def _choices(partial, items, keys, limit):
    wanted = fold(partial.strip())
    if not wanted:
        return list(items[:limit])
    scored = []
    for it in items:
        best = max(
            (100 if fold(k).startswith(wanted) else fuzz.partial_ratio(wanted, fold(k)))
            for k in keys(it)
        )
        if best >= 60:
            scored.append((-best, it))
    scored.sort(key=lambda p: p[0])
    return [it for _, it in scored[:limit]]
