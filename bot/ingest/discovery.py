"""Which files a batch ingests, with the metadata sidecars, feeds and the command line give them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.ingest.feeds import is_feed, read_feed
from bot.ingest.sidecar import Sidecar, find_sidecar, read_sidecar
from bot.ingest.types import SourceOverrides, TranscriptError

log = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = {".txt", ".md", ".markdown", ".srt", ".vtt", ".json", ".xml", ".rss"}
FEED_SUFFIXES = {".xml", ".rss"}


@dataclass
class Plan:
    """The files to ingest, in order, with their overrides; and what could not be planned.

    `problems` are (path, reason) pairs: missing paths, broken sidecars and feeds;
    `skipped` are (what, reason) pairs for feed episodes without a transcript on disk.
    """

    files: list[Path] = field(default_factory=list)
    overrides: dict[Path, SourceOverrides] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def plan(paths: Iterable[str | Path], given: SourceOverrides | None = None) -> Plan:
    """Expand paths into the files to ingest.

    Folders are searched for transcript suffixes; a feed (an ``.xml``/``.rss`` RSS file)
    stands for its episodes' local transcripts, which are then not ingested a second time
    as plain files; a sidecar in a file's folder or above (up to the folder above the path
    named) gives it metadata; `given` (the command line) wins over both.

    Args:
        paths: Files and folders as the user named them.
        given: Overrides from the command line, for every file named.

    Returns:
        The plan.
    """
    out = Plan()
    sidecars: dict[Path, Sidecar | None] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in TRANSCRIPT_SUFFIXES
                and not p.name.startswith(".")
            )
            top = path.parent  # the named folder may be one episode of a described show
        elif path.is_file():
            # A sidecar beside the file or in the folder above (ep-001/transcript.md).
            found, top = [path], path.parent.parent
        else:
            out.problems.append((str(path), f"{path}: no such file or folder"))
            continue
        feeds, plain = [], []
        for file in found:
            if file.suffix.lower() not in FEED_SUFFIXES:
                plain.append(file)
            elif _looks_like_feed(file):
                feeds.append(file)
            else:
                out.problems.append((str(file), f"{file}: XML but not a podcast RSS feed"))
        claimed: set[Path] = set()
        for feed in feeds:
            claimed |= _add_feed(out, feed, given)
        for file in plain:
            if file.resolve() in claimed:
                continue
            overrides = _sidecar_overrides(file, top, sidecars, out)
            if given:
                overrides = given.over(overrides)
            out.files.append(file)
            if overrides:
                out.overrides[file] = overrides
    return out


def _looks_like_feed(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return is_feed(handle.read(4096))
    except OSError:
        return False


def _add_feed(out: Plan, feed: Path, given: SourceOverrides | None) -> set[Path]:
    """Plan a feed's episodes; return the transcript files it claims."""
    try:
        episodes = read_feed(feed)
    except TranscriptError as exc:
        out.problems.append((str(feed), str(exc)))
        return set()
    claimed = set()
    for episode in episodes:
        if episode.transcript is None:
            reason = (
                f"{feed}: episode {episode.title!r}: no transcript on disk"
                + (f" (the feed names {', '.join(episode.wanted)}; nothing is downloaded)"
                   if episode.wanted else "")
            )
            out.skipped.append((f"{feed}#{episode.title}", reason))
            continue
        overrides = given.over(episode.overrides) if given else episode.overrides
        # The other formats of the same episode are not sources of their own.
        claimed |= {p.resolve() for p in episode.alternates}
        out.files.append(episode.transcript)
        out.overrides[episode.transcript] = overrides
    return claimed


def _sidecar_overrides(
    file: Path, top: Path, cache: dict[Path, Sidecar | None], out: Plan
) -> SourceOverrides | None:
    """The nearest sidecar's entry for a file, searching its folder up to `top`."""
    folder = file.parent
    chain = []
    while True:
        chain.append(folder)
        if folder == top or folder.parent == folder or top not in folder.parents:
            break
        folder = folder.parent
    result = None
    for folder in chain:
        if folder not in cache:
            cache[folder] = None
            sidecar = find_sidecar(folder)
            if sidecar is not None:
                try:
                    cache[folder] = read_sidecar(sidecar)
                except TranscriptError as exc:
                    out.problems.append((str(sidecar), str(exc)))
        if cache[folder] is not None:
            found = cache[folder].lookup(file)
            if found:
                result = found if result is None else result.over(found)
    return result
