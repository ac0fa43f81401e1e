"""Search: exact, partial, reordered and misspelled lines find the right quote; input is safe."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.both_engines

EXECUTION = "ideas are cheap, execution is everything"


async def top(library, query, **filters):
    found = await library.search(query, limit=5, **filters)
    return found[0].text if found else None


@pytest.mark.parametrize(
    "query",
    [
        "ideas are cheap, execution is everything",  # exact
        "execution is everything",  # partial
        "everything is execution, cheap are ideas",  # reordered
        "execusion is everything",  # misspelled
        "ideas are cheep execution",  # misspelled and partial
        "IDEAS ARE CHEAP",  # case
    ],
)
async def test_half_remembered_lines_find_the_quote(library, query):
    assert EXECUTION in (await top(library, query)).lower()


async def test_misspelled_rare_words_are_corrected(library):
    assert "AlexNet" in await top(library, "alexnett was bulit on two gpus")


@pytest.mark.parametrize("query, quote", [
    ("secret sacue", "secret sauce"),  # "sauce" with two letters swapped
    ("gpsu", "AlexNet"),
    ("chaep ideas", "ideas are cheap"),
    ("the vbie", "the vibe"),
])
async def test_swapped_letters_in_a_short_word_are_one_typo(library, query, quote):
    # A slip of two neighbouring keys is one edit, also in words of five letters or fewer
    # (Levenshtein counts it as two, past the one such words are allowed).
    assert quote in await top(library, query)


async def test_speaker_filter(library):
    greg = library.resolve_speaker("brockman")
    found = await library.search("control your inputs", speaker=greg)
    assert found and all(q.speaker == "Greg Brockman" for q in found)
    ilya = library.resolve_speaker("ilya")
    assert await library.search("control your inputs", speaker=ilya) == []


async def test_source_filter(library):
    stage = library.resolve_source("stage")
    found = await library.search("the", source=stage)
    assert found and all(q.source_slug == "stage" for q in found)


@pytest.mark.parametrize(
    "query",
    ['"', '"ideas', "ideas*", "text:ideas", "NEAR(ideas cheap)", "(ideas OR", "ideas AND",
     "NOT", "^ideas", "ideas -cheap", "{text}: x", "'; DROP TABLE quotes; --", "\x00",
     "ideas\u200b cheap", "💬 ideas", "*", ":", "()", "a" * 5000],
)
async def test_fts_syntax_never_raises(library, query):
    found = await library.search(query)
    assert isinstance(found, list)
    assert await library.store.count_quotes() == 8


async def test_fts_operators_are_searched_as_words(library):
    # "OR" and "NEAR" are words to us, never operators: no quote contains "near".
    assert await library.search("NEAR NEAR NEAR") == []


async def test_nonsense_finds_nothing(library):
    assert await library.search("xyzzy plugh frobozz") == []


async def test_autocomplete_prefix(library):
    found = await library.search("execution is every", prefix_last=True)
    assert found and EXECUTION in found[0].text.lower()
