"""The bundled interviews end to end: ingest, then find lines the way people half-remember them."""

from __future__ import annotations

import pytest

from quotebot.bot.highlights import MIN_SCORE
from quotebot.bot.ingest.runner import ingest_paths
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import QuoteReply, Request
from quotebot.bot.registry import Services
from quotebot.transcripts import bundled_files
from tests.conftest import open_any

# (query, words the top quote must contain, who said it)
LINES = [
    # Sutskever / Patel, including lines that straddle the mis-split segments.
    ("ideas are cheap, execution is everything", "execution is everything", "Ilya Sutskever"),
    ("execusion is everything", "execution is everything", "Ilya Sutskever"),
    ("everything is execution ideas cheap", "execution is everything", "Ilya Sutskever"),
    ("scaling sucked out all the air in the room", "sucked out all the air in the room",
     "Ilya Sutskever"),
    ("scalling sucked all the air out of the room", "sucked out all the air in the room",
     "Ilya Sutskever"),
    ("did not convince anyone", "did not convince anyone", "Ilya Sutskever"),
    ("more companies than ideas", "more companies than ideas", "Ilya Sutskever"),
    ("alexnet was built on two gpus", "AlexNet was built on two GPUs", "Ilya Sutskever"),
    ("if ideas are so cheap how come no one is having any ideas",
     "How come no one's having any ideas", "Ilya Sutskever"),
    ("transformer didn't immediately become famous", "transformer didn't immediately become",
     "Dwarkesh Patel"),
    ("back in the era of research", "era of research", "Dwarkesh Patel"),
    # Brockman / Wang.
    ("you can only control your inputs", "control your inputs", "Greg Brockman"),
    ("control the experiments you run inputs", "control your inputs", "Greg Brockman"),
    ("we just make payments really good", "make payments really good", "Greg Brockman"),
    ("what's the secret sauce", "secret sauce", None),
    ("groups of people are kind of the same regardless of the problem",
     "groups of people are kind of the same", "Greg Brockman"),
    ("came to it with beginners eyes", "beginner's eyes", "Greg Brockman"),
    ("nuclear reactor wind turbines", "wind turbines", "Greg Brockman"),
    ("Please join me in welcoming to the stage", "welcoming to the stage", "Moderator"),
    ("sumer camp called spark", "summer camp called Spark", "Alexandr Wang"),
]

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def bundled(bundled_target) -> QuoteLibrary:
    """The bundled interviews, ingested, on each engine in turn."""
    db = await open_any(bundled_target)
    library = QuoteLibrary(db)
    await library.load()
    yield library
    await db.close()


@pytest.mark.parametrize(("query", "expected", "speaker"), LINES)
async def test_lines_are_found_first_and_attributed_to_who_said_them(
    bundled, query, expected, speaker
):
    found = await bundled.search(query, limit=3)
    assert found, f"nothing found for {query!r}"
    best = found[0]
    assert expected.lower() in best.text.lower(), [q.text for q in found]
    if speaker:
        assert best.speaker == speaker


async def test_straddling_sentence_is_one_quote_with_a_time(bundled):
    quote = (await bundled.search("scaling sucked out all the air in the room"))[0]
    assert quote.verbatim.startswith("So, one consequence of um the age of scaling")
    assert quote.text.startswith("One consequence of the age of scaling")  # the clean form
    assert quote.start == pytest.approx(52.7, abs=0.5)
    execution = (await bundled.search("execution is everything"))[0]
    assert 75 <= execution.start <= 90


async def test_speaker_filter_resolves_short_names(bundled):
    ilya = bundled.resolve_speaker("ilya")
    greg = bundled.resolve_speaker("brockman")
    assert (ilya.name, greg.name) == ("Ilya Sutskever", "Greg Brockman")
    found = await bundled.search("compute", speaker=ilya, limit=10)
    assert found and {q.speaker for q in found} == {"Ilya Sutskever"}


async def test_name_corrections_are_applied_at_ingest(bundled):
    texts = [q.text for q in await bundled.search("GPT-3", limit=10)]
    assert texts and all("GPD3" not in t and "GP3" not in t for t in texts)
    assert any("GPT-3" in t for t in texts)


async def test_random_quotes_are_worth_reading(bundled, registry):
    services = Services(library=bundled)
    for _ in range(60):
        reply = await registry.dispatch(Request("random", {}), services)
        text = reply.quote.text
        words = text.split()
        assert reply.quote.highlight_id is not None  # a highlight, not a sentence unit
        assert reply.quote.quotability >= MIN_SCORE
        assert 10 <= len(words) <= 55 and len(text) <= 280, text
        assert text[0].isupper() or text[0].isdigit(), text
        assert text.rstrip("”\"')")[-1] in ".?!", text
        assert text not in {"Yeah.", "Hey.", "Thank you so much."}


async def test_reingesting_the_bundle_changes_nothing(bundled):
    before = await bundled.db.fetchall("SELECT id, text FROM quotes ORDER BY id")
    report = await ingest_paths(bundled.store, bundled_files())
    assert {f.status for f in report.files} == {"unchanged"}
    after = await bundled.db.fetchall("SELECT id, text FROM quotes ORDER BY id")
    assert [tuple(r) for r in before] == [tuple(r) for r in after]


@pytest.mark.parametrize(("query", "expected"), [
    ("dolly 2", "DALL·E 2"),
    ("GPD3", "GPT-3"),
    ("open ai", "OpenAI"),
])
async def test_misheard_names_as_typed_still_find_the_corrected_quote(bundled, query, expected):
    found = await bundled.search(query, limit=3)
    assert found and expected in found[0].text


async def test_a_common_word_pages_through_one_stable_total(bundled, registry):
    # "match N of M" is the same M on every page, even past the first ten matches
    # (it once said "of 10", then "of 11", "of 12").
    services = Services(bundled)
    totals = []
    for offset in (0, 1, 11, 12):
        reply = await registry.dispatch(
            Request("search", {"query": "compute", "offset": offset}), services)
        assert isinstance(reply, QuoteReply), reply
        assert reply.search.position == offset + 1
        totals.append(reply.search.total)
    assert len(set(totals)) == 1 and totals[0] > 13
