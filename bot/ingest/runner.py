"""Ingest files and folders: one transaction per file, errors reported per file, progress shown."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from bot import highlights
from bot.highlights import Unit
from bot.ingest.decode import decode
from bot.ingest.discovery import plan
from bot.ingest.formats import parse_transcript
from bot.ingest.sentences import build_quotes
from bot.ingest.types import ParsedTranscript, SourceOverrides, TranscriptError
from store.quotes import NewHighlight, NewQuote, NewSource, QuoteStore, SpeakerInfo

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class FileResult:
    """What happened to one file: `status` is added, replaced, unchanged or failed."""

    path: str
    status: str
    slug: str | None = None
    quotes: int = 0
    kept: int = 0
    error: str | None = None
    bytes: int = 0


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def changed(self) -> bool:
        return any(f.status in ("added", "replaced") for f in self.files)


Progress = Callable[[int, int, FileResult], None]


def source_records(parsed: ParsedTranscript, path: str, digest: str):
    """The store's records for a parsed transcript: source, speakers and quotes."""
    meta = parsed.meta
    source = NewSource(
        slug=meta.slug, title=meta.title, date=None if meta.date is None else str(meta.date),
        venue=meta.venue, url=meta.url, path=path, format=parsed.format, content_hash=digest,
        meta={
            "participants": [
                {"name": p.name, "role": p.role, "aliases": list(p.aliases)}
                for p in meta.participants
            ],
            "corrections": [
                {"wrong": c.wrong, "right": c.right, "note": c.note} for c in meta.corrections
            ],
            **meta.extra,
        },
    )
    speakers = [SpeakerInfo(p.name, p.role, tuple(p.aliases)) for p in meta.participants]
    drafts = build_quotes(parsed)
    quotes = [NewQuote(d.speaker, d.text, d.start, d.position, d.quotability) for d in drafts]
    roles = {p.name: p.role for p in meta.participants}
    passages = [
        NewHighlight(h.speaker, h.first, h.last, h.text, h.start, h.score, h.reasons)
        for h in highlights.select(
            [Unit(d.speaker, d.text, d.position, d.start) for d in drafts], roles
        )
    ]
    return source, speakers, quotes, passages


@dataclass
class Prepared:
    """A file read, hashed and (unless already stored) parsed: everything but the database."""

    path: Path
    digest: str = ""
    size: int = 0
    records: tuple | None = None
    error: str | None = None


def prepare(
    path: Path, known: frozenset[str], overrides: SourceOverrides | None = None
) -> Prepared:
    """Read, decode, parse and segment one file. Pure CPU work: runs in a worker thread."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TranscriptError(name, f"file is {size // 2**20} MB; the limit is "
                                        f"{MAX_FILE_BYTES // 2**20} MB")
        data = path.read_bytes()
    except OSError as exc:
        return Prepared(path, error=f"{name}: cannot read: {exc.strerror or exc}")
    except TranscriptError as exc:
        return Prepared(path, error=str(exc))
    digest = hashlib.sha256(data).hexdigest()
    if overrides:
        # Metadata from a sidecar, feed or the command line is part of what was ingested:
        # when it changes, the file is read again.
        digest = hashlib.sha256(f"{digest}\0{overrides!r}".encode()).hexdigest()
    if digest in known:
        return Prepared(path, digest, len(data))
    try:
        parsed = parse_transcript(decode(data, name), name, overrides)
        records = source_records(parsed, str(path.resolve()), digest)
        if not records[2]:
            raise TranscriptError(name, "no quotable text found")
    except TranscriptError as exc:
        return Prepared(path, digest, len(data), error=str(exc))
    return Prepared(path, digest, len(data), records)


async def store_prepared(store: QuoteStore, prepared: Prepared) -> FileResult:
    """Write one prepared file in its own transaction (or report why it was not)."""
    name = str(prepared.path)
    if prepared.error:
        return FileResult(name, "failed", error=prepared.error, bytes=prepared.size)
    if prepared.records is None:
        slug = await store.slug_for_hash(prepared.digest)
        return FileResult(name, "unchanged", slug, bytes=prepared.size)
    source, speakers, quotes, passages = prepared.records
    stored_path = await store.source_path(source.slug)
    if stored_path and stored_path != source.path and Path(stored_path).exists():
        # Two different files with one name ("a/ep1.txt", "b/ep1.txt"): replacing would
        # delete the other's quotes. A file that moved (its old path is gone) replaces.
        return FileResult(
            name, "failed", source.slug, bytes=prepared.size,
            error=f"{name}: source '{source.slug}' already comes from {stored_path}; "
                  "rename this file or give it a `slug:` in its front matter",
        )
    existed = await store.source_hash(source.slug) is not None
    result = await store.replace_source(source, speakers, quotes, passages)
    status = "replaced" if existed else "added"
    return FileResult(name, status, source.slug, len(quotes), result.kept, bytes=prepared.size)


PROCESS_POOL_BYTES = 8 * 1024 * 1024
PARSE_AHEAD = 2  # files being parsed while one is written


def _total_bytes(files: list[Path]) -> int:
    return sum(p.stat().st_size for p in files if p.exists())


def _parser_pool(files: list[Path]) -> Executor:
    """Where files are parsed: worker processes for large batches, so parsing (Python, which
    holds the GIL) truly runs beside SQLite's writes; a thread for small ones, where starting
    a process would cost more than it saves. Two workers: parsing a file takes about as long
    as writing it, so two parsers keep one writer busy (1M quotes: 26.1 s -> 24.2 s)."""
    if _total_bytes(files) >= PROCESS_POOL_BYTES and len(files) > 1:
        return ProcessPoolExecutor(max_workers=PARSE_AHEAD,
                                   mp_context=multiprocessing.get_context("spawn"))
    return ThreadPoolExecutor(max_workers=1)


async def ingest_paths(
    store: QuoteStore,
    paths: Iterable[str | Path],
    *,
    progress: Progress | None = None,
    force: bool = False,
    overrides: SourceOverrides | None = None,
) -> IngestReport:
    """Ingest every file under `paths`; one bad file never stops the rest of the batch.

    Files are parsed one ahead in a worker while the previous file is written, so parsing
    and indexing use both cores. A file whose bytes are already stored is skipped without
    parsing. Feeds stand for their episodes' transcripts; sidecar files and `overrides`
    (the command line's title, date, url and speakers) add metadata.
    """
    planned = plan(paths, overrides)
    files = planned.files
    report = IngestReport([FileResult(p, "failed", error=e) for p, e in planned.problems])
    report.files += [FileResult(p, "skipped", error=e) for p, e in planned.skipped]
    # The lease tells other processes an ingest is under way, so they leave the derived
    # state it is about to rebuild alone.
    async with store.db.ingesting():
        known = frozenset() if force else await store.content_hashes()
        async with store.bulk_writes(large=_total_bytes(files) >= PROCESS_POOL_BYTES):
            await _ingest_files(store, files, known, report, progress, planned.overrides)
        # Not only when this run changed something: an earlier run killed after its last
        # file and before its refresh left the snapshot marked stale.
        await store.rebuild_stale()
    return report


async def _ingest_files(
    store: QuoteStore,
    files: list[Path],
    known: frozenset[str],
    report: IngestReport,
    progress: Progress | None,
    overrides: dict[Path, SourceOverrides] | None = None,
) -> None:
    """Parse files ahead in the workers while earlier ones are written, in file order."""
    loop = asyncio.get_running_loop()
    given = overrides or {}
    with _parser_pool(files) as pool:
        ahead: deque[asyncio.Future] = deque()
        queued = iter(files)
        for path in islice(queued, PARSE_AHEAD):
            ahead.append(loop.run_in_executor(pool, prepare, path, known, given.get(path)))
        for i in range(1, len(files) + 1):
            prepared = await ahead.popleft()
            for path in islice(queued, 1):
                ahead.append(loop.run_in_executor(pool, prepare, path, known, given.get(path)))
            result = await store_prepared(store, prepared)
            if result.status == "failed":
                log.warning("%s", result.error)
            report.files.append(result)
            if progress:
                progress(i, len(files), result)
