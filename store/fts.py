"""Full-text queries as data: the only place FTS5 (and PostgreSQL tsquery) syntax is written.

The search planner (`quotebot.bot.search`) says what it wants — which words, with which
alternatives, as a phrase, near each other, all or any of them, within a speaker or a
source — and `QuoteStore.match` runs it. Every word reaches the engine as a quoted string,
so nothing a user types is ever syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ALL, ANY, PHRASE, NEAR = "all", "any", "phrase", "near"


@dataclass(frozen=True)
class TextQuery:
    """Words to find in the quotes' text, and how they must appear.

    `words` holds one tuple per query word: the indexed terms that stand for it (the word
    itself, its typo fixes or completions). ALL wants a term of every word, ANY a term of
    one; PHRASE wants the first term of each word in this order, side by side; NEAR wants
    them within `distance` words of each other. `speaker_id`, `source_id` and
    `collections` (a library's: any of them) narrow the match inside the index (see
    `filter_tags`); None means no such filter.
    """

    words: tuple[tuple[str, ...], ...]
    mode: str = ALL
    distance: int = 0
    speaker_id: int | None = None
    source_id: int | None = None
    collections: tuple[int, ...] | None = None
    # Narrow to `collections` inside the index (a `c<id>` term: cheap when the library is a
    # small part of the database). False leaves the match wider (intersecting with a term
    # most quotes hold costs a seek per match); the caller then checks each candidate's
    # collection (Searcher.search), so a library still sees only its own quotes.
    collections_in_index: bool = True
    # How many quotes hold the rarest of `words` (0: not known), an upper bound of the
    # matches. FTS5 needs no such hint; PostgreSQL's GIN index reads every match into a
    # bitmap before a LIMIT applies, so for words this common it scans rows instead.
    rarest_docs: int = 0


def filter_tags(speaker_id: int | None, source_id: int, collection_id: int) -> str:
    """The tokens FTS indexes in the `tags` column of a quote, for filtered searches."""
    return f"s{speaker_id or 0} o{source_id} c{collection_id}"


def literal(term: str) -> str:
    """One term as an FTS5 string literal: whatever it contains, it is never syntax."""
    return '"' + term.replace('"', '""') + '"'


def _any_of(terms: Sequence[str]) -> str:
    if len(terms) == 1:
        return literal(terms[0])
    return "(" + " OR ".join(literal(t) for t in terms) + ")"


def expression(query: TextQuery) -> str:
    """The FTS5 MATCH expression for `query`."""
    if query.mode == PHRASE:
        inner = literal(" ".join(terms[0] for terms in query.words))
    elif query.mode == NEAR:
        inner = f"NEAR({' '.join(literal(terms[0]) for terms in query.words)}, "
        inner += f"{query.distance})"
    else:
        joiner = " OR " if query.mode == ANY else " AND "
        inner = joiner.join(_any_of(terms) for terms in query.words)
    parts = [f"text : ({inner})"]
    if query.speaker_id is not None:
        parts.append(f"tags : {literal(f's{query.speaker_id}')}")
    if query.source_id is not None:
        parts.append(f"tags : {literal(f'o{query.source_id}')}")
    if query.collections is not None and query.collections_in_index:
        if not query.collections:
            parts.append(f"tags : {literal('c0')}")  # no collection: matches nothing
        else:
            parts.append(f"tags : {_any_of([f'c{c}' for c in query.collections])}")
    return " AND ".join(parts)


def ts_literal(term: str) -> str:
    """One term as a tsquery operand: quoted, so it is never an operator."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery(query: TextQuery) -> str:
    """The PostgreSQL tsquery text for `query` (for `to_tsquery('simple', …)`).

    NEAR has no tsquery form: all the words are asked for, and the reranker (which scores
    how close and in what order they stand) orders them, as it does for FTS5's matches.
    Filters are columns there, not index terms (see `pg_filters`).
    """
    if query.mode == PHRASE:
        return " <-> ".join(ts_literal(terms[0]) for terms in query.words)
    joiner = " | " if query.mode == ANY else " & "
    return joiner.join(
        "(" + " | ".join(ts_literal(t) for t in terms) + ")" for terms in query.words)

