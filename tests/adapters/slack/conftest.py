"""Fixtures: a fake Slack, the real app served on loopback, and a driver that signs requests."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from quotebot.adapters.slack.app import serve
from quotebot.adapters.slack.settings import SlackSettings
from quotebot.bot.library import QuoteLibrary
from quotebot.store.quotes import NewQuote, SpeakerInfo
from tests.adapters.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack, Recorded
from tests.conftest import fill, source

SECRET = "test-signing-secret"
CALLER = "U0CALLER"
CHANNEL = "C0GENERAL"

MALLORY = SpeakerInfo("Mallory <@U999>", None, ("Mallory",))
RISKY = "Ping <!channel> and @here, tell <@U123> that R&D > sales < ops; <!everyone> too."
LONG = "Longwinded " + " ".join(f"word{i} & more" for i in range(700))


async def fill_risky(library: QuoteLibrary) -> None:
    """The known quotes plus a dangerous one and one longer than a Block Kit section."""
    await fill(library)
    await library.store.replace_source(
        source("drill", "Safety <drill> & co"), [MALLORY],
        [NewQuote(MALLORY.name, RISKY, 3.0, 0, 0.9),
         NewQuote(MALLORY.name, LONG, 9.0, 1, 0.9)],
    )
    await library.store.refresh_terms()
    await library.load()


@pytest.fixture
async def library(db) -> QuoteLibrary:
    lib = QuoteLibrary(db)
    await fill_risky(lib)
    return lib


@pytest.fixture
async def fake():
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """The headers Slack sends: v0 HMAC-SHA256 of `v0:timestamp:body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


RESPONSE_NAMES = itertools.count(1)  # every driver's: two workers never share a URL


class Driver:
    """Plays Slack's part: posts signed payloads to the app, reads what reached the fake."""

    def __init__(self, base: str, fake: FakeSlack, session: aiohttp.ClientSession) -> None:
        self.base = base
        self.fake = fake
        self.session = session

    def new_response_url(self) -> tuple[str, str]:
        name = f"r{next(RESPONSE_NAMES)}"  # unique across drivers, as Slack's URLs are
        return f"/response/{name}", self.fake.response_url(name)

    async def post(self, body: str, headers: dict[str, str] | None = None,
                   path: str = "/slack/events") -> tuple[int, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   **(sign(body) if headers is None else headers)}
        async with self.session.post(self.base + path, data=body.encode(),
                                     headers=headers) as resp:
            return resp.status, await resp.text()

    def command_body(self, text: str, response_url: str, *, team: str = TEAM,
                     channel: str = CHANNEL, user: str = CALLER,
                     **grid: str) -> str:
        """`grid`: Enterprise Grid fields (`enterprise_id`, `is_enterprise_install`)."""
        return urlencode({
            "token": "legacy", "team_id": team, "team_domain": "test",
            "channel_id": channel, "channel_name": "general", "user_id": user,
            "user_name": user.lower(), "command": "/quote", "text": text,
            "api_app_id": "A0TEST", "response_url": response_url,
            "trigger_id": "123.456.abc", **grid,
        })

    async def command(self, text: str, **kwargs: Any) -> Recorded:
        """`/quote text`; returns what the app sent to the response URL."""
        path, url = self.new_response_url()
        status, body = await self.post(self.command_body(text, url, **kwargs))
        assert status == 200, body
        return await self.fake.wait_for(path)

    async def shortcut(self, message: dict[str, Any], callback_id: str = "quote_save", *,
                       team: str = TEAM, domain: str | None = "test", channel: str = CHANNEL,
                       user: str = CALLER) -> Recorded:
        """A message shortcut (⋯ → Save as quote) on `message`, signed as Slack sends it;
        returns what the app sent to the response URL."""
        path, url = self.new_response_url()
        payload = {
            "type": "message_action", "token": "legacy", "action_ts": "1700000002.000400",
            "team": {"id": team, **({"domain": domain} if domain else {})},
            "user": {"id": user, "username": user.lower(), "name": user.lower(),
                     "team_id": team},
            "channel": {"id": channel, "name": "general"}, "is_enterprise_install": False,
            "enterprise": None, "callback_id": callback_id, "trigger_id": "123.456.ghi",
            "response_url": url, "message_ts": message["ts"], "message": message,
        }
        status, body = await self.post(urlencode({"payload": json.dumps(payload)}))
        assert status == 200, body
        return await self.fake.wait_for(path)

    async def click(self, message: Recorded, action_id: str, *, team: str = TEAM,
                    channel: str = CHANNEL) -> str:
        """Click a button of `message`; returns the path of the click's response URL."""
        button = find_button(message.data, action_id)
        path, url = self.new_response_url()
        payload = {
            "type": "block_actions",
            "user": {"id": CALLER, "username": "caller", "team_id": team},
            "api_app_id": "A0TEST", "token": "legacy", "trigger_id": "123.456.def",
            "team": {"id": team, "domain": "test"},
            "container": {"type": "message", "message_ts": "1700000000.000200",
                          "channel_id": channel, "is_ephemeral": True},
            "channel": {"id": channel, "name": "general"},
            "response_url": url,
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b1",
                         "value": button["value"], "text": button["text"],
                         "action_ts": "1700000001.000300"}],
        }
        status, body = await self.post(urlencode({"payload": json.dumps(payload)}))
        assert status == 200, body
        return path

    async def add_transcript(self, files: list[dict[str, Any]], *, team: str = TEAM,
                             channel: str = CHANNEL, user: str = CALLER,
                             callback_id: str = "add_transcript") -> str:
        """The message shortcut ⋯ → Add transcript on a message carrying `files`; returns
        the path of its response URL (progress and results arrive there)."""
        path, url = self.new_response_url()
        payload = {
            "type": "message_action", "callback_id": callback_id, "token": "legacy",
            "action_ts": "1700000002.000400", "trigger_id": "123.456.ghi",
            "team": {"id": team, "domain": "test"},
            "user": {"id": user, "username": "caller", "team_id": team, "name": "caller"},
            "channel": {"id": channel, "name": "general"}, "is_enterprise_install": False,
            "enterprise": None, "message_ts": "1700000000.000500", "response_url": url,
            "message": {"type": "message", "user": "U0POSTER", "ts": "1700000000.000500",
                        "text": "here is the transcript", "files": files, "upload": True},
        }
        status, body = await self.post(urlencode({"payload": json.dumps(payload)}))
        assert status == 200, body
        return path


def chat_message(text: str, ts: str = "1700000100.000200", author: str = "U0ANA",
                 **extra: Any) -> dict[str, Any]:
    """A message someone wrote, as a shortcut payload carries it."""
    return {"type": "message", "user": author, "ts": ts, "text": text, "team": TEAM, **extra}


def find_button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id:
                return element
    raise AssertionError(f"no {action_id} button in {message}")


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]]


def block_text(message: dict[str, Any]) -> str:
    """Every text of the message's blocks, joined (what a reader would see, still escaped)."""
    parts = []
    for block in message.get("blocks", []):
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if "text" in element and isinstance(element["text"], str):
                parts.append(element["text"])
    return "\n".join(parts)


async def start(settings: SlackSettings, services, registry):
    """Run the real `serve` in a task; returns (base url, stop event, task)."""
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, services, registry, stop=stop,
                                     on_ready=ready.set_result))
    done, _ = await asyncio.wait({task, ready}, timeout=10,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped it
    url = ready.result()
    return url.removesuffix("/slack/events"), stop, task


def http_settings(fake: FakeSlack, **overrides: Any) -> SlackSettings:
    values = {"bot_token": BOT_TOKEN, "signing_secret": SECRET, "api_url": fake.api_url,
              "host": "127.0.0.1", "port": 0, **overrides}
    return SlackSettings(**values)


@pytest.fixture
async def slack(fake, services, registry):
    """The single-workspace app in HTTP mode against the fake; yields a Driver."""
    base, stop, task = await start(http_settings(fake), services, registry)
    async with aiohttp.ClientSession() as session:
        yield Driver(base, fake, session)
    stop.set()
    await task
