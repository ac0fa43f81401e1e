"""Arbitrary text through every transcript format and through search: nothing raises."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotebot.bot.all_commands import build_registry
from quotebot.bot.app import ensure_bundled
from quotebot.bot.highlights import select
from quotebot.bot.ingest.decode import decode
from quotebot.bot.ingest.formats import parse_transcript
from quotebot.bot.ingest.sentences import build_quotes
from quotebot.bot.ingest.types import TranscriptError
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ErrorReply, QuoteReply, Request
from quotebot.bot.registry import Services
from quotebot.store.db import Database

EXAMPLES = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
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


@pytest.fixture(scope="module")
def bundled_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("props") / "q.db"

    async def build() -> None:
        db = await Database.open(path)
        await ensure_bundled(QuoteLibrary(db).store)
        await db.close()

    asyncio.run(build())
    return path


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
