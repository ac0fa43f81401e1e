"""Podcast feeds on disk and JSON transcripts (issue 10, item 2)."""

from __future__ import annotations

import json

import pytest

from quotebot.bot.ingest.feeds import read_feed
from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.runner import ingest_paths
from quotebot.bot.ingest.sentences import build_quotes
from quotebot.bot.ingest.types import TranscriptError
from quotebot.store.quotes import QuoteStore


def quotes(text, name):
    parsed = parse_transcript(text, name)
    return parsed, [(q.speaker, q.start, q.text) for q in build_quotes(parsed)]


PODCAST_JSON = {
    "version": "1.0.0",
    "segments": [
        {"speaker": "Jane Host", "startTime": 0.5, "endTime": 2.0,
         "body": "Welcome back, there&#39;s a lot"},
        {"speaker": "Jane Host", "startTime": 2.0, "endTime": 3.0, "body": "to cover today."},
        {"speaker": "Bob Guest", "startTime": 3.5, "endTime": 6.0,
         "body": "Thanks for having me (laughs) on again."},
    ],
}


def test_podcasting_json_with_speakers_times_and_entities():
    parsed, got = quotes(json.dumps(PODCAST_JSON), "ep.json")
    assert parsed.format == "podcast-json"
    assert got == [("Jane Host", 0.5, "Welcome back, there's a lot to cover today."),
                   ("Bob Guest", 3.5, "Thanks for having me [laughs] on again.")]


def test_whisper_segments_without_speakers():
    data = {"text": "...", "language": "en", "segments": [
        {"id": 0, "start": 0.0, "end": 3.2, "text": " The river was high that spring."},
        {"id": 1, "start": 3.2, "end": 6.0, "text": " We crossed it anyway, on foot."},
    ]}
    parsed, got = quotes(json.dumps(data), "talk.json")
    assert parsed.format == "whisper-json"
    assert [t for _, _, t in got] == [
        "The river was high that spring. We crossed it anyway, on foot."]
    assert got[0][:2] == (None, 0.0)


def test_whisperx_segments_with_diarized_speakers():
    data = {"segments": [
        {"start": 0.0, "end": 2.0, "text": " So where did it begin?", "speaker": "SPEAKER_00"},
        {"start": 2.1, "end": 5.0, "text": " It began in a small garage in Ohio.",
         "speaker": "SPEAKER_01"},
    ], "word_segments": []}
    parsed, got = quotes(json.dumps(data), "x.json")
    assert got == [("Speaker 1", 0.0, "So where did it begin?"),
                   ("Speaker 2", 2.1, "It began in a small garage in Ohio.")]


def test_diarized_word_lists_rebuild_the_turns():
    words = [("So", 0.0, "SPEAKER_00"), ("where", 0.3, "SPEAKER_00"), ("now?", 0.6, None),
             ("Right", 1.0, "SPEAKER_01"), ("here.", 1.4, "SPEAKER_01"),
             ("Good.", 2.0, "SPEAKER_00")]
    data = {"word_segments": [
        {"word": w, "start": t, "end": t + 0.2, **({"speaker": s} if s else {})}
        for w, t, s in words]}
    parsed, got = quotes(json.dumps(data), "words.json")
    assert [(s.speaker, s.start, s.text) for s in parsed.segments] == [
        ("Speaker 1", 0.0, "So where now?"), ("Speaker 2", 1.0, "Right here."),
        ("Speaker 1", 2.0, "Good."),
    ]
    # Words only in segments (segments without a speaker of their own) work the same.
    data = {"segments": [{"start": 0.0, "text": "x", "words": data["word_segments"]}]}
    parsed, _ = quotes(json.dumps(data), "words.json")
    assert [s.speaker for s in parsed.segments] == ["Speaker 1", "Speaker 2", "Speaker 1"]


@pytest.mark.parametrize("text, message", [
    ('{"a": 1}', "JSON without transcript segments"),
    ("{broken", "not valid JSON"),
])
def test_json_that_is_no_transcript_is_refused(text, message):
    with pytest.raises(TranscriptError, match=message):
        parse_transcript(text, "x.json")


def test_a_text_transcript_opening_with_a_bracket_is_not_json():
    parsed, _ = quotes("[00:00:01] Ana Ruiz: Hello there.\n[00:00:03] Ben Ode: Hi.\n", "a.txt")
    assert parsed.format == "stamped"


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Garden Talk</title>
<podcast:person role="host">Jane Host</podcast:person>
<item><title>Roots &amp; Shoots</title><link>https://example.com/1</link>
<pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate><guid>g-1</guid>
<podcast:transcript url="https://cdn.example.com/files/ep1.json" type="application/json"/>
<podcast:transcript url="ep1.srt" type="application/srt"/>
</item>
<item><title>Second Season</title><link>https://example.com/2</link>
<pubDate>Tue, 09 Jan 2024 10:00:00 GMT</pubDate>
<podcast:person role="guest">Carl Guest</podcast:person>
<podcast:transcript url="ep2/captions.srt" type="application/x-subrip"/></item>
<item><title>Only Online</title>
<podcast:transcript url="https://cdn.example.com/ep3.vtt" type="text/vtt"/></item>
</channel></rss>
"""
SRT = ("1\n00:00:01,000 --> 00:00:03,000\nJane Host: Our second show starts now.\n\n"
       "2\n00:00:03,000 --> 00:00:05,000\nCarl Guest: And I am here to talk about boats.\n")


def write_feed(folder):
    (folder / "ep2").mkdir(parents=True)
    (folder / "feed.xml").write_text(FEED)
    (folder / "ep1.json").write_text(json.dumps(PODCAST_JSON))
    (folder / "ep1.srt").write_text(SRT.replace("second", "first"))
    (folder / "ep2" / "captions.srt").write_text(SRT)
    return folder


def test_feed_episodes_pick_their_best_local_transcript(tmp_path):
    episodes = read_feed(write_feed(tmp_path) / "feed.xml")
    assert [(e.title, e.transcript and e.transcript.name) for e in episodes] == [
        ("Roots & Shoots", "ep1.json"), ("Second Season", "captions.srt"), ("Only Online", None)]
    first = episodes[0].overrides
    assert (first.slug, first.date, first.url) == ("roots-shoots", "2024-01-02",
                                                   "https://example.com/1")
    assert [(p.name, p.role) for p in episodes[1].overrides.participants] == [
        ("Carl Guest", "Guest"), ("Jane Host", "Host")]


async def test_ingesting_a_folder_with_a_feed(db, tmp_path):
    folder = write_feed(tmp_path / "show")
    report = await ingest_paths(QuoteStore(db), [folder])
    assert sorted(f.status for f in report.files) == ["added", "added", "skipped"]
    skipped = next(f for f in report.files if f.status == "skipped")
    assert "Only Online" in skipped.error and "nothing is downloaded" in skipped.error
    rows = await db.fetchall("SELECT slug, title, date, url, format FROM sources ORDER BY slug")
    assert [tuple(r) for r in rows] == [
        ("roots-shoots", "Roots & Shoots", "2024-01-02", "https://example.com/1", "podcast-json"),
        ("second-season", "Second Season", "2024-01-09", "https://example.com/2", "srt"),
    ]
    roles = dict(tuple(r) for r in await db.fetchall("SELECT name, role FROM speakers"))
    assert roles == {"Jane Host": "Host", "Bob Guest": None, "Carl Guest": "Guest"}
    again = await ingest_paths(QuoteStore(db), [folder / "feed.xml"])
    assert sorted(f.status for f in again.files) == ["skipped", "unchanged", "unchanged"]


@pytest.mark.parametrize("text, message", [
    ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><channel/></rss>',
     "entities"),
    ("<rss><channel><item>", "not valid XML"),
    ("<html><body/></html>", "not an RSS feed"),
])
def test_unsafe_or_broken_feeds_are_refused(tmp_path, text, message):
    path = tmp_path / "feed.xml"
    path.write_text(text)
    with pytest.raises(TranscriptError, match=message):
        read_feed(path)


def test_hostile_dates_and_urls_in_a_feed_cost_their_episode_nothing_else(tmp_path):
    """A year or offset too large for datetime (OverflowError) and a URL with a broken IPv6
    host (ValueError) escaped read_feed: a traceback out of the whole ingest (issue 11,
    "no tracebacks")."""
    folder = write_feed(tmp_path)
    hostile = (
        "<item><title>Far Future</title><pubDate>Mon, 01 Jan 99999999999999999999 00:00:00"
        " +0000</pubDate><podcast:transcript url=\"ep1.srt\" type=\"application/srt\"/></item>"
        "<item><title>Odd Offset</title><pubDate>Mon, 01 Jan 2024 00:00:00 "
        "+99999999999999999999</pubDate></item>"
        "<item><title>Broken Host</title><link>http://[abc/page</link>"
        "<podcast:transcript url=\"http://[abc/ep2/captions.srt\" type=\"application/srt\"/>"
        "<podcast:transcript url=\"https://[::1/x.vtt\" type=\"text/vtt\"/></item>"
    )
    feed = folder / "feed.xml"
    feed.write_text(FEED.replace("</channel>", hostile + "</channel>"))
    episodes = {e.title: e for e in read_feed(feed)}
    assert episodes["Roots & Shoots"].transcript.name == "ep1.json"  # the rest as before
    assert episodes["Far Future"].transcript.name == "ep1.srt"
    assert episodes["Far Future"].overrides.date.startswith("Mon, 01 Jan 9999")  # as written
    assert episodes["Odd Offset"].overrides.date.startswith("Mon, 01 Jan 2024")
    assert episodes["Broken Host"].transcript is None  # no usable transcript URL
    assert episodes["Broken Host"].wanted == ()


async def test_xml_and_json_that_are_no_transcripts_are_reported_not_read_as_prose(db, tmp_path):
    (tmp_path / "captions.xml").write_text('<?xml version="1.0"?><tt><body><p>Hi</p></body></tt>')
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.0.0"}')
    report = await ingest_paths(QuoteStore(db), [tmp_path])
    assert sorted((f.status, f.path.rsplit("/", 1)[-1]) for f in report.files) == [
        ("failed", "captions.xml"), ("failed", "package.json")]
    assert all(f.error for f in report.files)
    assert await db.scalar("SELECT count(*) FROM sources") == 0


def test_whisper_as_a_bare_list_of_segments():
    data = [{"start": 1.5, "end": 3.0, "text": " Hello from a bare list of segments."}]
    parsed, got = quotes(json.dumps(data), "bare.json")
    assert parsed.format == "whisper-json"
    assert got == [(None, 1.5, "Hello from a bare list of segments.")]


def test_diarized_labels_read_alike_in_subtitles_and_json():
    _, got = quotes(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v SPEAKER_01>Hello from the caption.\n",
        "a.vtt")
    assert got == [("Speaker 2", 1.0, "Hello from the caption.")]
