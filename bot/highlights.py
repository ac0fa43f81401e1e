"""Highlights: the passages of a transcript worth posting on their own, ranked, with reasons.

A highlight is 1-3 consecutive sentences of one speaker, 10-55 words and at most 280
characters in its clean form (`quotebot.bot.clean`), that starts where a thought starts, ends where
it lands and says something: a claim, a number, a comparison, a named thing. Most of a
conversation is not highlight material (replies, setups, questions, pleasantries, filler).

Rules that reject a candidate (each rejection is a reason `quotebot show ID --why` shows):

1. Start: not mid-sentence; not on a conjunction (but, because, or…), a reply word
   (no, exactly, sure…), a back-reference (that, this, they, he, those…; "It's hard
   to…" and "There's…" are fine), a list step (another, second…), a setup ("Think
   about…") or a filler "like". Reply words and markers the clean form drops (Yeah, So,
   And, You know…) do not count.
2. End: a finished statement, not a question, a trail-off ("…", "-", a dangling word),
   a setup ("…and I want to explain why.", a colon) or an "if" with no outcome.
3. Size: 10-55 words, at most 280 characters, clean; at most one highlight per
   `UNITS_PER_HIGHLIGHT` quote units of a source (the best ones).
4. Kind: not a pleasantry, an introduction or farewell, a sponsor read or logistics; an
   interviewer (a speaker whose turns mostly end in questions, or whose role says host)
   has a highlight only when it holds no question and does not lead into one.
5. Words print would keep but that read badly: "you know", a filler "like", ", right?",
   "I mean", two hedges (sort of, kind of, basically), "I think" twice, a stutter or
   false start the clean form cannot remove ("the if").

Rules that only demote a candidate ("may need context"): a pointer at something the
passage does not show ("this thing", "those models", "him" with no name before it,
"on top of it", "also", "you mentioned"). Such passages score under `STANDALONE` and are
drawn only after every passage that stands alone.

Candidates that pass are scored (substance up, hedges and narration down; see `_score`)
and chosen greedily by score without overlap.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from quotebot.bot.clean import clean_sentence_once, first_words, words
from quotebot.bot.ingest.sentences import sentence_spans
from quotebot.store.quotes import STANDALONE_SCORE
from quotebot.store.quotes import NewHighlight as Highlight

log = logging.getLogger(__name__)

MIN_WORDS = 10
MAX_WORDS = 55
MAX_CHARS = 280
MAX_SENTENCES = 3
# At most one highlight per this many quote units of a source (and at least MIN_KEPT).
UNITS_PER_HIGHLIGHT = 6
MIN_KEPT = 20
# Passages that stand alone score at least this; random and daily draws take them first.
STANDALONE = MIN_SCORE = STANDALONE_SCORE

_LEADING_MARKERS = re.compile(
    r"^(?:(?:(?:yeah|yep|yup|yes|and|so|um+|uh+|uhm|er+m?|hmm+)\b[,.!]?"
    r"|(?:like|right|well|okay|ok|oh|alright|ah|anyway|look|you know|i mean|all right)[,.!])"
    r"\s+)+",
    re.IGNORECASE,
)
_CONJUNCTIONS = frozenset("but because or nor yet plus which cause 'cause whereas although "
                          "though then not".split())
_REPLY_WORDS = frozenset("no nope exactly absolutely sure definitely totally correct true "
                         "indeed agreed yes yeah right okay ok".split())
_BACK_REFERENCES = frozenset("that this these those they them he she him her his their theirs "
                             "it its such both either neither same".split())
_LIST_STEPS = frozenset("another second third fourth fifth finally lastly next also too "
                        "again other otherwise besides additionally meanwhile instead "
                        "anyway number".split())
# "It's hard to…", "It turns out…": "it" that points forward, not back.
_FORWARD_IT = re.compile(
    r"^it(?:'s| is| was| will be| would be| can be| could be)?\s+(?:\w+\s+){0,3}?"
    r"(?:to|that|when|how|why|what|whether|if)\b|^it turns out\b|^it takes\b",
    re.IGNORECASE,
)
_POINTS_BACK = re.compile(r"\b(?:also|again|as well|either|anymore|instead)\b"
                          r"|\b(?:this|that) (?:is|was|'s|means|will)\b")
# "on top of it", "memorized it", "it was": an "it" that can only mean something said before.
_IT_OBJECT = re.compile(r"\b(?:of|on|to|with|about|in|into|from|at|for|memorized|use|do|did"
                        r"|make|made|build|built|get|got|see|saw|call|called) it\b|\bit was\b")
_EXISTENTIAL = re.compile(r"^(?:there|here)(?:'s| is| are| was| were| will| has| have)\b",
                          re.IGNORECASE)
_DANGLING_END = frozenset("the a an and or but of to with for in on at that which like "
                          "so because is are was were be my your our their its".split())
_SETUP = re.compile(
    r"^(?:(?:so|and|but|now|like),?\s+)?(?:think about|imagine|consider|look at|take|picture"
    r"|let me|let's|here's the thing|i want to|i'll give you|i will give you|i'd say"
    r"|i'll tell you|i will tell you|i can tell you)\b",
    re.IGNORECASE,
)
_SETUP_END = re.compile(
    r"\b(?:explain why|tell you why|here's why|here is why|as follows|an analogy|an example"
    r"|number (?:one|two|three|four|five))\W*$",
    re.IGNORECASE,
)
_SETUP_END_SPAN = 12  # the longest phrase above ("tell you why", "number three")


def _setup_end(text: str) -> bool:
    """Whether `_SETUP_END` matches `text`, searching only where a match can start.

    Only non-word characters may follow the phrase, so it ends at the last word character;
    a search from `_SETUP_END_SPAN` before that finds what a search of the whole sentence
    finds (`\\b` still sees the characters before the start), in a fraction of the time.
    """
    end = len(text)
    while end and not (text[end - 1].isalnum() or text[end - 1] == "_"):  # \w, exactly
        end -= 1
    return _SETUP_END.search(text, max(0, end - _SETUP_END_SPAN)) is not None
# A short first sentence that answers or agrees with something said before
# ("I don't think it's true at all.", "That's right.").
_LEANS_BACK = frozenset("it it's that that's this this's so they they're them".split())
_THIRD_PERSON = frozenset("they they're they've them their he he's him his she she's her".split())
_NOT_HIGHLIGHT = re.compile(
    r"\b(?:thank(?:s| you)\b|welcome (?:back|to)|please (?:join|welcome)|join(?:ed)? (?:me|us)"
    r"|(?:happy|glad|great|good|nice|excited|thrilled) to (?:be here|have you|see you|be with)"
    r"|joined (?:next )?by|our (?:next )?guest|today (?:i'm|we're|we are) (?:joined|talking)"
    r"|(?:this|today's) (?:episode|show|podcast) is|sponsor|brought to you|promo code"
    r"|use (?:the )?code|sign up|subscribe|newsletter|link in|show notes|\.com\b"
    r"|(?:take|have time for) (?:a few |some )?questions|where can (?:people|we|folks)"
    r"|find (?:you|more) online|follow (?:you|me|us) on|before we (?:go|wrap|start)"
    r"|(?:let's|we'll) (?:take a break|get started|wrap up|dive in|jump in)"
    r"|my name is|i'm your host|see you next|that's (?:all|it) for"
    r"|\bdot (?:com|org|net|io)\b|come say hi|stop by (?:and|to))",
)
# "Theo, okay, Garfield is on the list": an answer to someone in the room, by name (a
# capitalised word before a comma that is not a common English word).
_VOCATIVE = re.compile(r"([A-Z][a-z]+),\s")
_HEDGE_REJECT = re.compile(r"\b(?:i mean|i guess|or whatever|you see|if you will)\b")
_SOFT_HEDGES = re.compile(r"\b(?:sort of|kind of|basically)\b")
_CONVERSATION = re.compile(
    r"\b(?:you (?:mentioned|said|asked|brought up|were saying)|as i (?:said|mentioned)"
    r"|like i said|we (?:talked|were talking) about|earlier|(?:it's|that's|is|not) true"
    r"|like (?:this|that)|(?:this|that) (?:point|question|story|example|idea|one)"
    r"|(?:of|all|about|with|from|on|to) (?:that|this)(?= (?:is|are|was|were|will|has|have|had)\b"
    r"|[,.;:!?]|$)"
    r"|much the same|the same (?:thing|way)|(?:limit|point|thing) there)\b"
)
_DEMONSTRATIVE = re.compile(
    r"(?:^|(?<=\s))(\w+\s+)?(this|these|those|that)\s+(?:(?:sort|kind|type) of\s+)?"
    r"(?:(?:very|whole|same|new|early|big|little|first|other)\s+)*([a-z][a-z'-]+)"
)
# After these words "that" joins a clause ("I think that humans…"); it points at nothing.
_VAGUE_NOUNS = frozenset("thing things stuff way point time one".split())
_CLAUSE_THAT = frozenset("think thought say said know knew believe mean means is was are were "
                         "so such fact sure see saw feel felt hope guess realize realized show "
                         "showed shows found find idea expect expected ensure now given "
                         "than way sense point and but so or because".split())
_PRONOUN = re.compile(r"\b(he|him|his|she|her|they|them|their|theirs)\b", re.IGNORECASE)


def _unshown_reference(shown: str) -> str | None:
    """A pointer at something the passage never names: "this thing", "those models", "him"."""
    lowered = shown.lower()
    for match in _DEMONSTRATIVE.finditer(lowered):
        before, pointer, noun = match.group(1), match.group(2), match.group(3)
        if pointer == "that" and (before is None or before.strip() in _CLAUSE_THAT):
            continue
        if (noun in _STOP and noun not in _VAGUE_NOUNS) or noun in ("is", "was", "will", "would",
                                                                     "can"):
            continue
        if noun.rstrip("s") not in lowered[: match.start(2)]:
            return f"refers to something not shown (“{pointer} {noun}”)"
    for match in _PRONOUN.finditer(shown):
        if not _NAME.search(shown[: match.start()]) and not re.search(
            r"\b(?:people|person|someone|everyone|anyone|customers?|users?|researchers?|"
            r"companies|teams?|humans?|kids|engineers?|founders?)\b", lowered[: match.start()]
        ):
            return f"refers to someone not named (“{match.group(0)}”)"
    return None


_FALSE_START = re.compile(r"\b(?:the|a|an)\s+(?:the|a|an|if|and|or|but|of|to|is|was|you|i|we)\b")
_REPEAT = re.compile(r"\b(\w+)\s+\1\b")
_HOST_ROLE = re.compile(r"\b(?:host|moderator|interviewer|presenter|anchor|emcee|mc)\b",
                        re.IGNORECASE)
_HEDGE = re.compile(r"\b(?:sort of|kind of|i guess|i don't know|or something|stuff like that"
                    r"|whatnot|et cetera|i mean)\b")
_INSIGHT = re.compile(
    r"\bthe (?:key|secret|trick|thing|problem|reason|lesson|point|question|answer|goal"
    r"|challenge|bottleneck|difference) (?:is|was)\b|\bturns out\b|\bwhat matters\b"
    r"|\bthe way (?:to|you)\b|\bthe (?:best|only|most|hardest|biggest|first) "
)
_ABSOLUTES = frozenset("never always every nothing everything everyone nobody".split())
_COMPARISON_WORDS = frozenset("than more less fewer most least better worse best worst "
                              "versus vs instead rather".split())
_NUMBER_WORDS = frozenset("two three four five six seven eight nine ten twenty hundred "
                          "thousand million billion trillion percent half double twice".split())
_PRESENT_WORDS = frozenset("is are isn't aren't can can't will won't don't doesn't need needs "
                           "should must it's that's there's what's here's they're we're "
                           "you're".split())
_PAST_WORDS = frozenset("was were had did remember said went came told asked".split())
_NAME = re.compile(r"(?<=[\w,;] )[A-Z][\w'’-]+")
_FIRST_PERSON = frozenset("i me my mine we us our ours i'm i've i'd i'll we're we've".split())
_STOP = frozenset(
    """a an the and but or so because i you he she it we they me him her us them my your his
    its our their this that these those is are was were be been being am do does did have has
    had to of in on at for with about as like just really kind sort know mean think what how
    why when where who which there here then if not well oh okay right can could would should
    will it's that's i'm you're don't very much many more most some any all one thing things
    way lot going get got make made go say said see also even still actually basically
    something really from into out up down over than""".split()
)


@dataclass(frozen=True)
class Unit:
    """A stored quote unit as the selector reads it (an ingest's QuoteDraft serves too)."""

    speaker: str | None
    text: str
    position: int
    start: float | None = None


@dataclass(frozen=True)
class Verdict:
    """How a candidate passage fared: chosen or not, its score, and why."""

    text: str
    clean: str
    score: float
    reasons: tuple[str, ...]
    rejected: str | None = None
    standalone: bool = True

    @property
    def ok(self) -> bool:
        return self.rejected is None


class _Sentence:
    """A sentence of a turn, by position: its text is sliced when read, so a long turn is
    not held twice in memory."""

    __slots__ = ("_turn_text", "begin", "end")

    def __init__(self, turn_text: str, begin: int, end: int) -> None:
        self._turn_text = turn_text
        self.begin = begin
        self.end = end

    @property
    def text(self) -> str:
        return self._turn_text[self.begin : self.end]


@dataclass(frozen=True)
class _Turn:
    speaker: str | None
    text: str
    units: tuple[Unit, ...]
    offsets: tuple[int, ...]  # where each unit begins in `text`
    sentences: tuple[_Sentence, ...]
    opens_or_closes: bool = False  # the source's first or last turn
    # Per-sentence results (sentence index -> name -> result), each computed once: a
    # sentence takes part in up to three candidate passages as their first sentence and
    # in two more as a later one. Kept here rather than in caches keyed by text, which
    # grew with every file ingested and hardly ever met a sentence twice.
    memo: dict[int, dict] = field(default_factory=dict, compare=False, repr=False)


def select(units: Sequence[Unit], roles: Mapping[str, str | None] | None = None
           ) -> list[Highlight]:
    """The highlights of one source, best first, never overlapping.

    Args:
        units: The source's quote units in position order.
        roles: Speaker name -> role, where known ("Host" marks an interviewer).

    Returns:
        Highlights ordered by score, highest first.
    """
    hosts = interviewers(units, roles)
    # The best `limit` only, kept in a heap: most of a conversation is not highlight
    # material, and a file made of nothing but quotable lines must not fill memory.
    limit = max(MIN_KEPT, len(units) // UNITS_PER_HIGHLIGHT)
    chosen: list[tuple[float, int, Highlight]] = []
    serial = itertools.count()
    for turn in _turns(units):  # one turn at a time: a 50 MB file must not be copied whole
        candidates = []
        host = turn.speaker in hosts
        for i, j in _plausible_spans(turn):
            verdict = judge(turn, i, j, host=host)
            if verdict.ok and verdict.score > 0 and (verdict.score >= MIN_SCORE
                                                     or not verdict.standalone):
                candidates.append((verdict.score, i, j, verdict))
        taken: set[int] = set()
        for score, i, j, verdict in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
            if taken.intersection(range(i, j + 1)):
                continue
            taken.update(range(i, j + 1))
            # Ties go to the earlier passage; the serial number keeps entries unique.
            entry = (score, -next(serial), _highlight(turn, i, j, verdict))
            if len(chosen) < limit:
                heapq.heappush(chosen, entry)
            elif entry[:2] > chosen[0][:2]:
                heapq.heapreplace(chosen, entry)
    return sorted((h for _, _, h in chosen), key=lambda h: (-h.score, h.first))


def _plausible_spans(turn: _Turn) -> Iterator[tuple[int, int]]:
    """The spans (i, j) of sentences of `turn` worth judging, in order.

    Most sentences can neither open nor close a passage, and one sentence with a problem
    of its own (filler, a pleasantry…) rules out every passage holding it: these are
    decided once per sentence, so only the few plausible spans are judged in full. Every
    span left out is one `judge` rejects (the checks are the same, from `_quick_reject`).
    """
    sentences = turn.sentences
    count = len(sentences)
    for i in range(count):
        ends = [j for j in range(i, min(i + MAX_SENTENCES, count))
                if _closing_at(turn, j) is None]
        if ends and _opening_at(turn, i) is None and _problem_at(turn, i, True) is None:
            multi = sentences[i].text.count(" ") >= 4  # else "starts on a fragment"
            for j in range(i, ends[-1] + 1):
                if j > i:
                    if not multi or _only_markers(turn, j) or _problem_at(turn, j, False):
                        break  # every longer span holds sentence j too
                    if sentences[j].text.count(" ") < 2:
                        continue  # "ends on a fragment"
                if j in ends:
                    yield i, j
        # Spans from here on start after sentence i: what is known of it is done with.
        turn.memo.pop(i, None)


def explain(units: Sequence[Unit], position: int,
            roles: Mapping[str, str | None] | None = None) -> list[Verdict]:
    """Verdicts for the passages that start in the unit at `position` (for `--why`)."""
    hosts = interviewers(units, roles)
    for turn in _turns(units):
        for k, unit in enumerate(turn.units):
            if unit.position != position:
                continue
            begin = turn.offsets[k]
            end = begin + len(unit.text)
            out = []
            for i, sentence in enumerate(turn.sentences):
                if begin <= sentence.begin < end:
                    for j in range(i, min(i + MAX_SENTENCES, len(turn.sentences))):
                        out.append(judge(turn, i, j, host=turn.speaker in hosts))
            return out
    return []


def interviewers(units: Sequence[Unit], roles: Mapping[str, str | None] | None = None
                 ) -> frozenset[str]:
    """Speakers whose role says host, and those who mostly ask: at least 3 turns, 40% or
    more of them ending in a question."""
    hosts = {name for name, role in (roles or {}).items() if role and _HOST_ROLE.search(role)}
    asked: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for k, unit in enumerate(units):
        last = k + 1 == len(units) or units[k + 1].speaker != unit.speaker \
            or units[k + 1].position != unit.position + 1
        if unit.speaker is None or not last:
            continue
        counts = asked[unit.speaker]
        counts[0] += 1
        counts[1] += unit.text.rstrip("\"'”’)] ").endswith("?")
    return frozenset(hosts | {s for s, (n, q) in asked.items() if n >= 3 and q >= 0.4 * n})


# ---- turns and sentences ---------------------------------------------------------------


def _turns(units: Sequence[Unit]) -> Iterator[_Turn]:
    """The turns (runs of one speaker), built one at a time; the first and the last are
    marked, since an interviewer's opens and closes the show."""
    groups = _groups(units)
    previous = next(groups, None)
    first = True
    for group in groups:
        yield _turn(previous, opens_or_closes=first)
        previous, first = group, False
    if previous is not None:
        yield _turn(previous, opens_or_closes=True)


def _groups(units: Sequence[Unit]) -> Iterator[list[Unit]]:
    group: list[Unit] = []
    for unit in units:
        if group and (unit.speaker != group[-1].speaker or unit.position != group[-1].position + 1):
            yield group
            group = []
        group.append(unit)
    if group:
        yield group


def _turn(group: list[Unit], *, opens_or_closes: bool = False) -> _Turn:
    texts = [" ".join(u.text.split()) for u in group]
    offsets, pos = [], 0
    for text in texts:
        offsets.append(pos)
        pos += len(text) + 1
    text = " ".join(texts)
    sentences = tuple(_Sentence(text, b, e) for b, e in sentence_spans(text))
    return _Turn(group[0].speaker, text, tuple(group), tuple(offsets), sentences,
                 opens_or_closes)


def _highlight(turn: _Turn, i: int, j: int, verdict: Verdict) -> Highlight:
    begin, end = turn.sentences[i].begin, turn.sentences[j].end
    first = _unit_at(turn, begin)
    last = _unit_at(turn, end - 1)
    return Highlight(turn.speaker, turn.units[first].position, turn.units[last].position,
                     turn.text[begin:end], _time_at(turn, first, begin), verdict.score,
                     verdict.reasons)


def _unit_at(turn: _Turn, offset: int) -> int:
    k = 0
    while k + 1 < len(turn.offsets) and turn.offsets[k + 1] <= offset:
        k += 1
    return k


def _time_at(turn: _Turn, k: int, offset: int) -> float | None:
    """The start time at `offset`, interpolated inside unit k by characters."""
    start = turn.units[k].start
    if start is None:
        return None
    nxt = turn.units[k + 1].start if k + 1 < len(turn.units) else None
    if nxt is None or nxt <= start:
        return start
    size = max(1, len(turn.units[k].text))
    return int((start + (offset - turn.offsets[k]) / size * (nxt - start)) * 10) / 10


# ---- judging ---------------------------------------------------------------------------


def judge(turn: _Turn, i: int, j: int, *, host: bool = False) -> Verdict:
    """The verdict on sentences i..j of `turn` as a highlight."""
    verbatim = turn.text[turn.sentences[i].begin : turn.sentences[j].end]
    rejected = _quick_reject(turn, i, j)
    if rejected:
        return Verdict(verbatim, "", 0.0, (), rejected)
    # The same result as clean(verbatim), from the sentences' clean forms; and the same
    # words as words(shown): a word never spans the space between two pieces.
    pieces = [_cleaned(turn, k, opening=k == i) for k in range(i, j + 1)]
    shown = " ".join(piece for piece, _ in pieces if piece)
    tokens = [word for _, found in pieces for word in found]
    rejected = _reject(turn, j, shown, host, tokens)
    if rejected:
        return Verdict(verbatim, shown, 0.0, (), rejected)
    score, reasons = _score(shown, host, tokens)
    doubt = _doubt(turn, i, j, shown)
    if doubt:
        # Kept, but below every passage that stands alone: drawn once those are used up.
        score = round(min(score / 2, STANDALONE - 0.01), 3) if score >= MIN_SCORE else 0.0
        reasons = (*reasons, f"may need context: {doubt}")
    return Verdict(verbatim, shown, score, reasons, standalone=doubt is None)


# ---- per-sentence results, memoised on the turn ----------------------------------------


def _facts(turn: _Turn, k: int) -> dict:
    facts = turn.memo.get(k)
    if facts is None:
        facts = turn.memo[k] = {}
    return facts


def _fact(turn: _Turn, k: int, key: str, compute: Callable[[], Any]) -> Any:
    """Sentence k's fact `key`, computed once per turn (many spans share the sentence)."""
    facts = _facts(turn, k)
    if key not in facts:
        facts[key] = compute()
    return facts[key]


def _opening_at(turn: _Turn, k: int) -> str | None:
    """Why no passage can start with sentence k (`_opening_problem`), or None."""
    midway = k == 0 and turn.units[0].text[:1].islower()
    return _fact(turn, k, "open",
                 lambda: _opening_problem(turn.sentences[k].text, midway=midway))


def _closing_at(turn: _Turn, k: int) -> str | None:
    """Why no passage can end with sentence k (`_closing_problem`), or None."""
    return _fact(turn, k, "close", lambda: _closing_problem(turn.sentences[k].text))


def _problem_at(turn: _Turn, k: int, opening: bool) -> str | None:
    """What rules sentence k out of any passage (`_sentence_problem`), or None."""
    return _fact(turn, k, "problem opening" if opening else "problem",
                 lambda: _sentence_problem(turn.sentences[k].text, opening=opening))


def _cleaned(turn: _Turn, k: int, *, opening: bool) -> tuple[str, list[str]]:
    """Sentence k's clean form and its words."""

    def clean() -> tuple[str, list[str]]:
        piece = clean_sentence_once(turn.sentences[k].text, opening=opening)
        return piece, words(piece)

    return _fact(turn, k, "clean opening" if opening else "clean", clean)


def _only_markers(turn: _Turn, k: int) -> bool:
    """Whether sentence k is nothing but reply words and markers ("Yeah.", "Right, so.")."""
    return _fact(turn, k, "markers", lambda: _LEADING_MARKERS.sub(
        "", turn.sentences[k].text + " ").strip() == "")


def _doubt_at(turn: _Turn, k: int) -> str | None:
    """Why a passage opening with sentence k may need what came before (`_opening_doubt`)."""
    return _fact(turn, k, "doubt", lambda: _opening_doubt(turn.sentences[k].text))


def _last_question(turn: _Turn) -> int:
    """The index of the turn's last sentence that ends in a question mark, or -1."""
    facts = _facts(turn, -1)  # the turn's own facts, under an index no sentence has
    if "last question" not in facts:
        facts["last question"] = next(
            (k for k in range(len(turn.sentences) - 1, -1, -1)
             if turn.sentences[k].text.rstrip("\"'”’)] ").endswith("?")), -1)
    return facts["last question"]


def _quick_reject(turn: _Turn, i: int, j: int) -> str | None:
    """The rejections that need no cleaning of the whole passage (most candidates)."""
    return _edge_problem(turn, i, j) or _inner_problem(turn, i, j) or _size_problem(turn, i, j)


def _edge_problem(turn: _Turn, i: int, j: int) -> str | None:
    """How sentences `i`..`j` start and end."""
    problem = _opening_at(turn, i)
    if problem:
        return problem
    if j > i and turn.sentences[i].text.count(" ") < 4:
        return "starts on a fragment"
    problem = _closing_at(turn, j)
    if problem:
        return problem
    if j > i and turn.sentences[j].text.count(" ") < 2:
        return "ends on a fragment"
    return None


def _inner_problem(turn: _Turn, i: int, j: int) -> str | None:
    """A reply word between the sentences, or a problem of one of them."""
    for k in range(i + 1, j + 1):
        if _only_markers(turn, k):
            return "a reply word in the middle (“" + turn.sentences[k].text + "”)"
    for k in range(i, j + 1):
        problem = _problem_at(turn, k, k == i)
        if problem:
            return problem
    return None


def _size_problem(turn: _Turn, i: int, j: int) -> str | None:
    """Questions, trail-offs and sizes far outside the bounds, before any cleaning."""
    raw = turn.text[turn.sentences[i].begin : turn.sentences[j].end]
    if raw.count("?") > 1:
        return "mostly questions"
    if len(raw) > 2 * MAX_CHARS:
        return f"too long ({len(raw)} characters; at most {MAX_CHARS})"
    if "..." in raw or "…" in raw:
        return "trails off mid-passage"
    count = sum(s.text.count(" ") + 1 for s in turn.sentences[i : j + 1])
    if count < MIN_WORDS:
        return f"too short ({count} words; at least {MIN_WORDS})"
    if count > 2 * MAX_WORDS:
        return f"too long ({count} words; at most {MAX_WORDS})"
    return None


def _reject(turn: _Turn, j: int, shown: str, host: bool,
            tokens: Sequence[str] | None = None) -> str | None:
    count = len(words(shown) if tokens is None else tokens)
    if count < MIN_WORDS:
        return f"too short ({count} words; at least {MIN_WORDS})"
    if count > MAX_WORDS:
        return f"too long ({count} words; at most {MAX_WORDS})"
    if len(shown) > MAX_CHARS:
        return f"too long ({len(shown)} characters; at most {MAX_CHARS})"
    if host and "?" in shown:
        return "an interviewer's prompt"
    if host and turn.opens_or_closes:
        return "the interviewer's introduction or farewell"
    if shown.count("?") > 1:
        return "mostly questions"
    if match := _REPEAT.search(shown.lower()):
        return f"reads as a stutter (“{match.group(0)}”)"
    if "..." in shown or "…" in shown:
        return "trails off mid-passage"
    if host and _last_question(turn) > j:
        return "leads into the interviewer's question"
    lowered = shown.lower()
    if lowered.count("i think") > 1:
        return "filler left in the words (“I think” twice)"
    if len(_SOFT_HEDGES.findall(lowered)) > 1:
        return "filler left in the words (hedges: “sort of”, “kind of”, “basically”)"
    return None


def _doubt(turn: _Turn, i: int, j: int, shown: str) -> str | None:
    """Why the passage may not stand alone (it points at something it does not show)."""
    if doubt := _doubt_at(turn, i):
        return doubt
    if match := _CONVERSATION.search(shown.lower()):
        return f"refers to the conversation (“{match.group(0)}”)"
    return _unshown_reference(shown)


_BEFORE_FILLER_LIKE = frozenset("that and but so or because just i we you they the a an "
                                 "was were of".split())
_LIKE_FOLLOWERS = frozenset("a an the this that these those it them him her me us you to what how "
                            "my your our their his its something someone anything any every "
                            "each some one two".split())


def _sentence_problem(text: str, *, opening: bool) -> str | None:
    """What rules this sentence out of any passage, whatever surrounds it (None if nothing).

    These checks read the exact words: cleaning never makes or removes the phrases they
    look for, except a marker opening the passage, which is skipped when `opening`.
    """
    filler = _filler(text, opening=opening)
    if filler:
        return f"filler left in the words (“{filler}”)"
    lowered = text.lower()
    if opening:
        lowered = _LEADING_MARKERS.sub("", lowered, count=1)
    if match := _NOT_HIGHLIGHT.search(lowered):
        return f"pleasantry, intro/outro, sponsor or logistics (“{match.group(0)}”)"
    if match := _HEDGE_REJECT.search(lowered):
        return f"filler left in the words (“{match.group(0)}”)"
    if match := _FALSE_START.search(lowered):
        return f"a false start left in the words (“{match.group(0)}”)"
    if "or something" in lowered or "and stuff" in lowered:
        return "trails off (“or something”)"
    if _setup_end(lowered):
        return "a setup whose point is not in the passage"
    return None


def _filler(text: str, *, opening: bool) -> str | None:
    """The filler this sentence would still show when clean ("you know", a filler
    "like", a tag ", right?"), or None. `opening`: a leading marker is dropped by clean."""
    lower = text.lower()
    skip = len(_LEADING_MARKERS.match(text)[0]) if opening and _LEADING_MARKERS.match(text) else 0
    if "you know" in lower[skip:]:
        return "you know"
    if ", right," in lower or ", right?" in lower:
        return "right"
    at = lower.find("like", skip)
    while at != -1:
        end = at + 4
        if (at == 0 or not lower[at - 1].isalpha()) and (end == len(lower)
                                                         or not lower[end].isalnum()):
            before = lower[:at].rstrip().rsplit(" ", 1)[-1]
            after = text[end:].lstrip(" ").split(" ", 1)[0]
            wish = before in ("would", "i'd", "you'd", "we'd", "they'd", "he'd", "she'd")
            comparison = (not lower[end:end + 1] == ",") and (
                after.strip("\"“”").lower() in _LIKE_FOLLOWERS
                or (after[:1].isupper() and after != "I") or after[:1].isdigit()
                or after[:1] in "\"“")
            if before in _BEFORE_FILLER_LIKE or not (wish or comparison):
                return "like"
        at = lower.find("like", end)
    return None


def _first_word(text: str) -> str:
    head = text.split(" ", 1)[0].strip(",.;:!?\"'“”‘’()[]—–-").lower()
    return head.replace("’", "'")


def _opening_problem(text: str, *, midway: bool = False) -> str | None:
    """Why a passage cannot start with this sentence, or None."""
    if midway or text[:1].islower():
        return "starts mid-sentence"
    # Judge the words after a reply word or marker that the clean form drops (a regex
    # instead of cleaning: this runs for every sentence of every file ingested).
    shown = _LEADING_MARKERS.sub("", text, count=1) or text
    word = _first_word(shown)
    if word in _CONJUNCTIONS:
        return f"starts with a conjunction (“{word}”)"
    if word in _REPLY_WORDS:
        return f"starts with a reply word (“{word}”)"
    if word in _LIST_STEPS:
        return f"starts mid-list (“{word}”)"
    lowered = shown.lower()
    if _SETUP.match(shown) or lowered.startswith(("you think about", "if you think about")):
        return "starts with a setup"
    if word == "like":
        return "starts with a filler (“like”)"
    if (match := _VOCATIVE.match(shown)) and match.group(1).lower() not in common_words():
        return f"addresses someone by name (“{match.group(1)}”)"
    opening = first_words(shown, 9)  # enough to tell whether there are at most 8
    if len(opening) <= 8 and not _LEANS_BACK.isdisjoint(opening):
        return "a short reply to what came before"
    if word in ("there", "here") and _EXISTENTIAL.match(lowered):
        return None
    if word in ("it", "it's") and _FORWARD_IT.match(lowered):
        return None
    if word.split("'")[0] in _BACK_REFERENCES or word in ("there", "here", "then"):
        return f"starts with a back-reference (“{word}”)"
    return None


def _opening_doubt(text: str) -> str | None:
    """Why a passage opening with this sentence may need what came before, or None."""
    shown = _LEADING_MARKERS.sub("", text, count=1) or text
    lowered = shown.lower()
    if match := _POINTS_BACK.search(lowered):
        return f"points back at what came before (“{match.group(0)}”)"
    if match := _IT_OBJECT.search(lowered):
        return f"refers back to something not named (“{match.group(0)}”)"
    pronoun = next((w for w in first_words(shown, 12) if w in _THIRD_PERSON), None)
    if pronoun and not _NAME.search(shown.split(pronoun, 1)[0] if pronoun in shown else ""):
        return f"refers back to someone or something not named (“{pronoun}”)"
    return None


def _closing_problem(text: str) -> str | None:
    """Why a passage cannot end with this sentence, or None."""
    last = text.rstrip("\"'”’)] ")
    if last.endswith("?"):
        return "ends on a question"
    if last.endswith(("…", "...", "-", "—", "–")):
        return "trails off"
    if not last.endswith((".", "!")):
        return "ends mid-sentence"
    final = last.rsplit(" ", 1)[-1].strip(".!,;:\"'”’").lower()
    if final in _DANGLING_END:
        return "trails off"
    if _SETUP.match(text) or _setup_end(last):
        return "ends on a setup"
    lowered = last.lower()
    cond = max(lowered.rfind(" if "), -1 if not lowered.startswith("if ") else 0)
    if cond >= 0 and "," not in lowered[cond:] and " then " not in lowered[cond:]:
        return "ends mid-thought (an “if” with no outcome)"
    return None


class _Notes:
    """A score being built: each note moves it and says why (for `--why`)."""

    def __init__(self) -> None:
        self.score = 0.5
        self.reasons: list[str] = []

    def __call__(self, delta: float, why: str) -> None:
        self.score += delta
        self.reasons.append(f"{'+' if delta >= 0 else '−'}{abs(delta):.2f} {why}")


def _score(shown: str, host: bool, tokens: Sequence[str] | None = None
           ) -> tuple[float, tuple[str, ...]]:
    """A score in [0, 1] and the reasons for it (what raised and lowered it); `tokens`:
    words(shown), when the caller has them."""
    if tokens is None:
        tokens = words(shown)
    note = _Notes()
    vocabulary = set(tokens)
    lowered = shown.lower()
    _note_substance(note, shown, tokens, vocabulary, lowered)
    _note_doubts(note, shown, tokens, vocabulary, lowered, host)
    return max(0.0, min(1.0, round(note.score, 3))), tuple(note.reasons)


def _note_substance(note: _Notes, shown: str, tokens: Sequence[str], vocabulary: set[str],
                    lowered: str) -> None:
    """What raises a passage: size, numbers, names, comparisons, claims, rare words."""
    if 18 <= len(tokens) <= 40:
        note(0.03, "reads at a glance")
    if not _NUMBER_WORDS.isdisjoint(vocabulary) or any(map(str.isdigit, shown)):
        note(0.03, "a number")
    names = [w for w in _NAME.findall(shown) if w not in ("I", "I'm")]
    if names:
        note(min(0.06, 0.03 * len(set(names))), "a named thing")
    if not _COMPARISON_WORDS.isdisjoint(vocabulary):
        note(0.08, "a comparison")
    if not _ABSOLUTES.isdisjoint(vocabulary) or _INSIGHT.search(lowered):
        note(0.08, "a general claim")
    if not _PRESENT_WORDS.isdisjoint(vocabulary):
        note(0.05, "present tense")
    rare = _rare_words(vocabulary)
    if rare:
        note(min(0.12, 0.03 * rare), f"{rare} distinctive word{'s' if rare != 1 else ''}")


def _note_doubts(note: _Notes, shown: str, tokens: Sequence[str], vocabulary: set[str],
                 lowered: str, host: bool) -> None:
    """What lowers a passage: hedges, narration, self-reference, thin content, questions."""
    count = len(tokens)
    thinks = lowered.count("i think")
    if thinks > 1:
        note(-0.04 * (thinks - 1), "hedged with “I think”")
    if "going" in vocabulary and "we're" in vocabulary:
        note(-0.05, "narrates plans")
    hedges = len(_HEDGE.findall(lowered))
    if hedges:
        note(-0.07 * hedges, "hedging")
    # map over a set's __contains__ counts in C: this runs for every passage scored.
    first_person = sum(map(_FIRST_PERSON.__contains__, tokens))
    if first_person / count > 0.12:
        note(-0.08, "about the speaker more than the idea")
    if sum(map(_PAST_WORDS.__contains__, tokens)) >= 2:
        note(-0.08, "narration in the past")
    content = count - sum(map(_STOP.__contains__, tokens))
    if content / count < 0.35:
        note(-0.1, "few content words")
    if "?" in shown:
        note(-0.05, "holds a question")
    if host:
        note(-0.05, "said by the interviewer")


def _rare_words(tokens: Sequence[str]) -> int:
    """How many distinct words are uncommon in English (Zipf frequency under 3.8)."""
    common = common_words()
    return sum(1 for t in set(tokens) if len(t) > 3 and t not in common and t not in _STOP)


RARE_ZIPF = 3.8


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The English words whose Zipf frequency is at least `RARE_ZIPF`, loaded once per process.

    A word's Zipf frequency is log10 of its uses per billion words (0 if unseen), as
    wordfreq's frequency dict gives it; decided here per frequency bucket of wordfreq's list
    instead of per word looked up: a set of ~10k words instead of a 40 MB dict of 320k, and
    no logarithm per word of every passage scored.
    """
    import wordfreq  # loads its word list on first use only

    common: set[str] = set()
    # wordfreq's list holds one bucket of words per centibel of frequency, most frequent
    # first; get_frequency_dict gives every word of bucket i the frequency cB_to_freq(-i),
    # a later bucket winning for a word listed twice.
    for index, bucket in enumerate(wordfreq.get_frequency_list("en")):
        frequency = wordfreq.cB_to_freq(-index)
        if frequency and math.log10(frequency * 1e9) >= RARE_ZIPF:
            common.update(bucket)
        else:
            common.difference_update(bucket)
    # The list is cached by wordfreq for the life of the process (20+ MB); nothing else here
    # reads it.
    wordfreq.get_frequency_list.cache_clear()
    return frozenset(common)
