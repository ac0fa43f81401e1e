"""How worth reading a quote unit is on its own, as a score in [0, 1].

Random and daily posts draw from units scoring at least `WORTH_READING` (0.5).

Rubric, applied in this order (words are the unit's space-separated tokens):

1. Length sets the base: 1-2 words 0.05, 3-5 words 0.25, 6-9 words 0.4,
   10-60 words 0.75, 61-80 words 0.6, longer 0.45. Ten to sixty words is a thought
   someone can read at a glance.
2. Form: +0.1 for a complete unit (whole sentences, the last ending in . ! or ?),
   -0.2 for an incomplete one (cut mid-sentence or never punctuated), and -0.4 for
   one trailing off in an ellipsis; +0.05 for a capitalised start; -0.45 for a
   lowercase start, which is a dangling fragment.
3. Dangling openers: "and", "but", "or", "so", "because", "which", "like", "cause"
   cost 0.25 in lower case (a piece of someone else's sentence) and 0.15 capitalised
   ("So, the bottleneck was compute." is normal speech, but leans on what came before);
   a backchannel opener ("Yeah. And ...", "Right, ...") costs 0.05.
4. Disfluency: um/uh/er/hmm cost 2.5 x their share of the words (at most 0.4);
   "you know" beyond the first costs 0.1 each; a stuttered repeat ("I I",
   "what what") costs 0.12 each (at most 0.4).
5. Context-bound questions: a question of at most 8 words ("What do you mean?")
   costs 0.35, of 9-14 words 0.3; a longer one 0.2 (questions are mostly prompts).
6. Caps: a unit made only of filler and backchannel words ("Yeah.", "Right, right.",
   "Okay, cool.") scores at most 0.1; a unit of at most 12 words holding a pleasantry
   ("Thank you so much.", "Thanks for having me.", "I'd be happy to be here.",
   "Welcome to the show.") at most 0.15;
   a short unit (under 15 words) that is at least 80% function words loses 0.2.
"""

from __future__ import annotations

import logging
import re

from quotebot.store.schema import GOOD_QUOTABILITY

log = logging.getLogger(__name__)

WORTH_READING = GOOD_QUOTABILITY  # the store's partial indexes hold the quotes above it

_WORD = re.compile(r"[\w']+")
_CLOSERS = "\"'”’»)] "
_OPENING = "\"'“‘([«¿¡ -"
_TERMINAL = frozenset(".!?…")

# Hesitation sounds (" um", " uhh", " erm") and a word said twice in a row (" i i",
# " what what"; possessive, so it never backtracks). Both start at a space, which
# keeps the scans fast; two simple patterns beat one with an alternation.
_FILLER_SOUND = re.compile(r" (?:u[mh]|er|ah|hm|mm|mh)[mh]*(?![\w'])")
_STUTTER = re.compile(r" ([a-z']++) \1\b")
# Repeats that are grammar, not stutter.
_FINE_REPEATS = frozenset("very really that had no bye so more many ha".split())
_OPENERS = frozenset({"and", "but", "or", "so", "because", "which", "like", "cause", "'cause"})
_FILLER = frozenset(
    """yeah yes yep yup yea right okay ok sure hey hi hello thanks thank you so much very
    absolutely totally exactly definitely indeed correct true uh um umm uhm hmm mm mhm
    huh wow oh ah great cool good nice alright all well interesting fair enough no nope
    of course i agree see got it that's it's awesome amazing perfect fantastic
    lol haha really""".split()
)
# The core of a pleasantry; a short unit holding one is a pleasantry, whatever else
# ("Absolutely. I'd be happy to be here.", "Thank you, Nadia. It's a pleasure to be here.").
_PLEASANTRY = re.compile(
    r"\b(?:thank(?:s| you)\b"
    r"|(?:great|good|nice|fun|lovely|a pleasure|a privilege|an honou?r|happy|glad|thrilled"
    r"|excited|delighted) (?:to (?:be here|see you|meet you|have you|talk to you|chat"
    r"|be with you|be on)|being here)"
    r"|welcome (?:back|to (?:the )?(?:show|podcast|program|programme|stage|panel))"
    r"|(?:good|great) (?:question|point)"
    r"|good ?bye|bye\b|cheers\b|take care|see you (?:soon|later|next time|then))"
)
# Backchannel words that open a unit ("Yeah. And ..."): the unit leans on the talk.
_BACKCHANNEL = frozenset("yeah yes yep yup right okay ok sure absolutely exactly totally".split())
_FUNCTION_WORDS = frozenset(
    """a an the and but or so because i you he she it we they me him her us them my your
    his its our their this that these those is are was were be been being am do does did
    have has had to of in on at for with about as like just really kind sort know mean
    think what how why when where who which there here then if not yeah well oh okay
    right um uh can could would should will it's that's i'm you're don't""".split()
)


# Base score by word count (index = words, up to 80).
_BASE = tuple(
    0.05 if n <= 2 else 0.25 if n <= 5 else 0.4 if n <= 9 else 0.75 if n <= 60 else 0.6
    for n in range(81)
)
_LONG_BASE = 0.45
_OPENER_PUNCT = ",.;:!?"


def score(text: str, *, complete: bool) -> float:
    """Score how well a unit stands alone as a quote (see the module docstring).

    Args:
        text: The unit's text.
        complete: Whether the unit is made of whole sentences (not a cut piece).

    Returns:
        A score in [0, 1]; 0.5 and above is worth reading on its own.
    """
    text = " ".join(text.split())
    if not text:
        return 0.0
    fillers, stutters = noise_marks(text)
    return score_counted(text, complete, len(fillers), len(stutters))


def noise_marks(text: str) -> tuple[list[int], list[int]]:
    """Positions of hesitation sounds and of stuttered repeats in `text`.

    The segmenter scans a whole transcript once and counts the marks falling in each
    unit, which is cheaper than scanning unit by unit.

    Args:
        text: Text with whitespace collapsed to single spaces.

    Returns:
        (filler positions, stutter positions), each sorted.
    """
    # The patterns start at a space; a leading one catches the first word, and makes
    # a match's start the position of its word in `text`.
    lower = _spaced_lower(text)
    fillers = [match.start() for match in _FILLER_SOUND.finditer(lower)]
    stutters = [
        match.start() for match in _STUTTER.finditer(lower) if match.group(1) not in _FINE_REPEATS
    ]
    return fillers, stutters


# Characters lowered at a time by `_spaced_lower`.
_LOWER_PIECE = 16_384


def _spaced_lower(text: str) -> str:
    """`" " + text.lower()`, lowered a piece at a time.

    For text that is not ASCII, str.lower works in a buffer of 12 bytes a character: on a
    whole transcript that was the peak of a file's ingest (a 100 KB file: 1.2 MB). Pieces
    are cut before a space, where no character's lower case depends on its neighbours (a
    final sigma looks back and ahead only until a space), so the result is the same.
    """
    if text.isascii():
        return " " + text.lower()
    pieces, begin = [" "], 0
    while begin < len(text):
        end = text.find(" ", begin + _LOWER_PIECE)
        if end == -1:
            end = len(text)
        pieces.append(text[begin:end].lower())
        begin = end
    return "".join(pieces)


def _by_ending(value: float, text: str, complete: bool, last: str) -> float:
    """A finished statement gains; a trail-off or an unfinished unit loses."""
    if complete and last in _TERMINAL:
        value += 0.1
        if last == "…" or text.endswith("...", 0, len(text.rstrip(_CLOSERS))):
            value -= 0.4  # trailing off: the thought is not finished
    else:
        value -= 0.2
    return value


def _by_opening(value: float, text: str) -> float:
    """A capital start gains; a lower-case start, an opener or a backchannel loses."""
    head = text[0]
    if head in _OPENING:
        head = text.lstrip(_OPENING)[:1]
    space = text.find(" ")
    first = (text[:space] if space > 0 else text).rstrip(_OPENER_PUNCT).lower()
    if head.islower():
        value -= 0.7 if first in _OPENERS else 0.45
    else:
        if head.isupper() or head.isdigit():
            value += 0.05
        if first in _OPENERS:
            value -= 0.15
        elif first in _BACKCHANNEL:
            value -= 0.05
    return value


def _short_unit(value: float, text: str, n: int) -> float:
    """Units under 15 words: filler only, a pleasantry, or mostly function words."""
    words = _WORD.findall(text.lower())
    if n <= 12 and _FILLER.issuperset(words):
        value = min(value, 0.1)
    elif n <= 12 and _PLEASANTRY.search(text.lower()):
        value = min(value, 0.15)
    if words and sum(map(_FUNCTION_WORDS.__contains__, words)) >= 0.8 * len(words):
        value -= 0.2
    return value


def score_counted(text: str, complete: bool, fillers: int, stutters: int) -> float:
    """`score` for non-empty, whitespace-collapsed text whose noise is already counted.

    Args:
        text: The unit's text, whitespace collapsed to single spaces.
        complete: Whether the unit is made of whole sentences.
        fillers: How many hesitation sounds it holds (see `noise_marks`).
        stutters: How many stuttered repeats it holds.

    Returns:
        The score in [0, 1], rounded to 3 decimals.
    """
    # This runs once per unit of every file ingested: str methods only, and the
    # word-level checks only for the short units they concern. Each step adjusts the
    # value in turn (the same order of float operations as ever).
    n = text.count(" ") + 1
    value = _BASE[n] if n <= 80 else _LONG_BASE
    last = text[-1]
    if last in _CLOSERS:
        last = text.rstrip(_CLOSERS)[-1:]
    value = _by_ending(value, text, complete, last)
    value = _by_opening(value, text)
    if fillers:
        value -= min(0.4, 2.5 * fillers / n)
    if stutters:
        value -= min(0.4, 0.12 * stutters)
    if "ou know" in text:
        you_know = text.lower().count("you know")
        if you_know > 1:
            value -= 0.1 * (you_know - 1)
    if last == "?":
        value -= 0.35 if n <= 8 else 0.3 if n <= 14 else 0.2
    if n < 15:
        value = _short_unit(value, text, n)
    if value <= 0.0:
        return 0.0
    if value >= 1.0:
        return 1.0
    return int(value * 1000 + 0.5) / 1000
