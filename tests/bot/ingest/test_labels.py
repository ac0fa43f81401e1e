"""Speaker labels as people write them, and the clean-up every format gets (issue 10, item 3)."""

from __future__ import annotations

import pytest

from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.markup import bracket_directions, strip_inline_stamps
from quotebot.bot.ingest.sentences import build_quotes


def quotes(text, name="talk.txt"):
    parsed = parse_transcript(text, name)
    return parsed, [(q.speaker, q.start, q.text) for q in build_quotes(parsed)]


def test_suffixes_nicknames_and_unnamed_continuation_headers():
    parsed, got = quotes(
        "Mike Maples, Jr. (00:00:00):\n"
        "Welcome to the show, everyone.\n\n"
        "Andrew ‘Boz’ Bosworth (00:00:07):\n"
        "Thanks for having me here today.\n\n"
        "(00:00:48):\n"
        "Today, my guest is someone I admire a lot.\n\n"
        "Mike Maples, Jr. (00:01:10):\n"
        "So what happened next?\n"
    )
    assert parsed.format == "blocks"
    assert [(s.speaker, s.start, s.text) for s in parsed.segments] == [
        ("Mike Maples, Jr.", 0.0, "Welcome to the show, everyone."),
        ("Andrew ‘Boz’ Bosworth", 7.0, "Thanks for having me here today."),
        ("Andrew ‘Boz’ Bosworth", 48.0, "Today, my guest is someone I admire a lot."),
        ("Mike Maples, Jr.", 70.0, "So what happened next?"),
    ]
    assert [p.name for p in parsed.meta.participants] == ["Mike Maples, Jr.",
                                                          "Andrew ‘Boz’ Bosworth"]
    assert not any("00:" in text for _, _, text in got)


@pytest.mark.parametrize("name", [
    "Mike Maples Sr.", "Jane Doe, PhD", "Louis Gerstner III", 'Andrew "Boz" Bosworth',
    "Dwayne 'The Rock' Johnson", "Conan O'Brien", "Jean-Luc Godard", "J.R.R. Tolkien",
    "Zoë Martín-López", "Ludwig van Beethoven", "王小明", "Сергей Брин", "محمد علي",
])
def test_names_people_write_are_labels(name):
    text = (f"{name}: I have been thinking about this question for years.\n"
            "Ana Ruiz: And what did you conclude?\n"
            f"{name}: That it has no single answer, only better ones.\n")
    _, got = quotes(text)
    assert [s for s, _, _ in got] == [name, "Ana Ruiz", name]
    assert not any(name.split()[0] in t for _, _, t in got)


def test_escaped_markdown_timestamps_sections_and_entities():
    parsed, got = quotes(
        "**Sarah Chen:** \\[00:00\\] Hi, it&#39;s good to see you &amp; the team.\n\n"
        "**Tom Wu:** \\[00:05\\] Thanks, Sarah. Let&rsquo;s start.\n\n"
        "\\[00:09\\] I have one more thing to say about that.\n\n"
        "**Break:** \\[15:37\\]\n\n"
        "**Sponsor:** This episode is brought to you by Acme Rockets.\n\n"
        "**Sarah Chen:** \\[15:40\\] And we are back again.\n",
        "show.md",
    )
    assert parsed.format == "markdown"
    assert [p.name for p in parsed.meta.participants] == ["Sarah Chen", "Tom Wu"]
    assert got[0] == ("Sarah Chen", 0.0, "Hi, it's good to see you & the team.")
    assert ("Tom Wu", 5.0, "Thanks, Sarah. Let’s start. I have one more thing to say about that.") \
        in got or ("Tom Wu", 9.0, "I have one more thing to say about that.") in got
    assert (None, "This episode is brought to you by Acme Rockets.") in [(s, t) for s, _, t in got]
    assert got[-1] == ("Sarah Chen", 940.0, "And we are back again.")
    assert not any("\\" in t or "[" in t or "&" in t and ";" in t for _, _, t in got)


@pytest.mark.parametrize("marker", [
    "Break (00:15:37):", "Intro:", "[Ad break]", "Chapter 3: The early days", "OUTRO",
    "Sponsor Break:",
])
def test_section_markers_are_not_speakers(marker):
    text = ("Ana Ruiz (00:00:01):\nThe first part of the talk is here.\n\n"
            f"{marker}\n\n"
            "Ben Ode (00:16:00):\nAnd the second part is here.\n")
    parsed, got = quotes(text)
    assert [p.name for p in parsed.meta.participants] == ["Ana Ruiz", "Ben Ode"]
    assert [t for _, _, t in got] == ["The first part of the talk is here.",
                                       "And the second part is here."]


def test_prose_that_starts_like_a_section_stays_speech():
    _, got = quotes("Ana Ruiz: Music is my life, always has been.\n"
                    "Ben Ode: Part of the problem: nobody listens.\n"
                    "Ana Ruiz: Break it down for me.\n")
    assert [s for s, _, _ in got] == ["Ana Ruiz", "Ben Ode", "Ana Ruiz"]


def test_label_after_leading_punctuation_in_a_cue():
    parsed, got = quotes(
        "1\n00:00:01,000 --> 00:00:03,000\nMark Stone: I went down to the store\n\n"
        "2\n00:00:03,000 --> 00:00:05,000\n. Joan Park: So I did the same thing.\n\n"
        "3\n00:00:05,000 --> 00:00:07,000\nMark Stone: Really? (laughs)\n",
        "talk.srt",
    )
    assert got == [
        ("Mark Stone", 1.0, "I went down to the store."),
        ("Joan Park", 3.0, "So I did the same thing."),
        ("Mark Stone", 5.0, "Really? [laughs]"),
    ]


def test_entities_in_subtitles_are_decoded():
    _, got = quotes("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n"
                    "<v Ana Ruiz>There&#39;s salt &amp; pepper.\n", "a.vtt")
    assert got == [("Ana Ruiz", 1.0, "There's salt & pepper.")]


@pytest.mark.parametrize("raw, kept", [
    ("So (laughs) that was it.", "So [laughs] that was it."),
    ("Yes [crosstalk 00:12:34] no.", "Yes [crosstalk] no."),
    ("Well *sighs* fine.", "Well [sighs] fine."),
    ("It was (Laughter) great.", "It was [Laughter] great."),
    ("[inaudible 00:01:02.5]", "[inaudible]"),
    ("The budget (in dollars) grew.", "The budget (in dollars) grew."),
])
def test_stage_directions_are_kept_in_square_brackets_without_times(raw, kept):
    assert bracket_directions(raw) == kept


def test_stage_directions_stay_in_the_record_in_brackets():
    _, got = quotes("Ana Ruiz (00:00:01):\nI tried it (laughs) and it worked.\n\n"
                    "Ben Ode (00:00:05):\nReally? [inaudible 00:00:06] Wow.\n")
    assert got[0][2] == "I tried it [laughs] and it worked."
    assert got[1][2] == "Really? [inaudible] Wow."


def test_first_name_labels_take_the_full_name_introduced_in_the_source():
    parsed, got = quotes(
        "Sarah: Hi, I'm Sarah Chen, and this is the show about soil.\n"
        "Sarah: My guest today is Tom Okafor, who grows rice.\n"
        "Tom: Thanks, Sarah. It is good to be here.\n"
        "Sarah: Tom, how did you start?\n"
    )
    assert [p.name for p in parsed.meta.participants] == ["Sarah Chen", "Tom Okafor"]
    assert {s for s, _, _ in got} == {"Sarah Chen", "Tom Okafor"}


def test_first_names_stay_when_the_source_names_two_people_alike():
    parsed, _ = quotes("Sam: I met Sam Lee and Sam Cho today.\nAna: Which one?\n"
                       "Sam: Both of them, really.\nAna: Nice.\n")
    assert "Sam" in [p.name for p in parsed.meta.participants]


def test_curly_and_straight_apostrophes_and_escaped_labels_are_one_speaker():
    parsed, got = quotes(
        "Siobhán O&rsquo;Connell (00:00:01):\nThe tide came in early that year.\n\n"
        "Ana Ruiz (00:00:04):\nAnd then?\n\n"
        "Siobhán O&#39;Connell (00:00:06):\nWe moved the boats up the hill.\n\n"
        "Siobhán O'Connell (00:00:09):\nAll of them, one by one.\n"
    )
    assert [p.name for p in parsed.meta.participants] == ["Siobhán O'Connell", "Ana Ruiz"]
    assert [s for s, _, _ in got] == ["Siobhán O'Connell", "Ana Ruiz", "Siobhán O'Connell"]


def test_front_matter_guest_names_the_labelled_speaker_without_limiting_labels():
    parsed, got = quotes(
        "---\ntitle: Building at Meta\nguest: Andrew Bosworth\n---\n"
        "Lenny (00:00:00):\nToday my guest is Andrew Bosworth. I'm Lenny Rachitsky.\n\n"
        "Andrew ‘Boz’ Bosworth (00:00:07):\nThanks for having me, it is good to be here.\n\n"
        "Lenny (00:00:12):\nWhere do we start?\n",
        "/c/andrew-bosworth/transcript.md",
    )
    people = {p.name: p.role for p in parsed.meta.participants}
    assert people == {"Andrew ‘Boz’ Bosworth": "Guest", "Lenny Rachitsky": None}
    assert [s for s, _, _ in got] == ["Lenny Rachitsky", "Andrew ‘Boz’ Bosworth",
                                      "Lenny Rachitsky"]
    assert parsed.meta.slug == "andrew-bosworth"


def test_timestamps_inside_speech_are_dropped_and_structural_ones_kept():
    parsed, got = quotes(
        "**Daniel Whitenack:** Welcome to another episode of the show.\n"
        "\\[00:00:20.02\\] And today we talk about models.\n\n"
        "**Chris Benson:** It is going \\[00:01:02\\] great, honestly. (00:01:09)\n",
        "practical-ai-132.md",
    )
    assert [(s.speaker, s.start, s.text) for s in parsed.segments] == [
        ("Daniel Whitenack", None, "Welcome to another episode of the show."),
        ("Daniel Whitenack", 20.02, "And today we talk about models."),
        ("Chris Benson", None, "It is going great, honestly."),
    ]
    assert parsed.meta.title == "Practical AI 132"


@pytest.mark.parametrize("line", [
    "Mike Maples, Jr. (00:00:00):", "Ana Ruiz [00:12]", "[00:01:23] Ana Ruiz: Hello.",
    "**Jane Doe:** [12:34] Hello.", "(00:12:34):", "Jane Doe (00:12:34): Hello there.",
])
def test_structural_timestamps_stay_for_the_parsers(line):
    assert strip_inline_stamps(line + "\nmore") == line + "\nmore"
