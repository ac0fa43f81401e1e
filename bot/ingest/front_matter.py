"""Front matter and a source's identity: YAML metadata, slug and title from the path."""

from __future__ import annotations

import datetime
import re
from pathlib import PurePath

import yaml

from quotebot.bot.ingest.speakers import (
    people_from,
    split_label,
)
from quotebot.bot.ingest.types import (
    Correction,
    Participant,
    SourceMeta,
    TranscriptError,
)
from quotebot.bot.ingest.yaml_loaders import FrontMatterLoader

_FM_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_SLUG_JUNK = re.compile(r"[\W_]+")


def split_front_matter(text: str, path: str) -> tuple[dict | None, str, int]:
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
        data = yaml.load(source, Loader=FrontMatterLoader)  # a SafeLoader, no aliases
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


def meta_from(front: dict | None, path: str, folders: int = 0) -> SourceMeta:
    """Build the source metadata from front matter, or from the file's path alone (with
    `folders` folders naming a generic file name, when the ingest asks for more than one)."""
    slug, title = path_identity(path, folders or 1)
    if front is None:
        return SourceMeta(slug=slug, title=title or slug)
    known = {"slug", "title", "date", "venue", "url", "youtube_url", "link", "participants",
             "corrections",
             *(key for key, _ in _PEOPLE_KEYS)}
    extra = {str(key): _plain(value) for key, value in front.items() if key not in known}
    given = meta_text(front.get("slug")) or meta_text(front.get("id"))
    return SourceMeta(
        slug=(slugify(given) if given else None) or slug,
        title=meta_text(front.get("title")) or title or slug,
        date=meta_text(front.get("date")),
        venue=meta_text(front.get("venue")),
        url=meta_text(front.get("url")) or meta_text(front.get("youtube_url"))
        or meta_text(front.get("link")),
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


def meta_text(value: object) -> str | None:
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
        if not isinstance(item, dict) or not meta_text(item.get("name")):
            raise TranscriptError(path, f"front matter participant without a name: {item!r}")
        aliases = item.get("aliases") or ()
        if isinstance(aliases, str):
            aliases = (aliases,)
        people.append(
            Participant(
                name=str(item["name"]).strip(),
                role=meta_text(item.get("role")),
                aliases=tuple(str(a).strip() for a in aliases if str(a).strip()),
            )
        )
    return tuple(people)


_PEOPLE_KEYS = (("host", "Host"), ("hosts", "Host"), ("guest", "Guest"), ("guests", "Guest"))


def front_people(front: dict | None, path: str) -> list[Participant]:
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
        if not isinstance(item, dict) or not meta_text(item.get("wrong")) or "right" not in item:
            raise TranscriptError(
                path, f"front matter correction needs 'wrong' and 'right': {item!r}"
            )
        note = meta_text(item.get("note"))
        fixes.append(Correction(str(item["wrong"]), str(item["right"] or ""), note))
    return tuple(fixes)
