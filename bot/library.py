"""The quote library the commands use: search, random, lookup, context and name resolution."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz, process

from quotebot.bot import highlights
from quotebot.bot.clean import clean
from quotebot.bot.highlights import Unit
from quotebot.bot.ingest.sentences import split_sentences
from quotebot.bot.models import ChannelRef, Quote
from quotebot.bot.search import Hit, Searcher
from quotebot.bot.tokens import fold, tokenize
from quotebot.bot.vocabulary import Vocabulary
from quotebot.store.curate import CurateStore
from quotebot.store.db import Database
from quotebot.store.libraries import (
    OPERATOR_PLATFORM,
    OPERATOR_PLATFORMS,
    LibraryRow,
    LibraryStore,
    library_name,
)
from quotebot.store.quotes import RAND_KEY_MAX, QuoteRow, QuoteStore
from quotebot.store.saved import SavedStore
from quotebot.store.server_settings import ServerSettings

log = logging.getLogger(__name__)

# Matches a search ranks in all: enough to page through, and to say "match 2 of 7".
MAX_MATCHES = 200
RECENT_PER_KEY = 20
RECENT_KEYS = 5000
WATCH_INTERVAL = 2.0  # seconds between the library watcher's looks at the database
RELOAD_SPACING = 4  # during an ingest, after a reload of t seconds the next waits >= 4t
# A draw whose highlight another request put in the deck first draws again, this many times.
DECK_RACES = 10


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
    collection_id: int = 0
    corrections: tuple = field(default=(), compare=False, repr=False)


VIEWS = 2048  # combinations of collections whose merged lists are kept (one per library,
#               mostly; each costs about what the library's own lists do)


def library_key(channel: ChannelRef | None) -> tuple[str, str]:
    """The library a request or a post belongs to: its platform and workspace (a Discord
    server, a Slack workspace), or the operator's own (`local`) for the terminal (the
    command line names another by giving its platform and workspace: `--library`)."""
    if channel is None or channel.platform in OPERATOR_PLATFORMS:
        return OPERATOR_PLATFORM, ""
    return channel.platform, channel.org or channel.workspace


def parse_library(name: str) -> tuple[str, str]:
    """(platform, workspace) of a library named `local` or `platform:workspace`.

    Raises:
        ValueError: for any other name.
    """
    name = name.strip()
    if name == OPERATOR_PLATFORM:
        return OPERATOR_PLATFORM, ""
    platform, _, workspace = name.partition(":")
    if not platform or not workspace or platform in OPERATOR_PLATFORMS:
        raise ValueError(f"no library called “{name}”: a library is `local` (yours) or "
                         "platform:id, e.g. discord:123456789 or slack:T0123ABCD")
    return platform, workspace


@dataclass(frozen=True)
class Scope:
    """One library as a request sees it: the collections it reads and what they hold.

    `collections` are its own collection and the enabled ones; `editable` those its admins
    may curate: all but the shared ones (`bundled`, `--collection`), which every library
    enabling them sees and only the operator's library curates. (A library's own
    collection enabled elsewhere, the operator's `local` say, is curated by both, as when
    there was one library.) `speakers`, `sources` and `rewrites` are merged from the
    per-collection lists loaded in memory.
    """

    platform: str
    workspace: str
    own: int
    collections: tuple[int, ...]
    speakers: tuple[Speaker, ...]
    sources: tuple[Source, ...]
    rewrites: QueryRewrites
    shared: frozenset[int] = frozenset()

    @property
    def name(self) -> str:
        return library_name(self.platform, self.workspace)

    @property
    def editable(self) -> tuple[int, ...]:
        if self.platform == OPERATOR_PLATFORM:
            return self.collections
        return tuple(c for c in self.collections if c not in self.shared)


def _collections(scope: Scope | None) -> tuple[int, ...] | None:
    return None if scope is None else scope.collections


CLEAN, EXACT = "clean", "exact"
STYLES = (CLEAN, EXACT)
DRAWS = 8  # rejection-sampling tries (one statement) before taking the last one drawn


def quote_from_row(row: QuoteRow, style: str = CLEAN) -> Quote:
    """A Quote from a store row; `text` is the clean form unless `style` is exact."""
    verbatim = " ".join(row.text.split())
    return Quote(
        id=row.id, text=clean(verbatim) if style == CLEAN else verbatim,
        speaker=row.speaker, source=row.source,
        source_slug=row.source_slug, start=row.start, position=row.position,
        quotability=row.quotability, source_id=row.source_id, speaker_id=row.speaker_id,
        verbatim=verbatim, highlight_id=row.highlight_id,
        last_position=row.last_position, speaker_role=row.speaker_role,
        venue=row.venue, source_url=row.source_url,
    )


def styled(quote: Quote, style: str) -> Quote:
    """The quote shown in `style`: the clean form of its exact words, or the words as said."""
    text = clean(quote.verbatim) if style == CLEAN else quote.verbatim
    return quote if text == quote.text else replace(quote, text=text)


@dataclass(frozen=True)
class Draw:
    """A random pick: the quote, and a note when it is not what was asked for exactly."""

    quote: Quote
    note: str | None = None


class QuoteLibrary:
    """Everything the core asks of the quote store, with the in-memory indexes it needs.

    Call `load()` after opening; afterwards `reload()` (or the `watch()` task, which calls
    it when the database changed) keeps the vocabulary and the speaker and source lists in
    step with ingests by this or any other process.
    """

    def __init__(self, db: Database, rng: random.Random | None = None) -> None:
        self.db = db
        self.rng = rng or random.Random()
        self.store = QuoteStore(db)
        self.curate = CurateStore(db)  # remove, hide, re-attribute, each with an audit row
        self.libraries = LibraryStore(db)
        self.saved = SavedStore(db)  # quotes saved from chat: where each came from
        self.searcher = Searcher(self.store, Vocabulary())
        self.speakers: list[Speaker] = []
        self.rewrites = QueryRewrites({})
        self.sources: list[Source] = []
        # Per collection: speaker id -> quotes there, and its sources; merged per library.
        self._counts: dict[int, dict[int, int]] = {}
        self._sources_in: dict[int, list[Source]] = {}
        self._quotes_in: dict[int, int] = {}  # collection id -> its quotes, as loaded
        self._quotes_total = 0
        self._speakers_by_id: dict[int, Speaker] = {}
        # Sources as loaded, and those holding quotes saved with a link to their message:
        # only quotes of the latter (or of a source newer than the load) can have a link.
        self._known_sources: set[int] = set()
        self._linked_sources: set[int] = set()
        self._views: OrderedDict[tuple[int, ...], tuple] = OrderedDict()
        # Recently shown random quotes per channel/user, so "random" does not repeat at once.
        self._recent: OrderedDict[str, deque[int]] = OrderedDict()
        self._generations: tuple[int, int | None] = (-1, -1)  # what `load` last read
        # Every library's collections, by (platform, workspace): read at load and again
        # when the libraries generation moves (another process switched a collection), so
        # no request reads them from the database (1,000 libraries: a few hundred KB).
        self._libraries: dict[tuple[str, str], LibraryRow] = {}
        self._libraries_generation = -1

    async def load(self) -> None:
        """Read the vocabulary, speakers, sources, corrections and libraries."""
        await self._reload_libraries()
        await self._load(vocabulary=True, names=True)

    async def _reload_libraries(self) -> bool:
        """Read every library's collections again if they changed since; whether they did."""
        generation = await self.libraries.generation()
        if generation == self._libraries_generation:
            return False
        # The generation first: a change committed while reading is seen at the next look.
        self._libraries_generation = generation
        self._libraries = await self.libraries.every_library()
        return True

    async def reload(self) -> bool:
        """Reload what another process (or task) changed since the last load.

        Speakers, sources and corrections follow every committed file; the vocabulary
        follows the terms snapshot, which an ingest refreshes at its end. Returns whether
        anything was reloaded.
        """
        libraries = await self._reload_libraries()
        quotes, terms = await self.store.generations()
        old_quotes, old_terms = self._generations
        if (quotes, terms) == (old_quotes, old_terms):
            return libraries
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
                counts = await store.speaker_counts()
                totals: dict[int, int] = {}
                for per_speaker in counts.values():
                    for speaker_id, quotes in per_speaker.items():
                        totals[speaker_id] = totals.get(speaker_id, 0) + quotes
                speakers = sorted(
                    (Speaker(r.id, r.name, r.role, r.aliases, totals.get(r.id, 0))
                     for r in await store.speakers(counts=False)),
                    key=lambda s: (-s.quotes, s.name))
                rows = await store.sources()
                sources = [Source(r.id, r.slug, r.title, r.date, r.venue, r.quotes,
                                  r.collection_id, tuple(json.loads(r.corrections or "[]")))
                           for r in rows]
                rewrites = QueryRewrites.from_corrections(
                    c for s in sources for c in s.corrections
                )
                linked = await SavedStore(side).sources_with_links()
        # Swapped in together, after every await: a command never sees half a reload.
        self.searcher = searcher
        if names:
            self.speakers, self.sources, self.rewrites = speakers, sources, rewrites
            self._known_sources = {s.id for s in sources}
            self._linked_sources = linked
            self._counts = counts
            self._speakers_by_id = {s.id: s for s in speakers}
            self._sources_in = {}
            self._quotes_in = {}
            for source in sources:
                self._sources_in.setdefault(source.collection_id, []).append(source)
                self._quotes_in[source.collection_id] = (
                    self._quotes_in.get(source.collection_id, 0) + source.quotes)
            self._quotes_total = sum(self._quotes_in.values())
            self._views = OrderedDict()
        self._generations = generations

    # ---- libraries ------------------------------------------------------------------------

    async def scope(self, channel: ChannelRef | None) -> Scope:
        """The library `channel` belongs to (created on first use with the operator's
        default collections), with its speakers and sources."""
        return await self.scope_of(*library_key(channel))

    async def scope_of(self, platform: str, workspace: str) -> Scope:
        """The library of (platform, workspace); see `scope`. From memory, except for a
        library this process has not seen yet (read, or created, once)."""
        row = self._libraries.get((platform, workspace))
        if row is None:
            row = await self.libraries.library(platform, workspace)
            self._libraries[(platform, workspace)] = row
        speakers, sources, rewrites = self._view(row.collections)
        return Scope(platform, workspace, row.own, row.collections, speakers, sources,
                     rewrites, row.shared)

    async def set_enabled(self, scope: Scope, collection_id: int, on: bool) -> bool:
        """Switch a collection on or off for `scope`'s library; whether anything changed.
        This process sees the change at once; others at their next reload."""
        changed = await self.libraries.set_enabled(scope.platform, scope.workspace,
                                                   collection_id, on)
        self._libraries[(scope.platform, scope.workspace)] = await self.libraries.library(
            scope.platform, scope.workspace)
        return changed

    async def writer(self, *, library: tuple[str, str] | None = None,
                     collection: str | None = None) -> QuoteStore:
        """Where an ingest or import writes: the shared collection `collection` (created if
        new), else the own collection of `library` (created if new), else the default
        store: new sources into the operator's library, stored ones updated where they are.

        Raises:
            ValueError: `collection` is not a valid shared collection name, or names a
                library's own collection.
        """
        if collection is not None:
            row = await self.libraries.create_shared(collection)
            return self.store.in_collection(row.id)
        if library is not None:
            row = await self.libraries.library(*library)
            return self.store.in_collection(row.own)
        return self.store

    async def export_collections(self, *, library: tuple[str, str] | None = None,
                                 collection: str | None = None) -> tuple[int, ...] | None:
        """What an export holds: one collection, one library's own collection, or (None)
        the whole database.

        Raises:
            LookupFailed: no such collection.
        """
        if collection is not None:
            row = await self.libraries.collection(collection)
            if row is None:
                raise LookupFailed(f"No collection called “{collection}”.")
            return (row.id,)
        if library is not None:
            return ((await self.libraries.library(*library)).own,)
        return None

    def collection_counts(self, collection_id: int) -> tuple[int, int]:
        """(sources, quotes) of a collection, from the lists loaded in memory."""
        sources = self._sources_in.get(collection_id, ())
        return len(sources), sum(s.quotes for s in sources)

    def _view(self, collections: tuple[int, ...]):
        """Speakers, sources and name corrections of these collections, merged from the
        per-collection lists (kept for the most recent VIEWS combinations: most libraries
        share one, their own plus `bundled`, differing only in the own collection)."""
        key = tuple(sorted(collections))
        view = self._views.get(key)
        if view is not None:
            self._views.move_to_end(key)
            return view
        counts: dict[int, int] = {}
        for c in key:
            for speaker_id, quotes in self._counts.get(c, {}).items():
                counts[speaker_id] = counts.get(speaker_id, 0) + quotes
        # Only these collections' own lists are walked: a view costs what the library
        # holds, however many libraries the database serves.
        by_id = self._speakers_by_id
        speakers = tuple(sorted((replace(by_id[i], quotes=n) for i, n in counts.items()
                                 if i in by_id), key=lambda s: (-s.quotes, s.name)))
        sources = tuple(sorted((s for c in key for s in self._sources_in.get(c, ())),
                               key=lambda s: s.title))
        rewrites = QueryRewrites.from_corrections(c for s in sources for c in s.corrections)
        view = (speakers, sources, rewrites)
        self._views[key] = view
        while len(self._views) > VIEWS:
            self._views.popitem(last=False)
        return view

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

    async def get(self, quote_id: int, style: str = CLEAN, scope: Scope | None = None
                  ) -> Quote | None:
        """A quote by id; None when there is none, or (with `scope`) it is another
        library's."""
        rows = await self.store.get_quotes([quote_id], _collections(scope))
        return quote_from_row(rows[0], style) if rows else None

    async def list_page(self, scope: Scope, *, speaker: Speaker | None = None,
                        source: Source | None = None, offset: int = 0, limit: int = 10,
                        style: str = CLEAN) -> tuple[list[Quote], frozenset[int], int]:
        """Quotes `offset`..`offset + limit` of `scope`'s library (newest source first,
        each in the order said), which of them are hidden, and how many the list holds
        in all (from the loaded counts, unless both filters are given)."""
        speaker_id = speaker.id if speaker else None
        source_id = source.id if source else None
        rows = await self.store.list_quotes(scope.collections, speaker_id=speaker_id,
                                            source_id=source_id, offset=offset, limit=limit)
        hidden = await self.store.hidden_among([r.id for r in rows])
        if speaker is not None and source is not None:
            total = await self.store.count_listed(scope.collections, speaker_id=speaker_id,
                                                  source_id=source.id)
        elif source is not None:
            total = source.quotes
        elif speaker is not None:
            total = speaker.quotes
        else:
            total = sum(s.quotes for s in scope.sources)
        return [quote_from_row(r, style) for r in rows], hidden, total

    async def with_origins(self, quotes: list[Quote]) -> list[Quote]:
        """`quotes`, those saved from chat carrying the link back to their message.

        Asked of the database only for quotes of a source holding such quotes as loaded,
        or of one newer than the load: a transcript's quotes (most of what is shown) cost
        no round trip. A save reloads this process's library at once; other processes'
        saves reach it with their reload (a source's first linked save there shows its
        link a watcher tick later).
        """
        ask = [q.id for q in quotes if q.source_id in self._linked_sources
               or q.source_id not in self._known_sources]
        links = await self.saved.links(ask)
        return [replace(q, saved_from=links[q.id]) if q.id in links else q for q in quotes]

    async def get_highlight(self, highlight_id: int, style: str = CLEAN,
                            scope: Scope | None = None) -> Quote | None:
        row = await self.store.get_highlight(highlight_id, _collections(scope))
        return quote_from_row(row, style) if row else None

    async def context(self, quote: Quote, around: int) -> list[Quote]:
        """The quotes around `quote` (a highlight: around its whole span), in the exact
        words: context is where people check what was really said."""
        rows = await self.store.neighbours(
            quote.source_id, quote.position, around,
            around + (quote.last_position or quote.position) - quote.position,
        )
        return [quote_from_row(r, EXACT) for r in rows]

    async def explain(self, quote: Quote) -> list[str]:
        """Why the passages starting at this quote were or were not chosen as highlights."""
        lines = []
        covering = await self.store.highlight_at(quote.source_id, quote.position)
        if covering is not None:
            reasons = ", ".join(json.loads(covering.reasons or "[]")) or "no notes"
            lines.append(f"Part of highlight h{covering.highlight_id} "
                         f"(score {covering.quotability:.2f}: {reasons}).")
        units = [Unit(r.speaker, r.text, r.position, r.start)
                 for r in await self.store.source_units(quote.source_id)]
        roles = {s.name: s.role for s in self.speakers}
        for verdict in highlights.explain(units, quote.position, roles):
            sentences = len(split_sentences(verdict.text))
            span = f"{sentences} sentence{'s' if sentences != 1 else ''}"
            if verdict.ok:
                chosen = "a candidate" if verdict.score >= highlights.MIN_SCORE else \
                    f"scored under {highlights.MIN_SCORE}"
                lines.append(f"{span}: {chosen}, score {verdict.score:.2f} "
                             f"({', '.join(verdict.reasons) or 'no notes'})")
            else:
                lines.append(f"{span}: not a highlight — {verdict.rejected}")
        return lines or ["This quote starts no passage (it continues a sentence)."]

    async def style_for(self, channel: ChannelRef | None) -> str:
        """The display style a channel chose (`/quote settings style:`), clean by default."""
        if channel is None:
            return CLEAN
        return str(await self._setting(channel, "style") or CLEAN)

    async def card_for(self, channel: ChannelRef | None) -> bool:
        """Whether a channel's daily posts carry a quote card (`/quote settings card:on`)."""
        return channel is not None and bool(await self._setting(channel, "card"))

    async def set_style(self, channel: ChannelRef, style: str) -> None:
        """Show quotes in `channel` in `style` (CLEAN or EXACT) from now on."""
        await self.store.set_channel_setting(channel.platform, channel.workspace,
                                             channel.channel, "style", style)

    async def set_card(self, channel: ChannelRef, on: bool) -> None:
        """Whether `channel`'s daily posts carry a quote card from now on."""
        await self.store.set_channel_setting(channel.platform, channel.workspace,
                                             channel.channel, "card", int(on))

    async def admin_role(self, channel: ChannelRef | None) -> str | None:
        """The role whose members a server counts as admins (`/quote settings admin_role:`),
        None when it named none."""
        if channel is None:
            return None
        return await ServerSettings(self.db).get(channel.platform, channel.workspace,
                                                 "admin_role")

    async def set_admin_role(self, channel: ChannelRef, role: str | None) -> None:
        """Name the server's admin role (a role id), or clear it (None)."""
        await ServerSettings(self.db).set(channel.platform, channel.workspace, "admin_role",
                                          role)

    async def _setting(self, channel: ChannelRef, name: str) -> str | int | None:
        return await self.store.channel_setting(channel.platform, channel.workspace,
                                                channel.channel, name)

    async def search(
        self,
        query: str,
        *,
        speaker: Speaker | None = None,
        source: Source | None = None,
        limit: int = 10,
        prefix_last: bool = False,
        style: str = CLEAN,
        scope: Scope | None = None,
    ) -> list[Quote]:
        """The best `limit` matches for `query` (in `scope`'s library), best first."""
        hits = await self._hits(query, speaker, source, limit, prefix_last, scope)
        return await self._quotes([h.id for h in hits], style, scope)

    async def search_page(
        self,
        query: str,
        *,
        speaker: Speaker | None = None,
        source: Source | None = None,
        offset: int = 0,
        limit: int = 1,
        style: str = CLEAN,
        scope: Scope | None = None,
    ) -> tuple[list[Quote], int]:
        """The matches `offset`..`offset + limit` for `query`, and how many there are in all
        (the same on every page: "match 2 of 7")."""
        hits = await self._hits(query, speaker, source, MAX_MATCHES, False, scope)
        page = [h.id for h in hits[offset : offset + limit]]
        return await self._quotes(page, style, scope), len(hits)

    async def _hits(self, query: str, speaker: Speaker | None, source: Source | None,
                    limit: int, prefix_last: bool, library: Scope | None = None) -> list[Hit]:
        scope = {
            "speaker_id": speaker.id if speaker else None,
            "source_id": source.id if source else None,
            "limit": limit,
            "prefix_last": prefix_last,
            "collections": _collections(library),
            "collections_in_index": not self._most_of_it(library),
        }
        hits = await self.searcher.search(query, **scope)
        rewritten = (library.rewrites if library else self.rewrites).apply(query)
        if rewritten != query:
            # The user may type what the recording misheard ("dolly 2"): search the
            # corrected spelling too and keep the better score of each quote.
            best = {h.id: h for h in hits}
            for hit in await self.searcher.search(rewritten, **scope):
                if hit.id not in best or hit.score > best[hit.id].score:
                    best[hit.id] = hit
            hits = sorted(best.values(), key=lambda h: (-h.score, h.id))[:limit]
        return hits

    def _most_of_it(self, scope: Scope | None) -> bool:
        """Whether `scope`'s library holds most of the database's quotes (as last loaded:
        this only picks the cheaper of two exact ways to narrow a search)."""
        if scope is None:
            return False
        mine = sum(self._quotes_in.get(c, 0) for c in scope.collections)
        return 2 * mine >= self._quotes_total

    async def _quotes(self, ids: list[int], style: str, scope: Scope | None = None
                      ) -> list[Quote]:
        rows = await self.store.get_quotes(ids, _collections(scope))
        return [quote_from_row(r, style) for r in rows]

    async def random(
        self,
        *,
        speaker: Speaker | None = None,
        source: Source | None = None,
        deck: str | None = None,
        style: str = CLEAN,
        scope: Scope | None = None,
    ) -> Draw | None:
        """A random highlight, weighted by its score, that `deck` has not been shown.

        A deck (one per channel, or per CLI user, and per filter) is stored in the database,
        so a channel sees every highlight of its pool once before any comes back, across
        restarts. The draw seeks a uniform random key and accepts a highlight with
        probability equal to its score (rejection sampling: a few index probes). When a
        speaker or source has no highlight, a quote of theirs worth reading is drawn
        instead, and the note says so.
        """
        speaker_id = speaker.id if speaker else None
        source_id = source.id if source else None
        pool = (speaker_id, source_id, _collections(scope))
        key = None if deck is None else f"{deck}|s{speaker_id or ''}|o{source_id or ''}"
        if key is not None and scope is not None:
            # A deck per library too: one channel id could serve two (the CLI's --library).
            key += f"|{scope.name}"
        row = await self._next_in_deck(pool, key)
        for _ in range(DECK_RACES):
            if row is None or key is None or await self.store.mark_shown(key,
                                                                         row.highlight_id):
                break
            # Drawn in this deck by another request (or process) at the same moment: the
            # deck's key gave it to them, so draw again rather than show it twice.
            row = await self._next_in_deck(pool, key)
        if row is not None:
            return Draw(quote_from_row(row, style))
        fallback = await self._draw_quote(*pool, deck)
        if fallback is None:
            return None
        who = speaker.name if speaker else source.title if source else "this library"
        note = (f"{who} has no highlights yet, so this is one of their quotes worth reading."
                if speaker or source else "No highlights yet: a quote worth reading instead.")
        return Draw(quote_from_row(fallback, style), note)

    async def _next_in_deck(self, pool: tuple, key: str | None):
        """A highlight of `pool` that deck `key` has not shown (starting a new round when it
        has shown them all, never opening on the last draw); None when there is none."""
        row = await self._draw_highlight(*pool, key)
        if row is None and key is not None and await self.store.has_highlights(*pool):
            await self.store.restart_deck(key, await self.store.last_shown(key))
            row = await self._draw_highlight(*pool, key)
            if row is None:
                await self.store.restart_deck(key, None)
                row = await self._draw_highlight(*pool, key)
        return row

    async def _draw_highlight(self, speaker_id, source_id, collections, deck):
        """Rejection sampling over highlights: accept a draw with probability = its score,
        out of DRAWS drawn at once (the last one when none is accepted).

        Passages that stand alone come first; those that may need context (scored under
        `highlights.STANDALONE`) only once the deck has seen every one that stands alone.
        """
        for floor in (highlights.STANDALONE, None):
            keys = [self.rng.randint(0, RAND_KEY_MAX) for _ in range(DRAWS)]
            rows = await self.store.random_highlights(
                keys, speaker_id=speaker_id, source_id=source_id, deck=deck,
                min_score=floor, collections=collections)
            for row in rows:
                weight = row.quotability / (1.0 if floor else highlights.STANDALONE)
                if self.rng.random() <= weight:
                    return row
            if rows:
                return rows[-1]
        return None

    async def _draw_quote(self, speaker_id, source_id, collections, recent_key):
        """A quote worth reading (the fallback when there are no highlights)."""
        recent = list(self._recent.get(recent_key, ())) if recent_key else []
        chosen = None
        for avoid, good in ((recent, True), (recent[-1:], True), ([], False)):
            chosen = await self._draw(speaker_id, source_id, collections, avoid, good)
            if chosen is not None:
                break
        if chosen is not None and recent_key:
            self._remember(recent_key, chosen.id)
        return chosen

    async def _draw(self, speaker_id, source_id, collections, avoid: list[int], good: bool):
        """Rejection sampling: accept a uniform draw with probability equal to its score,
        out of DRAWS drawn at once (the last one when none is accepted; one draw when
        any quote will do)."""
        rows = await self.store.random_quotes(
            [self.rng.randint(0, RAND_KEY_MAX) for _ in range(DRAWS if good else 1)],
            speaker_id=speaker_id, source_id=source_id, good=good, exclude=avoid,
            collections=collections)
        for row in rows:
            if self.rng.random() <= row.quotability:
                return row
        return rows[-1] if rows else None

    def _remember(self, key: str, quote_id: int) -> None:
        recent = self._recent.pop(key, None) or deque(maxlen=RECENT_PER_KEY)
        if quote_id in recent:
            recent.remove(quote_id)  # keep one entry per id, so order means recency
        recent.append(quote_id)
        self._recent[key] = recent
        while len(self._recent) > RECENT_KEYS:
            self._recent.popitem(last=False)

    # ---- names ----------------------------------------------------------------------------

    def resolve_speaker(self, text: str, scope: Scope | None = None) -> Speaker:
        """The speaker a user means by `text` ("ilya", "Brockman", "greg brokman"), among
        those quoted in `scope`'s library (everyone's without one)."""
        return _resolve(
            text, self._speakers(scope), lambda s: (s.name, *s.aliases), "speaker",
            lambda s: s.name,
        )

    def resolve_source(self, text: str, scope: Scope | None = None) -> Source:
        """The source a user means by `text` (slug, title or a fuzzy piece of the title)."""
        return _resolve(
            text, self._sources(scope), lambda s: (s.slug, s.title), "source",
            lambda s: s.title,
        )

    def speaker_choices(self, partial: str, limit: int = 25, scope: Scope | None = None
                        ) -> list[Speaker]:
        return _choices(partial, self._speakers(scope), lambda s: (s.name, *s.aliases), limit)

    def source_choices(self, partial: str, limit: int = 25, scope: Scope | None = None
                       ) -> list[Source]:
        return _choices(partial, self._sources(scope), lambda s: (s.slug, s.title), limit)

    def _speakers(self, scope: Scope | None):
        return self.speakers if scope is None else scope.speakers

    def _sources(self, scope: Scope | None):
        return self.sources if scope is None else scope.sources


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
