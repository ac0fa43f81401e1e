"""JSON transcripts: Podcasting 2.0 JSON and what Whisper and WhisperX write, cut into segments.

* ``podcast-json``: ``{"version": ..., "segments": [{"speaker", "startTime", "endTime",
  "body"}]}`` (the Podcasting 2.0 transcript format);
* ``whisper-json``: ``{"segments": [{"start", "end", "text", "speaker"?, "words"?}]}`` or a
  bare list of such segments (Whisper, faster-whisper, WhisperX), and WhisperX's
  ``word_segments`` word list; when only the words carry speakers (diarized word lists),
  speaker turns are rebuilt from the words.

Diarization labels such as ``SPEAKER_00`` become "Speaker 1", counted from one.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache

from quotebot.bot.ingest.markup import clean_speech
from quotebot.bot.ingest.speakers import display_name
from quotebot.bot.ingest.types import Segment, TranscriptError

log = logging.getLogger(__name__)

_DIARIZED = re.compile(r"(?i:speaker)_\d+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


@lru_cache(maxsize=2)
def _load(body: str) -> object:
    """The parsed JSON (cached: detection and parsing both need it)."""
    return json.loads(body)


def _take(body: str) -> object:
    """The parsed JSON for the parser proper, the cache emptied on the way: no file's body
    or tree stays alive into the next file (whose peak memory it would add to)."""
    data = _load(body)
    _load.cache_clear()
    return data


def looks_like_json(body: str) -> bool:
    """Whether a file body starts like a JSON object or a list of objects."""
    head = body.lstrip()[:64]
    return head.startswith("{") or re.match(r"\[\s*\{", head) is not None


def detect(body: str, path: str) -> str:
    """Name the JSON transcript format of `body`.

    Raises:
        TranscriptError: The file is not JSON, or JSON of no transcript format known here.
    """
    try:
        data = _load(body)
    except json.JSONDecodeError as exc:
        raise TranscriptError(path, f"not valid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:  # "[[[[…": json.loads recurses once per level
        raise TranscriptError(path, "JSON is nested too deeply") from None
    segments = _segments_of(data)
    if segments is None:
        if isinstance(data, dict) and isinstance(data.get("word_segments"), list):
            return "whisper-json"
        raise TranscriptError(
            path, "JSON without transcript segments (expected Podcasting 2.0 'segments' "
                  "with 'body', or Whisper 'segments' with 'text')"
        )
    first = next((s for s in segments if isinstance(s, dict)), {})
    if "body" in first:
        return "podcast-json"
    if "text" in first or "words" in first:
        return "whisper-json"
    raise TranscriptError(path, "JSON segments have neither 'body' nor 'text'")


def _segments_of(data: object) -> list | None:
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("segments"), list) and data["segments"]:
        return data["segments"]
    return None


def speaker_name(raw: object) -> str | None:
    """A readable speaker name: ``SPEAKER_00`` is "Speaker 1"; empty means unknown."""
    if raw is None:
        return None
    name = clean_speech(" ".join(str(raw).split()))
    if not name:
        return None
    return display_name(name) if _DIARIZED.fullmatch(name) else name


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def parse_podcast_json(body: str, first: int, path: str, declared):
    """Podcasting 2.0 JSON: one segment per entry, in file order."""
    out: list[Segment] = []
    labels: dict[str, None] = {}
    for entry in _segments_of(_take(body)) or ():
        if not isinstance(entry, dict):
            continue
        text = clean_speech(" ".join(str(entry.get("body") or "").split()))
        if not text:
            continue
        speaker = speaker_name(entry.get("speaker"))
        if speaker is not None:
            labels[speaker] = None
        out.append(Segment(speaker, text, _seconds(entry.get("startTime"))))
    return out, list(labels)


def parse_whisper_json(body: str, first: int, path: str, declared):
    """Whisper and WhisperX JSON: segments, or speaker turns rebuilt from diarized words."""
    data = _take(body)
    segments = _segments_of(data) or []
    entries = [s for s in segments if isinstance(s, dict)]
    labelled = any(s.get("speaker") is not None for s in entries)
    words_labelled = any(
        isinstance(w, dict) and w.get("speaker") is not None
        for s in entries for w in (s.get("words") or ())
    )
    if not entries or (words_labelled and not labelled):
        words = [w for s in entries for w in (s.get("words") or ()) if isinstance(w, dict)]
        if not words and isinstance(data, dict):
            words = [w for w in data.get("word_segments") or () if isinstance(w, dict)]
        return _from_words(words)
    out: list[Segment] = []
    labels: dict[str, None] = {}
    for entry in entries:
        text = clean_speech(" ".join(str(entry.get("text") or "").split()))
        if not text:
            continue
        speaker = speaker_name(entry.get("speaker"))
        if speaker is not None:
            labels[speaker] = None
        out.append(Segment(speaker, text, _seconds(entry.get("start"))))
    return out, list(labels)


def _from_words(words: list[dict]) -> tuple[list[Segment], list[str]]:
    """Speaker turns from a word list: a new segment at a change of speaker or a sentence end.

    Words written with their leading space (Whisper) are joined as written; bare words
    (WhisperX) with one space.
    """
    spaced = any(str(w.get("word", "")).startswith(" ") for w in words)
    out: list[Segment] = []
    labels: dict[str, None] = {}
    current: list[str] = []
    speaker: str | None = None
    start: float | None = None

    def flush() -> None:
        text = clean_speech(" ".join(("".join(current) if spaced else " ".join(current)).split()))
        if text:
            out.append(Segment(speaker, text, start))
        current.clear()

    for word in words:
        token = str(word.get("word") or word.get("text") or "")
        if not token.strip():
            continue
        who = speaker_name(word.get("speaker"))
        if who is None:
            who = speaker  # WhisperX leaves some words unassigned: they go on the turn
        if current and who != speaker:
            flush()
        if not current:
            start = _seconds(word.get("start"))
        speaker = who
        if who is not None:
            labels[who] = None
        current.append(token if spaced else token.strip())
        if _SENTENCE_END.search(token):
            flush()
    if current:
        flush()
    return out, list(labels)


PARSERS = {
    "podcast-json": parse_podcast_json,
    "whisper-json": parse_whisper_json,
}
