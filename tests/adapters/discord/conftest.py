"""Fixtures: a library with risky quotes, a fake Discord on loopback, the real bot against it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from quotebot.adapters.discord.client import (
    BotOptions,
    DailyFactory,
    QuoteBot,
    daily_service,
    serve,
)
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.registry import Services
from quotebot.store.quotes import NewQuote, SpeakerInfo
from tests.adapters.discord.fake_discord import TOKEN, FakeDiscord
from tests.conftest import fill, source

MALLORY = SpeakerInfo("Mallory <@123>", None, ("Mallory",))
RISKY = "Hey @everyone and @here, ask <@123> and the <@&456> role: **bold** claims are cheap."


async def fill_risky(library: QuoteLibrary) -> None:
    """The shared known quotes plus one full of mentions and markdown."""
    await fill(library)
    await library.store.replace_source(
        source("drill", "Mention drill <@&456>"), [MALLORY],
        [NewQuote(MALLORY.name, RISKY, 3.0, 0, 0.9)],
    )
    await library.store.refresh_terms()
    await library.load()


@pytest.fixture
async def library(db) -> QuoteLibrary:
    lib = QuoteLibrary(db)
    await fill_risky(lib)
    return lib


@pytest.fixture
async def fake(monkeypatch) -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    # Used instead of /gateway/bot's URL when a shard count is given.
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.ws_url))
    yield server
    await server.close()
    assert not server.unexpected, f"the bot called routes Discord lacks: {server.unexpected}"


class FastBot(QuoteBot):
    """The real bot, minus discord.py's 5-second pause between shard IDENTIFYs."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


def services_factory(services: Services):
    @asynccontextmanager
    async def open_services() -> AsyncIterator[Services]:
        yield services

    return open_services


@asynccontextmanager
async def running(fake: FakeDiscord, services: Services, registry, *, shards: int = 1,
                  daily: DailyFactory | None = daily_service,
                  **options: Any) -> AsyncIterator[QuoteBot]:
    """The bot served against `fake` until the block ends; fails fast if it dies.

    `daily` builds its daily-quote service (default: as `quotebot discord` does).
    """
    bot = FastBot(registry, BotOptions(**{"defer_after": 10.0, **options}),
                  guild_ready_timeout=0.01)
    task = asyncio.create_task(serve(bot, TOKEN, services_factory(services),
                                     handle_signals=False, daily=daily))
    waiter = asyncio.create_task(fake.wait_shards(shards))
    done, _ = await asyncio.wait({task, waiter}, timeout=15,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        waiter.cancel()
        task.result()
        raise AssertionError("the bot stopped before connecting")
    waiter.result()
    try:
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def bot(fake, services, registry) -> AsyncIterator[QuoteBot]:
    async with running(fake, services, registry, sync=True) as quote_bot:
        yield quote_bot


def shown(text: str) -> str:
    """What Discord displays for escaped text: the backslash of each escape dropped."""
    return re.sub(r"\\(.)", r"\1", text)


def embed_of(body: dict[str, Any]) -> dict[str, Any]:
    """The single embed of a callback or message body."""
    data = body.get("data", body)
    assert len(data["embeds"]) == 1, data
    return data["embeds"][0]


def custom_ids(body: dict[str, Any]) -> list[str]:
    data = body.get("data", body)
    return [c["custom_id"] for row in data.get("components", []) for c in row["components"]]


def button(body: dict[str, Any], prefix: str) -> str:
    matches = [cid for cid in custom_ids(body) if cid.startswith(prefix)]
    assert matches, f"no {prefix} button in {custom_ids(body)}"
    return matches[0]


def assert_no_pings(fake: FakeDiscord) -> None:
    """Every message the bot sent allowed no mentions at all."""
    bodies = fake.sent_messages()
    assert bodies, "the bot sent no messages"
    for body in bodies:
        assert body.get("allowed_mentions") == {"parse": []}, body


# `[` (the start of a masked link `[text](url)`) not escaped by a backslash.
_LIVE_BRACKET = re.compile(r"(?<!\\)(?:\\\\)*\[")
_CODE_SPAN = re.compile(r"(?<!\\)`[^`]*`")


def live_links(text: str) -> list[str]:
    """The masked links Discord would render in `text` (code spans excepted): none, we hope."""
    text = _CODE_SPAN.sub("", text)
    return [text[m.end() - 1:m.end() + 60] for m in _LIVE_BRACKET.finditer(text)
            if re.match(r"\[[^\]]*\]\(", text[m.end() - 1:])]


def message_texts(body: dict[str, Any]) -> list[str]:
    """Every text a message shows: content, and each embed's title, description, fields,
    footer and author."""
    data = body.get("data", body)
    texts = [data.get("content") or ""]
    for embed in data.get("embeds") or []:
        texts += [embed.get("title") or "", embed.get("description") or "",
                  (embed.get("footer") or {}).get("text") or "",
                  (embed.get("author") or {}).get("name") or ""]
        for field in embed.get("fields") or []:
            texts += [field["name"], field["value"]]
    return texts


def ephemeral(body: dict[str, Any]) -> bool:
    data = body.get("data", body)
    return bool((data.get("flags") or 0) & 64)
