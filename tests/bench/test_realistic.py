"""The realistic-collection check (issue 10, "Done when"): a small collection meets the targets."""

from __future__ import annotations

import random

import pytest

from quotebot.bench.realistic import TARGETS, check, generate, half_remembered, normalise


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    root = tmp_path_factory.mktemp("collection") / "podcasts"
    return root, generate(root, episodes=14, seed=7)


def test_the_collection_holds_every_quirk_the_issue_names(collection):
    root, truth = collection
    text = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*") if p.is_file())
    names = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert {"conversations/ep-001/transcript.md", "harbour-lights/feed.xml",
            "show-notes/quotebot.yaml", "recordings/episodes.yaml"} <= names
    assert any(n.endswith(".srt") for n in names) and any(n.endswith(".json") for n in names)
    for quirk in ["Mike Maples, Jr. (00:", "Andrew ‘Boz’ Bosworth", 'Dana "Dee" Whitfield',
                  "Priya Raman, PhD", "王小明", "Олег Петров", "Siobhán O'Connell",
                  "\n(00:", "\\[", "**Break:** \\[", "Break (", "&#39;", "&amp;",
                  "(laughs)", "<podcast:transcript", '"startTime"', '"word_segments"',
                  '"SPEAKER_00"', "Sarah: ", "\n. ", "\nguest: ", "\nRenée (00:"]:
        assert quirk in text, quirk
    assert len({s.speaker for s in truth.sentences}) >= 15
    assert len({s.text for s in truth.sentences}) == len(truth.sentences)


async def test_search_finds_sampled_sentences_with_their_speakers(collection, tmp_path):
    root, truth = collection
    result = await check(root, truth, tmp_path / "check.db", samples=150)
    assert result["ingest_problems"] == []
    for name, target in TARGETS.items():
        assert result[name] >= target, (name, result[name], result["misses"].get(name))
    assert result["leaks"] == {"timestamp": 0, "entity": 0, "markdown": 0, "label": 0}, \
        result["leak_examples"]
    assert result["passed"]


def test_half_remembered_queries_drop_swap_and_misspell():
    rng = random.Random(3)
    sentence = "We spent three years building the support queue, and honestly it was tiny."
    query = half_remembered(sentence, rng)
    assert len(query.split()) == len(sentence.split()) - 2
    assert normalise(query) != normalise(sentence)
    assert sorted(normalise(query).replace(" ", "")) != sorted(normalise(sentence).replace(" ", ""))
