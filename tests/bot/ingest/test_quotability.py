"""Tests for the quotability score."""

import pytest

from quotebot.bot.ingest.quotability import WORTH_READING, noise_marks, score, score_counted

GOOD = [
    "Actually, on that, you know, there is the Silicon Valley saying that says that ideas "
    "are cheap, execution is everything.",
    "A forecast is only as good as the sensors you put in the ground, and most of the "
    "planet has none.",
    "Small is a decision you make every week, not once.",
    "I think that all of that had to come from within rather than from without.",
    "Specifically for us, the amount of compute that SSI has for research is really not "
    "that small, and I want to explain why.",
    "A clock that has stopped is right twice a day, which is more than most forecasts manage.",
    "AlexNet was built on two GPUs.",
]

FILLER = [
    "Yeah.",
    "Hey.",
    "Right, right.",
    "Okay, cool.",
    "Thank you so much.",
    "Thanks for having me.",
    "It's great to be here.",
    "Welcome to the show.",
    "Yeah, exactly.",
    "Mm-hmm.",
]

FRAGMENTS = [
    ("and did not convince anyone", False),
    ("out all the air in", False),
    ("but a lot of us also hadn't been in the field and we came to it with beginner's eyes", False),
    ("curious if you say we are back in the era of research.", True),
    ("because they can see polarized light so the sky itself is a map for them", False),
    ("which is the short comment is that, you know, you mentioned the SSI.", True),
]

CONTEXT_QUESTIONS = ["What do you mean?", "Why is that?", "How old, exactly?", "And now?"]

DISFLUENT = [
    "And do do you have Yeah, what what is now the vibe uh going to be if we go back to the "
    "era of, um, research?",
    "So I I I think um the the thing is uh you know we we just, you know, kept going, you know.",
]


@pytest.mark.parametrize("text", GOOD)
def test_good_sentences_are_worth_reading(text):
    assert score(text, complete=True) >= WORTH_READING


@pytest.mark.parametrize("text", FILLER)
def test_filler_and_pleasantries_are_not(text):
    assert score(text, complete=True) < WORTH_READING


@pytest.mark.parametrize("text, complete", FRAGMENTS)
def test_dangling_fragments_are_not(text, complete):
    assert score(text, complete=complete) < WORTH_READING


@pytest.mark.parametrize("text", CONTEXT_QUESTIONS)
def test_questions_that_need_context_are_not(text):
    assert score(text, complete=True) < WORTH_READING


@pytest.mark.parametrize("text", DISFLUENT)
def test_heavy_disfluency_is_not(text):
    assert score(text, complete=True) < WORTH_READING


def test_incomplete_scores_below_complete():
    text = "The transformer was built on eight to 64 GPUs and it changed everything we did."
    assert score(text, complete=False) < score(text, complete=True)


def test_disfluency_lowers_the_score():
    clean = "So one consequence of the age of scaling is that scaling sucked out all the air."
    messy = "So one consequence of um the age of scaling is that uh scaling sucked out all the air."
    assert score(messy, complete=True) < score(clean, complete=True)


def test_stutter_lowers_the_score_but_grammatical_repeats_do_not():
    plain = "I think the people who had good ideas could not show them to anyone at all."
    stutter = "I I think the the people who had good ideas could not show them to anyone at all."
    had_had = "I think the people who had had good ideas could not show them to anyone at all."
    assert score(stutter, complete=True) < score(plain, complete=True)
    assert score(had_had, complete=True) == score(plain, complete=True)


def test_scores_are_bounded_and_whitespace_insensitive():
    for text in GOOD + FILLER + CONTEXT_QUESTIONS + DISFLUENT:
        value = score(text, complete=True)
        assert 0.0 <= value <= 1.0
        assert score("  " + text.replace(" ", "\n  ") + " ", complete=True) == value
    assert score("", complete=True) == 0.0
    assert score("   \n", complete=True) == 0.0


def test_noise_marks_point_at_the_words():
    text = "Um, so I I think uh that was it."
    fillers, stutters = noise_marks(text)
    assert [text[i : i + 2] for i in fillers] == ["Um", "uh"]
    assert [text[i : i + 3] for i in stutters] == ["I I"]
    assert score(text, complete=True) == score_counted(text, True, 2, 1)


def test_noise_marks_on_long_non_ascii_text_match_lowering_it_whole():
    from quotebot.bot.ingest.quotability import _LOWER_PIECE, _spaced_lower

    # Long enough to be lowered in pieces; a capital sigma ends words at piece edges.
    text = " ".join(["ΟΔΥΣΣΕΥΣ um, Um I I said — ok"] * (3 * _LOWER_PIECE // 20))
    assert _spaced_lower(text) == " " + text.lower()
    fillers, stutters = noise_marks(text)
    lower = " " + text.lower()
    assert fillers and all(lower[f + 1 : f + 3] == "um" for f in fillers)
    assert stutters and all(lower[s + 1 : s + 4] == "i i" for s in stutters)
