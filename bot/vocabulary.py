"""The indexed vocabulary: document frequencies, typo correction and prefix completion.

Frequencies and completions are read from the `terms` table (a B-tree, so a lookup is a
seek); only the words typo correction compares against are held in memory, grouped by
length and first or last letter: the MAX_MEMORY_TERMS most frequent ones. On a large
corpus that leaves out words seen in a single quote, which are rarely what someone
misspelled, and keeps the serving process small.
"""

from __future__ import annotations

import bisect
import logging
from array import array
from collections import defaultdict

from rapidfuzz import process
from rapidfuzz.distance import OSA

from quotebot.store.quotes import QuoteStore

log = logging.getLogger(__name__)

MAX_MEMORY_TERMS = 400_000
COMPLETION_TERMS = 50_000  # the most frequent terms, kept sorted for prefix completion
COMPLETION_SCAN = 2000  # in memory: a slice of strings, ~0.2 ms
COMPLETION_SQL_SCAN = 400  # from the terms table, only for prefixes of rarer words


class Vocabulary:
    """Terms of the index with the number of quotes each occurs in."""

    def __init__(self, store: QuoteStore | None = None, documents: int = 0) -> None:
        self.store = store
        self.documents = max(documents, 1)
        self._words: dict[tuple, tuple[str, ...]] = {}
        self._docs: dict[tuple, array] = {}
        self._frequent: tuple[str, ...] = ()
        self._frequent_docs: dict[str, int] = {}

    @classmethod
    async def load(cls, store: QuoteStore) -> Vocabulary:
        vocab = cls(store, await store.count_quotes())
        words: dict[tuple, list[str]] = defaultdict(list)
        docs: dict[tuple, array] = defaultdict(lambda: array("I"))
        frequent: list[tuple[str, int]] = []
        async for term, count in store.frequent_terms(1, MAX_MEMORY_TERMS):
            if len(frequent) < COMPLETION_TERMS:
                frequent.append((term, count))
            if term.isdigit():
                continue
            # Two buckets per term, by length and first letter and by length and last
            # letter: a typo rarely changes both ends, and each bucket is ~1/20 of the
            # vocabulary, so a correction compares a few thousand terms, not 300,000.
            for key in ((len(term), "^", term[0]), (len(term), "$", term[-1])):
                words[key].append(term)
                docs[key].append(count)
        # Tuples of strings are untracked by the garbage collector after its first look;
        # lists of 300,000 strings would be traversed by every full collection (measured:
        # 20-40 ms pauses, the whole autocomplete p99 at a million quotes).
        vocab._words = {key: tuple(bucket) for key, bucket in words.items()}
        vocab._docs = dict(docs)
        frequent.sort()
        vocab._frequent = tuple(term for term, _ in frequent)
        vocab._frequent_docs = dict(frequent)
        return vocab

    def __len__(self) -> int:
        return sum(len(b) for key, b in self._words.items() if key[1] == "^")

    async def frequencies(self, words: list[str]) -> dict[str, int]:
        """Quotes containing each word (0 for words not in the index)."""
        if self.store is None:
            return {}
        return await self.store.term_frequencies(words)

    def corrections(self, word: str, limit: int = 3) -> list[tuple[str, int]]:
        """Known (term, docs) within a small edit distance of an unknown `word`, closest first.

        Two neighbouring letters swapped ("msesy", "teh") count as one edit, as people make
        them in one slip: by Levenshtein distance they are two, past the one allowed for
        words of five letters or fewer.
        """
        if len(word) < 3 or word.isdigit():
            return []
        max_distance = 1 if len(word) <= 5 else 2
        found: dict[str, tuple[int, int, str]] = {}
        # Lengths within one letter: two dropped or added letters are rare typos, and each
        # further length bucket costs as much as the rest together.
        for length in range(len(word) - 1, len(word) + 2):
            for key in ((length, "^", word[0]), (length, "$", word[-1])):
                bucket = self._words.get(key)
                if not bucket:
                    continue
                counts = self._docs[key]
                for term, distance, index in process.extract(
                    word, bucket, scorer=OSA.distance, score_cutoff=max_distance,
                    limit=limit * 4,
                ):
                    found[term] = (int(distance), -counts[index], term)
        best = sorted(found.values())[:limit]
        return [(term, -negdocs) for _, negdocs, term in best]

    async def completions(self, prefix: str, limit: int = 6) -> list[tuple[str, int]]:
        """The most frequent (term, docs) starting with `prefix`, the prefix itself first.

        Looks among the COMPLETION_TERMS most frequent terms in memory (a bisect), and asks
        the terms table only when none of them starts with the prefix: a two-letter prefix
        can start thousands of terms, and reading them all cost 15 ms at 1M quotes.
        """
        if not prefix:
            return []
        start = bisect.bisect_left(self._frequent, prefix)
        rows = []
        for term in self._frequent[start : start + COMPLETION_SCAN]:
            if not term.startswith(prefix):
                break
            rows.append((term, self._frequent_docs[term]))
        if not rows and self.store is not None:
            rows = await self.store.terms_with_prefix(prefix, COMPLETION_SQL_SCAN)
        rows.sort(key=lambda r: (r[0] != prefix, -r[1]))
        return rows[:limit]
