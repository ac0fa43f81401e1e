"""Tests for format detection and parsing, fixture by fixture, and for speaker names."""

from pathlib import Path

import pytest

from quotebot.bot.ingest.decode import decode
from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.sentences import build_quotes
from quotebot.bot.ingest.speakers import Roster, build_participants, split_label
from quotebot.bot.ingest.types import Participant, TranscriptError

DATA = Path(__file__).parents[2] / "data" / "formats"


def load(name):
    """Decode, parse and segment a fixture; return (parsed, quotes)."""
    path = DATA / name
    parsed = parse_transcript(decode(path.read_bytes(), str(path)), str(path))
    return parsed, build_quotes(parsed)


def parse(text, name="talk.txt"):
    return parse_transcript(text, name)


def names(parsed):
    return [p.name for p in parsed.meta.participants]


def summary(quotes):
    return [(q.speaker, q.start, q.text) for q in quotes]


# --- subtitles --------------------------------------------------------------------


def test_youtube_auto_captions_lose_their_rolling_duplicates():
    parsed, quotes = load("youtube-auto.en.vtt")
    assert parsed.format == "vtt"
    assert len(parsed.segments) == 12
    assert names(parsed) == []
    assert [s.text for s in parsed.segments[:3]] == [
        "so today we're going to talk about",
        "how bees find their way home",
        "and it turns out they use the sun",
    ]
    assert [s.start for s in parsed.segments[:3]] == [2.04, 5.12, 8.399]
    assert parsed.segments[0].line == 14
    text = " ".join(s.text for s in parsed.segments)
    assert "[Music]" not in text
    assert text.count("how bees find their way home") == 1
    assert text.endswith("so the whole hive learns where the food is in a matter of minutes")
    # No punctuation at all: still readable, bounded units.
    assert summary(quotes) == [
        (
            None,
            2.0,
            "so today we're going to talk about how bees find their way home and it turns "
            "out they use the sun as a compass even when it's cloudy",
        ),
        (
            None,
            15.0,
            "because they can see polarized light so the sky itself is a map for them and I "
            "think that's one of the most amazing things in biology",
        ),
        (
            None,
            26.6,
            "but the dance is even better when a bee comes back it dances the direction and "
            "the distance to the flowers for everyone else so the whole hive learns where "
            "the food is in a matter of minutes",
        ),
    ]


def test_vtt_voice_tags():
    parsed, quotes = load("voices.vtt")
    assert parsed.format == "vtt"
    assert len(parsed.segments) == 8
    assert names(parsed) == ["Maria Lopez", "Tom Okafor"]
    # One cue, two voices.
    assert parsed.segments[4:6] == (
        parsed.segments[4].__class__("Maria Lopez", "Why is that?", 18.0, 28),
        parsed.segments[5].__class__("Tom Okafor", "Money, mostly.", 18.0, 28),
    )
    # <v.loud Tom Okafor>, <i>, &amp; and a cue without a voice (carried on).
    assert parsed.segments[2].speaker == "Tom Okafor"
    assert parsed.segments[1].text.endswith("building open weather models for farmers.")
    assert "used car & lasts" in parsed.segments[6].text
    assert parsed.segments[7].speaker == "Tom Okafor"
    assert summary(quotes) == [
        (
            "Maria Lopez",
            1.0,
            "Welcome back to the panel. Our next guest has spent a decade building open "
            "weather models for farmers.",
        ),
        (
            "Tom Okafor",
            9.0,
            "Thanks, Maria. It's great to be here. A forecast is only as good as the sensors "
            "you put in the ground, and most of the planet has none.",
        ),
        ("Maria Lopez", 18.0, "Why is that?"),
        (
            "Tom Okafor",
            18.0,
            "Money, mostly. A weather station costs less than a used car & lasts twenty "
            "years, yet nobody budgets for the upkeep. So they rust, and the data goes dark.",
        ),
    ]


def test_vtt_full_names_then_short_forms():
    parsed, quotes = load("named-cues.vtt")
    assert parsed.format == "vtt"
    assert len(parsed.segments) == 6
    assert parsed.meta.participants == (
        Participant("Dwarkesh Patel", None, ("Dwarkesh",)),
        Participant("Ilya Sutskever", None, ("Ilya",)),
    )
    assert [s.speaker for s in parsed.segments] == [
        "Dwarkesh Patel",
        "Ilya Sutskever",
        "Ilya Sutskever",  # no label: carried on from the cue before
        "Dwarkesh",
        "Ilya",
        "Ilya",
    ]
    assert parsed.segments[1].text == (
        "Because it was the first recipe that reliably turned compute into capability."
    )
    assert summary(quotes) == [
        ("Dwarkesh Patel", 0.0, "So why did scaling work so well for so long?"),
        (
            "Ilya Sutskever",
            3.2,
            "Because it was the first recipe that reliably turned compute into capability. "
            "You could just follow it and it would keep working.",
        ),
        ("Dwarkesh Patel", 10.4, "And now?"),
        (
            "Ilya Sutskever",
            13.0,
            "Now we are back in the age of research, just with much bigger computers. "
            "That changes what a good idea looks like.",
        ),
    ]


def test_srt_from_a_subtitle_editor():
    parsed, quotes = load("subtitle-edit.srt")
    assert parsed.format == "srt"
    assert len(parsed.segments) == 7
    assert names(parsed) == ["Dr. Amara Osei", "Host"]
    assert parsed.segments[0].speaker == "DR. AMARA OSEI"
    assert parsed.segments[0].line == 7
    assert parsed.segments[1].speaker == "DR. AMARA OSEI"  # carried on
    # "- HOST: ..." / "- DR. AMARA OSEI: ..." in one cue.
    assert [(s.speaker, s.text) for s in parsed.segments[2:4]] == [
        ("HOST", "Why did you stay?"),
        ("DR. AMARA OSEI", "The elephants."),
    ]
    assert parsed.segments[4].speaker == "DR. AMARA OSEI"
    assert summary(quotes) == [
        (
            "Dr. Amara Osei",
            3.2,
            "When I first went to the reserve, I was told I would last a month. "
            "I stayed for eleven years.",
        ),
        ("Host", 9.3, "Why did you stay?"),
        (
            "Dr. Amara Osei",
            9.3,
            "The elephants. They were teaching me something nobody had written down yet.",
        ),
        ("Host", 16.0, "What did they teach you?"),
        (
            "Dr. Amara Osei",
            19.7,
            "That they grieve, that they remember, and that they plan for a future they "
            "cannot see.",
        ),
    ]


def test_srt_detected_by_content_without_suffix():
    text = (
        "1\n00:00:01,000 --> 00:00:02,500\nANA: Hello there.\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nBEN: Hi.\n"
    )
    parsed = parse(text, "subs.txt")
    assert parsed.format == "srt"
    assert [(s.speaker, s.text, s.start) for s in parsed.segments] == [
        ("ANA", "Hello there.", 1.0),
        ("BEN", "Hi.", 3.0),
    ]


def test_srt_with_broken_timing_line():
    with pytest.raises(TranscriptError, match="broken timing line") as caught:
        load("broken-timing.srt")
    assert caught.value.line == 6
    assert "00:00:03,500 -> 00:00:05,000" in caught.value.reason


def test_srt_cue_without_timing_reported_by_the_parser():
    text = "1\n00:00:01,000 --> 00:00:02,000\nHello.\n\n2\nnot a timing line\nWorld.\n"
    with pytest.raises(TranscriptError, match="cue 2 has no valid timing line") as caught:
        parse(text, "bad.srt")
    assert caught.value.line == 6


def test_vtt_with_broken_timing_line():
    with pytest.raises(TranscriptError, match="broken timing line") as caught:
        load("broken-timing.vtt")
    assert caught.value.line == 6


def test_vtt_without_header():
    with pytest.raises(TranscriptError, match="WEBVTT") as caught:
        parse("00:00:01.000 --> 00:00:02.000\nHello.\n", "clip.vtt")
    assert caught.value.line == 1


def test_vtt_speaker_markers_and_dialogue_dashes():
    text = (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:03.000\n>> JOHN: Where were you?\n\n"
        "00:00:03.000 --> 00:00:05.000\n>> I was at the lab all night.\n\n"
        "00:00:05.000 --> 00:00:07.000\n- JOHN: Again?\n- Again.\n"
    )
    parsed = parse(text, "news.vtt")
    assert [(s.speaker, s.text) for s in parsed.segments] == [
        ("JOHN", "Where were you?"),
        (None, "I was at the lab all night."),  # ">>" is a new, unnamed speaker
        ("JOHN", "Again?"),
        (None, "Again."),
    ]


# --- line-based layouts -----------------------------------------------------------


def test_otter_export():
    parsed, quotes = load("otter-export.txt")
    assert parsed.format == "blocks"
    assert len(parsed.segments) == 7
    assert names(parsed) == ["Priya Raman", "Daniel Kim"]
    assert [s.start for s in parsed.segments] == [3.0, 9.0, 21.0, 23.0, 41.0, 42.0, 3735.0]
    assert all("otter.ai" not in s.text for s in parsed.segments)
    assert parsed.segments[3].text.endswith("mostly because of idle capacity at night.")
    first, last = quotes[0], quotes[-1]
    assert (first.speaker, first.start, first.text) == (
        "Priya Raman",
        3.0,
        "Okay, so let's get started. Thanks everyone for joining the design review.",
    )
    assert (last.speaker, last.start, last.text) == (
        "Priya Raman",
        3735.0,
        "Great. Let's pick this up next week when we have the numbers.",
    )
    assert ("Priya Raman", 41.0, "Yeah.") in summary(quotes)
    assert [q.start for q in quotes] == [3.0, 9.0, 21.0, 23.0, 32.5, 41.0, 42.0, 3735.0]


def test_rev_export():
    parsed, quotes = load("rev-export.txt")
    assert parsed.format == "blocks"
    assert len(parsed.segments) == 7
    assert names(parsed) == ["Sarah Chen", "Marcus Webb"]
    assert [s.start for s in parsed.segments] == [0.0, 9.0, 11.0, 14.0, 27.0, 41.0, 43.0]
    assert [s.line for s in parsed.segments] == [2, 5, 8, 11, 14, 17, 20]
    assert summary(quotes)[0] == (
        "Sarah Chen",
        0.0,
        "Welcome to Build Small. Today I'm talking with Marcus Webb, who runs a "
        "three-person software company out of Leeds.",
    )
    assert summary(quotes)[-1] == (
        "Marcus Webb",
        43.0,
        "No. Small is a decision you make every week, not once.",
    )
    # "Mr. Alvarez" does not end a sentence; the time is interpolated within the block.
    assert (
        "Marcus Webb",
        31.1,
        "Mr. Alvarez, our first customer, once offered us twice our usual rate for a "
        "custom build, and we still turned it down.",
    ) in summary(quotes)


def test_descript_block_headers_with_roles():
    parsed, quotes = load("sutskever-straddle.txt")
    assert parsed.format == "blocks"
    assert len(parsed.segments) == 17
    assert parsed.meta.participants == (
        Participant("Dwarkesh Patel", "Host"),
        Participant("Ilya Sutskever", "Co-founder and Chief Scientist"),
    )
    assert parsed.segments[3] == parsed.segments[3].__class__(
        "Ilya Sutskever (Co-founder and Chief Scientist)",
        "So, one consequence of um the age of scaling is that there was this um scaling sucked",
        52.7,
        8,  # the line where its text begins, under its header
    )
    assert summary(quotes)[0] == (
        "Dwarkesh Patel",
        0.0,
        "curious if you say we are back in the era of research.",
    )
    assert summary(quotes)[-1] == (
        "Ilya Sutskever",
        186.7,
        "So they're definitely for for research you need definitely some amount of compute "
        "but it's far from obvious that you need the",
    )


def test_stamped_log():
    parsed, quotes = load("chat-log.txt")
    assert parsed.format == "stamped"
    assert len(parsed.segments) == 8
    assert parsed.meta.participants == (
        Participant("Alice Martin", None, ("Alice",)),
        Participant("Ben Ortiz"),
    )
    assert [s.start for s in parsed.segments] == [5.0, 9.0, 21.0, 34.0, 47.0, 52.0, 65.0, 69.0]
    # "One caveat:" is text, not a speaker; the unnamed last line carries Alice on.
    assert parsed.segments[3] == parsed.segments[3].__class__(
        "Ben Ortiz", "One caveat: the billing export still runs on the old cluster.", 34.0, 4
    )
    assert parsed.segments[7].speaker == "Alice Martin"
    assert summary(quotes)[0] == (
        "Alice Martin",
        5.0,
        "ok recording is on First item is the launch date.",
    )
    assert summary(quotes)[-1] == (
        "Alice Martin",
        65.0,
        "Great. Let's call it there. Thanks everyone, see you Thursday.",
    )
    assert ("Alice Martin", 47.0, "Can we move it before launch?") in summary(quotes)


def test_stamped_lines_without_names_and_round_brackets():
    text = (
        "(00:00:01) Welcome, everyone.\n(00:00:04) Today is about rivers.\n"
        "(00:01:10) Rivers move.\n"
    )
    parsed = parse(text, "lecture.txt")
    assert parsed.format == "stamped"
    assert [(s.speaker, s.start, s.text) for s in parsed.segments] == [
        (None, 1.0, "Welcome, everyone."),
        (None, 4.0, "Today is about rivers."),
        (None, 70.0, "Rivers move."),
    ]
    assert names(parsed) == []


def test_markdown_show_notes():
    parsed, quotes = load("show-notes.md")
    assert parsed.format == "markdown"
    assert len(parsed.segments) == 8
    assert names(parsed) == ["Nadia Bakr", "Luis Ferreira"]
    texts = [s.text for s in parsed.segments]
    # Show notes, chapter list and credits are not speech; markup is dropped.
    assert not any("Spotify" in t or "Intro" in t or "Dana Hill" in t for t in texts)
    assert "That's where the real uncertainty comes from, not from the lab." in texts
    assert texts[-1] == (
        "Right now, mostly for practices, not results. Cover crops, less tillage, "
        "that kind of thing."
    )
    assert [(s.speaker, s.start) for s in parsed.segments] == [
        ("Nadia Bakr", None),
        ("Luis Ferreira", None),
        ("Nadia Bakr", 135.0),
        ("Luis Ferreira", None),
        ("Luis Ferreira", 168.0),  # [02:48] paragraph: same speaker, its own start
        ("Luis Ferreira", 210.0),
        ("Nadia Bakr", None),  # **Name**: form
        ("Luis Ferreira", 340.0),
    ]
    assert summary(quotes)[0] == ("Nadia Bakr", None, "Luis, welcome to the show.")
    assert summary(quotes)[-1] == (
        "Luis Ferreira",
        340.0,
        "Right now, mostly for practices, not results. Cover crops, less tillage, that kind "
        "of thing.",
    )
    assert [q.start for q in quotes] == [None, None, 135.0, 144.7, 168.0, 210.0, 287.7, 340.0]


def test_plain_name_colon_dialogue():
    parsed, quotes = load("colon-dialogue.txt")
    assert parsed.format == "colon"
    assert len(parsed.segments) == 8
    assert names(parsed) == ["Interviewer", "Keeper"]
    assert parsed.segments[0].speaker is None  # the line before any label
    assert parsed.segments[2].text == (
        "Thirty-one years this spring. My father kept it before me, and his mother before him."
    )
    assert parsed.segments[5].text.startswith("There are three rules out here: keep the lamp")
    assert summary(quotes)[0] == (
        None,
        None,
        "Interview with a lighthouse keeper, recorded on the island in 2019.",
    )
    assert summary(quotes)[-1] == ("Keeper", None, "Yeah.")
    assert all(q.start is None for q in quotes)


def test_prose_without_speakers():
    parsed, quotes = load("essay-prose.txt")
    assert parsed.format == "plain"
    assert len(parsed.segments) == 4  # the title line is skipped
    assert names(parsed) == []
    assert parsed.segments[1].text.startswith("Note: the early notebooks")
    assert all(q.speaker is None and q.start is None for q in quotes)
    texts = [q.text for q in quotes]
    assert texts[0] == (
        "I have kept a notebook since I was nine. Most of what is in it is useless: lists of "
        "birds, train times, the names of people I met once at a wedding."
    )
    assert texts[-1] == (
        "The habit costs nothing, while the storage industry sells us $3 billion worth of "
        "cloud space a year for 3.5 times as many photos as we will ever look at."
    )
    assert (
        "Mr. Haddad, my chemistry teacher, told us that a notebook is a conversation with "
        "someone who has not been born yet."
    ) in texts


def test_front_matter():
    parsed, quotes = load("front-matter.txt")
    meta = parsed.meta
    assert parsed.format == "colon"
    assert len(parsed.segments) == 4
    assert (meta.slug, meta.title, meta.date, meta.venue, meta.url) == (
        "garden-radio-ep7",
        "Garden Radio, Episode 7: Seeds",
        "2024-04-18",
        "Garden Radio",
        "https://example.com/garden-radio/7",
    )
    assert meta.participants == (
        Participant("Wren Adeyemi", "Host", ("Wren",)),
        Participant("Hal Brandt", "Seed librarian", ("Hal",)),
    )
    assert [(c.wrong, c.right, c.note) for c in meta.corrections] == [
        ("seed lie berry", "seed library", "speech recognition"),
        ("Brant", "Brandt", None),
    ]
    assert meta.extra == {
        "annotations": [{"at": "00:00:30", "text": "Hal holds up a jar of beans."}],
        "recorded_by": "Studio B",
    }
    assert parsed.segments[0].line == 23
    # Only participants are labels: "Summary:" continues Hal's line.
    assert parsed.segments[3].text.endswith("Summary: a lending library for seeds.")
    assert summary(quotes)[0] == (
        "Wren Adeyemi",
        None,
        "Welcome to Garden Radio. With me is Hal Brandt, who runs the town seed library.",
    )
    assert summary(quotes)[-1] == ("Hal Brandt", None, "Summary: a lending library for seeds.")


def test_windows_line_endings():
    parsed, quotes = load("windows-crlf.txt")
    assert parsed.format == "colon"
    assert len(parsed.segments) == 4
    assert names(parsed) == ["Moderator", "Ines Duarte"]
    assert parsed.segments[2].text == (
        "Thank you. I want to start with a confession: I cannot fix a watch. "
        "Clocks are big enough to forgive you."
    )
    assert summary(quotes)[0] == (
        "Moderator",
        None,
        "Good evening, and welcome to the library's winter lecture. Tonight's speaker "
        "restores clocks for a living.",
    )
    assert summary(quotes)[-1] == (
        "Ines Duarte",
        None,
        "A clock that has stopped is right twice a day, which is more than most forecasts manage.",
    )


def test_utf16_with_bom():
    parsed, quotes = load("utf16-bom.txt")
    assert parsed.format == "colon"
    assert len(parsed.segments) == 4
    assert names(parsed) == ["Jürgen Weiß", "Zoë Martín"]
    assert summary(quotes)[0] == ("Jürgen Weiß", None, "Willkommen! Today we talk about bread.")
    assert summary(quotes)[-1] == (
        "Zoë Martín",
        None,
        "Nobody is sure. The baker says “at least a century,” and I believe him.",
    )


# --- metadata and errors ----------------------------------------------------------


def test_title_and_slug_from_the_file_name():
    parsed = parse("Ana: Hello there.\nBen: Hi Ana.\n", "/srv/in/My_Talk--with Ana.txt")
    assert parsed.meta.slug == "my-talk-with-ana"
    assert parsed.meta.title == "My Talk With Ana"


def test_front_matter_without_slug_uses_the_file_stem():
    parsed = parse("---\ntitle: A Talk\n---\nAna: Hello.\nBen: Hi.\n", "Big Talk.txt")
    assert (parsed.meta.slug, parsed.meta.title) == ("big-talk", "A Talk")


def test_broken_front_matter_names_the_line():
    with pytest.raises(TranscriptError, match="front matter is not valid YAML") as caught:
        load("broken-front-matter.md")
    assert caught.value.line == 5
    assert str(caught.value).startswith(str(DATA / "broken-front-matter.md") + ":5: ")


def test_front_matter_without_body():
    with pytest.raises(TranscriptError, match="no transcript") as caught:
        load("front-matter-only.md")
    assert caught.value.line == 5


def test_unclosed_front_matter():
    with pytest.raises(TranscriptError, match="never closed"):
        parse("---\ntitle: x\nAna: Hello.\n")


def test_front_matter_that_is_not_a_mapping():
    with pytest.raises(TranscriptError, match="mapping"):
        parse("---\n- a\n- b\n---\nAna: Hello.\n")


def test_participant_without_a_name():
    with pytest.raises(TranscriptError, match="without a name"):
        parse("---\nparticipants:\n  - role: Host\n---\nAna: Hello.\n")


def test_binary_and_empty_files_never_reach_the_parser(tmp_path):
    path = tmp_path / "episode.mp3"
    path.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00#TSSE\x00\x00\x00\x0f\x00\x00\x03Lavf")
    with pytest.raises(TranscriptError, match="binary"):
        decode(path.read_bytes(), str(path))
    with pytest.raises(TranscriptError, match="empty"):
        decode((DATA / "empty.txt").read_bytes(), "empty.txt")
    with pytest.raises(TranscriptError, match="not valid UTF-8"):
        decode((DATA / "invalid-utf8.txt").read_bytes(), "invalid-utf8.txt")


# --- detection robustness ---------------------------------------------------------


def test_a_prose_line_with_a_colon_is_not_a_speaker():
    text = (
        "The plan was simple.\n"
        "Here is the thing: nobody read the memo.\n"
        "Update: the meeting moved to Friday.\n"
        "Update: it moved again.\n"
        "We went anyway.\n"
    )
    parsed = parse(text)
    assert parsed.format == "plain"
    assert all(s.speaker is None for s in parsed.segments)
    assert names(parsed) == []


def test_a_label_used_once_in_prose_is_not_a_speaker():
    text = (
        "We drove north for two days and camped by the lake.\n\n"
        "Grandma Rose: that is what the sign on the cabin said.\n\n"
        "The cabin was empty, and the lake was very cold that year.\n"
    )
    parsed = parse(text)
    assert parsed.format == "plain"
    assert names(parsed) == []


def test_a_speaker_missing_from_front_matter_keeps_their_own_words():
    # "Producer" is not a declared participant, but in a dialogue of labelled lines the
    # label is still a speaker: folding it into Ana's turn would put words in her mouth.
    text = (
        "---\nparticipants:\n  - name: Ana Costa\n  - name: Ben Ode\n---\n"
        "Ana: We are rolling.\nProducer: Quiet on set.\nBen Ode: Good. Let's start.\n"
    )
    parsed = parse(text)
    assert [(s.speaker, s.text) for s in parsed.segments] == [
        ("Ana", "We are rolling."),
        ("Producer", "Quiet on set."),
        ("Ben Ode", "Good. Let's start."),
    ]
    assert parsed.meta.participants == (
        Participant("Ana Costa", None, ("Ana",)),
        Participant("Ben Ode"),
        Participant("Producer"),
    )


def test_front_matter_participants_limit_labels_in_prose():
    # Mostly prose with one "Note:" line: only declared names are labels.
    text = (
        "---\nparticipants:\n  - name: Ana Costa\n---\n"
        "Ana: We are rolling and this is a long opening paragraph.\n"
        "It goes on for a while about the day.\nAnd on.\nAnd on again.\n"
        "Warning: the next part is loud.\nThen it ends.\n"
    )
    parsed = parse(text)
    assert {s.speaker for s in parsed.segments} == {"Ana"}
    assert "Warning: the next part is loud." in " ".join(s.text for s in parsed.segments)


def test_block_header_variants():
    text = (
        "Ana Costa 00:01:05\nFirst point.\n\n"
        "Ben [00:01:09]\nSecond point.\n\n"
        "Ana Costa (Host) 1:10.500\nThird point.\n"
    )
    parsed = parse(text)
    assert parsed.format == "blocks"
    assert [(s.speaker, s.start, s.text) for s in parsed.segments] == [
        ("Ana Costa", 65.0, "First point."),
        ("Ben", 69.0, "Second point."),
        ("Ana Costa (Host)", 70.5, "Third point."),
    ]
    assert parsed.meta.participants == (Participant("Ana Costa", "Host"), Participant("Ben"))


def test_colon_format_with_roles_and_paragraphs():
    text = (
        "Ana Costa (Host): Welcome.\n"
        "Ben: Thanks.\nI have two points.\n\nThe second one is longer.\n"
        "Ana Costa: Go on.\n"
    )
    parsed = parse(text)
    assert [(s.speaker, s.text, s.line) for s in parsed.segments] == [
        ("Ana Costa (Host)", "Welcome.", 1),
        ("Ben", "Thanks. I have two points.", 2),
        ("Ben", "The second one is longer.", 5),
        ("Ana Costa", "Go on.", 6),
    ]
    assert parsed.meta.participants == (Participant("Ana Costa", "Host"), Participant("Ben"))


def test_one_declared_participant_speaks_unlabelled_text():
    text = "---\nparticipants:\n  - name: Mae Jemison\n---\nThe stars are for everyone. Go look.\n"
    _, quotes = load_text(text)
    assert [q.speaker for q in quotes] == ["Mae Jemison"]


def load_text(text, name="talk.txt"):
    parsed = parse(text, name)
    return parsed, build_quotes(parsed)


# --- speakers ---------------------------------------------------------------------


def test_split_label():
    assert split_label(" Ilya  Sutskever (Chief Scientist): ") == (
        "Ilya Sutskever",
        "Chief Scientist",
    )
    assert split_label("Ben") == ("Ben", None)


def test_roster_short_forms_and_ambiguity():
    roster = Roster(
        [
            Participant("Ilya Sutskever", aliases=("IS",)),
            Participant("Jane Smith"),
            Participant("John Smith"),
            Participant("Dr. Ana Costa"),
        ]
    )
    assert roster.resolve("ilya") == "Ilya Sutskever"
    assert roster.resolve("SUTSKEVER") == "Ilya Sutskever"
    assert roster.resolve("Ilya Sutskever (Co-founder)") == "Ilya Sutskever"
    assert roster.resolve("IS") == "Ilya Sutskever"
    assert roster.resolve("Dr. Costa") == "Dr. Ana Costa"
    assert roster.resolve("Smith") == "Smith"  # two Smiths: never guess
    assert roster.resolve("ROBIN") == "Robin"
    assert roster.resolve(None) is None
    alone = Roster([Participant("Mae Jemison")], default="Mae Jemison")
    assert alone.resolve(None) == "Mae Jemison"


def test_build_participants_merges_short_forms_and_roles():
    declared = [Participant("Wren Adeyemi", None, ("W.A.",))]
    labels = ["Wren", "Hal", "Hal Brandt (Seed librarian)", "Wren Adeyemi (Host)", "Smith"]
    assert build_participants(declared, labels) == (
        Participant("Wren Adeyemi", "Host", ("W.A.", "Wren")),
        Participant("Hal Brandt", "Seed librarian", ("Hal",)),
        Participant("Smith"),
    )
