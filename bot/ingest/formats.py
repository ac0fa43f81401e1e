"""Transcript formats: detect how a file is laid out and cut it into labelled segments.

Supported layouts, detected from the content (the file suffix only decides for
``.srt``/``.vtt``/``.json``):

* optional YAML front matter between leading ``---`` lines;
* ``srt``: SubRip subtitles (``NAME:`` prefixes, ``<i>`` tags, ``- `` dialogue lines);
* ``vtt``: WebVTT, with ``<v Name>`` voices, ``Name:`` prefixes and rolling captions;
* ``markdown``: ``**Name:** text`` with ``[12:34]`` continuation paragraphs;
* ``blocks``: a header line ``Name (Role) 00:52.700`` / ``Name (00:01:23):`` /
  ``Name  0:03`` followed by text lines (Descript, Rev, Otter exports);
* ``stamped``: ``[00:01:23] Name: text`` or ``[00:01:23] text`` lines;
* ``colon``: ``Name: text`` lines with unlabelled continuation lines;
* ``plain``: prose with no speakers;
* ``podcast-json`` and ``whisper-json``: see `quotebot.bot.ingest.json_formats`.

This module holds the detection table (`_detect`, `_PARSERS`) and what every format shares
(front matter, a title heading, participants). Each family parses in its own module:
`front_matter` (metadata, slug and title), `labels` (speaker labels and timestamps),
`layouts` (the line-based layouts), `subtitles` (SRT, WebVTT) and `json_formats`.

A `Name:` prefix only counts as a speaker label when it names a front-matter
participant, or (without front matter) when it is 1-4 capitalised words used as a
label on two or more lines or on most lines of the file, so prose such as
"Update: the talk moved" stays prose.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import PurePath

from quotebot.bot.ingest import json_formats
from quotebot.bot.ingest.front_matter import (
    GENERIC_STEMS,
    front_people,
    meta_from,
    meta_text,
    split_front_matter,
)
from quotebot.bot.ingest.labels import (
    MD_LABEL,
    STAMP,
    accepted_labels,
    colon_match,
    header_match,
    label_time,
)
from quotebot.bot.ingest.layouts import (
    md_inline,
    parse_blocks,
    parse_colon,
    parse_markdown,
    parse_plain,
    parse_stamped,
)
from quotebot.bot.ingest.markup import (
    bracket_directions,
    strip_inline_stamps,
    unescape_entities,
    unescape_markdown,
)
from quotebot.bot.ingest.speakers import (
    Roster,
    build_participants,
    complete_first_names,
    merge_participants,
)
from quotebot.bot.ingest.subtitles import parse_srt, parse_vtt
from quotebot.bot.ingest.types import (
    ParsedTranscript,
    Segment,
    SourceMeta,
    SourceOverrides,
    TranscriptError,
)

log = logging.getLogger(__name__)

_SRT_START = re.compile(r"\s*\d+[ \t]*\n[ \t]*\d+[:.,]\d+[:.,]\d+")


def parse_transcript(
    text: str, path: str, overrides: SourceOverrides | None = None
) -> ParsedTranscript:
    """Detect a transcript's format and parse it into metadata and segments.

    Args:
        text: The decoded file (see `quotebot.bot.ingest.decode.decode`).
        path: The file's path: used for the default slug and title, and in errors.
        overrides: Metadata given from outside the file (command line, sidecar, feed);
            it wins over the file's own.

    Returns:
        The metadata, the detected format name and the segments in file order.

    Raises:
        TranscriptError: Broken front matter, front matter without a body, broken
            subtitle timing, or no transcript text at all.
    """
    front, body, first_line = split_front_matter(text, path)
    meta = meta_from(front, path, overrides.folders if overrides else 0)
    if not body.strip():
        raise TranscriptError(path, "front matter but no transcript after it", first_line)
    declared = Roster(meta.participants) if meta.participants else None
    fmt = _detect(body, path, declared)
    heading = None
    if fmt in _LINE_FORMATS:
        decoded = unescape_entities(body)
        unescaped = unescape_markdown(decoded)
        relook = unescaped is not decoded or (fmt == "plain" and decoded is not body)
        heading, unescaped = _take_heading(unescaped)
        if relook:
            # Escapes may have hidden the labels ("\[12:34\]", "&#39;"): look again.
            fmt = _detect(unescaped, path, declared)
        body = strip_inline_stamps(bracket_directions(unescaped))
    segments, labels = _PARSERS[fmt](body, first_line, path, declared)
    if not segments:
        raise TranscriptError(path, f"no transcript text found (read as {fmt})", first_line)
    participants = build_participants(meta.participants, labels)
    title = meta.title
    if heading and not (front and meta_text(front.get("title"))):
        title = heading
    given = front_people(front, path)
    if overrides is not None and overrides.participants:
        given = [*overrides.participants, *given]
    if given:
        participants = merge_participants(given, participants)
    participants = complete_first_names(
        participants, (title, *(seg.text for seg in segments[:_INTRODUCTION_SEGMENTS]))
    )
    meta = SourceMeta(
        slug=meta.slug,
        title=title,
        date=meta.date,
        venue=meta.venue,
        url=meta.url,
        participants=participants,
        corrections=meta.corrections,
        extra=meta.extra,
    )
    if overrides is not None:
        meta = overrides.apply(meta)
    log.debug("%s: %s, %d segments, %d speakers", path, fmt, len(segments), len(participants))
    return ParsedTranscript(meta=meta, format=fmt, segments=tuple(segments))


# People are introduced near the start: full names for first-name labels are sought there.
_INTRODUCTION_SEGMENTS = 60
# Formats read line by line, where entities, Markdown escapes and a title heading are
# cleaned from the whole body before parsing; subtitles and JSON clean their cue text.
_LINE_FORMATS = frozenset({"markdown", "blocks", "stamped", "colon", "plain"})
_HEADING = re.compile(r"^#[ \t]+(?P<title>\S.*?)[ \t#]*$", re.MULTILINE)
_HEADING_LINES = 40
_GENERIC_TITLE_WORDS = frozenset("the full podcast show raw edited auto automatic".split())


def _take_heading(body: str) -> tuple[str | None, str]:
    """The first ``# Title`` near the top and the body with that line blanked out."""
    head = body[: sum(len(line) + 1 for line in body.split("\n", _HEADING_LINES)[:_HEADING_LINES])]
    match = _HEADING.search(head)
    if match is None:
        return None, body
    title = md_inline(match.group("title"))
    words = set(re.split(r"[\W_]+", title.lower())) - {""}
    if words <= GENERIC_STEMS | _GENERIC_TITLE_WORDS:
        title = ""  # "# Transcript", "# Full episode transcript": says nothing
    return title or None, body[: match.start()] + body[match.end() :]


def _detect(body: str, path: str, declared: Roster | None) -> str:
    """Name the layout of a transcript body (see the module docstring)."""
    suffix = PurePath(path).suffix.lower()
    head = body.lstrip()
    if suffix == ".json":
        return json_formats.detect(body, path)
    if json_formats.looks_like_json(head):
        try:
            return json_formats.detect(body, path)
        except TranscriptError:
            pass  # braces that open a text transcript
    if head.startswith("WEBVTT") or suffix == ".vtt":
        return "vtt"
    if suffix == ".srt" or _SRT_START.match(head):
        return "srt"
    sample = body[: 256 * 1024].split("\n")[:4000]
    content = [line for line in sample if line.strip()]
    if not content:
        return "plain"
    md = sum(
        1
        for line in content
        if "*" in line or "_" in line
        if (m := MD_LABEL.match(line)) and label_time(m.group("label"))[0]
    )
    if md >= 2 or (md == 1 and len(content) <= 3):
        return "markdown"
    headers = [i for i, line in enumerate(content) if header_match(line, declared)]
    if len(headers) >= 2 or headers[:1] == [0]:
        return "blocks"
    stamps = sum(1 for line in content if STAMP.match(line))
    if stamps >= 2 and stamps * 3 >= len(content):
        return "stamped"
    counts = Counter(m.group("label") for line in content if (m := colon_match(line)))
    if accepted_labels(counts, len(content), declared):
        return "colon"
    return "plain"


_PARSERS: dict[str, Callable[..., tuple[list[Segment], Iterable[str]]]] = {
    "srt": parse_srt,
    "vtt": parse_vtt,
    "markdown": parse_markdown,
    "blocks": parse_blocks,
    "stamped": parse_stamped,
    "colon": parse_colon,
    "plain": parse_plain,
    **json_formats.PARSERS,
}
