"""Words with digits, hyphens, slashes and accents are found alike on both engines."""

from __future__ import annotations

import pytest

from tests.conftest import ILYA, add_lines

pytestmark = pytest.mark.both_engines

LINES = [
    "GPT-4 took 2-3 years of work, 24/7, and it was 2.5x better than what came before.",
    "The café on the corner is where the naïve plan was first written down.",
    "Nothing here is worth finding for the words above.",
]


@pytest.mark.parametrize(("query", "found"), [
    ("GPT-4", 0), ("gpt 4 took", 0), ("2-3 years", 0), ("24/7", 0), ("2.5x better", 0),
    ("cafe on the corner", 1), ("café", 1), ("naive plan", 1),
])
async def test_words_the_parsers_could_split_differently_are_found(library, query, found):
    await add_lines(library, "tokens", "A talk on tokens", ILYA, LINES)
    await library.store.refresh_terms()
    await library.load()
    hits = await library.search(query, limit=3)
    assert hits and hits[0].text == LINES[found], query
