"""Clean verbatim: a quote as print shows speech, leaving out only what was never a word.

The clean form drops hesitation sounds (um, uh, er, hmm), collapses stutters and false
starts ("I'm I'm" -> "I'm", "to, to" -> "to", "a lo- a lot" -> "a lot", "there was a,
there was an" -> "there was an"), drops a reply word or discourse marker that opens the
quote (Yeah, So, And, You know, I mean, Like, Right, Well, Okay, Oh, Honestly) and
capitalises the word that then opens it, and leaves out stage directions ([laughs],
(crosstalk), (inaudible)). Nothing else changes: no word is added,
replaced or moved, so the clean words are always a subsequence of the verbatim words
(`is_subsequence` checks it; the tests prove it over the bundled corpus and generated
text). Only punctuation next to a dropped word is tidied, and one letter's case.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from quotebot.bot.ingest.sentences import sentence_spans

log = logging.getLogger(__name__)

# A token is a whitespace-separated piece: leading punctuation, a core, trailing punctuation.
_PARTS = re.compile(r"^([^\w]*)(.*?)([^\w]*)$", re.DOTALL)
_WORD = re.compile(r"\w+(?:['’]\w+)*")

HESITATIONS = frozenset(
    "um umm ummm uh uhh uhhh uhm er erm err hmm hmmm hm mm mmm mhm".split()
)
# Repeats that are grammar or emphasis, not stutter, unless a comma sets them apart
# ("that that is", "had had", "very very", "no no no" are said on purpose).
_DELIBERATE_REPEATS = frozenset("that had very really so no bye ha yes yeah many more much".split())
_ALWAYS_DELIBERATE = frozenset("very really so no bye ha yes yeah".split())
# Reply words and discourse markers dropped where they open a quote. `needs_mark`: only
# when punctuation follows them ("Right, ..." but not "Right now"; "Like, ..." but not
# "Like most people").
_OPENERS_ANY = frozenset("yeah yep yup yes and so um uh umm uhm er erm hmm".split())
_OPENERS_MARKED = frozenset(
    "like right well okay ok oh alright ah anyway look honestly basically".split())
_TWO_WORD_OPENERS = frozenset({("you", "know"), ("i", "mean"), ("all", "right")})
# "So much of...", "So far" keep their "So".
_SO_KEEPS = frozenset("much many far long few little often too as".split())
_STAGE = re.compile(
    r"\b(?:laugh\w*|chuckl\w*|giggl\w*|applause|clap\w*|crosstalk|cross-talk|inaudible"
    r"|unintelligible|indistinct|silence|pause\w*|music|sigh\w*|cough\w*|coughing|noise"
    r"|overlapping|background|audio|video|break|sound|cheer\w*|beep|static|foreign"
    r"|speaking|sneez\w*|clears? throat|groan\w*|smil\w*|whisper\w*)\b",
    re.IGNORECASE,
)
# Words that never end a phrase: a comma after one was the pause of what came next. So
# "is, um, a minute" loses the comma with the "um" ("is a minute"), and "there was a,
# there was an older woman" is a start cut off and begun again.
_NO_PHRASE_END = frozenset(
    "a an the of to in on at for with from by into about than and or but nor "
    "is are was were be been am do does did have has had will would can could shall should "
    "may might must my our your their his its these those i we they he she".split()
)
_ARTICLES = frozenset({"a", "an", "the"})
# Where a two-word start may be cut off and begun again ("there's a, there's no way"):
# articles, prepositions and possessives only ("we can, we must" is said on purpose).
_SMALL_WORDS = frozenset(
    "a an the of to in on at for with from by into about my our your their his its".split())
# "and in X, and Y" is a list, not a restart.
_LIST_WORDS = frozenset("and or but nor then".split())
_SHORT_RESTART = re.compile(
    rf"\b([\w'’]+) (?:{'|'.join(sorted(_SMALL_WORDS))})(?:,|-|—|–)\s+\1\b", re.IGNORECASE)
# A cheap look for "a, " / "the- " before an article, then the exact test (most sentences
# have neither; this runs on every sentence at ingest).
_ARTICLE_CUT = re.compile(r"[ae][,—–-] +(?:an?|the)\b", re.IGNORECASE)
_ARTICLE_SWAP = re.compile(r"\b(a|an|the)(?:,|-|—|–)\s+(?!\1\b)(?:a|an|the)\b", re.IGNORECASE)
_CUT_MARKS = frozenset({",", "-", "—", "–", "...", "…", ",-", "--"})
_TERMINAL = ".!?…"
_FALSE_START_LOOKAHEAD = 3


@dataclass
class _Token:
    lead: str
    core: str
    trail: str

    @property
    def word(self) -> str:
        return self.core.casefold().replace("’", "'")

    def render(self) -> str:
        return f"{self.lead}{self.core}{self.trail}"


def _tokens(text: str) -> list[_Token]:
    out = []
    for piece in text.split():
        lead, core, trail = _PARTS.match(piece).groups()
        out.append(_Token(lead, core, trail))
    return out


def words(text: str) -> list[str]:
    """The words of `text`, casefolded, in order (what the subsequence rule compares)."""
    return _WORD.findall(text.casefold().replace("’", "'"))


def first_words(text: str, count: int) -> list[str]:
    """`words(text)[:count]`, without finding the words after those."""
    # No word spans a space: the first `count` pieces hold the first `count` words, unless
    # some piece has none ("—"); then the whole text decides.
    found = words(" ".join(text.split(" ", count)[:count]))
    return found[:count] if len(found) >= count else words(text)[:count]


def is_subsequence(clean: str, verbatim: str) -> bool:
    """Whether every word of `clean` appears in `verbatim`, in order."""
    source = iter(words(verbatim))
    return all(any(w == v for v in source) for w in words(clean))


def clean(text: str) -> str:
    """The clean display form of verbatim `text` (see the module docstring).

    Cleaning works sentence by sentence (a stutter never spans a sentence end); only the
    first sentence loses its opening reply word or marker.

    Args:
        text: A quote's exact words as stored.

    Returns:
        The clean form; the exact text itself when cleaning would leave nothing.
    """
    text = " ".join(text.split())
    pieces, opening = [], True
    for begin, end in sentence_spans(text):
        sentence = text[begin:end]
        if opening and _only_openers(sentence):
            continue  # "Yeah." or "Right, right." before the quote proper
        pieces.append(clean_sentence(sentence, opening=opening))
        opening = False
    result = " ".join(p for p in pieces if p)
    return result if words(result) else text


@lru_cache(maxsize=16384)
def clean_sentence(text: str, *, opening: bool = True) -> str:
    """The clean form of one sentence; `opening` drops a reply word or marker at its start."""
    return clean_sentence_once(text, opening=opening)


def clean_sentence_once(text: str, *, opening: bool = True) -> str:
    """`clean_sentence` without its cache, for a caller that keeps what it needs itself
    (the highlight selector, per turn): at ingest, a sentence is rarely met twice, and the
    cache would only grow."""
    if _untouched(text, opening):
        return text
    plain = _clean_plain(text, opening)
    if plain is not None:
        return plain
    tokens = _tokens(_drop_stage_directions(text))
    tokens = _drop_hesitations(tokens)
    tokens = _drop_false_starts(tokens)
    tokens = _collapse_repeats(tokens)
    tokens = _drop_restarts(tokens)
    if opening:
        tokens = _drop_openers(tokens)
    return _join(tokens)


# Anything `clean` could change; text without any of it is returned as it is (most text:
# these checks are set and string operations, the token steps below run in Python).
def _untouched(text: str, opening: bool) -> bool:
    found = words(text)
    if not found:
        return True
    if opening and (found[0] in _OPENERS_ANY or found[0] in _OPENERS_MARKED
                    or found[0] in ("you", "i", "all")):
        return False
    if "[" in text or "(" in text or "- " in text or text.endswith("-"):
        return False
    if not HESITATIONS.isdisjoint(found) or _article_swapped(text):
        return False
    # A repeated run of up to four words means some word comes back within four places;
    # one pass over the words finds that (rarely a false alarm: the slow path then decides).
    last: dict[str, int] = {}
    for index, word in enumerate(found):
        if index - last.get(word, -9) <= 4:
            return False
        last[word] = index
    return True


# The core of each whitespace-separated piece, as `_PARTS` finds it: from its first word
# character to its last ("" when it has none).
_CORES = re.compile(r"(?<!\S)[^\w\s]*(\S*?)[^\w\s]*(?!\S)")
# A word cut off with a hyphen ("lo-", "I-,"): a piece whose trailing punctuation opens
# with "-", which `_drop_false_starts` looks at.
_CUT_OFF = re.compile(r"\w-[^\w\s]*(?!\S)")
# `_drop_openers` reads at most the first three tokens at each step.
_OPENER_HEAD = 8


def _clean_plain(text: str, opening: bool) -> str | None:
    """`clean_sentence`'s result for a sentence the token steps before `_drop_openers` leave
    as it is (most sentences `_untouched` cannot vouch for: one that opens on a marker, or
    repeats a word a few places on); None for any other sentence.

    Such a sentence needs no stage-direction, hesitation, false-start or repeat pass, and
    only its first pieces need to be tokens (for the opener); the rest is joined as is.
    """
    pieces = text.split()
    if "[" in text or "(" in text or _CUT_OFF.search(text) or " ".join(pieces) != text:
        return None  # (the piece count below assumes single spaces)
    # Each token's word, as `_Token.word` has it (None for a token with no word character).
    keys = [core.casefold().replace("’", "'") if core else None
            for core in _CORES.findall(text)]
    if not HESITATIONS.isdisjoint(keys) or _article_swapped(text):
        return None
    # A repeated run of 1-4 tokens means some token comes back within four places; only
    # then is it worth looking for the run itself (most such sentences have none).
    last: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key is not None:
            if index - last.get(key, -9) <= 4:
                if _repeated_run(keys) or _SHORT_RESTART.search(text):
                    return None
                break
            last[key] = index
    if not opening:
        return _tidy(text)
    head = _drop_openers(_tokens(" ".join(pieces[:_OPENER_HEAD])))
    if len(head) < 3 and len(pieces) > _OPENER_HEAD:
        return None  # the head ran short: the whole sentence decides
    return _tidy(" ".join([t.render() for t in head if t.render()] + pieces[_OPENER_HEAD:]))


def _article_swapped(text: str) -> bool:
    return _ARTICLE_CUT.search(text) is not None and _ARTICLE_SWAP.search(text) is not None


def _repeated_run(keys: list[str | None]) -> bool:
    """Whether a run of 1-4 words comes twice in a row, or all but the last of 3-4 words:
    what `_collapse_repeats` and `_drop_restarts` look for (they then decide)."""
    for size in (1, 2, 3, 4):
        # same[i]: token i is a word and token i + size is the same word.
        same = [a is not None and a == b for a, b in zip(keys, keys[size:], strict=False)]
        run = 0
        for equal in same:
            run = run + 1 if equal else 0
            if run == size or (size > 2 and run == size - 1):
                return True
    return False


def _only_openers(sentence: str) -> bool:
    found = words(sentence)
    return bool(found) and all(
        w in _OPENERS_ANY or w in _OPENERS_MARKED or w in ("you", "know", "i", "mean", "all")
        for w in found
    )


# ---- the steps ------------------------------------------------------------------------


def _drop_stage_directions(text: str) -> str:
    """Remove [bracketed] and (parenthesised) notes that describe a sound or an action
    ("[laughs]", "(crosstalk)", "[inaudible 00:12]"); other brackets are words someone
    wrote ("[the docs](https://…)", "(the 2012 one)") and stay."""
    text = re.sub(
        r"\s*\[([^\[\]]{0,80})\](?!\()",
        lambda m: " " if _STAGE.search(m.group(1)) else m.group(0),
        text,
    )
    return re.sub(
        r"\s*\(([^()]{0,40})\)",
        lambda m: " " if _STAGE.search(m.group(1)) else m.group(0),
        text,
    )


def _remove(tokens: list[_Token], index: int) -> None:
    """Remove tokens[index], handing its opening and closing punctuation to its neighbours.

    A word that opened a sentence hands its capital to the word that now opens it.
    """
    gone = tokens.pop(index)
    opened = index == 0 or any(ch in _TERMINAL for ch in tokens[index - 1].trail)
    if opened and gone.core[:1].isupper() and index < len(tokens):
        nxt = tokens[index]
        nxt.core = nxt.core[:1].upper() + nxt.core[1:]
    lead = gone.lead.strip(",;:-—–")
    if lead and index < len(tokens):
        tokens[index].lead = lead + tokens[index].lead
    ending = "".join(ch for ch in gone.trail if ch in _TERMINAL or ch in "\"'”’)»")
    if ending and index > 0:
        prev = tokens[index - 1]
        if not any(ch in _TERMINAL for ch in prev.trail):
            prev.trail = prev.trail.rstrip(",;:-—– ") + ending


def _drop_hesitations(tokens: list[_Token]) -> list[_Token]:
    i = 0
    while i < len(tokens):
        after_number = i > 0 and tokens[i - 1].core[-1:].isdigit()  # "5 mm"
        if tokens[i].word in HESITATIONS and tokens[i].core and not after_number:
            enclosed = i > 0 and tokens[i - 1].trail == "," and tokens[i].trail.startswith(",")
            _remove(tokens, i)
            swap = (i < len(tokens) and tokens[i].word in _ARTICLES  # "a, um, an": see
                    and tokens[i - 1].word in _ARTICLES)  # _drop_restarts
            if enclosed and tokens[i - 1].word in _NO_PHRASE_END and not swap:
                tokens[i - 1].trail = ""  # "is, um, a minute" -> "is a minute"
        else:
            i += 1
    return tokens


def _drop_false_starts(tokens: list[_Token]) -> list[_Token]:
    """A word cut off with a hyphen and restarted ("a lo- a lot", "I- I think")."""
    i = 0
    while i < len(tokens) - 1:
        tok = tokens[i]
        if tok.core and tok.trail.startswith("-") and not tok.trail.startswith("--"):
            stem = tok.word
            ahead = tokens[i + 1 : i + 1 + _FALSE_START_LOOKAHEAD]
            if any(t.word.startswith(stem) and t.word != stem or t.word == stem for t in ahead):
                _remove(tokens, i)
                continue
        i += 1
    return tokens


def _collapse_repeats(tokens: list[_Token]) -> list[_Token]:
    """Keep the last of adjacent repeated runs of one to four words ("the, the" -> "the")."""
    keys = [t.word if t.core else None for t in tokens]
    i = 0
    while i < len(tokens):
        for size in (4, 3, 2, 1):
            j = i + size
            if (
                j < len(keys)
                and keys[i] is not None
                and keys[i] == keys[j]
                and None not in keys[i:j]
                and keys[i:j] == keys[j : j + size]
                and _is_stutter(tokens[i:j], size)
            ):
                capital = tokens[i].core[:1].isupper()
                lead = tokens[i].lead
                del tokens[i:j]
                del keys[i:j]
                head = tokens[i]
                if lead.strip("-—–,"):
                    head.lead = lead + head.lead
                if capital:
                    head.core = head.core[:1].upper() + head.core[1:]
                i = max(0, i - 4)
                break
        else:
            i += 1
    return tokens


def _drop_restarts(tokens: list[_Token]) -> list[_Token]:
    """A start of two to four words cut off and begun again: after a dash ("you don't- you
    can't" -> "you can't"), or after a comma at a word that cannot end a phrase ("there was
    a, there was an older woman" -> "there was an older woman"); or an article given up for
    another ("a, an" -> "an")."""
    keys = [t.word if t.core else None for t in tokens]
    i = 0
    while i < len(tokens):
        if (i + 1 < len(keys) and keys[i] in _ARTICLES and keys[i + 1] in _ARTICLES
                and keys[i] != keys[i + 1] and tokens[i].trail in _CUT_MARKS
                and tokens[i + 1].core[:1].islower()):  # not "the, A team"
            _remove(tokens, i)  # "we did a, um, an intercept survey": "a" given up for "an"
            del keys[i]
            continue
        for size in (4, 3, 2):
            j = i + size  # tokens[i:j] is the start given up; tokens[j:] begins again
            if (
                j + size <= len(keys)
                and keys[j] == keys[i] is not None  # cheap: most positions stop here
                and None not in keys[i : j + size]
                and keys[i : j - 1] == keys[j : j + size - 1]
                and keys[j - 1] != keys[j + size - 1]
                and tokens[j - 1].trail in _CUT_MARKS
                and keys[i] not in _LIST_WORDS
                and _gives_up(keys[j - 1], tokens[j - 1].trail, size)
                and not any(t.trail for t in tokens[i : j - 1])
                and not any(t.lead for t in tokens[i + 1 : j])
            ):
                capital, lead = tokens[i].core[:1].isupper(), tokens[i].lead
                del tokens[i:j]
                del keys[i:j]
                tokens[i].lead = lead + tokens[i].lead  # an opening quote mark stays
                if capital:
                    tokens[i].core = tokens[i].core[:1].upper() + tokens[i].core[1:]
                break
        else:
            i += 1
    return tokens


def _gives_up(word: str, mark: str, size: int) -> bool:
    """Whether a start cut off after `word` (followed by `mark`) was given up: a dash says
    so ("you don't- you can't"); after a comma, only a word that cannot end a phrase."""
    if mark[:1] in "-—–":
        return True
    return word in (_SMALL_WORDS if size == 2 else _NO_PHRASE_END)


def _is_stutter(first: list[_Token], size: int) -> bool:
    boundary = first[-1].trail
    if any(ch in _TERMINAL for ch in boundary):
        return False  # "No. No." is two sentences
    if size > 1:
        return True
    word = first[0].word
    if word in _ALWAYS_DELIBERATE:
        return False
    return word not in _DELIBERATE_REPEATS or bool(boundary.strip())


def _drop_openers(tokens: list[_Token]) -> list[_Token]:
    """Drop reply words and discourse markers that open the quote; capitalise what follows."""
    dropped = False
    while tokens:
        first = tokens[0]
        if not first.core:  # a lone dash or quote mark before the first word
            if len(tokens) > 1 and not first.lead.strip("-—–,.;: "):
                tokens.pop(0)
                continue
            break
        marked = bool(first.trail.strip())
        nxt = tokens[1] if len(tokens) > 1 else None
        if nxt is not None and (first.word, nxt.word) in _TWO_WORD_OPENERS and not first.trail \
                and nxt.trail.strip() and len(tokens) > 2:
            _strip_front(tokens, 2)
            dropped = True
            continue
        if nxt is None:
            break
        if first.word == "so" and nxt.word in _SO_KEEPS and not marked:
            break
        if first.word in _OPENERS_ANY or (first.word in _OPENERS_MARKED and marked):
            if any(ch in "?" for ch in first.trail):
                break  # "Right? ..." asks something
            _strip_front(tokens, 1)
            dropped = True
            continue
        break
    if dropped and tokens and tokens[0].core[:1].islower():
        tokens[0].core = tokens[0].core[:1].upper() + tokens[0].core[1:]
    return tokens


def _strip_front(tokens: list[_Token], count: int) -> None:
    lead = tokens[0].lead
    del tokens[:count]
    if tokens and lead.strip(",;:-—– "):
        tokens[0].lead = lead + tokens[0].lead.lstrip(",;:-—– ")
    elif tokens:
        tokens[0].lead = tokens[0].lead.lstrip(",;:-—– ")


def _join(tokens: list[_Token]) -> str:
    return _tidy(" ".join(t.render() for t in tokens if t.render()))


_DOUBLED_MARK = re.compile(r"([,;:])\s*(?=[,;:.!?…])")
_SPACED_MARK = re.compile(r"\s+([,;:.!?…])")
_LEADING_MARKS = re.compile(r"^[,;:.\s]+")


def _tidy(text: str) -> str:
    # Punctuation left doubled where a word went: ", ," -> ",", ", ." -> ".".
    text = _DOUBLED_MARK.sub("", text)
    text = _SPACED_MARK.sub(r"\1", text)
    text = _LEADING_MARKS.sub("", text)
    return text.strip()
