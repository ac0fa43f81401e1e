"""Ingest files and folders: one transaction per file, errors reported per file, progress shown."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import multiprocessing
import os
import stat
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

from bot.ingest.decode import decode
from bot.ingest.formats import parse_transcript
from bot.ingest.sentences import build_quotes
from bot.ingest.types import ParsedTranscript, TranscriptError
from store.quotes import NewQuote, NewSource, QuoteStore, SpeakerInfo

log = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = {".txt", ".md", ".markdown", ".srt", ".vtt"}
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
    found: Expansion | None = None

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def changed(self) -> bool:
        return any(f.status in ("added", "replaced") for f in self.files)


Progress = Callable[[int, int, FileResult], None]


@dataclass
class Expansion:
    """What the paths named for an ingest hold: transcript files to read, with their sizes,
    paths that cannot be ingested (each with its reason), and files of other types found
    in folders, which are listed rather than skipped in silence."""

    files: list[Path] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    failed: list[FileResult] = field(default_factory=list)
    unsupported: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes)


def _reason(exc: OSError) -> str:
    """A short reason for an OSError, in the words an operator would use."""
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT:
        return "no such file or folder"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read: {exc.strerror or exc}"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _is_transcript_name(name: str) -> bool:
    return Path(name).suffix.lower() in TRANSCRIPT_SUFFIXES


def expand(paths: Iterable[str | Path]) -> Expansion:
    """Files to ingest: named files as given, folders searched for transcript suffixes.

    Never raises for a bad path: every path that cannot be read is in `failed` with its
    reason (missing, broken symlink, symlink loop, permission denied, not a regular file).
    Folders are walked with an explicit stack, so depth is bounded by nothing but the file
    system; symlinked folders are not followed (a link back up would loop).
    """
    found = Expansion()

    def fail(path: Path | str, reason: str) -> None:
        found.failed.append(FileResult(str(path), "failed", error=f"{path}: {reason}"))

    for raw in paths:
        path = Path(raw)
        try:
            st = path.stat()
        except OSError as exc:
            if exc.errno == errno.ENOENT and path.is_symlink():
                fail(path, "broken symlink (its target does not exist)")
            else:
                fail(path, _reason(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            found.folders.append(path)
            _walk(path, found, fail)
        elif stat.S_ISREG(st.st_mode):
            found.files.append(path)
            found.sizes.append(st.st_size)
        else:
            fail(path, _kind(st.st_mode))
    return found


def _walk(root: Path, found: Expansion, fail: Callable[[Path | str, str], None]) -> None:
    """Add the transcripts under `root` to `found`, in path order, without recursion."""
    files: list[tuple[str, int]] = []
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError as exc:
            fail(folder, f"cannot open folder: {_reason(exc)}")
            continue
        for entry in listed:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                if not _is_transcript_name(entry.name):
                    if entry.is_file():
                        found.unsupported.append(Path(entry.path))
                    continue
                st = entry.stat()
            except OSError as exc:
                if exc.errno == errno.ENOENT and entry.is_symlink():
                    fail(entry.path, "broken symlink (its target does not exist)")
                else:
                    fail(entry.path, _reason(exc))
                continue
            if stat.S_ISREG(st.st_mode):
                files.append((entry.path, st.st_size))
            elif not stat.S_ISDIR(st.st_mode):  # a symlinked folder named *.txt: not followed
                fail(entry.path, _kind(st.st_mode))
    files.sort(key=lambda pair: Path(pair[0]))
    found.files.extend(Path(p) for p, _ in files)
    found.sizes.extend(size for _, size in files)
    found.unsupported.sort()


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
    quotes = [
        NewQuote(d.speaker, d.text, d.start, d.position, d.quotability)
        for d in build_quotes(parsed)
    ]
    return source, speakers, quotes


@dataclass
class Prepared:
    """A file read, hashed and (unless already stored) parsed: everything but the database."""

    path: Path
    digest: str = ""
    size: int = 0
    records: tuple | None = None
    error: str | None = None


def prepare(path: Path, known: frozenset[str]) -> Prepared:
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
    if digest in known:
        return Prepared(path, digest, len(data))
    try:
        parsed = parse_transcript(decode(data, name), name)
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
    source, speakers, quotes = prepared.records
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
    result = await store.replace_source(source, speakers, quotes)
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
        return ProcessPoolExecutor(max_workers=PARSE_AHEAD,
                                   mp_context=multiprocessing.get_context("spawn"))
    return ThreadPoolExecutor(max_workers=1)


Started = Callable[[Expansion], None]


async def ingest_paths(
    store: QuoteStore,
    paths: Iterable[str | Path],
    *,
    progress: Progress | None = None,
    force: bool = False,
    started: Started | None = None,
) -> IngestReport:
    """Ingest every file under `paths`; one bad file never stops the rest of the batch.

    Files are parsed one ahead in a worker while the previous file is written, so parsing
    and indexing use both cores. A file whose bytes are already stored is skipped without
    parsing.

    Args:
        store: Where the quotes go.
        paths: Files and folders, as named by the user.
        progress: Called after each file (and each path that failed before reading) with
            (done, total, result); when given, it reports errors and nothing is logged.
        force: Re-ingest files even when their bytes are already stored.
        started: Called once with what the paths hold, before any file is read: the
            files with their sizes (for a progress bar over bytes), the failed paths and
            the files of unsupported types.
    """
    found = expand(paths)
    report = IngestReport(list(found.failed), found)
    if started:
        started(found)
    total = len(found.failed) + len(found.files)
    for i, result in enumerate(found.failed, 1):
        _report_file(result, i, total, progress)
    known = frozenset() if force else await store.content_hashes()
    async with store.bulk_writes(large=found.total_bytes >= PROCESS_POOL_BYTES):
        await _ingest_files(store, found, known, report, progress)
    if report.changed:
        await store.refresh_terms()
    return report


def _report_file(result: FileResult, i: int, total: int, progress: Progress | None) -> None:
    """Hand one file's result to the caller, or log its error when nobody listens."""
    if progress:
        progress(i, total, result)
    elif result.status == "failed":
        log.warning("%s", result.error)


async def _ingest_files(
    store: QuoteStore,
    found: Expansion,
    known: frozenset[str],
    report: IngestReport,
    progress: Progress | None,
) -> None:
    """Parse files ahead in the workers while earlier ones are written, in file order."""
    loop = asyncio.get_running_loop()
    files = found.files
    done = len(report.files)
    total = done + len(files)
    with _parser_pool(files, found.total_bytes) as pool:
        ahead: deque[asyncio.Future] = deque()
        queued = iter(files)
        for path in islice(queued, PARSE_AHEAD):
            ahead.append(loop.run_in_executor(pool, prepare, path, known))
        for i in range(len(files)):
            prepared = await ahead.popleft()
            for path in islice(queued, 1):
                ahead.append(loop.run_in_executor(pool, prepare, path, known))
            result = await store_prepared(store, prepared)
            if not result.bytes:
                result = replace(result, bytes=found.sizes[i])
            report.files.append(result)
            _report_file(result, done + i + 1, total, progress)
