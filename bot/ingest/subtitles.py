"""Subtitles: SRT and WebVTT cues, voices, speaker labels and rolling captions."""

from __future__ import annotations

import html
import re
from collections import Counter

import srt
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from quotebot.bot.ingest.labels import NAME_WORDS, NOT_NAMES, ROLE, accepted_labels, is_name
from quotebot.bot.ingest.markup import bracket_directions
from quotebot.bot.ingest.speakers import (
    Roster,
    split_label,
)
from quotebot.bot.ingest.types import (
    Participant,
    Segment,
    TranscriptError,
)

_SRT_TIMING = re.compile(
    r"[ \t]*\d+[:.,]\d+[:.,]\d+(?:[,.:]\d*)?[ \t]*-[ -][ \t]*>[ \t]*\d+[:.,]\d+[:.,]\d+"
)
_VTT_TIME = r"(?:\d+:)?\d{1,2}:\d{1,2}\.\d{1,3}"
_VTT_TIMING = re.compile(rf"[ \t]*{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?=\s|$)")
# A line that wants to be a timing line: a precise timestamp first, then an arrow or a
# second timestamp. (Cue text such as "10:30 11:00" has no milliseconds.)
_PRECISE = r"\d{1,2}:\d{2}(?::\d{2})?[.,]\d{1,3}"
_TIMING_LIKE = re.compile(rf"[ \t]*{_PRECISE}[ \t]*(?:-+>|—>|=>|[ \t]{_PRECISE})")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?>")
_TAG = re.compile(r"<[^>\n]*>|\{\\[^}\n]*\}")
_CUE_LABEL = re.compile(rf"(?P<label>{NAME_WORDS}){ROLE}[ \t]*:[ \t]+(?P<text>.*)$", re.DOTALL)
_TURN = re.compile(r"(?:>>+|-(?!-))[ \t]*")
_LEAD_CHARS = frozenset(".,;:…!?")
_LEAD = re.compile(r"(?P<lead>[.,;:…!?]+)[ \t]+(?=\S)")
_SOUND = re.compile(r"[\[(][^\])]*[\])]|[♪♫]+[^♪♫]*[♪♫]*")


def _check_timings(
    lines: list[str], first: int, path: str, valid: re.Pattern, example: str
) -> list[int]:
    """Return the indexes of the timing lines, raising on any that is malformed."""
    timings = []
    for index, line in enumerate(lines):
        if "-->" in line or _TIMING_LIKE.match(line):
            if valid.match(line):
                timings.append(index)
            else:
                raise TranscriptError(
                    path,
                    f"broken timing line {line.strip()!r}; expected '{example}'",
                    first + index,
                )
    return timings


def parse_srt(body: str, first: int, path: str, declared: Roster | None):
    """SubRip subtitles, read with the `srt` library."""
    lines = body.split("\n")
    timings = _check_timings(lines, first, path, _SRT_TIMING, "00:00:01,000 --> 00:00:04,000")
    # The srt library would fold a cue whose timing line is missing into the cue before;
    # a cue number after a blank line must be followed by a timing line.
    for index in range(len(lines) - 1):
        if (
            lines[index].strip().isdigit()
            and (index == 0 or not lines[index - 1].strip())
            and lines[index + 1].strip()
            and not _SRT_TIMING.match(lines[index + 1])
        ):
            raise TranscriptError(
                path,
                f"cue {lines[index].strip()} has no valid timing line "
                f"(got {lines[index + 1].strip()!r})",
                first + index + 1,
            )
    try:
        subs = list(srt.parse(body))
    except srt.SRTParseError as exc:
        raise TranscriptError(path, _srt_problem(exc), first + _srt_line(body, exc)) from None
    except (srt.TimestampParseError, ValueError) as exc:
        raise TranscriptError(path, f"not a valid SRT file: {exc}", first) from None
    if not subs:
        raise TranscriptError(path, "SRT file without any cue", first)
    cues = [
        (sub.start.total_seconds(), sub.content, line)
        for sub, line in zip(subs, _cue_lines(timings, first, len(subs)), strict=True)
    ]
    return _cue_segments(cues, declared)


def _cue_lines(timings: list[int], first: int, count: int) -> list[int | None]:
    """The file line of each cue's text: the line after its timing line.

    Every timing line was validated, so the n-th cue is the n-th timing line; should
    a library ever count differently, lines are left unknown rather than wrong.
    """
    if len(timings) != count:
        return [None] * count
    return [first + index + 1 for index in timings]


def _srt_line(body: str, exc: srt.SRTParseError) -> int:
    """The 0-based line of the first unparseable cue line, past its cue number."""
    rest = exc.unmatched_content
    skip = len(rest) - len(rest.lstrip())
    start = exc.expected_start + skip
    line = body.count("\n", 0, start)
    head = body[start:].split("\n", 2)
    if len(head) > 1 and head[0].strip().isdigit():
        line += 1  # the cue number is fine; its timing line is not
    return line


def _srt_problem(exc: srt.SRTParseError) -> str:
    """Describe an SRT parse failure by the text that could not be read."""
    lines = [line.strip() for line in exc.unmatched_content.strip().split("\n")]
    if len(lines) > 1 and lines[0].isdigit():
        return f"cue {lines[0]} has no valid timing line (got {lines[1]!r})"
    return f"not a valid SRT cue: {lines[0]!r}"


def parse_vtt(body: str, first: int, path: str, declared: Roster | None):
    """WebVTT captions, read with `webvtt-py`; cue text (voices, tags) is parsed here."""
    lead = len(body) - len(body.lstrip())
    first += body.count("\n", 0, lead)
    body = body[lead:]
    if not body.startswith("WEBVTT"):
        raise TranscriptError(path, "missing the 'WEBVTT' header on the first line", first)
    lines = body.split("\n")
    timings = _check_timings(lines, first, path, _VTT_TIMING, "00:00:01.000 --> 00:00:04.000")
    try:
        captions = webvtt.from_string(body).captions
    except (MalformedFileError, MalformedCaptionError, ValueError) as exc:
        raise TranscriptError(path, f"not valid WebVTT: {exc}", first) from None
    if not captions:
        raise TranscriptError(path, "WebVTT file without any cue", first)
    cues = [
        (cap.start_time.in_milliseconds() / 1000, cap.raw_text, line)
        for cap, line in zip(captions, _cue_lines(timings, first, len(captions)), strict=True)
    ]
    return _cue_segments(cues, declared)


def _cue_parts(raw: str) -> list[tuple[str | None, list[str]]]:
    """Split raw cue text into (voice, clean lines) parts at ``<v Name>`` spans."""
    parts: list[tuple[str | None, str]] = []
    pos, voice = 0, None
    for match in _VOICE.finditer(raw):
        parts.append((voice, raw[pos : match.start()]))
        voice = (match.group(1) or "").strip() or None
        pos = match.end()
    parts.append((voice, raw[pos:]))
    cleaned = []
    for name, text in parts:
        lines = [
            bracket_directions(html.unescape(_TAG.sub("", line))).strip()
            for line in text.split("\n")
        ]
        lines = [" ".join(line.split()) for line in lines if line and not line.isspace()]
        if lines or name is not None:
            cleaned.append((name, lines))
    return cleaned or [(None, [])]


def _deroll(cues: list[list[tuple[str | None, list[str]]]]) -> None:
    """Remove the lines rolling captions repeat from the previous cue, in place.

    YouTube's auto captions show each line twice: a cue repeats the line the previous
    cue ended with before adding new words. Only files where that happens on a good
    share of cues are treated as rolling, so a speaker who says "Yeah." twice in a
    row keeps both.
    """
    repeats = multi = 0
    previous: list[str] = []
    for parts in cues:
        lines = [line for _, part in parts for line in part]
        if lines and previous:
            multi += 1
            repeats += lines[0] == previous[-1]
        if lines:
            previous = lines
    if multi == 0 or repeats * 10 < multi * 3:
        return
    tail: list[str] = []
    for parts in cues:
        voice, lines = parts[0]
        keep = 0
        for k in range(min(len(lines), len(tail)), 0, -1):
            if lines[:k] == tail[-k:]:
                keep = k
                break
        if keep:
            parts[0] = (voice, lines[keep:])
        shown = [line for _, part in parts for line in part]
        tail = (tail + shown)[-4:]


Turn = tuple[float, int | None, str | None, bool, str]  # start, line, voice, marked, text


def _cue_segments(
    cues: list[tuple[float, str, int | None]], declared: Roster | None
) -> tuple[list[Segment], list[str]]:
    """Turn subtitle cues into segments: voices, ``Name:`` prefixes, turns and carry-over."""
    parsed = [_cue_parts(raw) for _, raw, _ in cues]
    _deroll(parsed)
    turns = _cue_turns(cues, parsed)
    leads = _split_leads(turns)
    accepted = _cue_labels(turns, declared)
    segments: list[Segment] = []
    speakers: list[str] = []
    speaker: str | None = None
    for index, (start, line, voice, marked, text) in enumerate(turns):
        match = _CUE_LABEL.match(text)
        labelled = match is not None and match.group("label") in accepted
        if index in leads:
            if labelled and segments:
                last = segments[-1]
                segments[-1] = Segment(last.speaker, last.text + leads[index], last.start,
                                       last.line)
            elif not labelled:
                text = f"{leads[index]} {text}"
        speaker, text = _cue_speaker(speaker, voice, marked, match, labelled, text)
        text = text.strip()
        if not text or _SOUND.fullmatch(text):
            continue  # [Music], (applause), ♪ lyrics ♪: not speech
        if speaker is not None and (not speakers or speakers[-1] != speaker):
            speakers.append(speaker)
        segments.append(Segment(speaker, text, start, line))
    return segments, speakers


def _cue_turns(cues: list[tuple[float, str, int | None]],
               parsed: list[list[tuple[str | None, list[str]]]]) -> list[Turn]:
    """Each cue's parts split into turns: "- " dialogue lines and ">>" markers start one."""
    turns: list[Turn] = []
    for (start, _, line), parts in zip(cues, parsed, strict=True):
        for voice, lines in parts:
            chunk: list[str] = []
            marked = False
            for text in lines:
                marker = _TURN.match(text) if text[:1] in "->" else None
                if marker is not None and marker.end() < len(text):
                    if chunk:
                        turns.append((start, line, voice, marked, " ".join(chunk)))
                    chunk, marked = [text[marker.end() :]], True
                else:
                    chunk.append(text)
            if chunk:
                turns.append((start, line, voice, marked, " ".join(chunk)))
    return turns


def _split_leads(turns: list[Turn]) -> dict[int, str]:
    """". Joan: So I did": the full stop ends the previous cue's sentence, then Joan speaks.
    Takes such leads off their turns (in place); returns them by turn index."""
    leads: dict[int, str] = {}
    for index, (start, line, voice, marked, text) in enumerate(turns):
        if text[:1] in _LEAD_CHARS and (lead := _LEAD.match(text)) is not None:
            label = _CUE_LABEL.match(text, lead.end())
            if label is not None and is_name(label["label"]):
                leads[index] = lead.group("lead")
                turns[index] = (start, line, voice, marked, text[lead.end() :])
    return leads


def _cue_labels(turns: list[Turn], declared: Roster | None) -> set[str]:
    """The ``Name:`` prefixes of the turns that name a speaker."""
    labels = [m for *_, text in turns if (m := _CUE_LABEL.match(text)) and is_name(m["label"])]
    counts = Counter(m.group("label") for m in labels)
    accepted = accepted_labels(counts, len(turns), declared)
    if declared is None:
        # A cue opening with "JOHN:" or "Full Name:" is the subtitle convention for a
        # speaker, not prose, even when used once; short forms of those count too.
        strong = {
            label
            for label in counts
            if (label.isupper() and len(label) > 1) or len(label.split()) >= 2
            if label.lower().rstrip(".") not in NOT_NAMES
        }
        if strong - accepted:
            accepted |= strong
            roster = Roster(Participant(split_label(label)[0]) for label in accepted)
            accepted |= {label for label in counts if roster.match(label) is not None}
    return accepted


def _cue_speaker(speaker: str | None, voice: str | None, marked: bool,
                 match: re.Match[str] | None, labelled: bool, text: str
                 ) -> tuple[str | None, str]:
    """Who says a turn (a voice tag, an accepted label, or nobody after a dialogue dash;
    else whoever spoke last) and its text without the label."""
    if voice is not None:
        speaker = voice
    elif labelled:
        speaker = match.group("label")
        if match.group("role"):
            speaker = f"{speaker} ({match.group('role')})"
        text = match.group("text")
    elif marked:
        speaker = None
    if voice is not None and match is not None and split_label(match["label"])[0] == voice:
        text = match.group("text")
    return speaker, text
