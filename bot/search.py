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
CANDIDATES = 150  # rows per FTS query: bounds both the index work and the rerank
COMMON_SHARE = 0.10  # words in more than this share of quotes stay out of the AND
PHRASE_CANDIDATES = 30
FEW = 3
PHRASE_WORK = 2_000  # a phrase reads every other word's positions for each quote holding
#                      its rarest word; with common words that is 2-5 us each at 1M quotes
RANK_WORK = 2000  # BM25 costs ~3 us a match at 1M quotes: this bounds it to ~6 ms
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

    async def plan(self, words: list[str], *, prefix_last: bool) -> list[Term]:
        """Map typed words to index terms: known words stay, unknown ones get corrected."""
        vocab = self.vocabulary
        known = await vocab.frequencies(words)
        terms: list[Term] = []
        for i, word in enumerate(words):
            docs = known.get(word, 0)
            if prefix_last and i == len(words) - 1:
                pairs = await vocab.completions(word) or vocab.corrections(word)
            elif docs:
                pairs = [(word, docs)]
            else:
                pairs = vocab.corrections(word)
            terms.append(Term(word, tuple(t for t, _ in pairs), sum(d for _, d in pairs),
                              docs > 0))
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
        terms = await self.plan(words, prefix_last=prefix_last)
        usable = [t for t in terms if t.alternatives]
        if not usable:
            return []
        candidates = await self._candidates(usable, speaker_id, source_id, prefix_last)
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
        self, terms: list[Term], speaker_id: int | None, source_id: int | None,
        prefix_last: bool = False,
    ) -> dict[int, float]:
        """Candidate ids (with BM25 where it was affordable) from a few bounded FTS queries.

        1. The selective words together, unranked. Very common words are left out: FTS5
           intersects doclists by seeking, and each seek into a list of half a million
           quotes costs more than the rest of the query (measured: 0.3 ms without six
           common words, 21 ms with them). The rerank still scores every word. When fewer
           than CANDIDATES quotes match, this returns every one of them.
        2. If that hit the limit (an unselective query), add the phrase as typed, which is
           far more selective, and the best BM25 matches of the rare words alone.
        3. If fewer than FEW matched (a misremembered word), leave one word out at a time,
           the rarest first; if still nothing, any of the rarest words, ranked.

        Queries of common words only are answered from their unranked intersection: a
        phrase whose rarest word is in tens of thousands of quotes makes FTS5 read all their
        positions (24-37 ms at a million quotes), so a phrase runs only while its rarest
        word's quotes times its length stays under PHRASE_WORK.
        """
        tags = self._filter(speaker_id, source_id)
        typed = terms
        terms = sorted(terms, key=lambda t: t.docs)
        common = max(50, int(self.vocabulary.documents * COMMON_SHARE))
        selective = [t for t in terms if t.docs <= common]
        found: dict[int, float] = {}

        async def run(selection: list[Term], *, ranked: bool = False, phrase: bool = False,
                      any_of: bool = False, limit: int = CANDIDATES) -> int:
            if phrase:
                expression = fts_term(" ".join(t.alternatives[0] for t in selection))
            else:
                joiner = " OR " if any_of else " AND "
                expression = joiner.join(t.expression() for t in selection)
            expression = f"text : ({expression})"
            if tags:
                expression = f"{expression} AND {tags}"
            rows = await self.quotes.match(expression, limit, ranked=ranked)
            for rowid, rank in rows:
                found[rowid] = min(rank, found.get(rowid, 0.0))
            return len(rows)

        if await run(selective or terms) >= CANDIDATES and selective:
            # The words as typed, misspellings replaced by their closest term; a half-typed
            # last word (autocomplete) has no single spelling yet and is left out. Every
            # phrase match holds the phrase, so a few are enough.
            spelled = typed[:-1] if prefix_last else typed
            if len(spelled) > 1 and min(t.docs for t in spelled) * len(spelled) <= PHRASE_WORK:
                await run(spelled, phrase=True, limit=PHRASE_CANDIDATES)
            rare = [t for t in selective if t.docs <= RANK_WORK]
            if rare:
                await run(rare, ranked=True)
        if len(found) < FEW and len(terms) > 1:
            # No match: the words were misremembered, try leaving each of the rarest out.
            # A match or two: the user may still want a "Next match", so broaden once.
            for dropped in terms[: min(len(terms), 4 if not found else 1)]:
                await run([t for t in (selective or terms) if t is not dropped] or terms)
                if len(found) >= FEW:
                    break
        if not found and len(terms) > 1:
            # Last resort (a line that spans two quotes, or half of it misremembered): the
            # best BM25 matches of any one of the rarest words, each rare enough to be cheap.
            rare = [t for t in terms[:4] if t.docs <= RANK_WORK]
            if rare:
                await run(rare, ranked=True, any_of=True)
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
