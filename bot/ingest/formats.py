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

A `Name:` prefix only counts as a speaker label when it names a front-matter
participant, or (without front matter) when it is 1-4 capitalised words used as a
label on two or more lines or on most lines of the file, so prose such as
"Update: the talk moved" stays prose.
"""

from __future__ import annotations

import datetime
import html
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import PurePath

import srt
import webvtt
import yaml
from webvtt.errors import MalformedCaptionError, MalformedFileError

from quotebot.bot.ingest import json_formats
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
    people_from,
    split_label,
)
from quotebot.bot.ingest.types import (
    Correction,
    ParsedTranscript,
    Participant,
    Segment,
    SourceMeta,
    SourceOverrides,
    TranscriptError,
)

log = logging.getLogger(__name__)

_TIME = r"\d{1,2}(?::\d{2}){1,2}(?:[.,]\d{1,3})?"
# 1-5 words; later words may be "1" ("Speaker 1") but never the start of a time. Words
# hold apostrophes, hyphens, periods and quotes around nicknames (Andrew ‘Boz’ Bosworth);
# a suffix may follow a comma (Mike Maples, Jr.).
_QUOTES = "'’‘\"“”"
_SUFFIX = r"(?:,[ \t]*(?:Jr|Sr|II|III|IV|PhD|Ph\.D|MD|M\.D|Esq|MBA|CPA|OBE|CBE|KBE|DDS|RN)\.?)"
_NAME_WORDS = (
    rf"[{_QUOTES}]?[^\W\d_][\w.{_QUOTES}-]*"
    rf"(?:[ \t]+(?!\d{{1,2}}:\d)[\w.{_QUOTES}-]+){{0,4}}{_SUFFIX}?"
)
_ROLE = r"(?:[ \t]*\((?P<role>[^()\n]{1,80})\))?"

# Greedy ".*" to the end of the line: a lazy ".*?" before "[ \t]*$" costs a retry
# per character on every line of the file. Trailing spaces are collapsed later.
_COLON = re.compile(rf"[ \t]*(?P<label>{_NAME_WORDS}){_ROLE}[ \t]*:(?:[ \t]+(?P<text>.*)|[ \t]*$)")
# The time once, optionally bracketed ("(00:01:23)" needs its closing bracket), with
# its fields captured so converting it costs no further parsing.
_HEADER = re.compile(
    rf"[ \t]*(?P<label>{_NAME_WORDS}){_ROLE}(?:[ \t]+|(?=[\[(]))"
    r"(?P<open>[\[(])?(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,2}):(?P<s>\d{2})(?:[.,](?P<f>\d{1,3}))?"
    r"(?(open)[\])])[ \t]*(?::[ \t]*(?P<text>.*)|$)"
)
_STAMP = re.compile(rf"[ \t]*[\[(](?P<t>{_TIME})[\])][ \t]*(?P<rest>.*)")
_MD_LABEL = re.compile(
    r"[ \t]*(?:\*\*|__)(?P<label>[^*_\n]{1,100}?)(?::[ \t]*(?:\*\*|__)|(?:\*\*|__)[ \t]*:)"
    r"[ \t]*(?P<rest>.*)"
)
_MD_STAMP = re.compile(rf"[ \t]*(?:\*\*|__)?\[(?P<t>{_TIME})\](?:\*\*|__)?[ \t]*(?P<rest>.*)")
_LABEL_TIME = re.compile(rf"[ \t]*[\[(](?P<t>{_TIME})[\])][ \t]*$")
_MD_RULE = re.compile(r"[ \t]*(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_MD_SKIP = re.compile(rf"[ \t]*#{{1,6}}(?:[ \t]|$)|{_MD_RULE.pattern}")
# Bounded repeats: unbounded, every unclosed `[` scanned to the end of its line, and a line
# of 200,000 of them took 465 s to parse.
_MD_IMAGE = re.compile(r"!\[[^\]\n]{0,500}\]\([^)\n]{0,2000}\)")
_MD_LINK = re.compile(r"\[([^\]\n]{0,500})\]\((?:[^()\n]|\([^()\n]{0,2000}\)){0,2000}\)")
_MD_EMPHASIS = re.compile(r"\*\*|__|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_MD_PREFIX = re.compile(r"[ \t]*(?:>[ \t]?)+")

_FM_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_SLUG_JUNK = re.compile(r"[\W_]+")

_SRT_TIMING = re.compile(
    r"[ \t]*\d+[:.,]\d+[:.,]\d+(?:[,.:]\d*)?[ \t]*-[ -][ \t]*>[ \t]*\d+[:.,]\d+[:.,]\d+"
)
_VTT_TIME = r"(?:\d+:)?\d{1,2}:\d{1,2}\.\d{1,3}"
_VTT_TIMING = re.compile(rf"[ \t]*{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?=\s|$)")
# A line that wants to be a timing line: a precise timestamp first, then an arrow or a
# second timestamp. (Cue text such as "10:30 11:00" has no milliseconds.)
_PRECISE = r"\d{1,2}:\d{2}(?::\d{2})?[.,]\d{1,3}"
_TIMING_LIKE = re.compile(rf"[ \t]*{_PRECISE}[ \t]*(?:-+>|—>|=>|[ \t]{_PRECISE})")
_SRT_START = re.compile(r"\s*\d+[ \t]*\n[ \t]*\d+[:.,]\d+[:.,]\d+")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?>")
_TAG = re.compile(r"<[^>\n]*>|\{\\[^}\n]*\}")
_CUE_LABEL = re.compile(rf"(?P<label>{_NAME_WORDS}){_ROLE}[ \t]*:[ \t]+(?P<text>.*)$", re.DOTALL)
_TURN = re.compile(r"(?:>>+|-(?!-))[ \t]*")
_LEAD_CHARS = frozenset(".,;:…!?")
_LEAD = re.compile(r"(?P<lead>[.,;:…!?]+)[ \t]+(?=\S)")
_SOUND = re.compile(r"[\[(][^\])]*[\])]|[♪♫]+[^♪♫]*[♪♫]*")

# Words that precede a colon in prose and notes far more often than they name anyone.
_NOT_NAMES = frozenset(
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
    rf"(?:[\[(](?P<t>{_TIME})[\])]|(?P<bare>{_TIME}))?[ \t]*(?P<colon2>:)?[ \t]*(?P<rest>.*)$"
)
# Section markers whose text is a title, not speech.
_TITLED_SECTIONS = frozenset({"chapter", "part", "section", "segment"})
# An unnamed header: the same speaker goes on after a pause, from this time.
_CONTINUATION = re.compile(
    rf"[ \t]*(?:\*\*|__)?[\[(](?P<t>{_TIME})[\])](?:\*\*|__)?[ \t]*:[ \t]*(?P<text>.*)$"
    rf"|[ \t]*(?:\*\*|__)?[\[(](?P<t2>{_TIME})[\])](?:\*\*|__)?[ \t]*$"
)

_PLAIN_MIN_LABELLED = 2
# Lines export tools append to every transcript; not speech.
_FOOTER = re.compile(
    r"[ \t]*(?:transcribed by https?://otter\.ai|transcribed by (?:https?://)?(?:www\.)?rev\.com"
    r"|this transcript was (?:exported|generated) (?:by|on|with)\b.*)[ \t]*$",
    re.IGNORECASE,
)


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
    front, body, first_line = _split_front_matter(text, path)
    meta = _meta_from(front, path, overrides.folders if overrides else 0)
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
    if heading and not (front and _text(front.get("title"))):
        title = heading
    given = _front_people(front, path)
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
    title = _md_inline(match.group("title"))
    words = set(re.split(r"[\W_]+", title.lower())) - {""}
    if words <= GENERIC_STEMS | _GENERIC_TITLE_WORDS:
        title = ""  # "# Transcript", "# Full episode transcript": says nothing
    return title or None, body[: match.start()] + body[match.end() :]


# --- front matter -------------------------------------------------------------------


def _split_front_matter(text: str, path: str) -> tuple[dict | None, str, int]:
    """Return (front matter mapping or None, body, 1-based line of the body's start)."""
    first_end = text.find("\n")
    if first_end < 0 or text[:first_end].rstrip() != "---":
        return None, text, 1
    end = _FM_END.search(text, first_end + 1)
    if end is None:
        raise TranscriptError(path, "front matter opened with '---' is never closed", 1)
    source = text[first_end + 1 : end.start()]
    if len(source) > MAX_FRONT_MATTER_CHARS:
        raise TranscriptError(
            path,
            f"front matter is {len(source) // 1024} KB; the limit is "
            f"{MAX_FRONT_MATTER_CHARS // 1024} KB",
            1,
        )
    try:
        data = yaml.load(source, Loader=_FrontMatterLoader)  # a SafeLoader, no aliases
    except yaml.YAMLError as exc:
        raise TranscriptError(path, *_yaml_problem(exc, source)) from None
    except RecursionError:
        raise TranscriptError(path, "front matter is nested too deeply", 2) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TranscriptError(path, "front matter must be a YAML mapping of keys to values", 2)
    body_start = end.end() + 1
    return data, text[body_start:], text.count("\n", 0, body_start) + 1


# Front matter is a few lines of metadata; a cap keeps a hostile block from costing more.
MAX_FRONT_MATTER_CHARS = 64 * 1024


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader without anchors and aliases.

    Metadata never needs them, and nested aliases ("billion laughs") make a few hundred
    bytes expand into hundreds of megabytes of data.
    """

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (&name, *name) are not allowed in front matter",
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)


def _yaml_problem(exc: yaml.YAMLError, source: str) -> tuple[str, int]:
    """Describe a YAML error and give its file line (the front matter starts on line 2).

    When YAML only notices the problem at the end of the block (an unclosed bracket),
    the line where the unfinished construct began is the useful one.
    """
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    line = mark.line if mark is not None else 0
    if context is not None and (mark is None or mark.index >= len(source.rstrip())):
        line = context.line
        what = re.sub(r"^while (?:parsing|scanning) ", "", getattr(exc, "context", None) or "")
        problem = f"{what or 'a value'} opened on this line is never closed ({problem})"
    return f"front matter is not valid YAML: {problem}", line + 2


def _meta_from(front: dict | None, path: str, folders: int = 0) -> SourceMeta:
    """Build the source metadata from front matter, or from the file's path alone (with
    `folders` folders naming a generic file name, when the ingest asks for more than one)."""
    slug, title = path_identity(path, folders or 1)
    if front is None:
        return SourceMeta(slug=slug, title=title or slug)
    known = {"slug", "title", "date", "venue", "url", "youtube_url", "link", "participants",
             "corrections",
             *(key for key, _ in _PEOPLE_KEYS)}
    extra = {str(key): _plain(value) for key, value in front.items() if key not in known}
    given = _text(front.get("slug")) or _text(front.get("id"))
    return SourceMeta(
        slug=(slugify(given) if given else None) or slug,
        title=_text(front.get("title")) or title or slug,
        date=_text(front.get("date")),
        venue=_text(front.get("venue")),
        url=_text(front.get("url")) or _text(front.get("youtube_url"))
        or _text(front.get("link")),
        participants=_participants(front.get("participants"), path),
        corrections=_corrections(front.get("corrections"), path),
        extra=extra,
    )


# File names that say what a file is, not which episode: the folder names the episode.
GENERIC_STEMS = frozenset(
    """transcript transcripts transcription index readme captions caption subtitles subtitle
    subs episode audio video text full fulltext full-transcript show-notes shownotes notes
    content main default english en""".split()
)
# Words that are acronyms in file names ("practical-ai-132" is "Practical AI 132").
_ACRONYMS = frozenset(
    """ai ml api ceo cto cfo coo cpo vc ui ux nlp llm llms gpt aws gcp sql tv pr hr nyc sf la
    uk usa eu un nasa fbi cia ama faq qa q&a ipo ibm mit ucla nyu b2b b2c saas seo vr ar xr
    iot crm erp devops mvp roi kpi okr okrs dei esg gdp diy ios pc""".split()
)
_ABBREVIATIONS = {"ep": "Episode", "eps": "Episodes", "pt": "Part", "vol": "Volume"}


def slugify(text: str) -> str:
    """A slug: lower-case words joined by hyphens."""
    return _SLUG_JUNK.sub("-", text.lower()).strip("-")


def path_identity(path: str, folders: int = 1) -> tuple[str, str]:
    """The slug and title a file's path gives it.

    A generic file name (``ep-012/transcript.md``) or a bare number (``ep-012/3.srt``)
    leaves the naming to its folder, so every episode folder is its own source and keeps
    its slug from run to run. Where episode folders share a name (``Season 1/Episode 3``
    and ``Season 2/Episode 3``) the ingest asks for more of the folders above.

    Args:
        path: The file's path.
        folders: How many folders, from the file's own upwards, name a file whose own
            name is generic; 1 (its folder alone) unless the collection needs more.

    Returns:
        The slug and the title.
    """
    pure = PurePath(path)
    stem = _stem(pure)
    name = stem
    names = [stem]
    if takes_folder_name(path):
        folder = pure.parent.name
        name = folder
        if stem.isdigit() and not re.search(rf"(?<!\d)0*{int(stem)}(?!\d)", folder):
            name = f"{folder}-{stem}"
        names = [*_outer_folders(pure.parent, folders - 1), name]
    slug = slugify("-".join(names)) or slugify(stem) or "transcript"
    title = ", ".join(t for t in map(readable_title, names) if t)
    return slug, title or slug


def takes_folder_name(path: str) -> bool:
    """Whether a file is named by its folder: a generic name (``ep-012/transcript.md``)
    or a bare number (``ep-012/3.srt``) says nothing of which episode it is."""
    pure = PurePath(path)
    base = _stem(pure).lower()
    folder = pure.parent.name
    return bool(folder) and folder not in (".", "..", "/") and (
        base in GENERIC_STEMS or base.isdigit()
    )


def _stem(pure: PurePath) -> str:
    """A file name without its suffixes (``captions.en.vtt`` is ``captions``)."""
    return pure.name.split(".")[0] if not pure.name.startswith(".") else pure.stem


def _outer_folders(folder: PurePath, count: int) -> list[str]:
    """The names of up to `count` folders above `folder`, outermost first."""
    found: list[str] = []
    for parent in folder.parents:
        if len(found) >= count:
            break
        if parent.name in ("", ".", ".."):
            break  # the top of the path as named, or a relative path's climb
        found.append(parent.name)
    return found[::-1]


def readable_title(name: str) -> str:
    """A title from a file or folder name: words capitalised, acronyms upper-case, numbers
    without leading zeros, "ep" and "s" (season) spelled out, and no word twice in a row."""
    words: list[str] = []
    for word in re.split(r"[-_\s.]+", name):
        if not word:
            continue
        lower = word.lower()
        if word.isdigit():
            word = str(int(word))
        elif lower in _ACRONYMS:
            word = word.upper()
        elif lower in _ABBREVIATIONS:
            word = _ABBREVIATIONS[lower]
        elif re.fullmatch(r"(?i)ep\d+", word):
            words.append("Episode")
            word = str(int(word[2:]))
        elif match := re.fullmatch(r"(?i)s(\d{2,})|s(\d+)e(\d+)", word):
            # "s01" and "s1e3" in folder names are seasons and episodes ("s3" may be AWS S3).
            words.append("Season")
            word = str(int(match[1] or match[2]))
            if match[3]:
                words += [word, "Episode"]
                word = str(int(match[3]))
        else:
            word = word[:1].upper() + word[1:]
        if words and words[-1].lower() == word.lower():
            continue  # "3-3", "episode-episode-4"
        words.append(word)
    return " ".join(words)


def _text(value: object) -> str | None:
    """A scalar front-matter value as text (YAML turns 2025-01-02 into a date)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _plain(value: object) -> object:
    """Front-matter data with YAML's dates turned into ISO strings, so it stores as JSON."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _participants(value: object, path: str) -> tuple[Participant, ...]:
    """Parse `participants`: a list of names or of {name, role, aliases} mappings."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TranscriptError(path, "front matter 'participants' must be a list")
    people = []
    for item in value:
        if isinstance(item, str):
            name, role = split_label(item)
            people.append(Participant(name, role))
            continue
        if not isinstance(item, dict) or not _text(item.get("name")):
            raise TranscriptError(path, f"front matter participant without a name: {item!r}")
        aliases = item.get("aliases") or ()
        if isinstance(aliases, str):
            aliases = (aliases,)
        people.append(
            Participant(
                name=str(item["name"]).strip(),
                role=_text(item.get("role")),
                aliases=tuple(str(a).strip() for a in aliases if str(a).strip()),
            )
        )
    return tuple(people)


_PEOPLE_KEYS = (("host", "Host"), ("hosts", "Host"), ("guest", "Guest"), ("guests", "Guest"))


def _front_people(front: dict | None, path: str) -> list[Participant]:
    """People named by `host`/`guest` front-matter keys (as collections write them).

    Unlike `participants`, they do not limit which labels count as speakers: they only
    give the speakers the file labels their full names and roles.
    """
    if not front:
        return []
    people = []
    for key, role in _PEOPLE_KEYS:
        try:
            people += people_from(front.get(key), role)
        except ValueError as exc:
            raise TranscriptError(path, f"front matter '{key}': {exc}") from None
    return people


def _corrections(value: object, path: str) -> tuple[Correction, ...]:
    """Parse `corrections`: a list of {wrong, right, note} or a {wrong: right} mapping."""
    if value is None:
        return ()
    if isinstance(value, dict):
        value = [{"wrong": k, "right": v} for k, v in value.items()]
    if not isinstance(value, list):
        raise TranscriptError(path, "front matter 'corrections' must be a list")
    fixes = []
    for item in value:
        if not isinstance(item, dict) or not _text(item.get("wrong")) or "right" not in item:
            raise TranscriptError(
                path, f"front matter correction needs 'wrong' and 'right': {item!r}"
            )
        note = _text(item.get("note"))
        fixes.append(Correction(str(item["wrong"]), str(item["right"] or ""), note))
    return tuple(fixes)


# --- detection ----------------------------------------------------------------------


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
        if (m := _MD_LABEL.match(line)) and _label_time(m.group("label"))[0]
    )
    if md >= 2 or (md == 1 and len(content) <= 3):
        return "markdown"
    headers = [i for i, line in enumerate(content) if _header(line, declared)]
    if len(headers) >= 2 or headers[:1] == [0]:
        return "blocks"
    stamps = sum(1 for line in content if _STAMP.match(line))
    if stamps >= 2 and stamps * 3 >= len(content):
        return "stamped"
    counts = Counter(m.group("label") for line in content if (m := _colon(line)))
    if _accepted_labels(counts, len(content), declared):
        return "colon"
    return "plain"


@lru_cache(maxsize=4096)  # a file repeats its few labels on every line
def _is_name(name: str) -> bool:
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


def _colon(line: str) -> re.Match | None:
    """Match a ``Name: text`` line whose label could be a name."""
    # A cheap test first: a label's colon sits in the first few dozen characters.
    colon = line.find(":", 0, 120)
    if colon <= 0:
        return None
    match = _COLON.match(line)
    if match is None or not _is_name(match.group("label")):
        return None
    return match


def _header(line: str, declared: Roster | None) -> re.Match | None:
    """Match a block header line (``Name (Role) 00:52.700`` and kin)."""
    if ":" not in line or len(line) > 200:
        return None
    match = _HEADER.match(line)
    if match is None:
        return None
    label = match.group("label")
    if declared is not None and declared.match(label) is None:
        return None
    if not _is_name(label):
        return None
    return match


_FRACTION = {1: 10, 2: 100, 3: 1000}


def _header_seconds(match: re.Match) -> float:
    """The start time captured by `_HEADER`."""
    hours, minutes, seconds, fraction = match.group("h", "m", "s", "f")
    total = int(minutes) * 60 + int(seconds)
    if hours:
        total += int(hours) * 3600
    if fraction:
        return total + int(fraction) / _FRACTION[len(fraction)]
    return float(total)


def _accepted_labels(counts: Counter, content_lines: int, declared: Roster | None) -> set[str]:
    """Which candidate ``Name:`` labels are speakers rather than prose.

    With front-matter participants, labels naming one of them, and in a file that is
    mostly labelled lines any other name-shaped label too. Otherwise a label used on two
    or more lines, or every label when labelled lines are most of the file, and then any
    short form of an accepted label ("Ilya" for "Ilya Sutskever").
    """
    if not counts:
        return set()
    plausible = {
        label for label in counts if split_label(label)[0].lower().rstrip(".") not in _NOT_NAMES
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


def _label_time(label: str) -> tuple[str | None, float | None]:
    """Split a bold Markdown label into (label, start): ``Jane [12:34]`` has a time."""
    start = None
    stamp = _LABEL_TIME.search(label)
    if stamp is not None:
        start = _seconds(stamp.group("t"))
        label = label[: stamp.start()]
    label = label.strip()
    name = split_label(label)[0]
    if not name or not _is_name(name):
        return None, None
    return label, start


def _seconds(stamp: str) -> float:
    """Seconds in ``mm:ss``, ``mm:ss.fff``, ``hh:mm:ss`` or ``hh:mm:ss,fff``."""
    main, _, fraction = stamp.replace(",", ".").partition(".")
    seconds = 0
    for part in main.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def _section(line: str) -> tuple[float | None, str] | None:
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
    return (_seconds(stamp) if stamp else None), rest


def _continuation(line: str) -> tuple[float, str] | None:
    """An unnamed header such as ``(00:12:34):``: (its time, any text after it)."""
    match = _CONTINUATION.match(line)
    if match is None:
        return None
    return _seconds(match.group("t") or match.group("t2")), match.group("text") or ""


# --- line-based layouts -------------------------------------------------------------


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
    if (more := _continuation(line)) is not None:
        return (speaker, *more)
    if (marker := _section(line)) is not None:
        return (None, *marker)
    return None


def _parse_colon(body: str, first: int, path: str, declared: Roster | None):
    """``Name: text`` lines; unlabelled lines continue the previous speaker."""
    lines = body.split("\n")
    matches = [_colon(line) for line in lines]
    counts = Counter(m.group("label") for m in matches if m is not None)
    content = sum(1 for line in lines if line.strip())
    accepted = _accepted_labels(counts, content, declared)
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


def _parse_blocks(body: str, first: int, path: str, declared: Roster | None):
    """Header lines naming the speaker and the time, followed by their text."""
    names: dict[tuple[str, str | None], str | None] = {}

    def labels(line: str) -> tuple[str, float | None, str | None] | None:
        # Cheap tests first: headers are short and hold a time, so a colon.
        if ":" not in line or len(line) > 200:
            return None
        match = _HEADER.match(line)
        if match is None:
            return None
        key = match.group("label", "role")
        if key not in names:
            label, role = key
            ok = _is_name(label) and (declared is None or declared.match(label) is not None)
            names[key] = (f"{label} ({role})" if role else label) if ok else None
        name = names[key]
        if name is None:
            return None
        return name, _header_seconds(match), match.group("text")

    return _labelled_lines(body.split("\n"), first, labels)


def _parse_stamped(body: str, first: int, path: str, declared: Roster | None):
    """``[00:01:23] Name: text`` or ``[00:01:23] text`` lines."""
    lines = body.split("\n")
    stamps = [_STAMP.match(line) for line in lines]
    labelled = [_colon(m.group("rest")) if m else None for m in stamps]
    counts = Counter(m.group("label") for m in labelled if m is not None)
    accepted = _accepted_labels(counts, sum(1 for m in stamps if m), declared)
    out = _Builder()
    for number, line, stamp, match in zip(
        range(first, first + len(lines)), lines, stamps, labelled, strict=True
    ):
        if stamp is not None:
            start = _seconds(stamp.group("t"))
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


def _parse_markdown(body: str, first: int, path: str, declared: Roster | None):
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
            out.open(*header[:2], number, _md_inline(header[2]))
            continue
        if not started:
            continue
        if line and (":" in line or "[" in line or "(" in line or len(line) < 30):
            if (unnamed := _unnamed_header(line, out.speaker)) is not None:
                speaker, start, text = unnamed
                out.open(speaker, start, number, _md_inline(text or ""))
                continue
        if not line.strip() or _MD_SKIP.match(line):
            out.flush()
            if _MD_RULE.match(line):
                started = False  # after a rule come credits and links, not speech
            continue
        stamp = _MD_STAMP.match(line)
        if stamp is not None:
            start = _seconds(stamp.group("t"))
            out.open(out.speaker, start, number, _md_inline(stamp.group("rest")))
        else:
            out.add(_md_inline(_MD_PREFIX.sub("", line, count=1)), number)
    out.flush()
    return out.segments, list(out.labels)


def _md_header(line: str, declared: Roster | None) -> tuple[str, float | None, str] | None:
    """(speaker, start, rest of the line) for a ``**Name:**`` label line, else None."""
    match = _MD_LABEL.match(line) if ("*" in line or "_" in line) else None
    if match is None:
        return None
    label, start = _label_time(match.group("label"))
    if label is None or (declared is not None and declared.match(label) is None):
        return None
    rest = match.group("rest")
    stamp = _MD_STAMP.match(rest)
    if stamp is not None:
        start, rest = _seconds(stamp.group("t")), stamp.group("rest")
    return label, start, rest


def _md_inline(text: str) -> str:
    """Drop Markdown markup (images, link targets, emphasis) and keep the words."""
    if "[" in text or "*" in text or "_" in text:
        text = _MD_IMAGE.sub("", text)
        text = _MD_LINK.sub(r"\1", text)
        text = _MD_EMPHASIS.sub("", text)
    return text.strip()


def _parse_plain(body: str, first: int, path: str, declared: Roster | None):
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


# --- subtitles ----------------------------------------------------------------------


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


def _parse_srt(body: str, first: int, path: str, declared: Roster | None):
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


def _parse_vtt(body: str, first: int, path: str, declared: Roster | None):
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
            if label is not None and _is_name(label["label"]):
                leads[index] = lead.group("lead")
                turns[index] = (start, line, voice, marked, text[lead.end() :])
    return leads


def _cue_labels(turns: list[Turn], declared: Roster | None) -> set[str]:
    """The ``Name:`` prefixes of the turns that name a speaker."""
    labels = [m for *_, text in turns if (m := _CUE_LABEL.match(text)) and _is_name(m["label"])]
    counts = Counter(m.group("label") for m in labels)
    accepted = _accepted_labels(counts, len(turns), declared)
    if declared is None:
        # A cue opening with "JOHN:" or "Full Name:" is the subtitle convention for a
        # speaker, not prose, even when used once; short forms of those count too.
        strong = {
            label
            for label in counts
            if (label.isupper() and len(label) > 1) or len(label.split()) >= 2
            if label.lower().rstrip(".") not in _NOT_NAMES
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


_PARSERS: dict[str, Callable[..., tuple[list[Segment], Iterable[str]]]] = {
    "srt": _parse_srt,
    "vtt": _parse_vtt,
    "markdown": _parse_markdown,
    "blocks": _parse_blocks,
    "stamped": _parse_stamped,
    "colon": _parse_colon,
    "plain": _parse_plain,
    **json_formats.PARSERS,
}
