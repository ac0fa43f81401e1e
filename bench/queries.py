"""The benchmark's fixed query mix, built from quotes that are actually in the database.

Target quotes are drawn with a seeded generator; each search query is a piece of its target as
a user would remember it (an exact slice, a few words, the words out of order, with typos,
only common words, one rare word, with the speaker's short name as a filter). Every query
records the target's id and the words it was made from, so the runner can score a result
two ways: `hit` (the target itself is in the top k) and `match` (the target or another quote
holding the same words in the same order, which no search could tell apart from it).
"""

from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from quotebot.bot.library import LookupFailed, QuoteLibrary
from quotebot.bot.tokens import tokenize
from quotebot.store.fts import PHRASE, TextQuery

log = logging.getLogger(__name__)

CATEGORIES = ("exact", "partial", "reordered", "misspelled", "common", "rare", "speaker")
PER_CATEGORY = 50
WINDOW_TRIES = 4  # slices tried per query; the one fewest other quotes share is kept
RARE_MAX_DOCS = 3
FIRST_LETTER_TYPOS = 0.1
COMMON_SHARE = 0.02  # a "common word" is in more than 2% of the quotes ("and", "think", "the")

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_KEYBOARD = {
    row[i]: row[i - 1 : i] + row[i + 1 : i + 2]
    for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    for i in range(len(row))
}


@dataclass(frozen=True)
class SearchQuery:
    """A search as a user would type it, and the quote it is meant to find.

    `phrase` holds the index tokens the query was made from (before shuffling or typos):
    a result "matches" when it is the target or holds these tokens in this order.
    """

    category: str
    text: str
    expected_id: int
    phrase: tuple[str, ...]
    speaker: str | None = None
    speaker_id: int | None = None


@dataclass(frozen=True)
class CompleteQuery:
    """An autocomplete prefix: whole words then a partly typed last word."""

    text: str
    expected_id: int
    words: tuple[str, ...]
    partial: str
    speaker: str | None = None


@dataclass(frozen=True)
class RandomCall:
    speaker: str | None = None


@dataclass
class QueryMix:
    search: list[SearchQuery] = field(default_factory=list)
    complete: list[CompleteQuery] = field(default_factory=list)
    random: list[RandomCall] = field(default_factory=list)
    warmup: list[SearchQuery] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "search": [asdict(q) for q in self.search],
            "complete": [asdict(q) for q in self.complete],
            "random": [asdict(q) for q in self.random],
            "warmup": [asdict(q) for q in self.warmup],
        }

    @classmethod
    def from_json(cls, data: dict) -> QueryMix:
        def search(item: dict) -> SearchQuery:
            return SearchQuery(**{**item, "phrase": tuple(item["phrase"])})

        return cls(
            search=[search(q) for q in data["search"]],
            complete=[
                CompleteQuery(**{**q, "words": tuple(q["words"])}) for q in data["complete"]
            ],
            random=[RandomCall(**q) for q in data["random"]],
            warmup=[search(q) for q in data["warmup"]],
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), "utf-8")

    @classmethod
    def load(cls, path: Path) -> QueryMix:
        return cls.from_json(json.loads(path.read_text("utf-8")))


def contains_run(tokens: list[str], run: tuple[str, ...] | list[str]) -> bool:
    """Whether `run` occurs in `tokens` as consecutive tokens."""
    n = len(run)
    if n == 0:
        return False
    first = run[0]
    for i, token in enumerate(tokens[: len(tokens) - n + 1]):
        if token == first and tuple(tokens[i : i + n]) == tuple(run):
            return True
    return False


def completes(tokens: list[str], words: tuple[str, ...], partial: str) -> bool:
    """Whether `tokens` hold `words` followed by a token starting with `partial`."""
    n = len(words)
    for i in range(len(tokens) - n):
        if tuple(tokens[i : i + n]) == words and tokens[i + n].startswith(partial):
            return True
    return False


def make_typo(word: str, rng: random.Random) -> str:
    """A realistic typo: adjacent transposition, dropped, doubled or neighbouring-key letter.

    Typists rarely get the first letter wrong: it is kept in nine typos out of ten. `word`
    has at least 3 letters.
    """
    for _ in range(10):
        typo = _typo(word, rng)
        if typo != word:
            return typo
    return word[0] + word[2:]


def _typo(word: str, rng: random.Random) -> str:
    kind = rng.choice(("transpose", "drop", "double", "substitute"))
    i = 0 if rng.random() < FIRST_LETTER_TYPOS else rng.randrange(1, len(word) - 1)
    if kind == "transpose" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[: i + 1] + word[i] + word[i + 1 :]
    near = _KEYBOARD.get(word[i].lower())
    if near:
        return word[:i] + rng.choice(near) + word[i + 1 :]
    return word[:i] + word[i + 1 :]


class MixBuilder:
    """Builds the query mix from a loaded QuoteLibrary (vocabulary, speakers and the store)."""

    def __init__(self, library: QuoteLibrary, seed: int) -> None:
        self.library = library
        self.store = library.store
        self.documents = library.searcher.vocabulary.documents
        self.rng = random.Random(f"queries:{seed}")
        self.common_docs = max(20, int(self.documents * COMMON_SHARE))
        self._docs: dict[str, int] = {}
        self.short_names: dict[int, str] = {}
        for speaker in library.speakers:
            short = self._short_name(speaker)
            if short:
                self.short_names[speaker.id] = short

    def _short_name(self, speaker) -> str | None:
        parts = speaker.name.split()
        for candidate in (parts[-1], parts[0], *speaker.aliases, speaker.name):
            try:
                if self.library.resolve_speaker(candidate).id == speaker.id:
                    return candidate
            except LookupFailed:
                continue
        return None

    async def load_frequencies(self, tokens: list[str]) -> None:
        """Fetch the document frequencies of `tokens` that are not cached yet."""
        missing = [t for t in dict.fromkeys(tokens) if t not in self._docs]
        for i in range(0, len(missing), 200):
            self._docs.update(await self.store.term_frequencies(missing[i : i + 200]))

    def frequency(self, token: str) -> int:
        """Quotes holding `token` (load_frequencies must have fetched it)."""
        return self._docs.get(token, 0)

    def is_common(self, token: str) -> bool:
        return self.frequency(token) > self.common_docs

    async def equivalents(self, tokens: list[str] | tuple[str, ...]) -> int:
        """How many quotes hold these tokens as a phrase (counted up to 50)."""
        phrase = TextQuery(tuple((token,) for token in tokens), PHRASE)
        rows = await self.store.match(phrase, 50, ranked=False)
        return len(rows)

    async def targets(self, count: int):
        """Random quotes of at least 8 words, in batches, endlessly (seeded)."""
        total = await self.store.count_quotes()
        if total == 0:
            raise RuntimeError("the database has no quotes")
        while True:
            ids = [self.rng.randint(1, total) for _ in range(count)]
            for row in await self.store.get_quotes(ids):
                words = _WORD.findall(row.text)
                if len(words) >= 8:
                    await self.load_frequencies(tokenize(row.text))
                    yield row, words

    async def _window(self, words: list[str], sizes: tuple[int, int], *, middle: bool = False,
                      need_rare: bool = False) -> list[str] | None:
        """The slice of `words` (length in `sizes`) that the fewest other quotes share."""
        best: tuple[int, list[str]] | None = None
        for _ in range(WINDOW_TRIES):
            size = self.rng.randint(*sizes)
            if size > len(words) - (2 if middle else 0):
                continue
            low = 1 if middle else 0
            high = len(words) - size - (1 if middle else 0)
            if high < low:
                continue
            start = self.rng.randint(low, high)
            window = words[start : start + size]
            tokens = tokenize(" ".join(window))
            if need_rare and all(self.is_common(t) for t in tokens):
                continue
            shared = await self.equivalents(tokens)
            if best is None or shared < best[0]:
                best = (shared, window)
            if shared <= 1:
                break
        return None if best is None else best[1]

    async def exact(self, row, words):
        window = await self._window(words, (5, 8))
        if window:
            return SearchQuery("exact", " ".join(window), row.id, _phrase(window))

    async def partial(self, row, words):
        window = await self._window(words, (3, 4), middle=True, need_rare=True)
        if window:
            return SearchQuery("partial", " ".join(window).lower(), row.id, _phrase(window))

    async def reordered(self, row, words):
        window = await self._window(words, (4, 6), need_rare=True)
        if not window or len(set(w.lower() for w in window)) < 3:
            return None
        shuffled = list(window)
        for _ in range(10):
            self.rng.shuffle(shuffled)
            if shuffled != window:
                break
        return SearchQuery("reordered", " ".join(shuffled).lower(), row.id, _phrase(window))

    async def misspelled(self, row, words):
        window = await self._window(words, (4, 7), need_rare=True)
        if not window:
            return None
        eligible = [
            i for i, w in enumerate(window)
            if len(w) >= 5 and w.isalpha() and not self.is_common(w.lower())
        ]
        if not eligible:
            return None
        typed = [w.lower() for w in window]
        count = 1 if len(eligible) == 1 or self.rng.random() < 0.5 else 2
        for i in self.rng.sample(eligible, count):
            for _ in range(8):
                typo = make_typo(typed[i], self.rng)
                await self.load_frequencies([typo])
                if typo != typed[i] and not self.frequency(typo):
                    typed[i] = typo
                    break
            else:
                return None
        return SearchQuery("misspelled", " ".join(typed), row.id, _phrase(window))

    async def common(self, row, words):
        runs, current = [], []
        for word in words:
            tokens = tokenize(word)
            if tokens and all(self.is_common(t) for t in tokens):
                current.append(word)
            else:
                if len(current) >= 4:
                    runs.append(current)
                current = []
        if len(current) >= 4:
            runs.append(current)
        if not runs:
            return None
        run = self.rng.choice(runs)
        size = self.rng.randint(4, min(6, len(run)))
        start = self.rng.randint(0, len(run) - size)
        window = run[start : start + size]
        return SearchQuery("common", " ".join(window).lower(), row.id, _phrase(window))

    async def rare(self, row, words):
        tokens = [t for t in tokenize(row.text) if len(t) >= 4 and not t.isdigit()]
        scored = sorted((self.frequency(t), t) for t in dict.fromkeys(tokens))
        scored = [(docs, t) for docs, t in scored if 0 < docs <= RARE_MAX_DOCS]
        if not scored:
            return None
        return SearchQuery("rare", scored[0][1], row.id, (scored[0][1],))

    async def speaker(self, row, words):
        short = self.short_names.get(row.speaker_id)
        if not short:
            return None
        window = await self._window(words, (3, 5), need_rare=True)
        if window:
            return SearchQuery("speaker", " ".join(window).lower(), row.id, _phrase(window),
                               speaker=short, speaker_id=row.speaker_id)

    async def complete_query(self, row, words, with_speaker: bool):
        total = self.rng.randint(2, 4)
        prefix = [w.lower() for w in words[:total]]
        last = prefix[-1]
        if len(last) < 3:
            return None
        partial = last[: self.rng.randint(2, len(last) - 1)]
        full = tuple(tokenize(" ".join(prefix[:-1])))
        last_tokens = tokenize(partial)
        if len(last_tokens) != 1:
            return None
        speaker = self.short_names.get(row.speaker_id) if with_speaker else None
        return CompleteQuery(" ".join([*prefix[:-1], partial]), row.id, full,
                             last_tokens[0], speaker)


def _phrase(words: list[str]) -> tuple[str, ...]:
    return tuple(tokenize(" ".join(words)))


async def build_mix(
    library: QuoteLibrary, *, seed: int, per_category: int = PER_CATEGORY,
    complete: int | None = None, randoms: int | None = None, warmup: int = 20,
) -> QueryMix:
    """The fixed query mix for the database behind `library` (same database, same mix).

    Args:
        library: A loaded library over the benchmark database.
        seed: Seeds the choice of target quotes, slices, typos and shuffles.
        per_category: Search queries per category.
        complete: Autocomplete prefixes (default: 3 x per_category).
        randoms: Random calls, half with a speaker filter (default: 4 x per_category).
        warmup: Untimed search queries run first, drawn from other targets.
    """
    builder = MixBuilder(library, seed)
    mix = QueryMix()
    makers = [getattr(builder, name) for name in CATEGORIES]
    used: set[int] = set()
    stream = builder.targets(64)

    async def fresh_target():
        while True:
            row, words = await anext(stream)
            if row.id not in used:
                used.add(row.id)
                return row, words

    turn = 0
    while len(mix.warmup) < warmup:
        query = await makers[turn % len(makers)](*await fresh_target())
        turn += 1
        if query:
            mix.warmup.append(query)
    wanted = dict.fromkeys(CATEGORIES, per_category)
    attempts = 0
    while any(wanted.values()):
        # Rotate the categories so each gets targets from all over the corpus.
        pending = [c for c in CATEGORIES if wanted[c]]
        category = pending[turn % len(pending)]
        turn += 1
        query = await makers[CATEGORIES.index(category)](*await fresh_target())
        attempts += 1
        if attempts > 50 * per_category * len(CATEGORIES):
            raise RuntimeError(f"cannot build enough {category} queries from this corpus")
        if query:
            mix.search.append(query)
            wanted[category] -= 1
    mix.search.sort(key=lambda q: CATEGORIES.index(q.category))
    complete = 3 * per_category if complete is None else complete
    while len(mix.complete) < complete:
        row, words = await anext(stream)
        query = await builder.complete_query(row, words, with_speaker=len(mix.complete) % 3 == 2)
        if query:
            mix.complete.append(query)
    randoms = 4 * per_category if randoms is None else randoms
    speakers = sorted(builder.short_names.items())
    for i in range(randoms):
        if i % 2 and speakers:
            mix.random.append(RandomCall(builder.rng.choice(speakers)[1]))
        else:
            mix.random.append(RandomCall(None))
    return mix
