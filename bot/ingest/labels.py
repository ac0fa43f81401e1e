"""Speaker labels, timestamps and section markers as transcripts write them."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from quotebot.bot.ingest.speakers import (
    Roster,
    split_label,
)
from quotebot.bot.ingest.types import Participant

TIME = r"\d{1,2}(?::\d{2}){1,2}(?:[.,]\d{1,3})?"
# 1-5 words; later words may be "1" ("Speaker 1") but never the start of a time. Words
# hold apostrophes, hyphens, periods and quotes around nicknames (Andrew ‘Boz’ Bosworth);
# a suffix may follow a comma (Mike Maples, Jr.).
_QUOTES = "'’‘\"“”"
_SUFFIX = r"(?:,[ \t]*(?:Jr|Sr|II|III|IV|PhD|Ph\.D|MD|M\.D|Esq|MBA|CPA|OBE|CBE|KBE|DDS|RN)\.?)"
NAME_WORDS = (
    rf"[{_QUOTES}]?[^\W\d_][\w.{_QUOTES}-]*"
    rf"(?:[ \t]+(?!\d{{1,2}}:\d)[\w.{_QUOTES}-]+){{0,4}}{_SUFFIX}?"
)
ROLE = r"(?:[ \t]*\((?P<role>[^()\n]{1,80})\))?"

# Greedy ".*" to the end of the line: a lazy ".*?" before "[ \t]*$" costs a retry
# per character on every line of the file. Trailing spaces are collapsed later.
_COLON = re.compile(rf"[ \t]*(?P<label>{NAME_WORDS}){ROLE}[ \t]*:(?:[ \t]+(?P<text>.*)|[ \t]*$)")
# The time once, optionally bracketed ("(00:01:23)" needs its closing bracket), with
# its fields captured so converting it costs no further parsing.
HEADER = re.compile(
    rf"[ \t]*(?P<label>{NAME_WORDS}){ROLE}(?:[ \t]+|(?=[\[(]))"
    r"(?P<open>[\[(])?(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,2}):(?P<s>\d{2})(?:[.,](?P<f>\d{1,3}))?"
    r"(?(open)[\])])[ \t]*(?::[ \t]*(?P<text>.*)|$)"
)
STAMP = re.compile(rf"[ \t]*[\[(](?P<t>{TIME})[\])][ \t]*(?P<rest>.*)")
MD_LABEL = re.compile(
    r"[ \t]*(?:\*\*|__)(?P<label>[^*_\n]{1,100}?)(?::[ \t]*(?:\*\*|__)|(?:\*\*|__)[ \t]*:)"
    r"[ \t]*(?P<rest>.*)"
)
_LABEL_TIME = re.compile(rf"[ \t]*[\[(](?P<t>{TIME})[\])][ \t]*$")

# Words that precede a colon in prose and notes far more often than they name anyone.
NOT_NAMES = frozenset(
    """note notes nb ps p.s update edit warning caution example examples summary source sources
    transcript title date time location venue tags tag link links url episode chapter part step
    disclaimer reminder fact tip tl;dr tldr result results conclusion intro outro
    question questions answer topic agenda action todo bonus""".split()
)
# Lower-case particles allowed inside names ("Ludwig van Beethoven").
_PARTICLES = frozenset("van von de der den da di du del della la le bin ibn al el y".split())

# Section markers written like labels (**Break:** [15:37], Intro:, Chapter 3:): not people.
_SECTION_WORDS = (
    r"(?:ad|ads|advert|advertisement|break|chapter|intro|introduction|outro|sponsor|sponsors"
    r"|sponsorship|sponsored|interlude|transition|recap|teaser|credits|housekeeping|cold open"
    r"|mid-?roll|pre-?roll|post-?roll|segment|section|part|music|theme music|closing|opening)"
)
_SECTION_QUALIFIER = (
    r"(?:[ \t]+(?:break|read|message|spot|music|segment|\d+|[ivx]+|one|two|three))?"
)
_SECTION_NAME = re.compile(rf"(?i:{_SECTION_WORDS}{_SECTION_QUALIFIER})\b")
_SECTION_LINE = re.compile(
    rf"[ \t]*(?:\*\*|__)?[ \t]*[\[(]?[ \t]*(?P<name>{_SECTION_NAME.pattern})[ \t]*[\])]?"
    r"[ \t]*(?:\*\*|__)?[ \t]*(?P<colon>:)?[ \t]*(?:\*\*|__)?[ \t]*"
    rf"(?:[\[(](?P<t>{TIME})[\])]|(?P<bare>{TIME}))?[ \t]*(?P<colon2>:)?[ \t]*(?P<rest>.*)$"
)
# Section markers whose text is a title, not speech.
_TITLED_SECTIONS = frozenset({"chapter", "part", "section", "segment"})
# An unnamed header: the same speaker goes on after a pause, from this time.
_CONTINUATION = re.compile(
    rf"[ \t]*(?:\*\*|__)?[\[(](?P<t>{TIME})[\])](?:\*\*|__)?[ \t]*:[ \t]*(?P<text>.*)$"
    rf"|[ \t]*(?:\*\*|__)?[\[(](?P<t2>{TIME})[\])](?:\*\*|__)?[ \t]*$"
)

_PLAIN_MIN_LABELLED = 2


@lru_cache(maxsize=4096)  # a file repeats its few labels on every line
def is_name(name: str) -> bool:
    """Whether a label looks like a person: 1-4 capitalised words (particles allowed).

    Quotes around a nickname and a suffix after a comma do not count against a name;
    scripts without case (Chinese, Arabic) count as capitalised; section markers
    ("Break", "Chapter 3") are not people.
    """
    words = name.split()
    capitalised = 0
    for word in words:
        core = word.strip(_QUOTES + ",")
        if not core:
            return False
        head = core[0]
        if head.isupper() or (head.isalpha() and not head.islower()):
            capitalised += 1
        elif not (core.isdigit() or (capitalised and core.lower() in _PARTICLES)):
            return False
    if not (1 <= capitalised <= 5 and len(words) <= 6):
        return False
    return not _SECTION_NAME.fullmatch(name)


def colon_match(line: str) -> re.Match | None:
    """Match a ``Name: text`` line whose label could be a name."""
    # A cheap test first: a label's colon sits in the first few dozen characters.
    colon = line.find(":", 0, 120)
    if colon <= 0:
        return None
    match = _COLON.match(line)
    if match is None or not is_name(match.group("label")):
        return None
    return match


def header_match(line: str, declared: Roster | None) -> re.Match | None:
    """Match a block header line (``Name (Role) 00:52.700`` and kin)."""
    if ":" not in line or len(line) > 200:
        return None
    match = HEADER.match(line)
    if match is None:
        return None
    label = match.group("label")
    if declared is not None and declared.match(label) is None:
        return None
    if not is_name(label):
        return None
    return match


_FRACTION = {1: 10, 2: 100, 3: 1000}


def header_seconds(match: re.Match) -> float:
    """The start time captured by `HEADER`."""
    hours, minutes, seconds, fraction = match.group("h", "m", "s", "f")
    total = int(minutes) * 60 + int(seconds)
    if hours:
        total += int(hours) * 3600
    if fraction:
        return total + int(fraction) / _FRACTION[len(fraction)]
    return float(total)


def accepted_labels(counts: Counter, content_lines: int, declared: Roster | None) -> set[str]:
    """Which candidate ``Name:`` labels are speakers rather than prose.

    With front-matter participants, labels naming one of them, and in a file that is
    mostly labelled lines any other name-shaped label too. Otherwise a label used on two
    or more lines, or every label when labelled lines are most of the file, and then any
    short form of an accepted label ("Ilya" for "Ilya Sutskever").
    """
    if not counts:
        return set()
    plausible = {
        label for label in counts if split_label(label)[0].lower().rstrip(".") not in NOT_NAMES
    }
    dialogue = sum(counts[label] for label in plausible) * 2 > content_lines
    if declared is not None:
        named = {label for label in counts if declared.match(label) is not None}
        # A speaker the front matter forgot (a caller, a guest host) is still a speaker in
        # a dialogue of labelled lines: dropping the label would hand their words to
        # whoever spoke before.
        return named | plausible if named and dialogue else named
    if dialogue:
        return plausible
    accepted = {label for label in plausible if counts[label] >= _PLAIN_MIN_LABELLED}
    if accepted:
        roster = Roster(Participant(split_label(label)[0]) for label in accepted)
        accepted |= {label for label in plausible if roster.match(label) is not None}
    return accepted


def label_time(label: str) -> tuple[str | None, float | None]:
    """Split a bold Markdown label into (label, start): ``Jane [12:34]`` has a time."""
    start = None
    stamp = _LABEL_TIME.search(label)
    if stamp is not None:
        start = stamp_seconds(stamp.group("t"))
        label = label[: stamp.start()]
    label = label.strip()
    name = split_label(label)[0]
    if not name or not is_name(name):
        return None, None
    return label, start


def stamp_seconds(stamp: str) -> float:
    """Seconds in ``mm:ss``, ``mm:ss.fff``, ``hh:mm:ss`` or ``hh:mm:ss,fff``."""
    main, _, fraction = stamp.replace(",", ".").partition(".")
    seconds = 0
    for part in main.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def section_marker(line: str) -> tuple[float | None, str] | None:
    """A section-marker line: (its time, the speech after it), or None for other lines.

    A marker needs a colon, a time or a line to itself, so "Music is my life." stays
    speech; the text after a chapter's marker is its title, not speech.
    """
    match = _SECTION_LINE.match(line)
    if match is None:
        return None
    stamp = match.group("t") or match.group("bare")
    rest = match.group("rest").strip()
    if not (match.group("colon") or match.group("colon2") or stamp or not rest):
        return None
    if match.group("name").split()[0].lower() in _TITLED_SECTIONS:
        rest = ""
    return (stamp_seconds(stamp) if stamp else None), rest


def continuation_line(line: str) -> tuple[float, str] | None:
    """An unnamed header such as ``(00:12:34):``: (its time, any text after it)."""
    match = _CONTINUATION.match(line)
    if match is None:
        return None
    return stamp_seconds(match.group("t") or match.group("t2")), match.group("text") or ""
