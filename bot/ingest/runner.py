"""Ingest files and folders: one transaction per file, errors reported per file, progress shown."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def changed(self) -> bool:
        return any(f.status in ("added", "replaced") for f in self.files)


Progress = Callable[[int, int, FileResult], None]


def expand(paths: Iterable[str | Path]) -> tuple[list[Path], list[FileResult]]:
    """Files to ingest: named files as given, folders searched for transcript suffixes."""
    files: list[Path] = []
    missing: list[FileResult] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in TRANSCRIPT_SUFFIXES
                and not p.name.startswith(".")
            ))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(FileResult(str(path), "failed", error=f"{path}: no such file or folder"))
    return files, missing


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


async def ingest_file(store: QuoteStore, path: Path, *, force: bool = False) -> FileResult:
    """Ingest one file; unchanged files (same bytes as stored) are skipped."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TranscriptError(name, f"file is {size // 2**20} MB; the limit is "
                                        f"{MAX_FILE_BYTES // 2**20} MB")
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(name, "failed", error=f"{name}: cannot read: {exc.strerror or exc}")
    except TranscriptError as exc:
        return FileResult(name, "failed", error=str(exc))
    digest = hashlib.sha256(data).hexdigest()
    try:
        parsed = parse_transcript(decode(data, name), name)
        slug = parsed.meta.slug
        if not force and await store.source_hash(slug) == digest:
            return FileResult(name, "unchanged", slug, bytes=len(data))
        existed = await store.source_hash(slug) is not None
        source, speakers, quotes = source_records(parsed, str(path.resolve()), digest)
        if not quotes:
            raise TranscriptError(name, "no quotable text found")
    except TranscriptError as exc:
        return FileResult(name, "failed", error=str(exc))
    result = await store.replace_source(source, speakers, quotes)
    return FileResult(
        name, "replaced" if existed else "added", slug, len(quotes), result.kept, bytes=len(data)
    )


async def ingest_paths(
    store: QuoteStore,
    paths: Iterable[str | Path],
    *,
    progress: Progress | None = None,
    force: bool = False,
) -> IngestReport:
    """Ingest every file under `paths`; one bad file never stops the rest of the batch."""
    files, report_missing = expand(paths)
    report = IngestReport(list(report_missing))
    for i, path in enumerate(files, 1):
        result = await ingest_file(store, path, force=force)
        if result.status == "failed":
            log.warning("%s", result.error)
        report.files.append(result)
        if progress:
            progress(i, len(files), result)
    if report.changed:
        await store.refresh_terms()
    return report
