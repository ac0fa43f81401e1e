"""Library export and import: the quotebot JSON document, CSV quote lists, NadekoBot YAML.

The quotebot document (`FORMAT`, version `VERSION`) holds everything needed to rebuild a
library; ids stay behind, rows name their source by slug and their speaker by name::

    {"format": "quotebot-library", "version": 1, "exported_at": "2026-12-01T20:00:00+00:00",
     "sources": [{"slug", "title", "date", "venue", "url", "path", "format",
                  "content_hash", "meta", "ingested_at"}],
     "speakers": [{"name", "role", "aliases": [...]}],
     "quotes": [{"source", "speaker", "position", "start", "text", "quotability",
                 "hidden": true (only on quotes hidden from random and daily)}],
     "highlights": [{"source", "speaker", "first_position", "last_position", "start",
                     "text", "score", "reasons": [...]}]}

An import is parsed and validated whole before anything is written (`parse_import`), then
written in one transaction (`apply_import`): a bad row anywhere writes nothing. Functions
take the store, so a later per-community library is a parameter here, not a rewrite.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import TextIO

import yaml

from quotebot.bot.ingest.front_matter import slugify
from quotebot.bot.ingest.quotability import score as quotability_score
from quotebot.bot.ingest.runner import MAX_FILE_BYTES, MAX_META_CHARS
from quotebot.bot.ingest.types import (
    MAX_DATE_CHARS,
    MAX_SLUG_CHARS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
)
from quotebot.bot.ingest.yaml_loaders import StringsLoader
from quotebot.store.exchange import ExchangeStore
from quotebot.store.quotes import (
    NewHighlight,
    NewQuote,
    NewSource,
    QuoteStore,
    SourceRecords,
    SpeakerInfo,
)

log = logging.getLogger(__name__)

FORMAT = "quotebot-library"
VERSION = 1
IMPORT_FORMATS = ("json", "csv", "nadeko")

# An import file is read whole and validated in memory: the same cap as a transcript.
MAX_IMPORT_BYTES = MAX_FILE_BYTES
# A quote from chat can be a whole message (Discord allows 4,000 characters with Nitro);
# a transcript unit is a few hundred. A highlight spans a few units.
MAX_QUOTE_CHARS = 4000
MAX_HIGHLIGHT_CHARS = 4 * MAX_QUOTE_CHARS
# A speaker's name, role or alias. The ingest bounds them only by the front matter's size;
# this is far above any real name, so every library the ingest made exports and imports.
MAX_NAME_CHARS = 1000
MAX_PATH_CHARS = 4096
MAX_SHORT_CHARS = 200  # a source's format and content hash
MAX_REASONS = 50
MAX_POSITION = 2**31 - 1
# Quote lists (CSV, NadekoBot) are lines chosen by people: each one stands alone, so
# each is its own highlight, drawn by random and daily like the best transcript passages.
LISTED_SCORE = 1.0
LISTED_REASON = "from an imported quote list"

CSV_COLUMNS = ("id", "text", "speaker", "source_slug", "source_title", "start", "position")
# Other names quote-list exports use for the same columns (Firebot: "author"/"originator").
_CSV_ALIASES = {
    "text": ("text", "quote", "content", "message", "txt"),
    "speaker": ("speaker", "author", "originator", "by", "an", "user"),
    "source_slug": ("source_slug", "source", "keyword"),
    "source_title": ("source_title", "title"),
    "start": ("start",),
    "position": ("position",),
}


class ExchangeError(ValueError):
    """An import that cannot be applied; the message names the row and the field."""


# ---- export ------------------------------------------------------------------------------


async def export_document(store: QuoteStore, collections: Sequence[int] | None = None
                          ) -> dict:
    """The quotebot JSON document of the library in `store`: every source of the
    database, or only those of `collections` (a library's)."""
    dump = await ExchangeStore(store.db).dump(collections)
    quotes, highlights = [], []
    for item in dump.sources:
        slug = item.source.slug
        quotes += [
            {"source": slug, "speaker": q.speaker, "position": q.position, "start": q.start,
             "text": q.text, "quotability": q.quotability,
             **({"hidden": True} if q.position in item.hidden else {})}
            for q in item.quotes
        ]
        highlights += [
            {"source": slug, "speaker": h.speaker, "first_position": h.first,
             "last_position": h.last, "start": h.start, "text": h.text, "score": h.score,
             "reasons": list(h.reasons)}
            for h in item.highlights
        ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": [
            {"slug": s.slug, "title": s.title, "date": s.date, "venue": s.venue, "url": s.url,
             "path": s.path, "format": s.format, "content_hash": s.content_hash,
             "meta": s.meta, "ingested_at": s.ingested_at}
            for s in (item.source for item in dump.sources)
        ],
        "speakers": [{"name": s.name, "role": s.role, "aliases": list(s.aliases)}
                     for s in dump.speakers],
        "quotes": quotes,
        "highlights": highlights,
    }


def write_json(document: dict, out: TextIO) -> None:
    """Write a document as JSON with one row per line: compact, yet diffable and greppable."""
    out.write("{\n")
    keys = list(document)
    for i, key in enumerate(keys):
        value = document[key]
        out.write(f"{json.dumps(key)}: ")
        if isinstance(value, list):
            out.write("[")
            for j, row in enumerate(value):
                out.write("\n  " if j == 0 else ",\n  ")
                out.write(json.dumps(row, ensure_ascii=False))
            out.write("\n]" if value else "]")
        else:
            out.write(json.dumps(value, ensure_ascii=False))
        out.write(",\n" if i < len(keys) - 1 else "\n")
    out.write("}\n")


def write_csv(document: dict, out: TextIO) -> None:
    """One row per quote (`CSV_COLUMNS`); `id` is the row number, since ids stay behind."""
    titles = {s["slug"]: s["title"] for s in document["sources"]}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i, q in enumerate(document["quotes"], 1):
        writer.writerow([i, q["text"], q["speaker"] or "", q["source"], titles[q["source"]],
                         "" if q["start"] is None else repr(q["start"]), q["position"]])


# ---- import: the plan ----------------------------------------------------------------------


@dataclass
class ImportPlan:
    """A validated import, ready to write: nothing in it has touched the database."""

    format: str
    speakers: list[SpeakerInfo] = field(default_factory=list)
    sources: list[SourceRecords] = field(default_factory=list)

    @property
    def quotes(self) -> int:
        return sum(len(s.quotes) for s in self.sources)

    @property
    def highlights(self) -> int:
        return sum(len(s.highlights) for s in self.sources)


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote: counts, and the slugs of the sources it replaced."""

    format: str
    sources: int
    quotes: int
    highlights: int
    speakers: int
    replaced: tuple[str, ...]


def detect_format(name: str, data: bytes) -> str:
    """The import format of a file: by its extension, else by its first characters."""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix == ".csv":
        return "csv"
    if suffix in (".yml", ".yaml"):
        return "nadeko"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "json"
    first = head.split(b"\n", 1)[0].rstrip()
    if head.startswith(b"#") or (first.endswith(b":") and b"," not in first):
        return "nadeko"
    return "csv"


def parse_import(data: bytes, name: str, format: str = "auto") -> ImportPlan:
    """Validate an import file whole and turn it into the records to store.

    Args:
        data: The file's bytes (at most `MAX_IMPORT_BYTES`).
        name: The file's name: names the source of a quote list, and the errors.
        format: "json", "csv", "nadeko" or "auto" (by extension, then content).

    Raises:
        ExchangeError: Anything wrong, naming the row and field; nothing is half-read.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ExchangeError(f"{name}: file is {len(data) // 2**20} MB; the limit is "
                            f"{MAX_IMPORT_BYTES // 2**20} MB")
    if format == "auto":
        format = detect_format(name, data)
    if format not in IMPORT_FORMATS:
        raise ExchangeError(f"unknown import format '{format}' (one of: "
                            f"{', '.join(IMPORT_FORMATS)})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExchangeError(f"{name}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
                            ) from None
    if format == "json":
        plan = _parse_document(_load_json(text, name))
    elif format == "csv":
        plan = _parse_csv(text, name, data)
    else:
        plan = _parse_nadeko(text, name, data)
    if not plan.sources:
        raise ExchangeError(f"{name}: nothing to import (no quotes found)")
    return plan


async def apply_import(store: QuoteStore, plan: ImportPlan) -> ImportReport:
    """Write a validated plan in one transaction, then refresh the search vocabulary.

    A source whose slug is already stored is replaced, as re-ingesting its file would
    (unchanged quotes keep their ids); the report names those.
    """
    # The ingest lease: other processes leave the derived state alone until the refresh
    # below, as they do for an ingest.
    async with store.db.ingesting():
        async with store.bulk_writes(large=plan.quotes >= 100_000):
            results = await store.replace_sources(plan.speakers, plan.sources)
        await store.rebuild_stale()
    replaced = tuple(item.source.slug for item, result in zip(plan.sources, results, strict=True)
                     if result.replaced)
    return ImportReport(plan.format, len(plan.sources), plan.quotes, plan.highlights,
                        len(plan.speakers), replaced)


# ---- import: quotebot JSON ---------------------------------------------------------------


def _load_json(text: str, name: str) -> dict:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExchangeError(f"{name}: not valid JSON: {exc.msg} (line {exc.lineno}, "
                            f"column {exc.colno})") from None
    except RecursionError:
        raise ExchangeError(f"{name}: JSON nested too deeply") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ExchangeError(f"{name}: not a quotebot library export (its \"format\" must be "
                            f"\"{FORMAT}\")")
    version = document.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ExchangeError(f"{name}: library export version {version!r} is not supported "
                            f"(this quotebot reads version {VERSION}); upgrade quotebot")
    return document


class _Row:
    """Typed access to one mapping of a document, errors naming `where` and the field."""

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise ExchangeError(f"{where}: must be an object")
        self.value = value
        self.where = where

    def fail(self, key: str, problem: str) -> ExchangeError:
        return ExchangeError(f"{self.where}.{key}: {problem}")

    def text(self, key: str, limit: int, *, optional: bool = False,
             controls: bool = False) -> str | None:
        """A string field; an optional one may be null or empty, a required one not blank."""
        value = self.value.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(key, "must be a string" + (" or null" if optional else ""))
        return _checked_text(value, limit, optional, lambda p: self.fail(key, p),
                             controls=controls)

    def number(self, key: str, *, optional: bool = False, low: float | None = None,
               high: float | None = None) -> float | None:
        value = self.value.get(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "must be a number" + (" or null" if optional else ""))
        value = float(value)
        if not math.isfinite(value) or (low is not None and value < low) or (
                high is not None and value > high):
            raise self.fail(key, f"{value!r} is out of range")
        return value

    def flag(self, key: str) -> bool:
        """An optional true/false field (absent: false)."""
        value = self.value.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def integer(self, key: str) -> int:
        value = self.value.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not (
                0 <= value <= MAX_POSITION):
            raise self.fail(key, f"must be a whole number from 0 to {MAX_POSITION}")
        return value

    def strings(self, key: str, limit: int, count: int) -> tuple[str, ...]:
        value = self.value.get(key, [])
        if not isinstance(value, list) or len(value) > count:
            raise self.fail(key, f"must be a list of at most {count} strings")
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{key}[{i}]", "must be a string")
            items.append(_checked_text(item, limit, False,
                                       lambda p, i=i: self.fail(f"{key}[{i}]", p)))
        return tuple(items)


# NUL, and halves of surrogate pairs (a JSON "\ud800" escape): not text, and SQLite or the
# UTF-8 encoder would fail on them half-way through the write. Other control characters
# are refused in the chat-facing fields (names, titles) only: a transcript may hold a stray
# form feed the ingest kept, and every library it made must import again.
_NOT_TEXT = re.compile(r"[\x00\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def _checked_text(value: str, limit: int, empty: bool, fail, *, controls: bool = False
                  ) -> str:
    """`value` if it is within `limit`, non-blank (unless `empty`) and text (control
    characters only where `controls`); else the error `fail` makes of the problem."""
    if len(value) > limit:
        raise fail(f"is {len(value):,} characters; the limit is {limit:,}")
    if not empty and not value.strip():
        raise fail("is empty")
    if found := (_NOT_TEXT if controls else _CONTROL).search(value):
        raise fail(f"holds the character U+{ord(found.group()):04X}, which is not text")
    return value


def _rows(document: dict, key: str) -> Iterator[_Row]:
    rows = document.get(key, [])
    if not isinstance(rows, list):
        raise ExchangeError(f"{key}: must be a list")
    for i, value in enumerate(rows):
        yield _Row(value, f"{key}[{i}]")


def _parse_document(document: dict) -> ImportPlan:
    speakers = _document_speakers(document)
    sources = _document_sources(document)
    quotes, hidden = _document_quotes(document, sources, speakers)
    positions = {slug: {q.position for q in rows} for slug, rows in quotes.items()}
    highlights: dict[str, list[NewHighlight]] = {slug: [] for slug in sources}
    for row in _rows(document, "highlights"):
        slug, speaker = _owner(row, sources, speakers)
        first, last = row.integer("first_position"), row.integer("last_position")
        if first not in positions[slug]:
            raise row.fail("first_position", f"source '{slug}' has no quote at {first}")
        if last < first:
            raise row.fail("last_position", f"{last} is before first_position {first}")
        highlights[slug].append(NewHighlight(
            speaker, first, last, row.text("text", MAX_HIGHLIGHT_CHARS, controls=True),
            row.number("start", optional=True, low=0), row.number("score"),
            row.strings("reasons", MAX_NAME_CHARS, MAX_REASONS)))
    return ImportPlan(
        "json", list(speakers.values()),
        [SourceRecords(source, quotes[slug], highlights[slug], frozenset(hidden[slug]))
         for slug, source in sources.items()],
    )


def _document_speakers(document: dict) -> dict[str, SpeakerInfo]:
    """casefolded name -> speaker (names are unique regardless of case, as in the store)."""
    speakers: dict[str, SpeakerInfo] = {}
    for row in _rows(document, "speakers"):
        name = row.text("name", MAX_NAME_CHARS)
        if name.casefold() in speakers:
            raise row.fail("name", f"speaker '{name}' is listed twice")
        speakers[name.casefold()] = SpeakerInfo(
            name, row.text("role", MAX_NAME_CHARS, optional=True),
            row.strings("aliases", MAX_NAME_CHARS, 100))
    return speakers


def _document_sources(document: dict) -> dict[str, NewSource]:
    sources: dict[str, NewSource] = {}
    for row in _rows(document, "sources"):
        slug = row.text("slug", MAX_SLUG_CHARS)
        if slugify(slug) != slug:
            raise row.fail("slug", f"'{slug}' is not a slug (lower-case words joined by "
                                   f"hyphens, e.g. '{slugify(slug) or 'my-source'}')")
        if slug in sources:
            raise row.fail("slug", f"source '{slug}' is listed twice")
        meta = row.value.get("meta", {})
        if not isinstance(meta, dict):
            raise row.fail("meta", "must be an object")
        # Twice the ingest's cap: it keeps corrections whole, bounded by the 64 KB of YAML
        # front matter they came from, whose JSON may run longer.
        if len(json.dumps(meta, ensure_ascii=False)) > 2 * MAX_META_CHARS:
            raise row.fail("meta", f"is over {2 * MAX_META_CHARS // 1024} KB of JSON")
        sources[slug] = NewSource(
            slug=slug, title=row.text("title", MAX_TITLE_CHARS),
            date=row.text("date", MAX_DATE_CHARS, optional=True),
            venue=row.text("venue", MAX_TITLE_CHARS, optional=True),
            url=row.text("url", MAX_URL_CHARS, optional=True),
            path=row.text("path", MAX_PATH_CHARS, optional=True),
            format=row.text("format", MAX_SHORT_CHARS),
            content_hash=row.text("content_hash", MAX_SHORT_CHARS),
            meta=meta, ingested_at=row.text("ingested_at", MAX_DATE_CHARS, optional=True),
        )
    return sources


def _document_quotes(document: dict, sources: dict[str, NewSource],
                     speakers: dict[str, SpeakerInfo]
                     ) -> tuple[dict[str, list[NewQuote]], dict[str, set[int]]]:
    """The quotes of each source, and the positions of those hidden from random and daily
    (`"hidden": true`; absent means shown)."""
    quotes: dict[str, list[NewQuote]] = {slug: [] for slug in sources}
    positions: dict[str, set[int]] = {slug: set() for slug in sources}
    hidden: dict[str, set[int]] = {slug: set() for slug in sources}
    for row in _rows(document, "quotes"):
        slug, speaker = _owner(row, sources, speakers)
        position = row.integer("position")
        if position in positions[slug]:
            raise row.fail("position", f"source '{slug}' already has a quote at {position}")
        positions[slug].add(position)
        quotes[slug].append(NewQuote(
            speaker, row.text("text", MAX_QUOTE_CHARS, controls=True),
            row.number("start", optional=True, low=0), position,
            row.number("quotability", low=0, high=1)))
        if row.flag("hidden"):
            hidden[slug].add(position)
    return quotes, hidden


def _owner(row: _Row, sources: dict[str, NewSource],
           speakers: dict[str, SpeakerInfo]) -> tuple[str, str | None]:
    """The source slug and the speaker's stored name a quote or highlight row names."""
    slug = row.text("source", MAX_SLUG_CHARS)
    if slug not in sources:
        raise row.fail("source", f"no source with the slug '{slug}' in sources")
    speaker = row.text("speaker", MAX_NAME_CHARS, optional=True)
    if speaker is not None:
        if speaker.casefold() not in speakers:
            raise row.fail("speaker", f"'{speaker}' is not in speakers")
        speaker = speakers[speaker.casefold()].name
    return slug, speaker


# ---- import: quote lists (CSV, NadekoBot) --------------------------------------------------


@dataclass
class _ListedSource:
    """A source being gathered from a quote list, row by row."""

    slug: str
    title: str
    meta: dict
    quotes: list[NewQuote] = field(default_factory=list)
    positions: set[int] = field(default_factory=set)


def _listed_plan(format: str, listed: Sequence[_ListedSource], data: bytes) -> ImportPlan:
    """The plan for a quote list: every line its own highlight, every author a speaker."""
    speakers: dict[str, SpeakerInfo] = {}
    sources = []
    for item in listed:
        for q in item.quotes:
            if q.speaker and q.speaker.casefold() not in speakers:
                speakers[q.speaker.casefold()] = SpeakerInfo(q.speaker, None, ())
        # The source's identity is the file's bytes and its slug: importing the same file
        # again is recognised, and one file's sources differ from each other.
        digest = hashlib.sha256(data + b"\0" + item.slug.encode()).hexdigest()
        source = NewSource(item.slug, item.title, None, None, None, None, format, digest,
                           item.meta)
        highlights = [NewHighlight(q.speaker, q.position, q.position, q.text, q.start,
                                   LISTED_SCORE, (LISTED_REASON,)) for q in item.quotes]
        sources.append(SourceRecords(source, item.quotes, highlights))
    return ImportPlan(format, list(speakers.values()), sources)


def _listed_quote(text: str, speaker: str | None, start: float | None,
                  position: int) -> NewQuote:
    canonical = " ".join(speaker.split()) if speaker else None
    return NewQuote(canonical or None, text, start, position,
                    quotability_score(text, complete=True))


def _parse_csv(text: str, name: str, data: bytes) -> ImportPlan:
    stem = PurePath(name).stem
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ExchangeError(f"{name}: row 1: not valid CSV: {exc}") from None
    if not header:
        raise ExchangeError(f"{name}: the CSV file is empty")
    columns = _csv_columns([h.strip().lower() for h in header], name)
    listed: dict[str, _ListedSource] = {}
    try:
        for number, values in enumerate(reader, 2):
            if not any(v.strip() for v in values):
                continue  # a blank line
            where = f"{name}: row {number}"
            row = {key: values[i] if i < len(values) else "" for key, i in columns.items()}
            _add_csv_row(row, where, PurePath(name).name, stem, listed)
    except csv.Error as exc:
        raise ExchangeError(f"{name}: row {reader.line_num}: not valid CSV: {exc}") from None
    except (ValueError, OverflowError) as exc:  # csv's field size limit, and the like
        raise ExchangeError(f"{name}: row {reader.line_num}: {exc}") from None
    return _listed_plan("csv", list(listed.values()), data)


def _csv_columns(header: list[str], name: str) -> dict[str, int]:
    """Which column holds what: our own names, or the names other quote lists use."""
    columns = {}
    for key, names in _CSV_ALIASES.items():
        for candidate in names:
            if candidate in header:
                columns[key] = header.index(candidate)
                break
    missing = [key for key in ("text", "speaker") if key not in columns]
    if missing:
        raise ExchangeError(
            f"{name}: row 1: no {' or '.join(missing)} column (the header must name at least "
            "text and speaker; optional: source, source_title, start, position)")
    return columns


def _add_csv_row(row: dict[str, str], where: str, filename: str, stem: str,
                 listed: dict[str, _ListedSource]) -> None:
    def fail(key: str, problem: str) -> ExchangeError:
        return ExchangeError(f"{where}: {key}: {problem}")

    text = _checked_text(row["text"], MAX_QUOTE_CHARS, False, lambda p: fail("text", p),
                         controls=True)
    speaker = _checked_text(row["speaker"].strip(), MAX_NAME_CHARS, True,
                            lambda p: fail("speaker", p))
    title = (row.get("source_title") or "").strip() or (row.get("source_slug") or "").strip()
    title = _checked_text(title or stem, MAX_TITLE_CHARS, False,
                          lambda p: fail("source_title", p))
    slug = slugify((row.get("source_slug") or "").strip() or title)[:MAX_SLUG_CHARS].strip("-")
    if not slug:
        raise fail("source_slug", f"'{title}' gives no slug: name the source with letters")
    start = None
    if (row.get("start") or "").strip():
        try:
            start = float(row["start"])
        except ValueError:
            raise fail("start", f"'{row['start']}' is not a number of seconds") from None
        if not math.isfinite(start) or start < 0:
            raise fail("start", f"{start!r} is out of range")
    item = listed.get(slug)
    if item is None:
        item = listed[slug] = _ListedSource(slug, title, {"imported_from": filename})
    position = len(item.quotes)
    if (row.get("position") or "").strip():
        try:
            position = int(row["position"])
        except ValueError:
            raise fail("position", f"'{row['position']}' is not a whole number") from None
        if not 0 <= position <= MAX_POSITION:
            raise fail("position", f"{position} is out of range")
    if position in item.positions:
        raise fail("position", f"source '{slug}' already has a quote at {position}")
    item.positions.add(position)
    item.quotes.append(_listed_quote(text, speaker, start, position))


def _parse_nadeko(text: str, name: str, data: bytes) -> ImportPlan:
    """NadekoBot's `.quotesexport` file (quote-export.yml).

    The shape, from NadekoBot's source (nadeko-bot/nadekobot,
    src/NadekoBot/Modules/Utility/Quote/QuoteCommands.cs: `QuotesExport`, `ExportedQuote`,
    `PREPEND_EXPORT`): a mapping from each keyword (upper-cased by NadekoBot) to a list of
    quotes, each `{id: <kwum id>, an: <author name>, aid: <author's Discord id>,
    txt: <quote text>}` (camelCase keys, defaults omitted, multi-line text as a block
    scalar). NadekoBot's own `.quotesimport` skips quotes with blank text and gives new ids;
    so does this. Each keyword becomes a source (slug `nadeko-<keyword>`, title the
    keyword) and each author a speaker; the keyword and the authors' Discord ids are kept
    in the source's metadata.
    """
    document = _load_nadeko(text, name)
    listed: dict[str, _ListedSource] = {}
    for keyword, entries in document.items():
        item = _nadeko_keyword(keyword, entries, name, listed)
        if item is not None:
            listed[item.slug] = item
    return _listed_plan("nadeko", list(listed.values()), data)


def _load_nadeko(text: str, name: str) -> dict:
    try:
        document = yaml.load(text, Loader=StringsLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ExchangeError(f"{name}: not valid YAML{line}: {problem}") from None
    except RecursionError:
        raise ExchangeError(f"{name}: YAML nested too deeply") from None
    if not isinstance(document, dict):
        raise ExchangeError(f"{name}: not a NadekoBot quote export (a mapping from keywords "
                            "to lists of quotes)")
    return document


def _nadeko_keyword(keyword: object, entries: object, name: str,
                    listed: dict[str, _ListedSource]) -> _ListedSource | None:
    """One keyword's quotes as a source (None when it has none)."""
    where = f"{name}: keyword '{keyword}'"
    if not isinstance(keyword, str):
        raise ExchangeError(f"{where}: a keyword must be text")
    keyword = _checked_text(keyword, MAX_TITLE_CHARS, False,
                            lambda p: ExchangeError(f"{where}: {p}"))
    if entries in ("", None):
        return None
    if not isinstance(entries, list):
        raise ExchangeError(f"{where}: must be a list of quotes")
    slug = slugify(f"nadeko {keyword}")[:MAX_SLUG_CHARS].strip("-")
    if slug == "nadeko":  # a keyword of punctuation only
        slug = f"nadeko-{hashlib.sha256(keyword.encode()).hexdigest()[:12]}"
    if slug in listed:
        raise ExchangeError(f"{where}: gives the slug '{slug}', as keyword "
                            f"'{listed[slug].title}' does; rename one of them")
    item = _ListedSource(slug, keyword, {"imported_from": PurePath(name).name,
                                         "nadeko_keyword": keyword})
    author_ids: dict[str, str] = {}
    for i, entry in enumerate(entries):
        row = _Row(entry, f"{where}[{i}]")
        txt = row.value.get("txt")
        if txt is None or (isinstance(txt, str) and not txt.strip()):
            continue  # blank text: NadekoBot's own import skips these too
        quote_text = row.text("txt", MAX_QUOTE_CHARS, controls=True)
        author = row.text("an", MAX_NAME_CHARS, optional=True)
        aid = row.value.get("aid")
        if aid is not None and not (isinstance(aid, str) and aid.isdigit() and len(aid) <= 20):
            raise row.fail("aid", "must be a Discord user id (digits)")
        item.quotes.append(_listed_quote(quote_text, author, None, len(item.quotes)))
        if author and aid:
            author_ids.setdefault(" ".join(author.split()), aid)
    if not item.quotes:
        return None
    # The authors' Discord ids, so that a later "saved from chat" can follow renames.
    if len(json.dumps(author_ids)) < MAX_META_CHARS // 2:
        item.meta["author_ids"] = author_ids
    return item
