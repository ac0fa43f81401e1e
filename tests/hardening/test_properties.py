"""Arbitrary input through every transcript format, feed and sidecar, search and the /quote
commands up to both renderers: nothing raises, every reply within limits."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotebot.adapters.discord import render as discord_render
from quotebot.adapters.slack import render as slack_render
from quotebot.bot.all_commands import build_registry
from quotebot.bot.grammar import parse
from quotebot.bot.highlights import select
from quotebot.bot.ingest.decode import decode
from quotebot.bot.ingest.feeds import read_feed
from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.runner import prepare
from quotebot.bot.ingest.sentences import build_quotes
from quotebot.bot.ingest.sidecar import read_sidecar
from quotebot.bot.ingest.types import TranscriptError
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ErrorReply, QuoteReply, Request
from quotebot.bot.registry import Services
from quotebot.store.db import Database
from tests.adapters.test_render_properties import (
    assert_discord_message_ok,
    assert_slack_message_ok,
)
from tests.conftest import copy_database

pytestmark = pytest.mark.slow  # hundreds of generated inputs

EXAMPLES = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
# Cheap examples (a few ms each; most bytes are refused at once): more of them.
MANY = settings(EXAMPLES, max_examples=int(os.environ.get("PROPERTY_EXAMPLES", 200)))
TEXT = st.text(max_size=400)
LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)

# One wrapper per format family: each puts arbitrary text where that format has its words.
FORMATS = {
    "front matter + labels": lambda t: f"---\ntitle: {json.dumps(t[:40])}\n---\nAda: {t}\n",
    "labels": lambda t: f"Ada Lovelace: {t}\nCharles Babbage: {t[::-1]}\n",
    "blocks": lambda t: f"Ada Lovelace (00:00:01):\n{t}\n\nCharles Babbage (00:00:09):\n{t}\n",
    "stamped": lambda t: f"[00:00:01] Ada: {t}\n[00:00:05] Charles: {t}\n",
    "markdown": lambda t: f"# Talk\n\n**Ada:** \\[00:01\\] {t}\n\n**Break:** \\[15:37\\]\n",
    "srt": lambda t: f"1\n00:00:01,000 --> 00:00:03,000\n{t}\n\n2\n00:00:03,000 --> "
                    f"00:00:05,000\n- {t}\n",
    "vtt": lambda t: f"WEBVTT\n\n00:00.000 --> 00:02.000\n<v Ada>{t}\n\n00:02.000 --> "
                     f"00:04.000\n{t}\n",
    "podcast json": lambda t: json.dumps({"version": "1.0.0", "segments": [
        {"speaker": "Ada", "startTime": 0, "endTime": 2, "body": t},
        {"speaker": t[:20], "startTime": 2, "endTime": 4, "body": t}]}),
    "whisper json": lambda t: json.dumps({"segments": [
        {"start": 0.0, "end": 2.0, "text": t, "speaker": "SPEAKER_00"},
        {"start": 2.0, "end": 4.0, "text": t}]}),
    "plain": lambda t: t,
}
NAMES = {"srt": "talk.srt", "vtt": "talk.vtt", "podcast json": "talk.json",
         "whisper json": "talk.json", "markdown": "talk.md"}


@pytest.mark.parametrize("kind", sorted(FORMATS))
@EXAMPLES
@given(text=TEXT)
def test_any_text_in_any_format_parses_or_is_refused_with_a_reason(kind, text):
    content = FORMATS[kind](text)
    name = NAMES.get(kind, "talk.txt")
    try:
        parsed = parse_transcript(decode(content.encode("utf-8", "surrogatepass"), name), name)
    except TranscriptError as exc:
        assert str(exc)  # refused, with a reason naming the file
        return
    drafts = build_quotes(parsed)
    for draft in drafts:
        assert draft.text and draft.text == draft.text.strip()
    for chosen in select(drafts):
        assert chosen.text and chosen.first <= chosen.last


# Whole files as bytes, through the runner's own read, decode, parse and segment (`prepare`):
# arbitrary bytes, often behind the start of a real format or an encoding's mark.
HEADS = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"---\ntitle: ",
                         b"WEBVTT\n\n00:00.000 --> 00:02.000\n", b"1\n00:00:01,000 --> ",
                         b'{"segments": [{"start": 0, "text": "', b'{"version": "1.0.0", ',
                         b"Ada Lovelace: ", b"**Ada:** \\[00:01\\] ", b"[00:00:01] Ada: "])
FILE_BYTES = st.builds(bytes.__add__, HEADS, st.binary(max_size=300)
                       | TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))
                       | TEXT.map(lambda t: t.encode("utf-16", "surrogatepass")))


@pytest.mark.parametrize("suffix", [".txt", ".md", ".srt", ".vtt", ".json"])
@MANY
@given(data=FILE_BYTES)
def test_any_bytes_in_a_file_are_ingested_or_refused_with_a_reason(tmp_path_factory, suffix,
                                                                     data):
    path = tmp_path_factory.mktemp("bytes") / f"talk{suffix}"
    path.write_bytes(data)
    prepared = prepare(path, frozenset())  # raises nothing but what it does not expect
    if prepared.error is not None:
        assert prepared.records is None and prepared.error.startswith(str(path))
    else:
        source, speakers, quotes, _ = prepared.records
        assert quotes and all(q.text and q.text == q.text.strip() for q in quotes)
        assert source.title


def _xml(text: str) -> str:
    """`text` as XML character data (XML 1.0 cannot carry most control characters)."""
    kept = "".join(c for c in text if c in "\t\n\r" or " " <= c <= "\ud7ff"
                   or "\ue000" <= c <= "\ufffd")
    return kept.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace('"', "&quot;")


@MANY
@given(title=TEXT, date=TEXT, url=TEXT, person=TEXT, role=TEXT, kind=TEXT)
def test_any_text_in_a_feed_reads_or_is_refused_with_a_reason(tmp_path_factory, title, date,
                                                                url, person, role, kind):
    folder = tmp_path_factory.mktemp("feed")
    (folder / "ep.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHello there.\n")
    x = {k: _xml(v) for k, v in dict(title=title, date=date, url=url, person=person,
                                     role=role, kind=kind).items()}
    feed = folder / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f'<channel><podcast:person role="{x["role"]}">{x["person"]}</podcast:person>'
        f'<item><title>{x["title"]}</title><pubDate>{x["date"]}</pubDate>'
        f'<link>{x["url"]}</link><guid>{x["title"]}</guid>'
        f'<podcast:transcript url="{x["url"]}" type="{x["kind"]}"/>'
        '<podcast:transcript url="ep.srt"/>'
        f'<enclosure url="{x["url"]}"/></item></channel></rss>', encoding="utf-8")
    try:
        episodes = read_feed(feed)
    except TranscriptError as exc:
        assert str(exc).startswith(str(feed))
        return
    (episode,) = episodes
    assert episode.title and episode.transcript is not None


@MANY
@given(key=TEXT, value=TEXT, csv_text=TEXT, yaml_text=TEXT)
def test_any_text_in_a_sidecar_reads_or_is_refused_with_a_reason(tmp_path_factory, key, value,
                                                                   csv_text, yaml_text):
    folder = tmp_path_factory.mktemp("sidecar")
    bodies = {
        "quotebot.yaml": f"{json.dumps(key)}:\n  title: {json.dumps(value)}\n"
                         f"  speakers: [{json.dumps(value)}]\n  date: {json.dumps(value)}\n",
        "episodes.yml": yaml_text,
        "quotebot.csv": f"file,title,speakers\n{csv_text}\n",
        "episodes.csv": csv_text,
    }
    for name, body in bodies.items():
        path = folder / name
        path.write_text(body, encoding="utf-8", errors="surrogatepass")
        try:
            read_sidecar(path)
        except TranscriptError as exc:
            assert str(exc).startswith(str(path))


@pytest.fixture(scope="module")
def bundled_db(bundled_file, tmp_path_factory):
    return copy_database(bundled_file, tmp_path_factory.mktemp("props"))


@EXAMPLES
@given(query=LINE, by=st.one_of(st.none(), LINE), prefix=st.booleans())
def test_any_query_searches_without_raising(bundled_db, query, by, prefix):
    async def run() -> None:
        db = await Database.open(bundled_db)
        try:
            library = QuoteLibrary(db)
            await library.load()
            found = await library.search(query[:300], limit=5, prefix_last=prefix)
            assert all(q.text and q.verbatim for q in found)
            reply = await build_registry().dispatch(
                Request("search", {"query": query, "speaker": by}), Services(library=library)
            )
            assert isinstance(reply, (QuoteReply, ErrorReply))
        finally:
            await db.close()

    asyncio.run(run())


@EXAMPLES
@given(line=st.one_of(LINE, st.lists(st.sampled_from(
    ["/quote", "random", "search", "show", "context", "speakers", "sources", "help", "by:",
     "in:", "ada", "engine", "ideas", "42", '"', "@everyone", "<@1>", "[x](https://e.x)",
     "*", "`"]) | LINE, max_size=8).map(" ".join)))
def test_any_command_line_answers_within_every_platforms_limits(bundled_db, line):
    """Arbitrary text through the grammar and the command, then both renderers."""
    registry = build_registry()

    async def answer():
        request = parse(line if line.startswith("/quote") else f"/quote {line}", registry)
        if not isinstance(request, Request):
            return request
        db = await Database.open(bundled_db)
        try:
            library = QuoteLibrary(db)
            await library.load()
            return await registry.dispatch(request, Services(library=library))
        finally:
            await db.close()

    reply = asyncio.run(answer())
    assert_discord_message_ok(discord_render.render(reply, registry=registry))
    assert_slack_message_ok(slack_render.render(reply), isinstance(reply, QuoteReply))
