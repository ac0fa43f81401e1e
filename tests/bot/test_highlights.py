"""Highlight rules, each on real lines from the bundled transcripts, good and bad."""

from __future__ import annotations

import pytest

from quotebot.bot import highlights
from quotebot.bot.highlights import Unit, Verdict, select
from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.sentences import build_quotes, split_sentences
from quotebot.transcripts import bundled_files


def verdict(text: str, *, speaker: str = "Greg Brockman", role: str | None = None) -> Verdict:
    """The verdict on `text`, all of its sentences, as one passage of one turn."""
    units = [Unit("Someone Else", "What do you think?", 0),
             Unit(speaker, text, 1),
             Unit("Someone Else", "Thank you.", 2)]
    count = len(split_sentences(text))
    (found,) = [v for v in highlights.explain(units, 1, {speaker: role})
                if len(split_sentences(v.text)) == count]
    return found


GOOD = [
    "We got to the point where we are in a world where there are more companies than ideas "
    "by quite a bit.",
    "The amount of compute going into all the landmark results was exactly Moore's law.",
    "The way we got to fast computers was basically five different paradigm shifts across a "
    "hundred years.",
    "You can only control your inputs; you can control the experiments you run.",
    "AlexNet was built on two GPUs. That was the total amount of compute used for it. The "
    "transformer was built on eight to 64 GPUs.",
    # a reply word the clean form drops does not count against the start
    "I mean, humans are not very good at things you've never seen before, and neither are "
    "the models.",
]


@pytest.mark.parametrize("text", GOOD)
def test_good_passages_are_highlights(text):
    found = verdict(text)
    assert found.ok, found.rejected
    assert found.score >= highlights.MIN_SCORE
    assert found.reasons  # the score comes with what raised and lowered it


BAD = [
    # starts mid-thought
    ("That's what we've been waiting for, and the transformer was the thing that did it.",
     "back-reference"),
    ("But of course it's not going to understand anything about what the words mean.",
     "conjunction"),
    ("Exactly, and that is why the whole field moved to scaling up these models.",
     "reply word"),
    ("Another thing is that we had many thousands of hours of Dota 2 gameplay to learn from.",
     "mid-list"),
    ("how much groups of people are kind of the same, regardless of what the problem is.",
     "mid-sentence"),
    # ends without landing
    ("Did that phase of the journey, sort of this GPT-2 to GPT-3 jump, feel scary to you?",
     "question"),
    ("It's really to bring everyone along to this AI transition, and the best way to do "
     "that...", "trails off"),
    ("Specifically for us, the amount of compute that SSI has for research is really not "
     "that small, and I want to explain why.", "setup"),
    ("You might argue and I think it is true that if you want to build the absolutely best "
     "system.", "if"),
    # not substance
    ("Thank you for the kind words, it's a real pleasure to be here with all of you today.",
     "pleasantry"),
    ("Please join me in welcoming to the stage Greg Brockman and Alexandr Wang, everyone.",
     "pleasantry"),
    # lines of the hand-written panel/podcast collection (second blind review): an answer to
    # someone in the room by name, and a plug spelled out as it is said
    ("Theo, okay, so, Garfield is on our high-injury network, which means it's one of the "
     "roads where the most people get hurt.", "addresses someone by name"),
    ("Hearthandcrumb dot com, and we're in Ohio, Indiana, Kentucky and Michigan now, so "
     "come say hi to the whole team.", "sponsor"),
    # filler the clean form keeps
    ("Sometimes people don't see any potential, or sometimes, you know, the potential is "
     "right there in front of them.", "filler"),
    ("I think my conclusion was that like it wasn't actually actionable to set those goals "
     "of outputs.", "filler"),
    # sizes
    ("The bottleneck was compute.", "too short"),
    ("Compute grew in the labs of " + ", ".join(f"company {n}" for n in range(30)) + ".",
     "too long"),
]


@pytest.mark.parametrize(("text", "why"), BAD)
def test_bad_passages_are_not_highlights(text, why):
    found = verdict(text)
    assert not found.ok, f"chosen with score {found.score}"
    assert why in found.rejected


DOUBTFUL = [
    ("We wanted people to build products with him, and the API was the way to get there.",
     "not named"),
    ("Literally put an API on top of it, people just talk to it, and people build products "
     "on top of it.", "“of it”"),
    ("You take this sort of very early nascent result, put in a transformer, and then that's "
     "GPT-1.", "this nascent"),
    ("Humans are also not very good at things you've never seen before.", "also"),
    ("I think the thing that's most interesting to me is that those models you mentioned are "
     "overnight successes that took many years to create.", "you mentioned"),
]


@pytest.mark.parametrize(("text", "why"), DOUBTFUL)
def test_passages_that_may_need_context_rank_below_those_that_stand_alone(text, why):
    found = verdict(text)
    assert found.ok and not found.standalone
    assert found.score < highlights.STANDALONE
    assert why in found.reasons[-1] and "may need context" in found.reasons[-1]


def test_an_interviewers_prompt_is_not_a_highlight_but_a_claim_can_be():
    prompt = ("I think now, looking back, it's obvious that GPT-3 accelerated AI progress. "
              "How is that matched up against your expectations?")
    assert not verdict(prompt, speaker="Dwarkesh Patel", role="Host").ok
    claim = ("The amount of compute going into all the landmark results was exactly Moore's "
             "law.")
    found = verdict(claim, speaker="Dwarkesh Patel", role="Host")
    assert found.ok and "interviewer" in " ".join(found.reasons)


def _bundled_highlights():
    chosen = []
    for path in bundled_files():
        parsed = parse_transcript(path.read_text(encoding="utf-8"), path.name)
        drafts = build_quotes(parsed)
        units = [Unit(d.speaker, d.text, d.position, d.start) for d in drafts]
        roles = {p.name: p.role for p in parsed.meta.participants}
        chosen.append((drafts, select(units, roles)))
    return chosen


def test_bundled_highlights_are_a_small_share_and_never_overlap():
    total = 0
    for drafts, chosen in _bundled_highlights():
        total += len(chosen)
        assert len(chosen) < len(drafts) / 4  # most of a conversation is not highlight material
        # Never overlapping: place every passage in its source's text and compare ranges.
        stream = " ".join(d.text for d in drafts)
        starts = [0]
        for d in drafts:
            starts.append(starts[-1] + len(d.text) + 1)
        ranges = []
        for h in chosen:
            at = stream.find(h.text, starts[h.first])
            assert at != -1 and at < starts[h.first + 1]
            ranges.append((at, at + len(h.text)))
        ranges.sort()
        for (_, end), (begin, _) in zip(ranges, ranges[1:], strict=False):
            assert end <= begin
        for h in chosen:
            words = h.text.split()
            assert 0 < h.score <= 1
            assert h.score >= highlights.STANDALONE or any("may need context" in r
                                                          for r in h.reasons)
            assert len(words) >= highlights.MIN_WORDS
            assert h.speaker is not None
            # the passage is a verbatim slice of the units it spans
            joined = " ".join(d.text for d in drafts[h.first : h.last + 1])
            assert h.text in joined
    assert total >= 40  # enough for 40 draws without a repeat


def test_a_file_of_nothing_but_quotable_lines_keeps_the_best_few():
    line = ("The engine weaves algebraic patterns number {n} just as the loom weaves flowers, "
            "and the mill does the arithmetic.")
    units = [Unit(("Ada Lovelace", "Charles Babbage")[n % 2], line.format(n=n), n)
             for n in range(600)]
    chosen = select(units)
    assert len(chosen) == 600 // highlights.UNITS_PER_HIGHLIGHT
    assert len({h.first for h in chosen}) == len(chosen)


def test_common_words_are_those_wordfreq_rates_at_zipf_3_8_or_more():
    import math

    import wordfreq

    frequencies = wordfreq.get_frequency_dict("en")
    common = highlights.common_words()
    for word in ["the", "compute", "transformer", "bottleneck", "gpus", "alexnet",
                 "zyzzyva", "notaword", *list(frequencies)[::997]]:
        frequency = frequencies.get(word)
        zipf = math.log10(frequency * 1e9) if frequency else 0.0
        assert (word in common) == (zipf >= highlights.RARE_ZIPF), word
