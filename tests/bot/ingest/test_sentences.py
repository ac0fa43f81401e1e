"""Tests for re-segmentation into sentences and quote units."""

import re
from pathlib import Path

import pytest

from quotebot.bot.ingest.decode import decode
from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.sentences import build_quotes, source_text, split_sentences
from quotebot.bot.ingest.types import Correction, ParsedTranscript, Participant, Segment, SourceMeta

ROOT = Path(__file__).parents[3]
DATA = ROOT / "tests" / "data" / "formats"
WORD = re.compile(r"[\w']+")


def transcript(*segments, participants=(), corrections=()):
    """A parsed transcript made of (speaker, text, start) triples."""
    return ParsedTranscript(
        meta=SourceMeta(
            slug="t", title="T", participants=tuple(participants), corrections=tuple(corrections)
        ),
        format="test",
        segments=tuple(Segment(speaker, text, start) for speaker, text, start in segments),
    )


def load(path):
    return parse_transcript(decode(path.read_bytes(), str(path)), str(path))


def quote_with(quotes, phrase):
    found = [q for q in quotes if phrase in q.text]
    assert len(found) == 1, f"{phrase!r} is in {len(found)} quotes"
    return found[0]


# --- the Sutskever transcript's shifted labels ------------------------------------


@pytest.fixture(scope="module")
def sutskever():
    return build_quotes(load(DATA / "sutskever-straddle.txt"))


def test_scaling_sucked_out_the_air_is_one_quote_by_ilya(sutskever):
    quote = quote_with(sutskever, "scaling sucked out all the air in the room.")
    assert quote.speaker == "Ilya Sutskever"
    assert quote.text == (
        "So, one consequence of um the age of scaling is that there was this um scaling "
        "sucked out all the air in the room."
    )
    assert quote.start == 52.7


def test_ideas_are_cheap_is_ilyas_and_starts_between_80_and_90(sutskever):
    quote = quote_with(sutskever, "ideas are cheap, execution is everything")
    assert quote.speaker == "Ilya Sutskever"
    assert 80 <= quote.start <= 90
    assert quote.text == (
        "Actually, on that, you know, there is the Silicon Valley saying that says that "
        "ideas are cheap, execution is everything."
    )


def test_did_not_convince_anyone_is_ilyas(sutskever):
    quote = quote_with(sutskever, "and did not convince anyone")
    assert quote.speaker == "Ilya Sutskever"
    assert quote.text == (
        "So, they could only have very very small demonstration and did not convince anyone."
    )


def test_a_shifted_label_does_not_make_a_fragment(sutskever):
    # "And people say that a" [Dwarkesh] / "lot. Yeah. ..." [Ilya]
    quote = quote_with(sutskever, "And people say that a lot.")
    assert quote.speaker == "Dwarkesh Patel"
    assert quote.text == "And people say that a lot."
    assert not any(q.text.startswith("lot.") for q in sutskever)


def test_positions_count_from_zero(sutskever):
    assert [q.position for q in sutskever] == list(range(len(sutskever)))


# --- sentence splitting -----------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
        (
            "We use tools, e.g. hammers, i.e. simple ones. Fine.",
            ["We use tools, e.g. hammers, i.e. simple ones.", "Fine."],
        ),
        (
            "The U.S. Army came. He moved to the U.S. And then he left.",
            ["The U.S. Army came.", "He moved to the U.S.", "And then he left."],
        ),
        (
            "SSI has raised $3 billion. That is 3.5 times more.",
            ["SSI has raised $3 billion.", "That is 3.5 times more."],
        ),
        (
            "I was thinking... maybe not. Well… Okay.",
            ["I was thinking... maybe not.", "Well…", "Okay."],
        ),
        (
            'He said "stop." Then he left. (It was late.) We stayed.',
            ['He said "stop."', "Then he left.", "(It was late.)", "We stayed."],
        ),
        ("Why? Because! Really?! Yes.", ["Why?", "Because!", "Really?!", "Yes."]),
        ("See No. 5 for details. No. It is not.", ["See No. 5 for details.", "No.", "It is not."]),
        ("J. K. Rowling wrote it. Then what?", ["J. K. Rowling wrote it.", "Then what?"]),
        ("no punctuation at all", ["no punctuation at all"]),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_sentences_continue_across_segments():
    parsed = transcript(
        ("Ana", "The first thing I learned was that", 0.0),
        ("Ana", "patience matters more than talent. The second", 4.0),
        ("Ana", "was that nobody else cares.", 8.0),
    )
    assert [q.text for q in build_quotes(parsed)] == [
        "The first thing I learned was that patience matters more than talent. "
        "The second was that nobody else cares."
    ]


def test_a_real_speaker_change_ends_the_sentence():
    parsed = transcript(
        ("Ana", "I was going to say that the budget", 0.0),
        ("Ben", "wait, before you get to the budget, can we talk about the schedule first?", 3.0),
    )
    quotes = build_quotes(parsed)
    assert [(q.speaker, q.text) for q in quotes] == [
        ("Ana", "I was going to say that the budget"),
        ("Ben", "wait, before you get to the budget, can we talk about the schedule first?"),
    ]


def test_a_short_interjection_is_its_own_speaker_turn():
    parsed = transcript(
        ("Ana", "So what we found is that", 0.0),
        ("Ben", "Right.", 2.0),
        ("Ana", "the model learns the rules by itself.", 3.0),
    )
    assert [(q.speaker, q.text) for q in build_quotes(parsed)] == [
        ("Ana", "So what we found is that"),
        ("Ben", "Right."),
        ("Ana", "the model learns the rules by itself."),
    ]


def test_unpunctuated_speaker_changes_are_always_real():
    parsed = transcript(
        ("Ana", "so we tried it again", 0.0),
        ("Ben", "and then", 2.0),
        ("Ana", "it worked", 3.0),
    )
    assert [q.speaker for q in build_quotes(parsed)] == ["Ana", "Ben", "Ana"]


# --- start times ------------------------------------------------------------------


def test_start_is_interpolated_and_floored():
    text = (
        "First sentence here, said slowly and with a great deal of care by someone who "
        "likes to take their time. Second one follows, and it is long enough to stand as "
        "its own unit of speech in any chat window you like."
    )
    parsed = transcript(("Ana", text, 10.0), ("Ana", "Third.", 20.0))
    first, second = build_quotes(parsed)
    assert first.start == 10.0
    # By character offset between this segment's start and the next one's.
    exact = 10.0 + text.index("Second") / (len(text) + 1) * 10.0
    assert second.start == int(exact * 10) / 10
    assert second.start <= exact < second.start + 0.1


def test_no_times_gives_none():
    assert [q.start for q in build_quotes(transcript(("Ana", "Hello there. Bye now.", None)))] == [
        None
    ]


def test_untimed_paragraph_interpolates_between_timed_ones():
    parsed = transcript(
        (
            "Ana",
            "This is the first paragraph, and it goes on for a while so that it "
            "makes a unit of its own when the segmenter groups sentences.",
            100.0,
        ),
        (
            "Ana",
            "This second paragraph has no time of its own at all, sadly, so its "
            "start is estimated from the paragraphs around it by character offset.",
            None,
        ),
        ("Ana", "Third.", 200.0),
    )
    starts = [q.start for q in build_quotes(parsed)]
    assert starts[0] == 100.0
    assert 100.0 < starts[1] < 200.0


# --- units ------------------------------------------------------------------------


def test_short_sentences_join_the_next_of_the_same_speaker():
    parsed = transcript(
        ("Ana", "What happened next?", 0.0),
        ("Ben", "Yeah. Right. So the whole team stayed up all night to ship the fix.", 1.0),
        ("Ana", "Wow.", 5.0),
    )
    assert [(q.speaker, q.text) for q in build_quotes(parsed)] == [
        ("Ana", "What happened next?"),
        ("Ben", "Yeah. Right. So the whole team stayed up all night to ship the fix."),
        ("Ana", "Wow."),  # her whole turn
    ]


def test_a_short_sentence_closing_a_turn_joins_the_one_before():
    parsed = transcript(
        ("Ben", "We shipped the fix at four in the morning, and it held for a year. Yeah.", 0.0),
        ("Ana", "Impressive work by everyone involved in that launch.", 9.0),
    )
    assert [q.text for q in build_quotes(parsed)][0] == (
        "We shipped the fix at four in the morning, and it held for a year. Yeah."
    )


def test_units_hold_at_most_three_sentences_and_stay_short():
    text = " ".join(f"Sentence number {n} is here." for n in range(1, 10))
    quotes = build_quotes(transcript(("Ana", text, None)))
    assert all(len(split_sentences(q.text)) <= 3 for q in quotes)
    assert all(len(q.text) <= 300 for q in quotes)
    assert " ".join(q.text for q in quotes) == text


def test_a_very_long_sentence_is_cut_at_clause_boundaries():
    clause = "we tried the small model on the old cluster with the data we had"
    text = (
        "First, "
        + clause
        + ", and then "
        + clause
        + "; after that "
        + clause
        + ", but nothing changed, so "
        + clause
        + " because "
        + clause
        + " — and "
        + clause
        + "."
    )
    assert len(text) > 400
    quotes = build_quotes(transcript(("Ana", text, None)))
    assert len(quotes) > 1
    assert all(len(q.text) <= 300 for q in quotes)
    assert " ".join(q.text for q in quotes) == text
    # Cuts fall before a conjunction or after a comma, semicolon or dash.
    for quote in quotes[1:]:
        assert quote.text.split()[0] in {"and", "but", "so", "because", "after", "we"}


def test_unpunctuated_text_comes_out_in_bounded_units():
    words = []
    phrases = [
        "and so we went back to the lab",
        "but the numbers did not move at all",
        "I think the problem was the data",
        "because nobody had cleaned it in years",
        "so we spent a month on that alone",
        "and then the results started to look right",
    ]
    while len(words) < 2000:
        for phrase in phrases:
            words.extend(phrase.split())
    text = " ".join(words)
    quotes = build_quotes(transcript((None, text, 0.0), (None, "end", 600.0)))
    counts = [len(q.text.split()) for q in quotes]
    assert max(counts) <= 45
    assert min(counts[:-1]) >= 15
    assert all(len(q.text) <= 300 for q in quotes)
    assert " ".join(q.text for q in quotes) == text + " end"
    starts = [q.start for q in quotes]
    assert starts == sorted(starts) and starts[0] == 0.0 and starts[-1] < 600.0


# --- corrections --------------------------------------------------------------------


def test_corrections_are_exact_case_sensitive_whole_words():
    parsed = transcript(
        ("Ana", "Alex Net beat Alex Networks, says Brant. brant and Brantley disagree.", None),
        corrections=[
            Correction("Alex Net", "AlexNet"),
            Correction("Brant", "Brandt"),
        ],
    )
    assert source_text(parsed) == (
        "AlexNet beat Alex Networks, says Brandt. brant and Brantley disagree."
    )
    assert "".join(q.text for q in build_quotes(parsed)).startswith("AlexNet beat Alex Networks")


def test_unknown_and_ambiguous_speakers():
    parsed = transcript(
        ("Smith", "I disagree with that plan completely and I said so twice.", None),
        ("Jane", "So do I, and for the same reasons as my colleague here.", None),
        participants=[Participant("Jane Smith"), Participant("John Smith")],
    )
    assert [q.speaker for q in build_quotes(parsed)] == ["Smith", "Jane Smith"]


# --- words are kept exactly -------------------------------------------------------


def corrected_words(parsed):
    """The source's words, with corrections applied independently of the segmenter."""
    text = " ".join(segment.text for segment in parsed.segments)
    for fix in parsed.meta.corrections:
        text = re.sub(rf"(?<!\w){re.escape(fix.wrong)}(?!\w)", fix.right, text)
    return WORD.findall(text)


BROKEN = {
    "broken-front-matter.md",
    "broken-timing.srt",
    "broken-timing.vtt",
    "empty.txt",
    "front-matter-only.md",
    "invalid-utf8.txt",
}
SOURCES = [path for path in sorted(DATA.iterdir()) if path.name not in BROKEN]
SOURCES += sorted((ROOT / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_units_keep_every_word_in_order(path):
    parsed = load(path)
    quotes = build_quotes(parsed)
    assert WORD.findall(" ".join(q.text for q in quotes)) == corrected_words(parsed)
    stream = source_text(parsed)
    position = 0
    for quote in quotes:
        # A verbatim slice of the corrected source, whitespace collapsed.
        assert quote.text == " ".join(quote.text.split())
        found = stream.find(quote.text, position)
        assert found >= position
        position = found + len(quote.text)
        assert 0.0 <= quote.quotability <= 1.0
    assert [q.position for q in quotes] == list(range(len(quotes)))


def test_a_short_lower_case_reply_in_a_labelled_dialogue_keeps_its_speaker():
    # Shifted-label repair is for machine-cut captions; in `Name:` dialogue a turn is a turn.
    parsed = parse_transcript(
        "Alice: I think the whole budget was wasted on the wrong\n"
        "Bob: no, not wasted at all.\n"
        "Alice: Fine.\n",
        "dialogue.txt",
    )
    quotes = build_quotes(parsed)
    assert ("Bob", "no, not wasted at all.") in [(q.speaker, q.text) for q in quotes]
    assert all("not wasted" not in q.text for q in quotes if q.speaker == "Alice")
