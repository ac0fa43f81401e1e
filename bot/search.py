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
from rapidfuzz.distance import LCSseq

from quotebot.bot.tokens import tokenize
from quotebot.bot.vocabulary import Vocabulary
from quotebot.store.fts import ALL, ANY, NEAR, PHRASE, TextQuery
from quotebot.store.quotes import QuoteStore

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000  # a pasted paragraph; the words past MAX_WORDS are not read
MAX_WORDS = 120  # words the rerank compares, in order: a pasted sentence is matched whole
MAX_TERMS = 16  # words of a query that reach the FTS index as typed
PASTED_TERMS = 8  # of a longer one, only the rarest distinct words: each word the index
#                   intersects costs a seek per segment (16 words at 1M quotes: ~14 ms)
MAX_CORRECTED = 6  # unknown words typo-corrected per query (each costs ~0.2 ms)
PARTIAL_CHARS = 64  # rapidfuzz's partial_ratio is fast for needles up to 64 characters;
#                    past that it costs 0.2-1 ms a quote, so long queries compare words
CANDIDATES = 150  # rows per FTS query: bounds both the index work and the rerank
COMMON_SHARE = 0.10  # words in more than this share of quotes stay out of the AND
PHRASE_CANDIDATES = 30
NEAR_WORDS = 3
NEAR_CANDIDATES = 60  # each candidate costs the rerank ~20-40 us
FEW = 3
PHRASE_WORK = 2_000  # a phrase reads every other word's positions for each quote holding
#                      its rarest word; with common words that is 2-5 us each at 1M quotes
RANK_WORK = 2000  # BM25 costs ~3 us a match at 1M quotes: this bounds it to ~6 ms
MIN_SCORE = 0.45
SIMILAR_WORDS = 2  # unknown words looked up by spelling (PostgreSQL's trigram index)
SIMILAR_MIN_CHARS = 5  # shorter words share too few trigrams to tell one word from many
SIMILAR_CANDIDATES = 30
RESPELLED = 75  # rapidfuzz ratio at which a word of a quote stands for a mistyped one


@dataclass(frozen=True)
class Term:
    """One query word and the indexed terms that stand for it (itself, fixes, completions)."""

    word: str
    alternatives: tuple[str, ...]
    docs: int
    exact: bool


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
        known = await vocab.frequencies(list(dict.fromkeys(words)))
        terms: list[Term] = []
        corrected: dict[str, list[tuple[str, int]]] = {}
        for i, word in enumerate(words):
            docs = known.get(word, 0)
            if prefix_last and i == len(words) - 1:
                pairs = await vocab.completions(word) or vocab.corrections(word)
            elif docs:
                pairs = [(word, docs)]
            elif word in corrected or len(corrected) < MAX_CORRECTED:
                pairs = corrected.setdefault(word, vocab.corrections(word))
            else:
                pairs = []  # a pasted paragraph full of names: the other words suffice
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
        collections: tuple[int, ...] | None = None,
        collections_in_index: bool = True,
    ) -> list[Hit]:
        """Best matches for `query`, best first, at most `limit`; only quotes of
        `collections` (a library's) when given. The index narrows to them too, unless
        `collections_in_index` is False (a library that is most of the database, where that
        narrowing costs more than it saves); the candidates are checked either way."""
        words = tokenize(query[:MAX_QUERY_CHARS])[:MAX_WORDS]
        if not words:
            return []
        terms = await self.plan(words, prefix_last=prefix_last)
        usable = _index_terms(terms, prefix_last)
        candidates: dict[int, float] = {}
        hits: list[Hit] = []
        if usable:
            pasted = sum(1 for t in terms if t.alternatives) > MAX_TERMS
            candidates = await self._candidates(usable, speaker_id, source_id, prefix_last,
                                                phrase=not pasted, collections=collections,
                                                in_index=collections_in_index)
        if candidates:
            # Only the library's quotes are scored (whatever the index narrowed): exact,
            # for counts ("match 2 of 7") as much as for what is shown.
            texts = await self.quotes.texts(list(candidates), collections)
            hits = self._rerank(words, terms, texts, candidates)
        if not hits:
            # Nothing found: words the vocabulary could not correct, looked up by spelling
            # (PostgreSQL only), and the whole lot scored again with their look-alikes.
            similar = await self._similar(terms, prefix_last, speaker_id, source_id,
                                          collections, collections_in_index)
            if similar:
                candidates = {**dict.fromkeys(similar, 0.0), **candidates}
                texts = await self.quotes.texts(list(candidates), collections)
                terms = _respelled(terms, [texts[i] for i in similar if i in texts])
                hits = self._rerank(words, terms, texts, candidates)
        return hits[:limit]

    async def _similar(
        self, terms: list[Term], prefix_last: bool, speaker_id: int | None,
        source_id: int | None, collections: tuple[int, ...] | None, in_index: bool,
    ) -> list[int]:
        """Quotes holding words spelled like the typed words the vocabulary could not
        correct, for when the index found nothing worth showing: a typo that changed both
        ends of a word or three letters of it, or a word too rare to be held in memory.
        Looked up by the store's trigram index (PostgreSQL); SQLite has none, so nothing."""
        last = len(terms) - 1 if prefix_last else -1  # a half-typed word is no typo
        unknown = [t.word for i, t in enumerate(terms)
                   if not t.exact and i != last and len(t.word) >= SIMILAR_MIN_CHARS]
        unknown = sorted(dict.fromkeys(unknown), key=len, reverse=True)[:SIMILAR_WORDS]
        if not unknown:
            return []
        query = TextQuery(tuple((w,) for w in unknown), ALL, 0, speaker_id, source_id,
                          None if collections is None else tuple(collections), in_index)
        return [qid for qid, _ in await self.quotes.similar(query, SIMILAR_CANDIDATES)]

    async def _candidates(
        self, terms: list[Term], speaker_id: int | None, source_id: int | None,
        prefix_last: bool = False, phrase: bool = True,
        collections: tuple[int, ...] | None = None, in_index: bool = True,
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
        gather = _Gather(self.quotes, speaker_id, source_id, collections, in_index)
        typed = terms
        terms = sorted(terms, key=lambda t: t.docs)
        common = max(50, int(self.vocabulary.documents * COMMON_SHARE))
        selective = [t for t in terms if t.docs <= common]
        phrased = False
        if await gather.run(selective or terms) >= CANDIDATES and selective:
            phrased = await gather.unselective(typed, selective, prefix_last, phrase)
        if len(gather.found) >= CANDIDATES and phrase and not phrased and not prefix_last:
            await gather.near(typed)
        if len(gather.found) < FEW and len(terms) > 1:
            await gather.relaxed(terms, selective)
        if not gather.found and len(terms) > 1:
            # Last resort (a line that spans two quotes, or half of it misremembered): the
            # best BM25 matches of any one of the rarest words, each rare enough to be cheap.
            rare = [t for t in terms[:4] if t.docs <= RANK_WORK]
            if rare:
                await gather.run(rare, ranked=True, any_of=True)
        return gather.found

    def _rerank(
        self, words: list[str], terms: list[Term], texts: dict[int, str], bm25: dict[int, float]
    ) -> list[Hit]:
        """Score candidates against every typed word; ties go to the quote the words fill.

        The score is weighted word coverage, closeness of the words as typed (characters for
        a short query, so typos count partly; words in order for a long one) and a little
        BM25. Quotes that hold every typed word in order tie at the top; the one the query
        spells out word for word goes first, so a pasted sentence ranks its own quote above
        a longer one that merely contains it.
        """
        documents = self.vocabulary.documents
        # Inverse document frequency of each typed word; unknown words weigh like rare ones.
        weights = [math.log(1 + documents / (1 + t.docs)) for t in terms]
        total_weight = sum(weights) or 1.0
        typed = " ".join(words)
        by_chars = len(typed) <= PARTIAL_CHARS
        # Each typed word as it is indexed (its best correction when it was mistyped).
        spelled = [t.word if t.exact or not t.alternatives else t.alternatives[0]
                   for t in terms]
        best_bm25 = min(bm25.values()) if bm25 else 0.0
        alternatives = [(frozenset(t.alternatives), w)
                        for t, w in zip(terms, weights, strict=True)]
        scored = []
        for qid, text in texts.items():
            text_words = tokenize(text)
            present = set(text_words)
            covered = sum(w for alts, w in alternatives if not present.isdisjoint(alts))
            coverage = covered / total_weight
            in_order = LCSseq.similarity(spelled, text_words)
            if by_chars:
                closeness = fuzz.partial_ratio(typed, " ".join(text_words)) / 100
            else:
                closeness = in_order / len(spelled)
            relevance = (bm25[qid] / best_bm25) if best_bm25 < 0 else 0.0
            score = 0.5 * coverage + 0.45 * closeness + 0.05 * relevance
            if coverage >= 0.5 and score >= MIN_SCORE:
                whole = in_order == len(text_words)  # the query is this quote, word for word
                scored.append((-round(score, 6), not whole, qid, score))
        scored.sort()
        return [Hit(qid, score) for _, _, qid, score in scored]


def _respelled(terms: list[Term], texts: list[str]) -> list[Term]:
    """`terms` with each unknown word's look-alikes in `texts` (the quotes found by its
    spelling) among its alternatives, so that the rerank counts them as that word."""
    words = {w for text in texts for w in tokenize(text)}
    out = []
    for t in terms:
        if not t.exact and len(t.word) >= SIMILAR_MIN_CHARS:
            alike = [w for w in words if fuzz.ratio(t.word, w) >= RESPELLED]
            t = Term(t.word, tuple(dict.fromkeys((*t.alternatives, *sorted(alike)))), t.docs,
                     t.exact)
        out.append(t)
    return out


def _index_terms(terms: list[Term], prefix_last: bool) -> list[Term]:
    """The terms worth sending to the index: all as typed, or for a long query the rarest.

    A pasted sentence has dozens of words; its rarest ones already pin the quote down, and
    every further word would cost the index a doclist to intersect. The order as typed is
    kept (the phrase query reads it), and so is a half-typed last word (autocomplete).
    """
    usable: list[Term] = []
    seen: set[tuple[str, ...]] = set()
    for i, t in enumerate(terms):
        last = prefix_last and i == len(terms) - 1
        if t.alternatives and (last or t.alternatives not in seen):
            seen.add(t.alternatives)
            usable.append(t)
    if sum(1 for t in terms if t.alternatives) <= MAX_TERMS:
        return [t for t in terms if t.alternatives]  # as typed, repeats and all: a phrase
    keep = set(map(id, sorted(usable[:-1] if prefix_last else usable,
                              key=lambda t: t.docs)[: PASTED_TERMS - prefix_last]))
    return [t for i, t in enumerate(usable)
            if id(t) in keep or (prefix_last and i == len(usable) - 1)]


class _Gather:
    """One search's bounded FTS queries, and the candidates (id -> best BM25) they found."""

    def __init__(self, quotes: QuoteStore, speaker_id: int | None, source_id: int | None,
                 collections: tuple[int, ...] | None = None, in_index: bool = True) -> None:
        self.quotes = quotes
        self.speaker_id = speaker_id
        self.source_id = source_id
        self.collections = None if collections is None else tuple(collections)
        self.in_index = in_index
        self.found: dict[int, float] = {}

    async def run(self, selection: list[Term], *, ranked: bool = False, phrase: bool = False,
                  any_of: bool = False, near: int = 0, limit: int = CANDIDATES) -> int:
        """Run one query and add its rows; the number of rows it returned."""
        mode = PHRASE if phrase else NEAR if near else ANY if any_of else ALL
        query = TextQuery(tuple(t.alternatives for t in selection), mode, near,
                          self.speaker_id, self.source_id, self.collections, self.in_index,
                          0 if mode == ANY else min(t.docs for t in selection))
        rows = await self.quotes.match(query, limit, ranked=ranked)
        for rowid, rank in rows:
            self.found[rowid] = min(rank, self.found.get(rowid, 0.0))
        return len(rows)

    async def unselective(self, typed: list[Term], selective: list[Term], prefix_last: bool,
                          phrase: bool) -> bool:
        """Step 2: the phrase as typed (when affordable) and the rare words ranked; whether
        the phrase ran.

        The words as typed, misspellings replaced by their closest term; a half-typed last
        word (autocomplete) has no single spelling yet and is left out. Every phrase match
        holds the phrase, so a few are enough.
        """
        phrased = False
        spelled = typed[:-1] if prefix_last else typed
        if (phrase and len(spelled) > 1
                and min(t.docs for t in spelled) * len(spelled) <= PHRASE_WORK):
            await self.run(spelled, phrase=True, limit=PHRASE_CANDIDATES)
            phrased = True
        rare = [t for t in selective if t.docs <= RANK_WORK]
        if rare:
            await self.run(rare, ranked=True)
        return phrased

    async def near(self, typed: list[Term]) -> None:
        """Only fairly common words ("going to do that, because it's"): the first quotes
        holding them all, in rowid order, rarely hold them in this order, and the phrase
        itself costs a scan of every such quote when it is rare (15-55 ms at 1M quotes). Its
        three rarest words near each other are far fewer quotes, found by a scan of three
        doclists only (p50 2.5 ms at 1M)."""
        near = sorted({t.alternatives[0]: t for t in typed}.values(),
                      key=lambda t: t.docs)[:NEAR_WORDS]
        if len(near) == NEAR_WORDS:
            await self.run(near, near=len(typed), limit=NEAR_CANDIDATES)

    async def relaxed(self, terms: list[Term], selective: list[Term]) -> None:
        """No match: the words were misremembered, so leave each of the rarest out in turn.
        A match or two: the user may still want a "Next match", so broaden once."""
        for dropped in terms[: min(len(terms), 4 if not self.found else 1)]:
            await self.run([t for t in (selective or terms) if t is not dropped] or terms)
            if len(self.found) >= FEW:
                break
