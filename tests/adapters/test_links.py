"""Jump to the moment: a quote with a time and a source URL links to where it was said."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from quotebot.adapters.cli import cli
from quotebot.adapters.discord.render import render as discord_render
from quotebot.adapters.slack.render import render as slack_render
from quotebot.adapters.text import render_text
from quotebot.bot.models import Quote, QuoteReply, moment_url


@pytest.mark.parametrize(("url", "start", "expected"), [
    ("https://www.youtube.com/watch?v=abc123", 85.7, "https://www.youtube.com/watch?v=abc123&t=85s"),
    ("https://youtu.be/abc123?t=10", 3725.0, "https://youtu.be/abc123?t=3725s"),
    ("https://cdn.example.com/ep-7.mp3", 754.2, "https://cdn.example.com/ep-7.mp3#t=754"),
    ("https://example.com/ep#chapter-2", 12.0, "https://example.com/ep#t=12"),
    ("https://example.com/ep.mp3", None, None),  # no time: no moment to link
    (None, 12.0, None),
    ("javascript:alert(1)", 12.0, None),  # only web links
    ("https://example.com/a b", 12.0, None),
    ("https://[abc/x", 12.0, None),  # a broken host: Discord refuses the whole message
    ("https://:80/x", 12.0, None),  # no host
])
def test_moment_urls(url, start, expected):
    assert moment_url(url, start) == expected


QUOTE = Quote(7, "Ideas are cheap, execution is everything.", "Ilya Sutskever", "Episode",
              "ep", 85.0, 2, 0.9, source_url="https://www.youtube.com/watch?v=abc123")


def test_every_surface_offers_the_moment():
    reply = QuoteReply((QUOTE,))
    url = "https://www.youtube.com/watch?v=abc123&t=85s"
    assert f"Listen at 1:25: {url}" in render_text(reply)
    assert QUOTE.to_json()["url"] == url
    view = discord_render(reply).view
    (link,) = [item for item in view.children if getattr(item, "url", None)]
    assert link.url == url and link.label == "Listen at 1:25"
    actions = [b for b in slack_render(reply)["blocks"] if b["type"] == "actions"][0]
    (button,) = [e for e in actions["elements"] if e["action_id"] == "quote_listen"]
    assert button["url"] == url and button["text"]["text"] == "Listen at 1:25"


def test_no_link_without_a_time():
    quote = Quote(8, "Text.", "A", "B", "b", None, 0, 0.9, source_url="https://example.com/x")
    reply = QuoteReply((quote,))
    assert "Listen" not in render_text(reply)
    assert not [i for i in (discord_render(reply).view.children) if getattr(i, "url", None)]


def test_a_front_matter_youtube_url_reaches_search_results(tmp_path):
    path = tmp_path / "talk.md"
    path.write_text(
        "---\ntitle: A talk\nyoutube_url: https://www.youtube.com/watch?v=xyz\n---\n"
        "[00:00:50] Charles Babbage: What did you see in the engine?\n"
        "[00:01:05] Ada Lovelace: The engine weaves algebraic patterns just as the loom "
        "weaves flowers.\n"
        "[00:01:20] Charles Babbage: That is a lovely way to put it.\n",
        encoding="utf-8",
    )
    db = tmp_path / "q.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "--no-bundled", "ingest", str(path)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = runner.invoke(cli, ["--db", str(db), "search", "loom weaves flowers", "--json"],
                          catch_exceptions=False)
    (first, *_) = json.loads(found.stdout)
    assert first["url"] == "https://www.youtube.com/watch?v=xyz&t=65s"
    shown = runner.invoke(cli, ["--db", str(db), "search", "loom weaves flowers"])
    assert "Listen at 1:05: https://www.youtube.com/watch?v=xyz&t=65s" in shown.stdout
