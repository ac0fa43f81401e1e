"""Ingest files and folders: one transaction per file, errors reported per file, progress shown."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

from quotebot.bot import highlights
from quotebot.bot.ingest.decode import decode
from quotebot.bot.ingest.discovery import Plan, plan
from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.sentences import iter_quotes
from quotebot.bot.ingest.types import ParsedTranscript, SourceOverrides, TranscriptError
from quotebot.store.quotes import NewQuote, NewSource, QuoteStore, SpeakerInfo

log = logging.getLogger(__name__)

# The longest real transcripts (a day of subtitles) are a few MB; parsing and storing a
# file costs several times its size in memory, so far larger files are refused.
MAX_FILE_BYTES = 64 * 1024 * 1024


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
    found: Plan | None = None

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
        meta=bounded_meta(
            [
                {"name": p.name, "role": p.role, "aliases": list(p.aliases)}
                for p in meta.participants
            ],
            [{"wrong": c.wrong, "right": c.right, "note": c.note} for c in meta.corrections],
            meta.extra,
            path,
        ),
    )
    speakers = [SpeakerInfo(p.name, p.role, tuple(p.aliases)) for p in meta.participants]
    units = iter_quotes(parsed, path)
    del parsed  # peak memory: the generator lets go of the segments once they are joined
    drafts = list(units)
    roles = {p.name: p.role for p in meta.participants}
    # Drafts carry everything the selector reads (speaker, text, position, start).
    passages = highlights.select(drafts, roles)
    quotes = [NewQuote(d.speaker, d.text, d.start, d.position, d.quotability) for d in drafts]
    del drafts
    return source, speakers, quotes, passages


# Stored metadata is read back at every start (the corrections); a cap keeps one odd file
# from slowing every command.
MAX_META_CHARS = 64 * 1024


def _json_size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str))


def bounded_meta(participants: list[dict], corrections: list[dict], extra: dict,
                 path: str) -> dict:
    """The metadata to store for a source, within `MAX_META_CHARS` of JSON where it can be.

    Corrections are kept whole (the bot applies them; the front-matter cap bounds them),
    then participants (the speakers table holds them anyway), then the extra front-matter
    keys in file order. What does not fit is dropped with a warning.
    """
    budget = MAX_META_CHARS - _json_size({"participants": [], "corrections": corrections})
    kept_people: list[dict] = []
    for person in participants:
        cost = _json_size(person) + 2
        if cost > budget:
            break
        kept_people.append(person)
        budget -= cost
    if len(kept_people) < len(participants):
        log.warning("%s: metadata over %d KB: %d of %d participants not stored in it "
                    "(their quotes and speakers are)", path, MAX_META_CHARS // 1024,
                    len(participants) - len(kept_people), len(participants))
    meta: dict = {"participants": kept_people, "corrections": corrections}
    dropped = []
    for key, value in extra.items():
        if key in meta:
            continue
        cost = _json_size({key: value})
        if cost > budget:
            dropped.append(key)
            continue
        meta[key] = value
        budget -= cost
    if dropped:
        log.warning("%s: metadata over %d KB: front-matter keys not stored: %s", path,
                    MAX_META_CHARS // 1024, ", ".join(dropped[:20]))
    return meta


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
    size = len(data)
    if overrides:
        # Metadata from a sidecar, feed or the command line is part of what was ingested:
        # when it changes, the file is read again.
        digest = hashlib.sha256(f"{digest}\0{overrides!r}".encode()).hexdigest()
    if digest in known:
        return Prepared(path, digest, size)
    try:
        text = decode(data, name)
        del data  # peak memory: the bytes are not needed once decoded
        parsed = [parse_transcript(text, name, overrides)]
        del text
        # Popped into the call, so source_records holds the only reference and can let go
        # of the segments once they are joined (peak memory).
        records = source_records(parsed.pop(), str(path.resolve()), digest)
        if not records[2]:
            raise TranscriptError(name, "no quotable text found")
    except TranscriptError as exc:
        return Prepared(path, digest, size, error=str(exc))
    return Prepared(path, digest, size, records)


async def store_prepared(store: QuoteStore, prepared: Prepared) -> FileResult:
    """Write one prepared file in its own transaction (or report why it was not)."""
    name = str(prepared.path)
    if prepared.error:
        return FileResult(name, "failed", error=prepared.error, bytes=prepared.size)
    if prepared.records is None:
        slug = await store.slug_for_hash(prepared.digest)
        return FileResult(name, "unchanged", slug, bytes=prepared.size)
    source, speakers, quotes, passages = prepared.records
    if owner := await store.slug_owner(source.slug):
        # Slugs are unique in the database; storing it here would move another
        # collection's source (an ingest into a named collection or library only).
        return FileResult(
            name, "failed", source.slug, bytes=prepared.size,
            error=f"{name}: source '{source.slug}' already belongs to collection '{owner}'; "
                  "rename this file or give it a `slug:` in its front matter",
        )
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


def _parser_pool(files: list[Path], total_bytes: int) -> Executor:
    """Where files are parsed: worker processes for large batches, so parsing (Python, which
    holds the GIL) truly runs beside SQLite's writes; a thread for small ones, where starting
    a process would cost more than it saves. Two workers: parsing a file takes about as long
    as writing it, so two parsers keep one writer busy (1M quotes: 26.1 s -> 24.2 s)."""
    if total_bytes >= PROCESS_POOL_BYTES and len(files) > 1:
        root = logging.getLogger()
        formats = [h.formatter._fmt for h in root.handlers if h.formatter is not None]
        return ProcessPoolExecutor(
            max_workers=PARSE_AHEAD,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_start,
            initargs=(os.getpid(), root.getEffectiveLevel(), formats[0] if formats else None),
        )
    return ThreadPoolExecutor(max_workers=1)


_PARENT_POLL_SECONDS = 0.2


def _worker_start(parent: int, level: int, log_format: str | None) -> None:
    """Set up a parser worker process: it lives only as long as the ingest that started it.

    A worker whose parent is killed (SIGKILL, or a crash) is re-parented; a daemon thread
    notices and exits, so no worker (and, once their pipes close, no resource tracker) is
    left behind. Ctrl-C and SIGTERM are the parent's to handle: it stops the workers.
    Warnings are printed as the parent prints them, not lost in the worker.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=level, **({"format": log_format} if log_format else {}))

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_SECONDS)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _stop_workers(pool: Executor) -> None:
    """Stop parsing now: queued files are dropped and worker processes ended."""
    pool.shutdown(wait=False, cancel_futures=True)
    # A worker half-way through a large file would otherwise finish it first.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()  # SIGKILL: workers ignore SIGTERM, the parent stops them
    pool.shutdown(wait=True)


@contextlib.contextmanager
def _stop_on_sigterm(stop: asyncio.Event) -> Iterator[None]:
    """While the block runs, SIGTERM sets `stop` instead of killing the process.

    Only where nobody else handles SIGTERM (the main thread, default disposition); a
    second SIGTERM kills as usual.
    """
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        log.warning("SIGTERM: stopping after the current file")
        stop.set()
        loop.remove_signal_handler(signal.SIGTERM)

    installed = False
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                loop.add_signal_handler(signal.SIGTERM, stopping)
                installed = True
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # no signal support here (Windows, a non-main thread)
    try:
        yield
    finally:
        if installed and not stop.is_set():
            loop.remove_signal_handler(signal.SIGTERM)


Started = Callable[[Plan], None]


async def ingest_paths(
    store: QuoteStore,
    paths: Iterable[str | Path],
    *,
    progress: Progress | None = None,
    force: bool = False,
    overrides: SourceOverrides | None = None,
    stop_on_sigterm: bool = False,
    started: Started | None = None,
) -> IngestReport:
    """Ingest every file under `paths`; one bad file never stops the rest of the batch.

    Files are parsed one ahead in a worker while the previous file is written, so parsing
    and indexing use both cores. A file whose bytes are already stored is skipped without
    parsing. Feeds stand for their episodes' transcripts; sidecar files and `overrides`
    (the command line's title, date, url and speakers) add metadata.

    Args:
        store: Where the quotes go.
        paths: Files and folders, as named by the user.
        progress: Called after each file (and each path that failed before reading) with
            (done, total, result); when given, it reports errors and nothing is logged.
        force: Re-ingest files even when their bytes are already stored.
        overrides: Metadata given on the command line for a single file.
        stop_on_sigterm: For a command-line ingest: SIGTERM then stops the batch after the
            file being written; files done stay committed and every other one is reported
            as failed ("not ingested"). Left off where the process must still die of
            SIGTERM (a bot loading its bundled transcripts at start).
        started: Called once with the plan, before any file is read: the files with their
            sizes (for a progress bar over bytes), the failed paths and the files of
            unsupported types.
    """
    found = plan(paths, overrides)
    report = IngestReport([FileResult(p, "failed", error=e) for p, e in found.problems], found)
    report.files += [FileResult(p, "skipped", error=e) for p, e in found.skipped]
    if started:
        started(found)
    total = len(report.files) + len(found.files)
    for i, result in enumerate(list(report.files), 1):
        _report_file(result, i, total, progress)
    stop = asyncio.Event()
    # The lease tells other processes an ingest is under way, so they leave the derived
    # state it is about to rebuild alone.
    async with store.db.ingesting():
        known = frozenset() if force else await store.content_hashes()
        with _stop_on_sigterm(stop) if stop_on_sigterm else contextlib.nullcontext():
            async with store.bulk_writes(large=found.total_bytes >= PROCESS_POOL_BYTES):
                await _ingest_files(store, found, known, report, progress, stop)
        # Not only when this run changed something: an earlier run killed after its last
        # file and before its refresh left the snapshot marked stale.
        await store.rebuild_stale()
    return report


def _report_file(result: FileResult, i: int, total: int, progress: Progress | None) -> None:
    """Hand one file's result to the caller, or log its error when nobody listens."""
    if progress:
        progress(i, total, result)
    elif result.status == "failed":
        log.warning("%s", result.error)


async def _ingest_files(
    store: QuoteStore,
    found: Plan,
    known: frozenset[str],
    report: IngestReport,
    progress: Progress | None,
    stop: asyncio.Event,
) -> None:
    """Parse files ahead in the workers while earlier ones are written, in file order."""
    loop = asyncio.get_running_loop()
    given = found.overrides
    files = found.files
    done_before = len(report.files)
    total = done_before + len(files)
    pool = _parser_pool(files, found.total_bytes)
    stopped = asyncio.ensure_future(stop.wait())
    ahead: deque[asyncio.Future] = deque()
    reason = ""
    done = 0
    clean = False
    try:
        queued = iter(files)
        for path in islice(queued, PARSE_AHEAD):
            ahead.append(loop.run_in_executor(pool, prepare, path, known, given.get(path)))
        for i in range(1, len(files) + 1):
            prepared, reason = await _next_prepared(ahead.popleft(), stopped, stop)
            if prepared is None:
                break
            for path in islice(queued, 1):
                ahead.append(loop.run_in_executor(pool, prepare, path, known, given.get(path)))
            result = await store_prepared(store, prepared)
            if not result.bytes:
                result = replace(result, bytes=found.sizes.get(prepared.path, 0))
            report.files.append(result)
            done = i
            _report_file(result, done_before + i, total, progress)
            if stop.is_set():
                reason = "stopped by SIGTERM"
                break
        clean = not reason
    finally:
        stopped.cancel()
        for parsing in ahead:
            parsing.cancel()
        if clean:
            pool.shutdown(wait=True)
        else:  # stopped, or an error or Ctrl-C on the way out: parse nothing more
            _stop_workers(pool)
    if reason:
        log.warning("%s: %d of %d files not ingested", reason, len(files) - done, len(files))
    for i, path in enumerate(files[done:], done + 1):
        result = FileResult(str(path), "failed", error=f"{path}: not ingested: {reason}")
        report.files.append(result)
        _report_file(result, done_before + i, total, progress)


async def _next_prepared(parsing: asyncio.Future, stopped: asyncio.Future,
                         stop: asyncio.Event) -> tuple[Prepared | None, str]:
    """The next file's parse, or None and why there is none (SIGTERM, a dead worker)."""
    if not parsing.done():
        await asyncio.wait([parsing, stopped], return_when=asyncio.FIRST_COMPLETED)
    if stop.is_set():
        parsing.cancel()
        return None, "stopped by SIGTERM"
    try:
        return parsing.result(), ""
    except BrokenExecutor:
        return None, "a parser worker died"
