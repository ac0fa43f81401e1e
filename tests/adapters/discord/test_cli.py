"""`quotebot discord`: token handling, option checks, and the real command against the fake."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import discord
import pytest
import yarl
from click.testing import CliRunner
from discord.gateway import DiscordWebSocket

from quotebot.adapters.cli import cli
from quotebot.bot.library import QuoteLibrary
from quotebot.store.db import Database
from tests.adapters.discord.conftest import fill_risky
from tests.adapters.discord.fake_discord import APP_ID, TOKEN, FakeDiscord


def invoke(tmp_path, *args: str, env: dict[str, str] | None = None):
    db = tmp_path / "quotes.db"
    return CliRunner().invoke(cli, ["--db", str(db), "--no-bundled", "discord", *args],
                              env={"DISCORD_TOKEN": "", **(env or {})})


def test_without_a_token_it_says_what_to_set(tmp_path):
    result = invoke(tmp_path)
    assert result.exit_code == 1
    assert "no Discord bot token: set DISCORD_TOKEN or pass --token-file" in result.output
    assert not (tmp_path / "quotes.db").exists()


def test_an_empty_or_missing_token_file(tmp_path):
    empty = tmp_path / "token"
    empty.write_text("  \n")
    result = invoke(tmp_path, "--token-file", str(empty))
    assert result.exit_code == 1 and "is empty" in result.output
    result = invoke(tmp_path, "--token-file", str(tmp_path / "nope"))
    assert result.exit_code == 1 and "cannot read the token file" in result.output


@pytest.mark.parametrize("args, message", [
    (["--guild", "1"], "--guild only makes sense with --sync"),
    (["--shard-ids", "0"], "--shard-ids needs --shard-count"),
    (["--shard-count", "2", "--shard-ids", "0,2"], "below --shard-count"),
    (["--shard-count", "2", "--shard-ids", "a"], "separated by commas"),
    (["--shard-count", "0"], "x>=1"),
])
def test_option_mistakes_are_usage_errors(tmp_path, args, message):
    result = invoke(tmp_path, *args, env={"DISCORD_TOKEN": TOKEN})
    assert result.exit_code == 2 and message in result.output


@contextmanager
def fake_in_thread(monkeypatch, **kwargs) -> Iterator[tuple[FakeDiscord,
                                                            asyncio.AbstractEventLoop]]:
    """A fake Discord on its own loop in a thread, so the CLI can run its own asyncio.run."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def make() -> FakeDiscord:
        server = FakeDiscord(**kwargs)
        await server.start()
        return server

    fake = asyncio.run_coroutine_threadsafe(make(), loop).result(10)
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.ws_url))
    try:
        yield fake, loop
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_a_rejected_token_fails_fast_with_a_clear_message(tmp_path, monkeypatch):
    with fake_in_thread(monkeypatch) as (fake, _):
        result = invoke(tmp_path, env={"DISCORD_TOKEN": "not-the-token"})
    assert result.exit_code == 1
    assert "Discord rejected the bot token" in result.output
    assert "Improper token" in result.output
    assert [c.path for c in fake.calls] == ["/users/@me"]
    assert not (tmp_path / "quotes.db").exists()  # failed before opening (or filling) the store


def test_quotebot_discord_serves_and_stops_on_sigterm(tmp_path, monkeypatch):
    async def build() -> None:
        db = await Database.open(tmp_path / "quotes.db")
        await fill_risky(QuoteLibrary(db))
        await db.close()

    asyncio.run(build())
    seen: dict = {}

    def drive(fake: FakeDiscord, loop: asyncio.AbstractEventLoop) -> None:
        def run(coro, timeout=20):
            return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)
        try:
            run(fake.wait_shards(1, timeout=20))
        except Exception as exc:  # never connected: the CLI has exited on its own
            seen["error"] = exc
            return
        try:
            payload = run(fake.send(fake.command("search", query="ideas are cheap")))
            seen["search"] = run(fake.callback(payload))
            payload = run(fake.send(fake.autocomplete("search", "query", query="scaling")))
            seen["autocomplete"] = run(fake.callback(payload))
        except Exception as exc:
            seen["error"] = exc
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # the bot's handler is installed by now

    with fake_in_thread(monkeypatch) as (fake, loop):
        driver = threading.Thread(target=drive, args=(fake, loop), daemon=True)
        driver.start()
        result = invoke(tmp_path, "--sync", env={"DISCORD_TOKEN": TOKEN})
        driver.join(10)
    assert "error" not in seen, seen["error"]
    assert result.exit_code == 0, result.output
    assert "ideas are cheap" in seen["search"]["data"]["embeds"][0]["description"]
    assert seen["search"]["data"]["allowed_mentions"] == {"parse": []}
    assert seen["autocomplete"]["type"] == 8 and seen["autocomplete"]["data"]["choices"]
    assert fake.find_calls("PUT", f"/applications/{APP_ID}/commands")


@pytest.mark.slow
def test_other_commands_do_not_load_discord_py():
    code = "import sys, quotebot.adapters.cli; print('discord' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[3])
    assert out.stdout.strip() == "False"
