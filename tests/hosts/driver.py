"""One quotebot process for the multi-process tests: the real bot against the fake platforms.

    python -m tests.hosts.driver discord --db URL --clock FILE --api URL --gateway URL \
        --shard-count 4 --shard-ids 1
    python -m tests.hosts.driver slack --db URL --clock FILE --api URL --port 0 \
        --client-id ID --signing-secret S

`discord` runs what `quotebot discord --shard-count N --shard-ids I` runs (`QuoteBot` and
`serve` of quotebot.adapters.discord.client), `slack` what `quotebot slack` runs in HTTP mode
(`serve` of quotebot.adapters.slack.app), both over the services `open_services` gives the
CLI (the library watcher on). Only three things differ, all outside the product code:
discord.py's API base and gateway URL point at the fake Discord (as the platform tests do),
the Slack API URL at the fake Slack (SLACK_API_URL; multi-workspace installs, their tokens
in the database), and the daily scheduler gets the test's
clock: the time written in the `--clock` file (ISO 8601), with a `sleep` that returns once
that clock has passed its deadline (polling the file), or after at most `REAL_SLEEP_CAP` real
seconds (an extra pass is harmless). Its process id (who holds a claim) starts with the
process's role, `discord-<shard>:` or `slack-<n>:`, so the test can see who posted what.

Prints "ready <where>" on stdout once serving (Slack: its URL; Discord: when the scheduler
starts).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

REAL_SLEEP_CAP = 0.5  # real seconds a scheduler sleep lasts at most
POLL = 0.05  # real seconds between looks at the clock file


class FileClock:
    """The test's clock: the instant written in a file, read afresh on every call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text().strip())

    async def sleep(self, seconds: float) -> None:
        deadline = self() + timedelta(seconds=seconds)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + REAL_SLEEP_CAP
        while self() < deadline and loop.time() < give_up:
            await asyncio.sleep(POLL)


def services(db: str):
    """The services the CLI's bot commands open (`services_for`): the library watcher on, the
    bundled corpus left out (the test fills the database itself)."""
    from quotebot.bot.app import open_services

    return open_services(db, bundled=False, watch=True)


async def run_discord(args: argparse.Namespace, clock: FileClock) -> None:
    import discord
    import yarl
    from discord.gateway import DiscordWebSocket

    from quotebot.adapters.discord.client import BotOptions, QuoteBot, serve
    from quotebot.adapters.discord.interactions import PLATFORM
    from quotebot.adapters.discord.poster import DiscordPoster
    from quotebot.bot.all_commands import build_registry
    from quotebot.bot.daily import DailyService

    discord.http.Route.BASE = args.api
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway)
    shard_ids = tuple(int(i) for i in args.shard_ids.split(","))
    role = "discord-" + "-".join(map(str, shard_ids))
    bot = QuoteBot(build_registry(), BotOptions(shard_count=args.shard_count,
                                                shard_ids=shard_ids),
                   guild_ready_timeout=0.05)
    # Tags this process's REST calls, so the fake can tell which process posted what.
    bot.http.user_agent += f" quotebot-test/{role}"

    def daily(bot_: QuoteBot, services_) -> DailyService:
        service = DailyService(services_.library, posters={PLATFORM: DiscordPoster(bot_)},
                               clock=clock, sleep=clock.sleep,
                               process_id=f"{role}:{os.getpid()}")
        run = service.scheduler.run

        async def announced() -> None:
            print("ready", role, flush=True)
            await run()

        service.scheduler.run = announced  # type: ignore[method-assign]
        return service

    await serve(bot, args.token, lambda: services(args.db), daily=daily)


async def run_slack(args: argparse.Namespace, clock: FileClock) -> None:
    import signal

    from quotebot.adapters.slack.app import installation_store, serve
    from quotebot.adapters.slack.poster import SlackPoster
    from quotebot.adapters.slack.requests import PLATFORM
    from quotebot.adapters.slack.settings import SlackSettings
    from quotebot.bot.all_commands import build_registry
    from quotebot.bot.daily import DailyService

    # Multi-workspace (OAuth) installs: each workspace's bot token from the database.
    settings = replace(SlackSettings.from_env({
        "SLACK_CLIENT_ID": args.client_id, "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_SIGNING_SECRET": args.signing_secret, "SLACK_API_URL": args.api},
        host="127.0.0.1", port=args.port))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with services(args.db) as opened:
        poster = SlackPoster(settings, installation_store(settings, opened))
        daily = DailyService(opened.library, posters={PLATFORM: poster}, clock=clock,
                             sleep=clock.sleep, process_id=f"slack-{args.name}:{os.getpid()}")
        await serve(settings, replace(opened, daily=daily), build_registry(), stop=stop,
                    on_ready=lambda where: print("ready", where, flush=True))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("platform", choices=["discord", "slack"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--clock", type=Path, required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", help="Discord: the bot token")
    parser.add_argument("--client-id", help="Slack: the OAuth client id of the installs")
    parser.add_argument("--gateway")
    parser.add_argument("--shard-count", type=int, default=1)
    parser.add_argument("--shard-ids", default="0")
    parser.add_argument("--signing-secret")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--name", default="1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    clock = FileClock(args.clock)
    run = run_discord if args.platform == "discord" else run_slack
    asyncio.run(run(args, clock))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
