"""Search as people paste and remember, on the bundled interviews: whole pasted sentences come
back first, and a window of six common words finds its quote in the top three."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from quotebot.bot.ingest.runner import ingest_paths
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ErrorReply, QuoteReply, Request
from quotebot.bot.registry import Services
from quotebot.bot.search import MAX_QUERY_CHARS
from quotebot.bot.tokens import tokenize
from quotebot.store.db import Database
from quotebot.transcripts import bundled_files
from tests.conftest import build_database, copy_database

pytestmark = pytest.mark.slow  # ten thousand generated quotes beside the bundle

SEED = 20261201
WINDOWS = 60
COMMON_TERMS = 80  # a "common word" is one of the bundle's 80 most frequent terms
FILLER = [f"filler{i}" for i in range(2000)]
CHATTER = 170  # quotes holding each window's words in another order: more than one FTS page


def contains_run(tokens: list[str], run: list[str]) -> bool:
    n = len(run)
    return any(tokens[i:i + n] == run for i in range(len(tokens) - n + 1))


def raw_sentences() -> list[str]:
    """Sentences of the bundled transcripts read straight from the files, not the ingester:
    front matter and speaker/timestamp header lines dropped, the text joined and split at
    sentence ends (the Sutskever file cuts its segments mid-sentence)."""
    sentences = []
    for path in bundled_files():
        body = path.read_text("utf-8").split("\n---\n", 1)[1]
        lines = []
        for line in body.splitlines():
            if re.match(r"^[A-Z][\w.' -]+ \([^)]*\) \d", line):
                continue  # "Name (Role) 00:52.700"
            lines.append(re.sub(r"^[A-Z][\w.' -]{1,40}: ", "", line))
        text = " ".join(lines)
        sentences += [s.strip() for s in re.split(r"(?<=[.?!])\s+", text) if s.strip()]
    return sentences


def common_words() -> list[str]:
    """The bundle's COMMON_TERMS most frequent words, counted in sentences of the raw files."""
    counts: dict[str, int] = {}
    for sentence in raw_sentences():
        for token in set(tokenize(sentence)):
            counts[token] = counts.get(token, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))[:COMMON_TERMS]


def common_windows() -> list[str]:
    """WINDOWS windows of six common words from the raw sentences, sampled with a seed."""
    common = set(common_words())
    windows = []
    for sentence in raw_sentences():
        words = sentence.rstrip(".?!").split()
        for i in range(len(words) - 5):
            window = " ".join(words[i:i + 6])
            tokens = tokenize(window)
            if len(tokens) >= 6 and all(t in common for t in tokens):
                windows.append(window)
    assert len(windows) >= WINDOWS
    return random.Random(SEED).sample(windows, WINDOWS)


def write_lines(path, lines: list[str]):
    path.write_text("\n\n".join(lines) + "\n", "utf-8")
    return path


@pytest.fixture(scope="module")
def library_file(tmp_path_factory) -> Path:
    """The bundle, stored after two sources meant to mislead (so they have the lower ids,
    which win ties): near-duplicates of long sentences (the same first twenty words with
    another ending; the sentence with more after it), and, for each sampled window of common
    words, quotes holding all its words spread apart among filler, so the window matches
    hundreds of quotes as a bag of words and only a few as a phrase."""
    rng = random.Random(SEED)
    echoes = []
    for s in rng.sample([s for s in raw_sentences() if len(s.split()) >= 22], 25):
        words = s.split()
        echoes.append("Echo Person: " + " ".join(words[:20]) + " and then something else.")
        echoes.append("Echo Person: " + s + " Which is what I always say about that.")
    chatter = []
    for window in common_windows():
        words = tokenize(window)
        for _ in range(CHATTER):
            # The window's words spread through a long line of other words: all of them,
            # never side by side (a bag-of-words match, as long quotes give at scale).
            line = [rng.choice(FILLER) for _ in range(40)]
            for word, at in zip(words, sorted(rng.sample(range(0, 40, 4), len(words))),
                                strict=True):
                line[at] = word
            chatter.append("Chatty Cathy: " + " ".join(line).capitalize() + ".")
    folder = tmp_path_factory.mktemp("pasted")
    paths = [write_lines(folder / "echoes.txt", echoes),
             write_lines(folder / "chatter.txt", chatter)]

    async def ingest(database: Database) -> None:
        for path in [*paths, *bundled_files()]:
            report = await ingest_paths(QuoteLibrary(database).store, [path])
            assert not report.failed, report.failed

    return build_database(folder / "pasted.db", ingest)  # built once: the tests only read


@pytest.fixture
async def library(library_file, tmp_path) -> QuoteLibrary:
    db = await Database.open(copy_database(library_file, tmp_path))
    library = QuoteLibrary(db)
    await library.load()
    yield library
    await db.close()


async def test_a_pasted_long_sentence_finds_its_own_quote_first(library):
    rows = await library.db.fetchall(
        "SELECT q.id, q.text FROM quotes q JOIN sources s ON s.id = q.source_id "
        "WHERE s.slug NOT IN ('echoes', 'chatter')")
    long_quotes = [(r[0], r[1]) for r in rows if len(r[1].split()) > 16]
    assert len(long_quotes) >= 100
    missed = []
    for _, text in long_quotes:
        found = await library.search(text, limit=1)
        if not found or found[0].verbatim != text:
            missed.append((text, found[0].verbatim if found else None))
    assert not missed, missed[:3]


async def test_a_pasted_paragraph_longer_than_300_characters_is_searched(library, registry):
    rows = await library.db.fetchall(
        "SELECT q.text FROM quotes q JOIN sources s ON s.id = q.source_id "
        "WHERE s.slug = 'sutskever-patel-interview' ORDER BY q.position")
    texts = [r[0] for r in rows]
    i = next(i for i in range(len(texts) - 1) if len(texts[i]) + len(texts[i + 1]) > 320)
    paragraph = texts[i] + " " + texts[i + 1]
    assert 300 < len(paragraph) <= MAX_QUERY_CHARS
    reply = await registry.dispatch(Request("search", {"query": paragraph}),
                                    Services(library=library))
    assert isinstance(reply, QuoteReply), getattr(reply, "message", reply)
    assert reply.quote.verbatim in (texts[i], texts[i + 1])
    too_long = await registry.dispatch(Request("search", {"query": "x " * MAX_QUERY_CHARS}),
                                       Services(library=library))
    assert isinstance(too_long, ErrorReply) and "limit" in too_long.message


async def test_six_common_words_find_their_quote_in_the_top_three(library, tmp_path):
    sample = common_windows()
    hits = 0
    misses = []
    for window in sample:
        run = tokenize(window)
        found = await library.search(window, limit=3)
        if any(contains_run(tokenize(q.verbatim), run) for q in found):
            hits += 1
        else:
            misses.append(window)
    print(f"6-word windows of common words: {hits}/{len(sample)} in the top 3")
    assert hits / len(sample) >= 0.9, misses
