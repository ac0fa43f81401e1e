"""Property tests: any reply, however hostile its text, renders within limits and pings nobody.

Discord bodies are checked by the fake Discord's own limit check (`message_problem`), Slack
messages against Block Kit's limits; both for live mentions and links.
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotebot.adapters.discord import render as discord_render
from quotebot.adapters.slack import render as slack_render
from quotebot.bot.all_commands import build_registry
from quotebot.bot.models import (
    ErrorReply,
    HelpEntry,
    HelpReply,
    Hint,
    ListReply,
    Quote,
    QuoteReply,
    Request,
    SearchState,
    TextReply,
)
from tests.adapters.discord.conftest import live_links, message_texts
from tests.adapters.discord.fake_discord import message_problem

pytestmark = pytest.mark.slow  # hundreds of generated replies

EXAMPLES = settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", 150)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
REGISTRY = build_registry()

# Characters that mean something to Discord or Slack, mixed into otherwise arbitrary text.
RISKY = "[]()*_~`|<>@!#&:;/\\-+.>\n \t“”‮\u200b"
_short = st.text(max_size=40) | st.text(alphabet=RISKY + "ab1", max_size=40)
_phrases = st.sampled_from(["[https://discord.com](https://evil.example)", "@everyone",
                            "@here", "<@123>", "<@&4>", "<!channel>", "<!here>", "<#C0123>",
                            "&lt;", "&amp;", "</quote help:1>", "> ", "# ", "```", "\\",
                            "1. ", "-# "])
_pieces = st.lists(_short | _phrases, max_size=8).map("".join)
# Long text by repetition: cheap to generate, and it reaches every size limit.
TEXT = _pieces | st.builds(lambda piece, times: piece * times, _pieces,
                           st.integers(0, 600))
NAME = st.none() | TEXT


# Source URLs come from transcripts' metadata: hostile ones too, some that are links.
URL = st.none() | TEXT | st.builds(
    "{}://{}/{}".format, st.sampled_from(["https", "http", "javascript"]),
    st.sampled_from(["www.youtube.com", "youtu.be", "evil.example", "[::1]", "[abc", "a b"]),
    _pieces)


@st.composite
def quotes(draw) -> Quote:
    return Quote(draw(st.integers(1, 10**12)), draw(TEXT), draw(NAME), draw(TEXT),
                 draw(st.text(max_size=20)),
                 draw(st.none() | st.floats(0, 10**7, allow_nan=False)),
                 draw(st.integers(0, 10**6)), draw(st.floats(0, 1)),
                 speaker_role=draw(NAME), venue=draw(NAME), source_url=draw(URL))


@st.composite
def quote_replies(draw) -> QuoteReply:
    shown = tuple(draw(st.lists(quotes(), min_size=1, max_size=30)))
    context = tuple(draw(st.lists(quotes(), max_size=25)))
    if context and draw(st.booleans()):
        context = (*context, shown[0])
    search = draw(st.none() | st.builds(SearchState, TEXT, NAME, NAME,
                                        st.integers(0, 20_000), st.integers(0, 40_000)))
    return QuoteReply(shown, context, search, draw(st.booleans()), draw(NAME))


REPLIES = st.one_of(
    quote_replies(),
    st.builds(ListReply, TEXT, st.lists(TEXT, max_size=80).map(tuple), st.booleans()),
    st.builds(TextReply, TEXT, st.booleans()),
    st.builds(HelpReply, TEXT, st.lists(st.builds(HelpEntry, TEXT, TEXT, TEXT), max_size=40)
              .map(tuple)),
    st.builds(ErrorReply, TEXT, st.lists(TEXT, max_size=6).map(tuple)),
    st.builds(ErrorReply, TEXT, st.lists(st.builds(
        Hint, TEXT, st.none() | st.builds(Request, st.sampled_from(REGISTRY.names()),
                                          st.dictionaries(st.sampled_from(["query", "speaker",
                                                                           "source", "id"]),
                                                          TEXT, max_size=3)),
        st.none() | st.sampled_from(REGISTRY.names()), TEXT), max_size=6).map(tuple)),
)


# ---- Discord -------------------------------------------------------------------------------


@EXAMPLES
@given(REPLIES, st.none() | st.booleans())
def test_discord_renders_any_reply_within_limits_and_inert(reply, public):
    assert_discord_message_ok(discord_render.render(reply, public=public, registry=REGISTRY))


def assert_discord_message_ok(out) -> None:
    """A rendered message Discord would accept, that pings nobody and links nowhere."""
    kwargs = out.send_kwargs()
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    body = {"content": out.content, "embeds": [out.embed.to_dict()] if out.embed else [],
            "components": out.view.to_components() if out.view else []}
    assert message_problem(body) is None, message_problem(body)
    assert out.content or out.embed
    if out.view is not None:
        for item in out.view.children:
            if getattr(item, "url", None):  # a link button (Listen at …)
                assert re.match(r"https?://\S+$", item.url) and len(item.url) <= 512
                assert 0 < len(item.label) <= 80
                continue
            assert len(item.custom_id) <= 100 and 0 < len(item.item.label) <= 80
    for text in message_texts(body):
        assert not live_links(text), text


# ---- Slack ---------------------------------------------------------------------------------

# The only `<…>` the Slack renderer may write: a channel link (never a notification).
_CHANNEL_LINK = re.compile(r"<#[CGD][A-Z0-9]{2,20}>")


def _slack_texts(message: dict) -> list[str]:
    texts = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if block["type"] == "context":
                texts.append(element["text"])
    return texts


@EXAMPLES
@given(REPLIES)
def test_slack_renders_any_reply_within_block_kit_limits_and_inert(reply):
    assert_slack_message_ok(slack_render.render(reply), isinstance(reply, QuoteReply))


def assert_slack_message_ok(message: dict, buttons_allowed: bool) -> None:
    """A rendered message within Block Kit's limits, with no mention or link markup."""
    assert 0 < len(message["text"]) <= 3000  # the fallback (Slack truncates at 40,000)
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn" and block["text"]["verbatim"] is True
            assert 0 < len(block["text"]["text"]) <= 3000 and block["text"]["text"].strip()
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                assert 0 < len(element["text"]) <= 2000 and element["text"].strip()
        elif block["type"] == "actions":
            assert buttons_allowed and 0 < len(block["elements"]) <= 25
            for button in block["elements"]:
                if "url" in button:  # a link button (Listen at …)
                    assert re.match(r"https?://\S+$", button["url"])
                    assert len(button["url"]) <= 3000
                else:
                    assert len(button["value"]) <= 2000
                assert len(button["action_id"]) <= 255
                assert 0 < len(button["text"]["text"]) <= 75
        else:
            raise AssertionError(f"unexpected block {block['type']}")
    if any(b["type"] == "actions" for b in blocks):
        assert blocks[-1]["type"] == "actions"  # never cut off by the block limit
    for text in _slack_texts(message):
        bare = _CHANNEL_LINK.sub("", text)
        assert "<" not in bare and ">" not in bare.replace("\n>", "\n").removeprefix(">"), text
