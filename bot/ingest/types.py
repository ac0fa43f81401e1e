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


MAX_TITLE_CHARS = 300
MAX_SLUG_CHARS = 120
MAX_DATE_CHARS = 40
MAX_URL_CHARS = 2048


@dataclass(frozen=True)
class SourceOverrides:
    """Metadata given from outside a file: the command line, a sidecar file or a feed.

    Every field set here wins over what the file says; `participants` are merged with
    the speakers the file names (their roles and full names win). `folders` is weaker: it
    only says how many folders name a file whose own name is generic, where episode folders
    in the collection share a name (see `quotebot.bot.ingest.front_matter.path_identity`);
    the file's front matter still wins over the name it gives.
    """

    slug: str | None = None
    title: str | None = None
    date: str | None = None
    url: str | None = None
    participants: tuple[Participant, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    folders: int = 0

    def __post_init__(self) -> None:
        # Bounded like front matter (which its 64 KB cap bounds): a sidecar, a feed or the
        # command line may hold a megabyte "title", shown and listed for ever after.
        for name, limit in (("slug", MAX_SLUG_CHARS), ("title", MAX_TITLE_CHARS),
                            ("date", MAX_DATE_CHARS)):
            value = getattr(self, name)
            if value is not None and len(value) > limit:
                object.__setattr__(self, name, value[: limit - 1].rstrip() + "…"
                                   if name == "title" else value[:limit])
        if self.url is not None and len(self.url) > MAX_URL_CHARS:
            object.__setattr__(self, "url", None)  # a cut URL is a wrong link: none at all

    def __bool__(self) -> bool:
        return any((self.slug, self.title, self.date, self.url, self.participants, self.extra,
                    self.folders))

    def over(self, other: SourceOverrides | None) -> SourceOverrides:
        """These overrides with `other`'s filling the fields these leave unset."""
        if other is None:
            return self
        return SourceOverrides(
            slug=self.slug or other.slug,
            title=self.title or other.title,
            date=self.date or other.date,
            url=self.url or other.url,
            participants=self.participants + tuple(
                p for p in other.participants
                if p.name.lower() not in {q.name.lower() for q in self.participants}
            ),
            extra=tuple({**dict(other.extra), **dict(self.extra)}.items()),
            folders=self.folders or other.folders,
        )

    def apply(self, meta: SourceMeta) -> SourceMeta:
        """`meta` with these fields in place of its own (participants are merged earlier)."""
        return SourceMeta(
            slug=self.slug or meta.slug,
            title=self.title or meta.title,
            date=self.date or meta.date,
            venue=meta.venue,
            url=self.url or meta.url,
            participants=meta.participants,
            corrections=meta.corrections,
            extra={**meta.extra, **dict(self.extra)},
        )


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
