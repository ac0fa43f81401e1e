"""Line-based layouts: labelled lines, header blocks, stamped lines, Markdown, plain prose."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable

from quotebot.bot.ingest.labels import (
    HEADER,
    MD_LABEL,
    STAMP,
    TIME,
    accepted_labels,
    colon_match,
    continuation_line,
    header_seconds,
    is_name,
    label_time,
    section_marker,
    stamp_seconds,
)
from quotebot.bot.ingest.speakers import Roster
from quotebot.bot.ingest.types import Segment

log = logging.getLogger(__name__)

_MD_STAMP = re.compile(rf"[ \t]*(?:\*\*|__)?\[(?P<t>{TIME})\](?:\*\*|__)?[ \t]*(?P<rest>.*)")
_MD_RULE = re.compile(r"[ \t]*(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_MD_SKIP = re.compile(rf"[ \t]*#{{1,6}}(?:[ \t]|$)|{_MD_RULE.pattern}")
# Bounded repeats: unbounded, every unclosed `[` scanned to the end of its line, and a line
# of 200,000 of them took 465 s to parse.
_MD_IMAGE = re.compile(r"!\[[^\]\n]{0,500}\]\([^)\n]{0,2000}\)")
_MD_LINK = re.compile(r"\[([^\]\n]{0,500})\]\((?:[^()\n]|\([^()\n]{0,2000}\)){0,2000}\)")
_MD_EMPHASIS = re.compile(r"\*\*|__|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_MD_PREFIX = re.compile(r"[ \t]*(?:>[ \t]?)+")
# Lines export tools append to every transcript; not speech.
_FOOTER = re.compile(
    r"[ \t]*(?:transcribed by https?://otter\.ai|transcribed by (?:https?://)?(?:www\.)?rev\.com"
    r"|this transcript was (?:exported|generated) (?:by|on|with)\b.*)[ \t]*$",
    re.IGNORECASE,
)


class _Builder:
    """Collects paragraphs into segments; a blank line or a new label ends a segment."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.labels: dict[str, None] = {}  # an ordered set
        self.speaker: str | None = None
        self.start: float | None = None
        self.line: int | None = None
        self.parts: list[str] = []

    def open(self, speaker: str | None, start: float | None, line: int, text: str | None) -> None:
        """Start a new segment (flushing the current one)."""
        self.flush()
        if speaker is not None:
            self.labels[speaker] = None
        self.speaker, self.start, self.line = speaker, start, line
        if text:
            self.parts.append(text)

    def add(self, text: str, line: int) -> None:
        """Add a line of text to the current segment (starting one if needed)."""
        if not self.parts:
            self.line = line
        self.parts.append(text)

    def flush(self) -> None:
        """End the current segment; the speaker carries on to the next paragraph."""
        if self.parts:
            text = " ".join(self.parts).strip()
            if text:
                self.segments.append(Segment(self.speaker, text, self.start, self.line))
            self.parts = []
            self.start = None  # the next paragraph's time is unknown


def _labelled_lines(
    lines: list[str],
    first: int,
    labels: Callable[[str], tuple[str, float | None, str | None] | None],
) -> tuple[list[Segment], list[str]]:
    """Segments from lines where `labels(line)` spots (label, start, text) headers.

    Unlabelled lines continue the current speaker; a blank line ends a paragraph
    (a new segment by the same speaker, without a start time). This loop runs once
    per line of the largest transcripts, hence the locals instead of a `_Builder`.
    """
    segments: list[Segment] = []
    found: dict[str, None] = {}
    speaker: str | None = None
    start: float | None = None
    begin = first
    parts: list[str] = []
    for number, line in enumerate(lines, first):
        header = labels(line)
        if header is None and line and (
            ":" in line or "[" in line or "(" in line or len(line) < 30
        ):
            header = _unnamed_header(line, speaker)
        if header is not None:
            if parts:
                segments.append(Segment(speaker, " ".join(parts), start, begin))
                parts = []
            speaker, start, text = header
            if speaker is not None:
                found[speaker] = None
            begin = number
            if text:
                parts.append(text)
        elif line and not line.isspace() and not (line[0] in "Tt \t" and _FOOTER.match(line)):
            if not parts:
                begin = number
            parts.append(line.strip())
        elif parts:
            segments.append(Segment(speaker, " ".join(parts), start, begin))
            parts = []
            start = None  # the next paragraph's time is unknown
    if parts:
        segments.append(Segment(speaker, " ".join(parts), start, begin))
    return segments, list(found)


def _unnamed_header(line: str, speaker: str | None
                    ) -> tuple[str | None, float | None, str | None] | None:
    """An unnamed header keeps the speaker (`(00:12:34):`); a section marker names nobody."""
    if (more := continuation_line(line)) is not None:
        return (speaker, *more)
    if (marker := section_marker(line)) is not None:
        return (None, *marker)
    return None


def parse_colon(body: str, first: int, path: str, declared: Roster | None):
    """``Name: text`` lines; unlabelled lines continue the previous speaker."""
    lines = body.split("\n")
    matches = [colon_match(line) for line in lines]
    counts = Counter(m.group("label") for m in matches if m is not None)
    content = sum(1 for line in lines if line.strip())
    accepted = accepted_labels(counts, content, declared)
    with_role: dict[tuple[str, str | None], str] = {}
    found = iter(matches)

    def labels(line: str) -> tuple[str, float | None, str | None] | None:
        match = next(found)
        if match is None:
            return None
        label, role, text = match.group("label", "role", "text")
        if label not in accepted:
            return None
        key = (label, role)
        if key not in with_role:
            with_role[key] = f"{label} ({role})" if role else label
        return with_role[key], None, text

    return _labelled_lines(lines, first, labels)


def parse_blocks(body: str, first: int, path: str, declared: Roster | None):
    """Header lines naming the speaker and the time, followed by their text."""
    names: dict[tuple[str, str | None], str | None] = {}

    def labels(line: str) -> tuple[str, float | None, str | None] | None:
        # Cheap tests first: headers are short and hold a time, so a colon.
        if ":" not in line or len(line) > 200:
            return None
        match = HEADER.match(line)
        if match is None:
            return None
        key = match.group("label", "role")
        if key not in names:
            label, role = key
            ok = is_name(label) and (declared is None or declared.match(label) is not None)
            names[key] = (f"{label} ({role})" if role else label) if ok else None
        name = names[key]
        if name is None:
            return None
        return name, header_seconds(match), match.group("text")

    return _labelled_lines(body.split("\n"), first, labels)


def parse_stamped(body: str, first: int, path: str, declared: Roster | None):
    """``[00:01:23] Name: text`` or ``[00:01:23] text`` lines."""
    lines = body.split("\n")
    stamps = [STAMP.match(line) for line in lines]
    labelled = [colon_match(m.group("rest")) if m else None for m in stamps]
    counts = Counter(m.group("label") for m in labelled if m is not None)
    accepted = accepted_labels(counts, sum(1 for m in stamps if m), declared)
    out = _Builder()
    for number, line, stamp, match in zip(
        range(first, first + len(lines)), lines, stamps, labelled, strict=True
    ):
        if stamp is not None:
            start = stamp_seconds(stamp.group("t"))
            if match is not None and match.group("label") in accepted:
                label = match.group("label")
                if match.group("role"):
                    label = f"{label} ({match.group('role')})"
                out.open(label, start, number, match.group("text"))
            else:
                # An unnamed stamped line carries the previous speaker on.
                out.open(out.speaker, start, number, stamp.group("rest"))
        elif line and not line.isspace():
            out.add(line.strip(), number)
        else:
            out.flush()
    out.flush()
    return out.segments, list(out.labels)


def parse_markdown(body: str, first: int, path: str, declared: Roster | None):
    """``**Name:** text`` paragraphs; ``[12:34]`` paragraphs continue the same speaker.

    Show notes before the first speaker label (episode blurb, links, a chapter list)
    and credits after a horizontal rule are not speech and are skipped.
    """
    out = _Builder()
    started = False
    for number, line in enumerate(body.split("\n"), first):
        header = _md_header(line, declared)
        if header is not None:
            started = True
            out.open(*header[:2], number, md_inline(header[2]))
            continue
        if not started:
            continue
        if line and (":" in line or "[" in line or "(" in line or len(line) < 30):
            if (unnamed := _unnamed_header(line, out.speaker)) is not None:
                speaker, start, text = unnamed
                out.open(speaker, start, number, md_inline(text or ""))
                continue
        if not line.strip() or _MD_SKIP.match(line):
            out.flush()
            if _MD_RULE.match(line):
                started = False  # after a rule come credits and links, not speech
            continue
        stamp = _MD_STAMP.match(line)
        if stamp is not None:
            start = stamp_seconds(stamp.group("t"))
            out.open(out.speaker, start, number, md_inline(stamp.group("rest")))
        else:
            out.add(md_inline(_MD_PREFIX.sub("", line, count=1)), number)
    out.flush()
    return out.segments, list(out.labels)


def _md_header(line: str, declared: Roster | None) -> tuple[str, float | None, str] | None:
    """(speaker, start, rest of the line) for a ``**Name:**`` label line, else None."""
    match = MD_LABEL.match(line) if ("*" in line or "_" in line) else None
    if match is None:
        return None
    label, start = label_time(match.group("label"))
    if label is None or (declared is not None and declared.match(label) is None):
        return None
    rest = match.group("rest")
    stamp = _MD_STAMP.match(rest)
    if stamp is not None:
        start, rest = stamp_seconds(stamp.group("t")), stamp.group("rest")
    return label, start, rest


def md_inline(text: str) -> str:
    """Drop Markdown markup (images, link targets, emphasis) and keep the words."""
    if "[" in text or "*" in text or "_" in text:
        text = _MD_IMAGE.sub("", text)
        text = _MD_LINK.sub(r"\1", text)
        text = _MD_EMPHASIS.sub("", text)
    return text.strip()


def parse_plain(body: str, first: int, path: str, declared: Roster | None):
    """Prose without speakers: one segment per paragraph (or per line, if unbroken).

    A title line opening paragraphed prose (short, unpunctuated, on its own) is not
    speech and is skipped, so it does not run into the first sentence.
    """
    lines = body.split("\n")
    by_paragraph = _has_blank_between(lines)
    out = _Builder()
    skip = -1
    if by_paragraph:
        content = [i for i, line in enumerate(lines[:3]) if line.strip()]
        if content and (len(content) == 1 or content[1] > content[0] + 1):
            title = lines[content[0]].strip()
            # (A long run without spaces, a pasted URL, is text, not a title.)
            short = len(title.split()) <= 10 and len(title) <= 150
            if short and title[-1] not in ".!?…:;,\"'”’)":
                skip = content[0]
                log.debug("%s: line %d taken for a title", path, first + skip)
    for index, line in enumerate(lines):
        number = first + index
        if index == skip:
            continue
        if line and not line.isspace():
            out.add(line.strip(), number)
            if not by_paragraph:
                out.flush()
        else:
            out.flush()
    out.flush()
    return out.segments, list(out.labels)


def _has_blank_between(lines: list[str]) -> bool:
    """Whether a blank line separates two runs of text (paragraphs, not trailing space)."""
    seen_text = blank_after_text = False
    for line in lines:
        if line.strip():
            if blank_after_text:
                return True
            seen_text = True
        elif seen_text:
            blank_after_text = True
    return False
