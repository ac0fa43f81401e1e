"""Escaping, mention safety and Block Kit limits, judged on what reached the fake Slack."""

from __future__ import annotations

import json
import re

from tests.adapters.slack.conftest import block_text
from tests.adapters.slack.fake_slack import FakeSlack

FORBIDDEN = ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<@U999>", "<drill>", "<!")
ENTITY_CUT = re.compile(r"&[a-z]{0,3}…")


def assert_nothing_unescaped(fake: FakeSlack) -> None:
    """No request the app made carries a raw mention, an unescaped < or link_names."""
    assert fake.requests, "nothing was sent"
    for request in fake.requests:
        for wire in (request.text, json.dumps(request.data, ensure_ascii=False)):
            for bad in FORBIDDEN:
                assert bad not in wire, f"{bad!r} reached {request.path}"
            assert "link_names" not in wire
        for text in _texts(request.data):
            assert "<" not in text and ">" not in text.replace("\n>", "\n").lstrip(">"), text
            assert not re.search(r"&(?!amp;|lt;|gt;)", text), text


def _texts(data) -> list[str]:
    """Every string a user would read: the fallback and each text object."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("text",) and isinstance(value, str):
                found.append(value)
            elif key != "value":
                found += _texts(value)
    elif isinstance(data, list):
        for item in data:
            found += _texts(item)
    return found


def _mrkdwn_objects(data) -> list[dict]:
    if isinstance(data, dict):
        own = [data] if data.get("type") == "mrkdwn" else []
        return own + [o for v in data.values() for o in _mrkdwn_objects(v)]
    if isinstance(data, list):
        return [o for item in data for o in _mrkdwn_objects(item)]
    return []


async def test_a_dangerous_quote_is_escaped_everywhere(slack, fake):
    message = await slack.command("ping channel")
    text = block_text(message.data)
    assert "&lt;!channel&gt;" in text and "&lt;@U123&gt;" in text
    assert "R&amp;D &gt; sales &lt; ops" in text
    assert "Mallory &lt;@U999&gt;" in text and "Safety &lt;drill&gt; &amp; co" in text
    assert "@here" in text  # kept verbatim: without link_names it is not a mention
    assert all(o.get("verbatim") is True for o in _mrkdwn_objects(message.data))
    path = await slack.click(message, "quote_context")
    await slack.click(message, "quote_share")
    await fake.wait_for("chat.postMessage")
    await fake.wait_for(path)
    assert_nothing_unescaped(fake)


async def test_a_dangerous_query_is_escaped_in_the_echo(slack, fake):
    raw = "<!here> <@U123> & <!channel> by:greg"
    as_slack_sends_it = raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for query in (raw, as_slack_sends_it):
        text = block_text((await slack.command(query)).data)
        assert "No quote matches" in text
        assert "&lt;!here&gt; &lt;@U123&gt; &amp; &lt;!channel&gt;" in text
    text = block_text((await slack.command("compute by:<!everyone>&<@U777>")).data)
    assert "&lt;!everyone&gt;&amp;&lt;@U777&gt;" in text
    await slack.command("random in:<!channel>")
    assert_nothing_unescaped(fake)


async def test_a_long_quote_is_cut_to_the_block_limits(slack, fake):
    message = await slack.command("Longwinded")
    data = message.data
    assert len(data["blocks"]) <= 50
    quote = data["blocks"][0]["text"]["text"]
    assert quote.startswith(">Longwinded word0 &amp; more") and quote.endswith("…")
    assert len(quote) <= 3000 and not ENTITY_CUT.search(quote)
    assert len(data["text"]) <= 3000 and not ENTITY_CUT.search(data["text"])
    path = await slack.click(message, "quote_context")
    context = (await fake.wait_for(path)).data
    for block in context["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert "*In context*" in block_text(context)
    assert_nothing_unescaped(fake)
