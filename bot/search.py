"""Hybrid quote search: a bounded FTS5 candidate plan, typo correction, then a fuzzy rerank.

The plan keeps every FTS query cheap at a million quotes: rare terms bound the candidate
set, common words are only used in unranked (LIMIT-bounded) phrase queries, and misspelled
words are replaced by their nearest indexed terms before they reach the index. The rerank
then scores the few hundred candidates with rapidfuzz against the words as typed.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.tokens import fts_term, tokenize
from bot.vocabulary import Vocabulary
from store.quotes import QuoteStore, filter_tags

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 300
MAX_TERMS = 16
CANDIDATES = 120
COMMON_SHARE = 0.04  # a term in more than this share of quotes is a "common word"
MIN_SCORE = 0.45


@dataclass(frozen=True)
class Term:
    """One query word and the indexed terms that stand for it (itself, fixes, completions)."""

    word: str
    alternatives: tuple[str, ...]
    docs: int
    exact: bool

    def expression(self) -> str:
        if len(self.alternatives) == 1:
            return fts_term(self.alternatives[0])
        return "(" + " OR ".join(fts_term(a) for a in self.alternatives) + ")"


@dataclass(frozen=True)
class Hit:
    """A ranked search result: quote id and its score in [0, 1]."""

    id: int
    score: float


class Searcher:
    """Plans, runs and reranks searches over a QuoteStore with an in-memory vocabulary."""

    def __init__(self, quotes: QuoteStore, vocabulary: Vocabulary) -> None:
        self.quotes = quotes
        self.vocabulary = vocabulary

    def plan(self, words: list[str], *, prefix_last: bool) -> list[Term]:
        """Map typed words to index terms: known words stay, unknown ones get corrected."""
        vocab = self.vocabulary
        terms: list[Term] = []
        for i, word in enumerate(words):
            last = prefix_last and i == len(words) - 1
            docs = vocab.frequency(word)
            if last:
                alternatives = vocab.completions(word)
                if not alternatives:
                    alternatives = vocab.corrections(word)
            elif docs:
                alternatives = [word]
            else:
                alternatives = vocab.corrections(word)
            if alternatives:
                total = sum(vocab.frequency(a) for a in alternatives)
                terms.append(Term(word, tuple(alternatives), total, docs > 0))
            else:
                terms.append(Term(word, (), 0, False))
        return terms

    async def search(
        self,
        query: str,
        *,
        speaker_id: int | None = None,
        source_id: int | None = None,
        limit: int = 10,
        prefix_last: bool = False,
    ) -> list[Hit]:
        """Best matches for `query`, best first, at most `limit`."""
        words = tokenize(query[:MAX_QUERY_CHARS])[:MAX_TERMS]
        if not words:
            return []
        terms = self.plan(words, prefix_last=prefix_last)
        usable = [t for t in terms if t.alternatives]
        if not usable:
            return []
        candidates = await self._candidates(usable, speaker_id, source_id)
        if not candidates:
            return []
        texts = await self.quotes.texts(list(candidates))
        return self._rerank(words, terms, texts, candidates)[:limit]

    def _filter(self, speaker_id: int | None, source_id: int | None) -> str:
        parts = []
        if speaker_id is not None:
            parts.append(fts_term(filter_tags(speaker_id, 0).split()[0]))
        if source_id is not None:
            parts.append(fts_term(filter_tags(None, source_id).split()[1]))
        return " AND ".join(f"tags : {p}" for p in parts)

    async def _candidates(
        self, terms: list[Term], speaker_id: int | None, source_id: int | None
    ) -> dict[int, float]:
        """Candidate ids with BM25 (0.0 when unranked), from the cheapest queries that work."""
        common_docs = max(50, int(self.vocabulary.documents * COMMON_SHARE))
        rare = sorted((t for t in terms if t.docs <= common_docs), key=lambda t: t.docs)
        tags = self._filter(speaker_id, source_id)

        def scoped(expression: str) -> str:
            text = f"text : ({expression})"
            return f"{text} AND {tags}" if tags else text

        found: dict[int, float] = {}

        async def run(expression: str, ranked: bool) -> None:
            for rowid, rank in await self.quotes.match(scoped(expression), CANDIDATES, ranked=ranked):
                found.setdefault(rowid, rank)

        if rare:
            # Every rare term: the most selective, ranked query.
            await run(" AND ".join(t.expression() for t in rare), ranked=True)
            if len(found) < 10 and len(rare) > 1:
                # Misremembered words: any of the rare terms, ranked by BM25. Bounded because
                # each term is in at most COMMON_SHARE of the quotes; the rarest few only.
                await run(" OR ".join(t.expression() for t in rare[:4]), ranked=True)
        if len(found) < 10:
            # Only common words (or nothing matched): as a phrase, then all together, each
            # unranked so the index stops after CANDIDATES rows however common the words.
            exact = [t for t in terms if t.exact]
            if len(exact) > 1:
                phrase = fts_term(" ".join(t.alternatives[0] for t in exact))
                await run(phrase, ranked=False)
            if len(found) < 10:
                await run(" AND ".join(t.expression() for t in terms), ranked=False)
        return found

    def _rerank(
        self, words: list[str], terms: list[Term], texts: dict[int, str], bm25: dict[int, float]
    ) -> list[Hit]:
        documents = self.vocabulary.documents
        # Inverse document frequency of each typed word; unknown words weigh like rare ones.
        weights = [math.log(1 + documents / (1 + t.docs)) for t in terms]
        total_weight = sum(weights) or 1.0
        typed = " ".join(words)
        best_bm25 = min(bm25.values()) if bm25 else 0.0
        hits = []
        for qid, text in texts.items():
            text_words = tokenize(text)
            present = set(text_words)
            covered = sum(
                w for t, w in zip(terms, weights, strict=True)
                if any(a in present for a in t.alternatives)
            )
            coverage = covered / total_weight
            closeness = fuzz.partial_ratio(typed, " ".join(text_words)) / 100
            relevance = (bm25[qid] / best_bm25) if best_bm25 < 0 else 0.0
            score = 0.5 * coverage + 0.45 * closeness + 0.05 * relevance
            if coverage >= 0.5 and score >= MIN_SCORE:
                hits.append(Hit(qid, score))
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits
