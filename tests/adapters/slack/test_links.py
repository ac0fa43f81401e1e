"""A Listen link button in Slack: Slack opens the link; the app only acknowledges the click."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from quotebot.store.quotes import NewQuote, NewSource, SpeakerInfo


async def test_slack_acknowledges_a_listen_click(slack, fake, library):
    await library.store.replace_source(
        NewSource("vid", "A video", None, None, "https://cdn.example.com/v.mp4", None, "test",
                  "hash-vid", {}),
        [SpeakerInfo("Ada Lovelace", None, ())],
        [NewQuote("Ada Lovelace", "The loom weaves flowers out of threads and patterns.",
                  30.0, 0, 0.8)],
    )
    await library.store.refresh_terms()
    await library.load()
    message = await slack.command("loom weaves flowers")
    actions = [b for b in message.data["blocks"] if b["type"] == "actions"][0]
    (button,) = [e for e in actions["elements"] if e["action_id"] == "quote_listen"]
    assert button["url"] == "https://cdn.example.com/v.mp4#t=30"
    payload = {
        "type": "block_actions",
        "user": {"id": "U0CALLER", "username": "caller", "team_id": "T0TEAM"},
        "api_app_id": "A0TEST", "token": "legacy", "trigger_id": "1.2.x",
        "team": {"id": "T0TEAM", "domain": "test"},
        "channel": {"id": "C0GENERAL", "name": "general"},
        "response_url": slack.new_response_url()[1],
        "actions": [{"type": "button", "action_id": "quote_listen", "block_id": "b1",
                     "text": button["text"], "action_ts": "1700000001.000300"}],
    }
    status, _ = await slack.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
