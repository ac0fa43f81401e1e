"""store/fts.py: full-text queries as data, run by QuoteStore.match; no word is ever syntax."""

from __future__ import annotations

import pytest

from quotebot.store.fts import ALL, ANY, NEAR, PHRASE, TextQuery, expression, literal

pytestmark = pytest.mark.both_engines


async def texts_of(library, query: TextQuery) -> set[str]:
    rows = await library.store.match(query, 50, ranked=False)
    found = await library.store.texts([row[0] for row in rows])
    return set(found.values())


def test_each_mode_is_written_as_fts5_expects():
    words = (("ideas",), ("cheap", "cheaper"))
    assert expression(TextQuery(words)) == 'text : ("ideas" AND ("cheap" OR "cheaper"))'
    assert expression(TextQuery(words, ANY)) == 'text : ("ideas" OR ("cheap" OR "cheaper"))'
    assert expression(TextQuery(words, PHRASE)) == 'text : ("ideas cheap")'
    assert expression(TextQuery(words, NEAR, 4)) == 'text : (NEAR("ideas" "cheap", 4))'
    assert expression(TextQuery(words, ALL, speaker_id=3, source_id=9)) == (
        'text : ("ideas" AND ("cheap" OR "cheaper")) AND tags : "s3" AND tags : "o9"')


def test_a_literal_escapes_its_quotes():
    assert literal('say "hi"') == '"say ""hi"""'


@pytest.mark.parametrize(("word", "finds"), [
    ('"', None), ("NEAR(a b)", None), ("^x", None), ("col : x", None), ("a OR b", None),
    ("'); DROP TABLE quotes; --", None),
    # Operators inside a literal are only separators: the words are looked for as written.
    ("execution*", "execution is everything"), ("-cheap", "ideas are cheap"),
])
async def test_what_a_user_types_is_never_syntax(library, word, finds):
    found = await texts_of(library, TextQuery(((word,),)))
    if finds is None:
        assert found == set()
    else:
        assert found and all(finds in text for text in found)
    assert await library.db.scalar("SELECT count(*) FROM quotes") > 0


async def test_modes_find_what_they_promise(library):
    cheap = "cheap, execution is everything."
    all_words = await texts_of(library, TextQuery((("ideas",), ("execution",))))
    assert all_words and all(cheap in text for text in all_words)
    assert await texts_of(library, TextQuery((("execution",), ("ideas",)), PHRASE)) == set()
    near = await texts_of(library, TextQuery((("ideas",), ("everything",)), NEAR, 5))
    assert near == all_words
    either = await texts_of(library, TextQuery((("alexnet",), ("payments",)), ANY))
    assert {"AlexNet" in t or "payments" in t for t in either} == {True} and len(either) == 2


async def test_filters_narrow_the_match_to_a_speaker_and_a_source(library):
    speakers = dict(await library.db.fetchall("SELECT name, id FROM speakers"))
    sources = dict(await library.db.fetchall("SELECT slug, id FROM sources"))
    words = (("the",),)
    greg = await texts_of(library, TextQuery(words, speaker_id=speakers["Greg Brockman"]))
    assert greg and all("payments" in t or "inputs" in t for t in greg)
    podcast = await texts_of(library, TextQuery(words, source_id=sources["podcast"]))
    assert podcast and not podcast & greg
    assert await texts_of(library, TextQuery(words, speaker_id=speakers["Greg Brockman"],
                                             source_id=sources["podcast"])) == set()
