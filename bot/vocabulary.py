"""The indexed vocabulary in memory: document frequencies, typo correction, prefix expansion."""

from __future__ import annotations

import bisect
import logging
from collections import defaultdict

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

log = logging.getLogger(__name__)


class Vocabulary:
    """Terms of the index with the number of quotes each occurs in.

    Typo correction compares a word only with terms of similar length, with rapidfuzz's
    bit-parallel Levenshtein and a distance cut-off, so it stays in the low milliseconds
    even for a vocabulary of hundreds of thousands of terms.
    """

    def __init__(self, terms: list[tuple[str, int]], documents: int) -> None:
        self.documents = max(documents, 1)
        self.docs: dict[str, int] = dict(terms)
        self.sorted_terms: list[str] = sorted(self.docs)
        self._by_length: dict[int, list[str]] = defaultdict(list)
        for term in self.sorted_terms:
            if not term.isdigit():
                self._by_length[len(term)].append(term)

    def __len__(self) -> int:
        return len(self.docs)

    def frequency(self, term: str) -> int:
        return self.docs.get(term, 0)

    def corrections(self, word: str, limit: int = 3) -> list[str]:
        """Known terms within a small edit distance of an unknown `word`, closest first."""
        if len(word) < 3 or word.isdigit():
            return []
        max_distance = 1 if len(word) <= 5 else 2
        found: list[tuple[int, int, str]] = []
        for length in range(len(word) - max_distance, len(word) + max_distance + 1):
            bucket = self._by_length.get(length)
            if not bucket:
                continue
            for term, distance, _ in process.extract(
                word, bucket, scorer=Levenshtein.distance, score_cutoff=max_distance,
                limit=limit * 4,
            ):
                found.append((int(distance), -self.docs[term], term))
        found.sort()
        return [term for _, _, term in found[:limit]]

    def completions(self, prefix: str, limit: int = 6) -> list[str]:
        """The most frequent known terms starting with `prefix` (the prefix itself first if known)."""
        start = bisect.bisect_left(self.sorted_terms, prefix)
        window = []
        for term in self.sorted_terms[start : start + 4000]:
            if not term.startswith(prefix):
                break
            window.append(term)
        window.sort(key=lambda t: (t != prefix, -self.docs[t]))
        return window[:limit]
