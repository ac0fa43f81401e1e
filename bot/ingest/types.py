"""Data types shared by the transcript parsers, the segmenter and the ingest runner."""

from __future__ import annotations

from dataclasses import dataclass, field


class TranscriptError(ValueError):
    """A transcript file that cannot be ingested; the message names the file (and line)."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Participant:
    """A person named in a transcript's front matter."""

    name: str
    role: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Correction:
    """A documented fix of a speech-recognition misspelling (exact, case-sensitive, whole words)."""

    wrong: str
    right: str
    note: str | None = None


@dataclass(frozen=True)
class SourceMeta:
    """What the front matter (or the file name) says about a transcript."""

    slug: str
    title: str
    date: str | None = None
    venue: str | None = None
    url: str | None = None
    participants: tuple[Participant, ...] = ()
    corrections: tuple[Correction, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Segment:
    """One run of text as the file cuts it: a cue, a line, a block, a paragraph.

    `speaker` is the label exactly as written (None when the file names nobody);
    `start` is in seconds; `line` is the 1-based line in the file where the segment begins.
    """

    speaker: str | None
    text: str
    start: float | None = None
    line: int | None = None


@dataclass(frozen=True)
class ParsedTranscript:
    """A transcript after parsing: metadata, the detected format and its segments in order."""

    meta: SourceMeta
    format: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class QuoteDraft:
    """A quote unit ready to store: one to a few sentences by one speaker.

    `speaker` is the canonical full name (None for an unknown speaker); `position` is the
    0-based order within the source; `quotability` is in [0, 1].
    """

    speaker: str | None
    text: str
    start: float | None
    position: int
    quotability: float
