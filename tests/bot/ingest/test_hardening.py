"""Hostile transcripts: YAML bombs, thousands of speakers, long tokens, invisible characters."""

from __future__ import annotations

import itertools
import json
import logging
import string
import time
import tracemalloc

import pytest

from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.runner import ingest_paths, prepare
from quotebot.bot.ingest.sentences import build_quotes
from quotebot.bot.ingest.types import TranscriptError
from quotebot.store.quotes import QuoteStore


def distinct_names(count: int) -> list[str]:
    """`count` different two-word names that share no word with each other."""
    letters = string.ascii_lowercase
    words = ("".join(p) for p in itertools.product(letters, repeat=4))
    return [f"{next(words).title()} {next(words).title()}" for _ in range(count)]


@pytest.mark.slow
def test_eight_thousand_speakers_merge_in_near_linear_time():
    names = distinct_names(8000)
    text = "".join(f"{name}: We talked about engine number {i} today.\n"
                   for i, name in enumerate(names))
    began = time.perf_counter()
    parsed = parse_transcript(text, "crowd.txt")
    drafts = build_quotes(parsed)
    elapsed = time.perf_counter() - began
    print(f"8,000 labels ({len(text) // 1024} KB): parsed and segmented in {elapsed:.2f} s")
    assert [p.name for p in parsed.meta.participants] == names
    assert len(drafts) == 8000 and drafts[-1].speaker == names[-1]
    assert elapsed < 10  # was 106 s (a roster built per label); about 0.5 s now


@pytest.mark.slow
def test_a_line_of_unclosed_brackets_parses_in_linear_time():
    # The Markdown link pattern scanned every unclosed `[` to the end of its line: this
    # 400 KB file took 465 s.
    text = "# Episode\n\n**Ada:** " + "\\[" * 200_000 + "\n\n**Bob:** The words after it.\n"
    began = time.perf_counter()
    parsed = parse_transcript(text, "brackets.md")
    elapsed = time.perf_counter() - began
    assert parsed.segments[-1].text == "The words after it."
    assert elapsed < 60  # about 2 s now


def test_short_forms_still_merge_among_many_speakers():
    names = distinct_names(300)
    lines = [f"{name}: Hello number {i}." for i, name in enumerate(names)]
    first, last = names[0].split()
    lines += [f"{last}: Short form by surname.", f"{first}: Short form by first name."]
    parsed = parse_transcript("\n".join(lines) + "\n", "crowd.txt")
    people = {p.name: p for p in parsed.meta.participants}
    assert len(people) == 300
    assert set(people[names[0]].aliases) == {first, last}


# --- front matter -------------------------------------------------------------------

LAUGHS = """---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
---

Ada Lovelace: The engine weaves algebraic patterns.
Charles Babbage: Just as the loom weaves flowers.
"""


def test_nested_yaml_aliases_are_refused_quickly_and_cheaply(tmp_path):
    path = tmp_path / "laughs.md"
    path.write_text(LAUGHS)
    tracemalloc.start()
    began = time.perf_counter()
    prepared = prepare(path, frozenset())
    elapsed = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert prepared.records is None
    assert prepared.error == (
        f"{path}:2: front matter is not valid YAML: anchors and aliases (&name, *name) "
        "are not allowed in front matter"
    )
    assert elapsed < 2 and peak < 10 * 2**20  # was 18.8 s and 2.2 GB


@pytest.mark.parametrize("yaml_text, line", [
    ("title: Talk\nbase: &base {venue: Hall}\n", 3),
    ("title: Talk\nother: *nothing\n", 3),
])
def test_any_anchor_or_alias_is_refused_with_its_line(yaml_text, line):
    text = f"---\n{yaml_text}---\n\nAda: Hello.\n"
    with pytest.raises(TranscriptError, match="anchors and aliases") as caught:
        parse_transcript(text, "talk.md")
    assert caught.value.path == "talk.md" and caught.value.line == line


def test_front_matter_over_the_cap_is_refused():
    text = "---\ntitle: Talk\nnotes: " + "x" * (70 * 1024) + "\n---\n\nAda: Hello.\n"
    with pytest.raises(TranscriptError, match="front matter is 70 KB; the limit is 64 KB"):
        parse_transcript(text, "talk.md")


@pytest.mark.slow
def test_deeply_nested_front_matter_is_an_error_not_a_crash():
    text = "---\ntitle: Talk\nx: " + "[" * 5000 + "\n---\n\nAda: Hello.\n"
    with pytest.raises(TranscriptError):
        parse_transcript(text, "talk.md")


async def test_stored_metadata_is_capped_and_extra_keys_dropped_with_a_warning(
    db, tmp_path, caplog
):
    caplog.set_level(logging.WARNING)
    names = distinct_names(200)
    front = ("---\ntitle: Crowd\ncorrections:\n  - {wrong: Alex Net, right: AlexNet}\n"
             f"summary: {'s' * 40_000}\nnotes: {'n' * 20_000}\n---\n\n")
    body = "".join(f"{name}: We built Alex Net on {i} GPUs.\n" for i, name in enumerate(names))
    path = tmp_path / "crowd.md"
    path.write_text(front + body)
    report = await ingest_paths(QuoteStore(db), [path])
    assert [f.status for f in report.files] == ["added"]
    stored = await db.scalar("SELECT meta_json FROM sources")
    assert len(stored) <= 64 * 1024
    meta = json.loads(stored)
    assert meta["corrections"] == [{"wrong": "Alex Net", "right": "AlexNet", "note": None}]
    assert len(meta["participants"]) == 200 and meta["summary"] == "s" * 40_000
    assert "notes" not in meta
    assert "front-matter keys not stored: notes" in caplog.text
    assert str(path.resolve()) in caplog.text
    assert await db.scalar("SELECT count(*) FROM speakers") == 200


# --- sidecars (quotebot.yaml / episodes.csv): the same bounds as front matter ----------

SIDECAR_LAUGHS = "talk:\n" + "".join(
    f"  {name}: &{name} [{','.join([repr('lol') if name == 'a' else '*' + prev] * 9)}]\n"
    for prev, name in zip("_abcdef", "abcdefg", strict=True)
) + "  title: *g\n"
TALK = ("Ada Lovelace: The engine weaves algebraic patterns just as the loom weaves flowers.\n"
        "Charles Babbage: Just as the loom weaves flowers and leaves, indeed it does.\n")


def test_a_sidecar_with_nested_yaml_aliases_is_refused_quickly_and_cheaply(tmp_path):
    """A 500-byte quotebot.yaml whose title was 8 levels of aliases took 36 s and 1 GB to
    ingest, stored a 300 MB title, and every `quotebot sources` then took 28 s."""
    from quotebot.bot.ingest.sidecar import read_sidecar

    path = tmp_path / "quotebot.yaml"
    path.write_text(SIDECAR_LAUGHS)
    tracemalloc.start()
    began = time.perf_counter()
    with pytest.raises(TranscriptError, match="anchors and aliases") as caught:
        read_sidecar(path)
    elapsed = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert caught.value.path == str(path) and caught.value.line == 2
    assert elapsed < 2 and peak < 10 * 2**20


async def test_titles_and_urls_from_outside_the_file_are_bounded(db, tmp_path):
    """A sidecar (or feed, or --title) is metadata like front matter, and as bounded: a
    100,000-character title was stored whole and shown in every reply and list."""
    folder = tmp_path / "show"
    folder.mkdir()
    (folder / "talk.txt").write_text(TALK)
    (folder / "quotebot.yaml").write_text(
        f"talk.txt:\n  title: {'Long ' * 20_000}\n  url: https://example.com/{'a' * 5000}\n")
    report = await ingest_paths(QuoteStore(db), [folder])
    assert [f.status for f in report.files] == ["added"]
    title, url = await db.fetchone("SELECT title, url FROM sources")
    assert title.startswith("Long Long") and title.endswith("…") and len(title) <= 300
    assert url is None  # a cut URL would be a wrong link


@pytest.mark.parametrize("name, body, reason", [
    ("quotebot.yaml", SIDECAR_LAUGHS, "anchors and aliases"),
    ("quotebot.yaml", "talk:\n  title: " + "[" * 5000 + "\n", "nested too deeply"),
    ("quotebot.yaml", "talk:\n  title: " + "[" * 400 + "]" * 400 + "\n", "nested too deeply"),
    ("episodes.csv", "file,title\ntalk.txt," + "x" * 200_000 + "\n", "field larger"),
    ("quotebot.yaml", "talk: {title: " + "x" * (5 * 2**20) + "}\n", "the limit is 4 MB"),
])
async def test_a_hostile_sidecar_is_reported_and_its_folder_still_ingests(
        db, tmp_path, name, body, reason):
    """Deep nesting raised RecursionError and an over-long CSV field csv.Error out of the
    whole ingest (a traceback); aliases expanded (above); size was unbounded."""
    folder = tmp_path / "show"
    folder.mkdir()
    (folder / "talk.txt").write_text(TALK)
    (folder / name).write_text(body)
    report = await ingest_paths(QuoteStore(db), [folder])
    assert [f.status for f in report.files] == ["failed", "added"]
    assert report.files[0].error.startswith(str(folder / name)), report.files[0].error
    assert reason in report.files[0].error
    assert await db.scalar("SELECT title FROM sources") == "Talk"


# --- invisible characters -----------------------------------------------------------

INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e" \
            "\u2066\u2067\u2068\u2069"


async def test_invisible_characters_in_a_transcript_do_not_hide_its_words(db, tmp_path):
    from quotebot.bot.library import QuoteLibrary

    library = QuoteLibrary(db)
    path = tmp_path / "talk.txt"
    path.write_text(
        "Ada Lovelace: The age of sca\u00adling is over, exe\u200bcution is every\u2060thing.\n"
        "Charles Babbage: I built the \ufeffdiffer\u200cence \u202aengine\u202c by hand.\n"
        "Ada Lovelace: Yes, and the loom wea\u200dves \u2066flowers\u2069 and leaves.\n"
    )
    await ingest_paths(library.store, [path])
    await library.load()
    texts = [r[0] for r in await db.fetchall("SELECT text FROM quotes ORDER BY id")]
    assert not any(c in text for text in texts for c in INVISIBLE)
    assert texts[0] == "The age of scaling is over, execution is everything."
    found = await library.search("scaling execution", limit=3)
    assert found and found[0].text == texts[0]
    found = await library.search("difference engine", limit=3)
    assert found and found[0].text == "I built the difference engine by hand."


@pytest.mark.parametrize("query", [
    "sca\u00adling sucked out all the air",
    "sca\u200bling su\u200ccked out all the a\u200dir",
    "\u202escaling\u202c \u2066sucked\u2069 out all the \ufeffair\u2060",
])
async def test_invisible_characters_in_a_query_find_the_plain_words(library, query):
    from quotebot.bot.tokens import tokenize

    assert tokenize(query) == ["scaling", "sucked", "out", "all", "the", "air"]
    found = await library.search(query, limit=1)
    assert found and "scaling sucked out all the air" in found[0].text


# --- long tokens --------------------------------------------------------------------

URL = "https://example.com/track?" + "&".join(f"utm_{n}=abcdefghij" for n in range(300))
BASE64 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 140
DIALOGUE = """Ada Lovelace: We ran the engine today and it computed the whole table of Bernoulli \
numbers without a single error{a} because the cards were punched by hand. Then we went home.
Charles Babbage: Yeah.
Ada Lovelace: The mill is the part that does the arithmetic{b}, and the store is the part \
that holds the numbers while it works. It weaves algebraic patterns just as the loom weaves \
flowers and leaves, and nobody had thought of that before.{c} That was the whole point.
"""


def units(text: str, path: str = "talk.txt") -> list[tuple[str | None, str]]:
    return [(d.speaker, d.text) for d in build_quotes(parse_transcript(text, path), path)]


@pytest.mark.parametrize("token", [URL, BASE64], ids=["url", "base64"])
def test_a_long_token_neither_swallows_nor_fragments_its_neighbours(token, caplog):
    plain = units(DIALOGUE.format(a="", b="", c=""))
    caplog.set_level(logging.WARNING)
    hostile = units(DIALOGUE.format(a=f" {token}", b=f" {token}", c=f" {token}"))
    assert hostile == plain
    assert all(len(text.split()) > 4 or text == "Yeah." for _, text in hostile)
    assert "talk.txt:1: left 3 run(s) of over 150 characters" in caplog.text
    assert f"the longest {len(token) + 1} characters" in caplog.text  # with its comma


def test_a_plain_text_file_opening_with_a_long_token_loses_nothing_silently(
    tmp_path, caplog
):
    caplog.set_level(logging.WARNING)
    path = tmp_path / "essay.txt"
    body = ("The engine weaves algebraic patterns just as the loom weaves flowers and leaves. "
            "It was built in London by hand.\n\nA second paragraph follows here.\n")
    path.write_text(f"{URL}\n\n{body}")
    with_token = prepare(path, frozenset())
    path.write_text(body)
    without = prepare(path, frozenset())
    assert [q.text for q in with_token.records[2]] == [q.text for q in without.records[2]]
    assert f"{path.resolve()}:1: left 1 run(s)" in caplog.text
    # A token that is all there is: an error, not an empty source.
    path.write_text(f"{URL}\n")
    assert prepare(path, frozenset()).error == f"{path}: no quotable text found"


def test_a_word_up_to_the_limit_stays_in_its_quote():
    word = "x" * 150
    assert units(f"Ada: The code word is {word} and nobody knows it.\n") == [
        ("Ada", f"The code word is {word} and nobody knows it.")
    ]


# --- size limits --------------------------------------------------------------------


def test_a_line_over_the_limit_is_refused_naming_file_and_line(tmp_path):
    path = tmp_path / "dump.txt"
    path.write_text("Ada: Hello there.\nBob: Hi.\n" + "word " * 200_001 + "\nAda: Bye.\n")
    prepared = prepare(path, frozenset())
    assert prepared.records is None
    assert prepared.error == (
        f"{path}:3: line is 1,000,005 characters long; the limit is 1,000,000 "
        "(a transcript has line breaks at least between paragraphs)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["whisper", "podcast"])
def test_a_json_transcript_on_one_line_is_not_held_to_the_line_limit(tmp_path, kind):
    """json.dump (and Whisper) write a transcript as one line: the line limit, meant for
    text, refused every JSON transcript over 1 MB."""
    if kind == "whisper":
        data = {"segments": [{"start": i * 2.0, "end": i * 2.0 + 2, "speaker": f"SPEAKER_0{i % 2}",
                              "text": f" The engine weaves algebraic patterns number {i}."}
                             for i in range(20_000)]}
    else:
        data = {"version": "1.0.0", "segments": [
            {"speaker": ("Ada", "Charles")[i % 2], "startTime": i * 2.0, "endTime": i * 2.0 + 2,
             "body": f"The engine weaves algebraic patterns number {i}."} for i in range(20_000)]}
    path = tmp_path / "episode.json"
    path.write_text(json.dumps(data))
    assert path.stat().st_size > 1_000_000 and path.read_text().count("\n") == 0
    prepared = prepare(path, frozenset())
    assert prepared.error is None
    assert len(prepared.records[2]) > 1000


@pytest.mark.parametrize("body", ['{"segments": ' + "[" * 100_000,
                                  '[{"text": ' + "[" * 100_000 + "]" * 100_000 + "}]",
                                  '{"segments": [{"text": "x", "words": ' + "{\"a\": " * 50_000])
def test_deeply_nested_json_is_an_error_not_a_crash(tmp_path, body):
    """json.loads raised RecursionError, which ended the whole ingest with a traceback."""
    path = tmp_path / "deep.json"
    path.write_text(body)
    assert prepare(path, frozenset()).error == f"{path}: JSON is nested too deeply"


@pytest.mark.slow
def test_a_paragraph_of_a_long_interview_on_one_line_is_fine(tmp_path):
    path = tmp_path / "pasted.txt"
    path.write_text("We built the engine by hand, and it worked. " * 20_000)  # 900 KB
    assert prepare(path, frozenset()).error is None


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(65 * 2**20)  # sparse: nothing is written
    prepared = prepare(path, frozenset())
    assert prepared.error == f"{path}: file is 65 MB; the limit is 64 MB"


async def test_invisible_characters_in_a_speaker_filter_are_ignored(library):
    assert library.resolve_speaker("Il\u200bya Suts\u00adkever").name == "Ilya Sutskever"
