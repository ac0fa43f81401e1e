"""Re-segmentation: parsed segments -> sentences -> quote units a person would paste into chat.

Files cut speech where their tool cut it (a cue, a caption line, a 20-second block),
and speech-recognition exports often shift labels by a few words. So the segments are
joined into one stream that remembers where every character came from, the stream is
split into sentences across segment boundaries, each sentence goes to the speaker who
says most of its words, and sentences are grouped into short units by one speaker.
Every unit is a verbatim slice of the (corrected) source with whitespace collapsed.
"""

from __future__ import annotations

import logging
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from operator import itemgetter

from quotebot.bot.ingest.quotability import noise_marks, score_counted
from quotebot.bot.ingest.speakers import Roster
from quotebot.bot.ingest.types import Correction, ParsedTranscript, QuoteDraft

log = logging.getLogger(__name__)

# Words that begin sentences; after "U.S." or "etc." a capitalised word from this
# list means the sentence ended, any other one ("U.S. Army") means it did not.
_STARTERS = (
    "And|But|So|I|The|We|It|That|This|There|They|You|He|She|What|Now|Yeah|Yes|No|Well|"
    "Then|If|In|On|At|My|Our|A|An|One|When|How|Why|Who|Which|Oh|Okay|OK|Right"
)
# A sentence end: a terminator, closing quotes or brackets, a space, and a next word
# that does not start in lower case ("etc. and", "e.g. the" and a recogniser's stray
# full stop before "and" do not end anything). A full stop after a title ("Mr."), an
# initial ("J. K.") or a common abbreviation does not end a sentence; after an
# initialism ("U.S.", "a.m.") or "etc." it does only before a typical sentence start.
# The checks are lookarounds evaluated only where a terminator is found, so the whole
# stream is scanned in C.
_END = re.compile(
    rf"""
    [.!?…]
    (?:
        (?<!\b[A-Z]\.)
        (?<!\b(?i:mr|dr|ms|st|jr|sr|vs|cf|co|ca|mt|ft|lt|pp)\.)
        (?<!\b(?i:mrs|gen|col|rev|hon|sen|rep|inc|ltd|sgt|vol|fig|viz|est|etc)\.)
        (?<!\b(?i:prof|capt|pres|corp|dept|figs|govt|univ|assn)\.)
        (?<!\b(?i:approx|messrs)\.)
        (?<!\.[A-Za-z]\.)
        (?!(?<=\b[Nn]o\.)\ \d)
      |
        (?:(?<=\.[A-Za-z]\.)|(?<=\b(?i:etc)\.))
        (?=["'”’»)\]]*\ (?:{_STARTERS})\b)
    )
    ["'”’»)\]]*
    (?=\ (?![a-zß-öø-ÿ]))
    """,
    re.VERBOSE,
)
_TERM_TAIL = re.compile(r"[.!?…][\"'”’»)\]]*$")
_TERMINAL = frozenset(".!?…")
_CLOSERS = "\"'”’»)]"

_NONSPACE = re.compile(r"\S+")
_CUT = re.compile(
    r"(?P<semi>[;:]) |(?P<dash> [-–—]+) |(?P<comma>,) "
    r"| (?=(?P<strong>(?:[Aa]nd so|[Aa]nd then|[Ss]o|[Bb]ut|[Bb]ecause|I think|I mean"
    r"|[Aa]nyway|[Aa]ctually|[Nn]ow)\b)|(?P<weak>(?:[Aa]nd|[Oo]r|[Ww]hich|[Yy]ou know"
    r"|[Ww]hen|[Ii]f)\b))"
)
_STRONG = re.compile(r"(?:[Aa]nd so|[Ss]o|[Bb]ut|[Bb]ecause|I think|I mean)\b")
_CUT_PRIORITY = {"semi": 4, "dash": 4, "strong": 3, "comma": 2, "weak": 1}

# Unit sizes, in characters and words.
MAX_UNIT_CHARS = 300
PACK_CHARS = 200  # whole sentences are packed into one unit up to this length
_GLUE_CHARS = 360  # a short "Yeah." may push a unit a little past the limit
LONG_SENTENCE_CHARS = 400
SHORT_WORDS = 6
MAX_SENTENCES = 3
MIN_PIECE_WORDS = 15
MAX_PIECE_WORDS = 45
_TARGET_PIECE_WORDS = 32
# A change of speaker where the new one says at most this many words before the
# sentence ends is taken for a label shifted by the recogniser.
_MISSPLIT_WORDS = 8
# Fewer than one sentence end per this many words: the text is unpunctuated.
_UNPUNCTUATED_WORDS = 80
# A run without spaces longer than half a unit (a pasted URL, base64, a hash) is no
# words anyone said. Kept, it would be cut into a unit of its own and break its sentence
# into 2-4-word pieces around it; it is left out of the stream instead, so the sentences
# around it come out as they would without it (with a warning naming the file and line).
LONG_TOKEN_CHARS = MAX_UNIT_CHARS // 2
_LONG_TOKEN = re.compile(rf"\s*(?<!\S)(\S{{{LONG_TOKEN_CHARS + 1},}})")
_KEPT_PUNCTUATION = re.compile(r"[.,;:!?…]*(?=[\"'”’»)\]]*$)")


def _without_token(match: re.Match) -> str:
    """What stays of an over-long token: the comma or full stop it ended with, if any."""
    if match.start() == 0:
        return ""
    token = match.group(1)
    # The search from the end finds the punctuation before any closing quotes/brackets.
    kept = _KEPT_PUNCTUATION.search(token, len(token) - 8)
    return kept.group() if kept else ""


def build_quotes(parsed: ParsedTranscript, path: str | None = None) -> list[QuoteDraft]:
    """Cut a parsed transcript into quote units.

    Args:
        parsed: The output of `quotebot.bot.ingest.formats.parse_transcript`.
        path: The file's path, named in warnings (the slug when not given).

    Returns:
        Quote drafts in source order, `position` counting from 0.
    """
    return list(iter_quotes(parsed, path))


def iter_quotes(parsed: ParsedTranscript, path: str | None = None) -> Iterator[QuoteDraft]:
    """`build_quotes` one draft at a time, so a caller converting them holds one list, not two.

    Sentences and units are generated as they are grouped, never listed: on a large file
    those lists cost more memory than the file itself.
    """
    stream, offsets, speakers, starts = _stream(parsed, path)
    shifted_labels = parsed.format in MACHINE_CUT
    del parsed  # peak memory: once joined, the segments are not needed (if the caller let go)
    if not stream:
        return
    runs = _runs(speakers)
    cuts = _sentence_cuts(stream, offsets, runs, shifted_labels=shifted_labels)
    sentences = _sentences(stream, cuts, offsets, speakers, runs)
    timer = _timer(offsets, starts)
    fillers, stutters = noise_marks(stream)
    filler_at = _counter(fillers)
    stutter_at = _counter(stutters)
    for position, (speaker, begin, end, complete) in enumerate(_units(stream, sentences)):
        text = stream[begin:end]
        quotability = score_counted(text, complete, filler_at(begin, end), stutter_at(begin, end))
        yield QuoteDraft(speaker, text, timer(begin), position, quotability)


def _counter(marks: list[int]) -> Callable[[int, int], int]:
    """A function counting the marks in [begin, end) of the stream."""
    if not marks:
        return lambda begin, end: 0

    def count(begin: int, end: int) -> int:
        return bisect_left(marks, end) - bisect_left(marks, begin)

    return count


def sentence_spans(stream: str) -> list[tuple[int, int]]:
    """(begin, end) of each sentence of whitespace-collapsed `stream`, by the segmenter's rules.

    Args:
        stream: Text with whitespace collapsed to single spaces.

    Returns:
        Spans in order, covering every word; the spaces between sentences are left out.
    """
    spans, begin = [], 0
    for cut in [m.end() for m in _END.finditer(stream)] + [len(stream)]:
        while begin < cut and stream[begin] == " ":
            begin += 1
        if cut > begin:
            spans.append((begin, cut))
        begin = cut
    return spans


def split_sentences(text: str) -> list[str]:
    """Split text into sentences with the segmenter's rules (whitespace collapsed).

    Args:
        text: Any text.

    Returns:
        The sentences in order; their words are exactly the text's words.
    """
    stream = " ".join(text.split())
    cuts = [m.end() for m in _END.finditer(stream)] + [len(stream)]
    pieces, begin = [], 0
    for cut in cuts:
        piece = stream[begin:cut].strip()
        if piece:
            pieces.append(piece)
        begin = cut
    return pieces


def source_text(parsed: ParsedTranscript) -> str:
    """The corrected text of all segments, whitespace collapsed: what units are cut from."""
    return _stream(parsed)[0]


# --- the stream ---------------------------------------------------------------------


def _corrector(corrections: tuple[Correction, ...]) -> Callable[[str], str] | None:
    """A function applying exact, case-sensitive, whole-word corrections in one pass."""
    if not corrections:
        return None
    table = {c.wrong: c.right for c in corrections}
    # Longest first, so "Alex Net" wins over "Alex"; lookarounds instead of \b so a
    # correction may begin or end with punctuation.
    pattern = re.compile(
        r"(?<!\w)(?:"
        + "|".join(re.escape(w) for w in sorted(table, key=len, reverse=True))
        + r")(?!\w)"
    )
    return lambda text: pattern.sub(lambda m: table[m.group()], text)


def _stream(parsed: ParsedTranscript, path: str | None = None):
    """Join segment texts into one whitespace-collapsed stream, over-long tokens left out.

    Returns:
        (stream, segment offsets, resolved speaker per segment, start per segment).
    """
    labelled = any(seg.speaker is not None for seg in parsed.segments)
    people = parsed.meta.participants
    # A monologue: the one person in the front matter says the unlabelled text.
    default = people[0].name if len(people) == 1 and not labelled else None
    roster = Roster(people, default=default)
    fix = _corrector(parsed.meta.corrections)
    texts: list[str] = []
    offsets: list[int] = []
    speakers: list[str | None] = []
    starts: list[float | None] = []
    resolve = roster.resolve
    pos = 0
    clipped: list[tuple[int | None, int]] = []
    for seg in parsed.segments:
        text = seg.text if fix is None else fix(seg.text)
        if len(text) > LONG_TOKEN_CHARS and _LONG_TOKEN.search(text):
            clipped.extend((seg.line, len(m.group(1))) for m in _LONG_TOKEN.finditer(text))
            text = _LONG_TOKEN.sub(_without_token, text)
        # Parsers mostly hand over tidy text; collapse whitespace only where needed.
        if (
            "  " in text
            or "\n" in text
            or "\t" in text
            or "\r" in text
            or "\xa0" in text
            or text[:1].isspace()
            or text[-1:].isspace()
        ):
            text = " ".join(text.split())
        if not text:
            continue
        texts.append(text)
        offsets.append(pos)
        speakers.append(resolve(seg.speaker))
        starts.append(seg.start)
        pos += len(text) + 1
    if clipped:
        line = clipped[0][0]
        log.warning(
            "%s%s: left %d run(s) of over %d characters without spaces out of the quotes "
            "(a URL or encoded data?), the longest %d characters",
            path or parsed.meta.slug, "" if line is None else f":{line}", len(clipped),
            LONG_TOKEN_CHARS, max(length for _, length in clipped),
        )
    return " ".join(texts), offsets, speakers, starts


def _runs(speakers: list[str | None]) -> list[int]:
    """Number each segment by its run of consecutive segments with one speaker."""
    runs, run, previous = [], -1, object()
    for speaker in speakers:
        if speaker != previous:
            run += 1
            previous = speaker
        runs.append(run)
    return runs


# --- sentences ----------------------------------------------------------------------


# Formats a machine cut into cues or timed blocks, whose speaker labels can be shifted by a
# few words. In hand-labelled formats (Name: lines, Markdown) a turn is a turn: a short
# lower-case reply ("no, not at all.") belongs to whoever it is labelled with.
MACHINE_CUT = frozenset({"srt", "vtt", "blocks", "stamped", "podcast-json", "whisper-json"})


def _sentence_cuts(
    stream: str, offsets: list[int], runs: list[int], *, shifted_labels: bool
) -> list[int]:
    """Positions where one sentence ends and the next begins (sorted, end included)."""
    ends = [m.end() for m in _END.finditer(stream)]
    words = stream.count(" ") + 1
    punctuated = len(ends) * _UNPUNCTUATED_WORDS >= words
    forced = []
    run_ends = _run_ends(offsets, runs, len(stream))
    for index in range(1, len(offsets)):
        if runs[index] == runs[index - 1]:
            continue
        p = offsets[index]
        if not (punctuated and shifted_labels) or _TERM_TAIL.search(stream, max(0, p - 8), p - 1):
            forced.append(p - 1)
            continue
        # The previous speaker stopped mid-sentence. If the new one only finishes that
        # sentence in a few words, the label is shifted: keep the sentence whole.
        run_end = run_ends[runs[index]]
        k = bisect_right(ends, p)
        limit = min(ends[k], run_end) if k < len(ends) else run_end
        said = stream.count(" ", p, limit) + 1
        whole = k < len(ends) and ends[k] <= run_end and stream[p].isupper()
        if said > _MISSPLIT_WORDS or whole:
            forced.append(p - 1)
    cuts = sorted(set(ends).union(forced))
    if not cuts or cuts[-1] != len(stream):
        cuts.append(len(stream))
    return cuts


def _run_ends(offsets: list[int], runs: list[int], total: int) -> list[int]:
    """The stream position where each run ends."""
    ends = [0] * (runs[-1] + 1)
    for index in range(len(offsets) - 1):
        if runs[index] != runs[index + 1]:
            ends[runs[index]] = offsets[index + 1] - 1
    ends[runs[-1]] = total
    return ends


def _sentences(
    stream: str, cuts: list[int], offsets: list[int], speakers: list[str | None], runs: list[int]
) -> Iterator[tuple[str | None, int, int, bool]]:
    """(speaker, begin, end, ends with a terminator) for every sentence, in order."""
    last = len(offsets) - 1
    previous = 0
    for cut in cuts:
        # Every cut but the first is followed by the space between two sentences.
        start = previous + 1 if previous else 0
        previous = cut
        if cut <= start:
            continue
        first = bisect_right(offsets, start) - 1
        if first == last or offsets[first + 1] > cut:
            speaker = speakers[first]  # the common case: one sentence inside one segment
        else:
            final = bisect_right(offsets, cut - 1) - 1
            if runs[first] == runs[final]:
                speaker = speakers[first]
            else:
                speaker = _majority(stream, start, cut, first, final, offsets, speakers, last)
        tail = stream[cut - 1]
        complete = tail in _TERMINAL or (
            tail in _CLOSERS and _TERM_TAIL.search(stream, start, cut) is not None
        )
        yield speaker, start, cut, complete


def _majority(
    stream: str,
    start: int,
    stop: int,
    first: int,
    final: int,
    offsets: list[int],
    speakers: list[str | None],
    last: int,
) -> str | None:
    """The speaker who says most of the words in stream[start:stop]; ties go to the first."""
    counts: dict[str | None, int] = {}
    for index in range(first, final + 1):
        a = max(start, offsets[index])
        b = min(stop, offsets[index + 1] - 1 if index < last else len(stream))
        if b > a:
            counts[speakers[index]] = counts.get(speakers[index], 0) + stream.count(" ", a, b) + 1
    return max(counts, key=counts.__getitem__)


# --- start times --------------------------------------------------------------------


def _timer(offsets: list[int], starts: list[float | None]) -> Callable[[int], float | None]:
    """A function giving the start time of a stream position, or None without times.

    The time is interpolated by character offset between the start of the segment
    holding the position and the start of the next timed segment, floored to 0.1 s.
    """
    positions = [off for off, t in zip(offsets, starts, strict=True) if t is not None]
    times = [t for t in starts if t is not None]
    if not times:
        return lambda pos: None
    count = len(times)

    def at(pos: int) -> float | None:
        k = bisect_right(positions, pos) - 1
        if k < 0:
            return None
        t = times[k]
        if k + 1 < count and times[k + 1] > t:
            t += (pos - positions[k]) / (positions[k + 1] - positions[k]) * (times[k + 1] - t)
        # int() floors a positive number; the epsilon keeps 52.7 from becoming 52.6.
        return int(t * 10 + 1e-6) / 10

    return at


# --- units --------------------------------------------------------------------------


def _units(
    stream: str, sentences: Iterable[tuple[str | None, int, int, bool]]
) -> Iterator[tuple[str | None, int, int, bool]]:
    """Group sentences into (speaker, begin, end, complete) quote units, in order."""
    for speaker, turn in groupby(sentences, key=itemgetter(0)):
        yield from _turn_units(stream, speaker, list(turn))


Item = tuple[int, int, int, bool, bool]  # begin, end, words, starts / ends a sentence


def _turn_units(
    stream: str, speaker: str | None, turn: list[tuple[str | None, int, int, bool]]
) -> list[tuple[str | None, int, int, bool]]:
    """Units for one speaker's turn: sentences, short ones glued on, long ones cut."""
    if len(turn) == 1:
        # The common interview turn, one sentence long: skip the bookkeeping below.
        _, begin, end, complete = turn[0]
        if end - begin <= LONG_SENTENCE_CHARS and (
            complete or stream.count(" ", begin, end) < MAX_PIECE_WORDS
        ):
            return [(speaker, begin, end, complete and not stream[begin].islower())]
    return _packed(stream, speaker, _glued(_turn_items(stream, turn)))


def _turn_items(stream: str, turn: list[tuple[str | None, int, int, bool]]) -> list[Item]:
    """The turn's sentences as items, over-long ones cut into pieces."""
    items: list[Item] = []
    for _, begin, end, complete in turn:
        words = stream.count(" ", begin, end) + 1
        if end - begin > LONG_SENTENCE_CHARS or (not complete and words > MAX_PIECE_WORDS):
            pieces = _cut(stream, begin, end)
            for n, (a, b) in enumerate(pieces):
                last = n == len(pieces) - 1
                items.append((a, b, stream.count(" ", a, b) + 1, n == 0, complete and last))
        else:
            items.append((begin, end, words, True, complete))
    return items


def _glued(items: list[Item]) -> list[list[Item]]:
    """Items grouped: a short one ("Yeah.") joins the one after it, and a short one closing
    the turn joins the group before it, when there is room."""
    groups: list[list[Item]] = []
    pending: list[Item] = []
    for n, item in enumerate(items):
        pending.append(item)
        if (
            item[2] < SHORT_WORDS
            and n + 1 < len(items)
            and len(pending) < MAX_SENTENCES
            and items[n + 1][1] - pending[0][0] <= _GLUE_CHARS
        ):
            continue  # "Yeah." joins the sentence that follows it
        groups.append(pending)
        pending = []
    if pending:
        groups.append(pending)
    if len(groups) > 1 and len(groups[-1]) == 1 and groups[-1][0][2] < SHORT_WORDS:
        previous = groups[-2]
        if len(previous) < MAX_SENTENCES and groups[-1][0][1] - previous[0][0] <= _GLUE_CHARS:
            previous.extend(groups.pop())
    return groups


def _packed(stream: str, speaker: str | None, groups: list[list[Item]]
            ) -> list[tuple[str | None, int, int, bool]]:
    """Whole sentences that are short together make one unit, like "AlexNet was built on
    two GPUs. That was the total amount of compute used for it." """
    units = []
    begin, end, count, starts, ends = groups[0][0][0], groups[0][-1][1], 0, False, False
    for group in groups:
        if (
            count
            and ends
            and starts
            and group[0][3]
            and count + len(group) <= MAX_SENTENCES
            and group[-1][1] - begin <= PACK_CHARS
        ):
            end, count, ends = group[-1][1], count + len(group), group[-1][4]
            continue
        if count:
            units.append((speaker, begin, end, starts and ends))
        begin, end, count = group[0][0], group[-1][1], len(group)
        # A unit opening mid-sentence or in lower case is a fragment; nothing joins it.
        starts, ends = group[0][3] and not stream[begin].islower(), group[-1][4]
    units.append((speaker, begin, end, starts and ends))
    return units


def _cut(stream: str, begin: int, end: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence into readable pieces at clause boundaries.

    Pieces hold `MIN_PIECE_WORDS` to `MAX_PIECE_WORDS` words and at most
    `MAX_UNIT_CHARS` characters where the text allows; cuts prefer semicolons and
    dashes, then discourse markers ("so", "but", "because", "I think"), then commas,
    then "and"/"or"/"which", and fall back to a plain word boundary.
    """
    starts = [m.start() for m in _NONSPACE.finditer(stream, begin, end)]
    total = len(starts)
    priority: dict[int, int] = {}
    for match in _CUT.finditer(stream, begin, end):
        word = bisect_left(starts, match.end())
        if 0 < word < total:
            rank = _CUT_PRIORITY[match.lastgroup or "weak"]
            if match.lastgroup == "comma" and _STRONG.match(stream, match.end()):
                rank = _CUT_PRIORITY["semi"]  # ", so", ", but": the best place of all
            priority[word] = max(priority.get(word, 0), rank)
    candidates = sorted(priority)
    pieces = []
    i = 0
    while True:
        remaining = total - i
        if remaining == 1 or (remaining <= MAX_PIECE_WORDS and end - starts[i] <= MAX_UNIT_CHARS):
            pieces.append((starts[i], end))
            return pieces
        hi = min(i + MAX_PIECE_WORDS, total - MIN_PIECE_WORDS)
        hi = min(hi, bisect_right(starts, starts[i] + MAX_UNIT_CHARS + 1) - 1)
        hi = min(max(hi, i + 1), total - 1)
        lo = min(i + MIN_PIECE_WORDS, hi)
        parts = math.ceil(remaining / _TARGET_PIECE_WORDS)
        target = i + max(MIN_PIECE_WORDS, min(MAX_PIECE_WORDS, remaining / parts))
        best, best_score = hi, -math.inf
        for word in candidates[bisect_left(candidates, lo) : bisect_right(candidates, hi)]:
            value = priority[word] * 10 - abs(word - target) / 2
            if value > best_score:
                best, best_score = word, value
        pieces.append((starts[i], starts[best] - 1))
        i = best
