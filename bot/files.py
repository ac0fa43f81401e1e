"""`/quote ingest` and `/quote export`: a transcript file in from chat, the library out as one."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from quotebot.bot.exchange import export_document, write_json
from quotebot.bot.ingest.discovery import FEED_SUFFIXES, TRANSCRIPT_SUFFIXES
from quotebot.bot.ingest.runner import MAX_FILE_BYTES, Prepared, prepare, store_prepared
from quotebot.bot.ingest.types import MAX_SLUG_CHARS, MAX_TITLE_CHARS, SourceOverrides
from quotebot.bot.models import (
    Attachment,
    ErrorReply,
    FetchFailed,
    FileReply,
    Hint,
    Reply,
    Request,
    TextReply,
)
from quotebot.bot.registry import Command, Option, Services
from quotebot.store.quotes import QuoteStore

log = logging.getLogger(__name__)

# What a chat upload may be: transcripts, not feeds (a feed names episodes elsewhere, which
# the bot would then fetch for whoever sent it).
UPLOAD_SUFFIXES = frozenset(TRANSCRIPT_SUFFIXES - FEED_SUFFIXES)
# Files this large get a "parsing…" message before the result (a few seconds of work).
PROGRESS_BYTES = 256 * 1024
NAME_MAX = 120  # characters of an uploaded file's name kept (its suffix always)
SLUG_TRIES = 50  # slug-2 … slug-50 before giving up on a free slug
SLUG_RACES = 3  # writes tried when other uploads keep taking the slug first
# Where an uploaded transcript "came from" in the source's path: not a file on the bot's
# disk (the temporary copy is gone), so a re-upload never counts as "another file".
UPLOAD_PATH = "upload:"


def _is_admin(request: Request) -> bool:
    return bool(request.user and request.user.is_admin)


def size_text(number: int) -> str:
    """`number` bytes as people say it: 900 bytes, 12 KB, 3.4 MB."""
    if number < 1024:
        return f"{number} bytes"
    if number < 1024 * 1024:
        return f"{number / 1024:.0f} KB"
    return f"{number / 2**20:.1f} MB"


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


def upload_name(name: str) -> str:
    """A safe local file name for an uploaded file: its last path part, without control
    characters or leading dots, at most `NAME_MAX` characters (the suffix kept, since the
    format is told by it)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if c.isprintable()).strip().lstrip(".").strip()
    if not base:
        return "transcript.txt"
    if len(base) > NAME_MAX:
        suffix = Path(base).suffix[:20]
        base = base[: NAME_MAX - len(suffix)].rstrip() + suffix
    return base


SUPPORTED = ", ".join(sorted(UPLOAD_SUFFIXES))


async def ingest_upload(request: Request, services: Services) -> Reply:
    """Add a transcript file (txt, md, srt, vtt, json) to this server's library (admins)."""
    if not _is_admin(request):
        return ErrorReply("Only admins can add transcripts to this library.",
                          (Hint("Anyone can see what it holds:", command="library show"),))
    file = request.args.get("file")
    if not isinstance(file, Attachment):
        return ErrorReply(
            "Attach the transcript file: on Discord, /quote ingest with its file option; "
            "in Slack, the message shortcut “Add transcript” on a message with the file.",
            (Hint("The operator can also add files: quotebot --library NAME ingest PATH"),))
    name = upload_name(file.name)
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        return ErrorReply(f"“{name}” is not a file type quotebot reads as a transcript: "
                          f"send one of {SUPPORTED}.")
    if file.size > MAX_FILE_BYTES:
        return ErrorReply(f"“{name}” is too large: {size_text(file.size)}; the limit is "
                          f"{size_text(MAX_FILE_BYTES)}.")
    title = " ".join(str(request.arg("title", "")).split()) or None
    if title and len(title) > MAX_TITLE_CHARS:
        return ErrorReply(f"That title is {len(title):,} characters long; the limit is "
                          f"{MAX_TITLE_CHARS}.")
    try:
        data = await file.fetch(MAX_FILE_BYTES)
    except FetchFailed as exc:
        return ErrorReply(f"Could not download “{name}”: {exc}. Nothing was added; try "
                          "again.")
    if len(data) > MAX_FILE_BYTES:  # the platform under-reported its size
        return ErrorReply(f"“{name}” is too large: over {size_text(MAX_FILE_BYTES)}.")
    if file.progress is not None and len(data) >= PROGRESS_BYTES:
        await file.progress(f"Got “{name}” ({size_text(len(data))}): parsing and indexing it…")
    scope = await services.library.scope(request.channel)
    store = services.library.store.in_collection(scope.own)
    overrides = SourceOverrides(title=title) if title else None
    prepared, result = await _ingest_bytes(store, name, data, overrides)
    if result.status == "failed":
        reason = _problem(result.error or "", prepared.path, name)
        return ErrorReply(f"“{name}” was not added: {reason}.",
                          (Hint(f"quotebot reads {SUPPORTED} transcripts: speaker labels "
                                "(“Name: words”), subtitles (SRT, VTT) or JSON."),))
    await services.library.reload()
    log.info("library %s: %s %s (%s) from %s by %s", scope.name, result.status, result.slug,
             name, request.channel.platform if request.channel else "?",
             request.user.id if request.user else "?")
    source = next((s for s in services.library.sources if s.slug == result.slug), None)
    shown = f"“{source.title}” [{result.slug}]" if source else f"[{result.slug}]"
    if result.status == "unchanged":
        return TextReply(f"{shown} is already in this library with exactly this file and "
                         "title; nothing changed.")
    highlights = len(prepared.records[3]) if prepared.records else 0
    verb = "Added" if result.status == "added" else "Updated"
    return TextReply(f"{verb} {shown} in this library: {_count(result.quotes, 'quote')}, "
                     f"{_count(highlights, 'highlight')}. Try /quote sources, or search it.")


def _problem(error: str, path: Path, name: str) -> str:
    """The ingest's error without the temporary file's path (the user knows the name), and
    without naming another library that holds the slug."""
    for spelled in (str(path.resolve()), str(path)):
        error = error.replace(f"{spelled}: ", "").replace(spelled, name)
    error = re.sub(r"already belongs to collection '[^']*'.*", "is taken in this bot; give "
                   "the file another name, or a `slug:` in its front matter", error)
    return error.rstrip(".")


async def _ingest_bytes(store: QuoteStore, name: str, data: bytes,
                        overrides: SourceOverrides | None):
    """Ingest one uploaded file into `store`'s collection as `quotebot ingest` would: the
    same parsers and limits (`prepare`) and the same write (`store_prepared`), under the
    ingest lease. Returns the prepared file and the result."""
    async with store.db.ingesting():
        known = await store.content_hashes()
        with tempfile.TemporaryDirectory(prefix="quotebot-upload-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            del data
            prepared = await asyncio.to_thread(prepare, path, known, overrides)
        prepared = _as_upload(prepared, name)
        for _ in range(SLUG_RACES):
            prepared = await _own_slug(store, prepared)
            result = await store_prepared(store, prepared)
            # Another library may have taken the slug between the check and the write.
            if result.status != "failed" or prepared.records is None \
                    or not await store.slug_owner(prepared.records[0].slug):
                break
        await store.rebuild_stale()
    return prepared, result


def _as_upload(prepared: Prepared, name: str) -> Prepared:
    """The source's path as the upload's name, not the temporary file's."""
    if prepared.records is None:
        return prepared
    source, *rest = prepared.records
    return dataclasses.replace(
        prepared, records=(dataclasses.replace(source, path=UPLOAD_PATH + name), *rest))


async def _own_slug(store: QuoteStore, prepared: Prepared) -> Prepared:
    """`prepared` with a slug no other collection holds: slugs are unique in the database,
    and another server (or the bundled interviews) uploading `ep1.srt` first must neither
    block this one nor be named to it. `ep1` becomes `ep1-2` (the first free one)."""
    if prepared.records is None:
        return prepared
    source, *rest = prepared.records
    if not await store.slug_owner(source.slug):
        return prepared
    stem = source.slug[: MAX_SLUG_CHARS - 4]
    for n in range(2, SLUG_TRIES + 1):
        slug = f"{stem}-{n}"
        if not await store.slug_owner(slug):
            return dataclasses.replace(
                prepared, records=(dataclasses.replace(source, slug=slug), *rest))
    return prepared  # store_prepared refuses it, naming the slug


async def export_library(request: Request, services: Services) -> Reply:
    """This server's library as a JSON file, as `quotebot export` writes it (admins)."""
    if not _is_admin(request):
        return ErrorReply("Only admins can export this library.",
                          (Hint("Anyone can see what it holds:", command="library show"),))
    scope = await services.library.scope(request.channel)
    collections = await services.library.export_collections(
        library=(scope.platform, scope.workspace))
    document = await export_document(services.library.store, collections)
    data = await asyncio.to_thread(_json_bytes, document)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    filename = f"quotebot-{re.sub(r'[^A-Za-z0-9_.-]+', '-', scope.name)}-{stamp}.json"
    what = (f"{_count(len(document['sources']), 'source')}, "
            f"{_count(len(document['quotes']), 'quote')} and "
            f"{_count(len(document['highlights']), 'highlight')}")
    log.info("library %s exported (%s, %d bytes) by %s", scope.name, what, len(data),
             request.user.id if request.user else "?")
    return FileReply(f"This library's own transcripts: {what} ({size_text(len(data))}). "
                     "`quotebot import FILE` loads it into any quotebot; shared collections "
                     "are not in it.", data, filename)


def _json_bytes(document: dict) -> bytes:
    buffer = io.StringIO()
    write_json(document, buffer)
    return buffer.getvalue().encode()


FILE_OPTION = Option("file", "The transcript: a .txt, .md, .srt, .vtt or .json file.",
                     type=Attachment, required=True, platforms=frozenset({"discord"}))
TITLE_OPTION = Option("title", "The source's title (else the file's own, or its name).",
                      keyword="title")

FILE_COMMANDS: tuple[Command, ...] = (
    Command("ingest", ingest_upload.__doc__ or "", ingest_upload, (FILE_OPTION, TITLE_OPTION),
            admin=True, slow=True),
    Command("export", export_library.__doc__ or "", export_library, admin=True, slow=True),
)
