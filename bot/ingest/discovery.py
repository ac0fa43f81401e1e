"""Which files a batch ingests, with the metadata sidecars, feeds and the command line give them."""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from quotebot.bot.ingest.feeds import is_feed, read_feed
from quotebot.bot.ingest.front_matter import path_identity, takes_folder_name
from quotebot.bot.ingest.sidecar import Sidecar, find_sidecar, read_sidecar
from quotebot.bot.ingest.types import SourceOverrides, TranscriptError

log = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = {".txt", ".md", ".markdown", ".srt", ".vtt", ".json", ".xml", ".rss"}
FEED_SUFFIXES = {".xml", ".rss"}


@dataclass
class Expansion:
    """What the paths named for an ingest hold: transcript files to read, with their sizes,
    paths that cannot be ingested (each with its reason), and files of other types found
    in folders, which are listed rather than skipped in silence."""

    files: list[Path] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
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
        found.failed.append((str(path), f"{path}: {reason}"))

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
    unsupported: list[Path] = field(default_factory=list)  # files of other types in folders
    folders: list[Path] = field(default_factory=list)  # the folders named (for --prune)
    sizes: dict[Path, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes.get(path, 0) for path in self.files)


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
        expansion = expand([path])
        out.problems += expansion.failed
        out.unsupported += expansion.unsupported
        out.folders += expansion.folders
        out.sizes.update(zip(expansion.files, expansion.sizes, strict=True))
        found = expansion.files
        if not found:
            continue
        if expansion.folders:
            top = path.parent  # the named folder may be one episode of a described show
        else:
            # A sidecar beside the file or in the folder above (ep-001/transcript.md).
            top = path.parent.parent
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
    _tell_folders_apart(out)
    return out


def _tell_folders_apart(out: Plan) -> None:
    """Give files named by their folder as many folders as the batch needs to tell them apart.

    ``Season 1/Episode 3/transcript.md`` and ``Season 2/Episode 3/transcript.md`` are both
    "episode-3" by their folder alone; with two folders they are "season-1-episode-3" and
    "season-2-episode-3". One depth serves every folder-named file of the batch, the
    smallest at which their slugs differ from each other and from the other files': the
    same folder ingested again gives the same slugs, episodes added to a season that
    already needed two folders keep the others' slugs, and a collection whose episode
    folders never collide (the common case) keeps the one-folder slugs it always had.
    Files whose slug is given (sidecar, feed, command line) take no part.
    """
    named = [f for f in out.files if not _given_slug(out, f) and takes_folder_name(str(f))]
    if not named:
        return
    taken = {
        path_identity(str(f))[0] for f in out.files
        if not _given_slug(out, f) and not takes_folder_name(str(f))
    }
    taken |= {o.slug for o in out.overrides.values() if o.slug}
    best, best_distinct = 1, -1
    for depth in range(1, max(len(f.parts) for f in named)):
        slugs = {path_identity(str(f), depth)[0] for f in named}
        distinct = len(slugs - taken)
        if distinct > best_distinct:
            best, best_distinct = depth, distinct
        if distinct == len(named):
            break
    if best == 1:
        return
    for file in named:
        given = out.overrides.get(file)
        depth = SourceOverrides(folders=best)
        out.overrides[file] = given.over(depth) if given else depth


def _given_slug(out: Plan, file: Path) -> bool:
    given = out.overrides.get(file)
    return bool(given and given.slug)


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
        try:
            out.sizes[episode.transcript] = episode.transcript.stat().st_size
        except OSError:
            pass  # reported when it is read
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
