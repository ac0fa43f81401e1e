"""Six bot processes, one database: 4 Discord shards and 2 Slack workers post 100 daily quotes
exactly once a day through a simulated week, lose and double nothing when one of each is
SIGKILLed mid-post, and find a quote saved through one process through another within 5 s."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from quotebot.adapters.discord.poster import shard_of
from quotebot.bot.daily import DailyService
from quotebot.bot.daily.schedule import local_day, zone
from quotebot.bot.daily.scheduler import LEASE, idempotency_key
from quotebot.bot.daily.service import OPERATOR
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef
from quotebot.store.daily import DailyStore, Post, Subscription
from tests.adapters.discord.fake_discord import TOKEN, FakeDiscord
from tests.adapters.slack.conftest import SECRET, Driver, block_text, chat_message
from tests.adapters.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.conftest import fill

pytestmark = pytest.mark.slow  # six bot processes, two of them killed

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 4
START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # a Monday; no zone below changes offset
DUE = timedelta(hours=9, seconds=30)  # every subscription's post is due at 09:00 UTC
DAYS = 7
# The same instant (09:00 UTC in January) as local times in four zones.
ZONES = (("UTC", "09:00"), ("Asia/Tokyo", "18:00"), ("America/New_York", "04:00"),
         ("Asia/Kolkata", "14:30"))
GUILDS = tuple(((1000 + i) << 22) | 42 for i in range(12))  # three on each shard
CHANNELS_PER_GUILD = 4  # 48 Discord subscriptions
SLACK_TEAMS = {TEAM: 26, "T0SECOND": 26}  # 52 Slack subscriptions
WAIT = 60.0  # real seconds a day's posts may take at most
SAVED = "Zebras negotiate bandwidth with the patience of a glacier and the timing of a drummer."


def discord_channels() -> list[ChannelRef]:
    return [ChannelRef("discord", str(guild), str(900_000_000_000_000_000 + g * 100 + c))
            for g, guild in enumerate(GUILDS) for c in range(CHANNELS_PER_GUILD)]


def slack_channels() -> list[ChannelRef]:
    return [ChannelRef("slack", team, f"C{t}DAILY{c:03d}")
            for t, (team, count) in enumerate(SLACK_TEAMS.items()) for c in range(count)]


class Clock:
    """The simulated time every process reads (tests/hosts/driver.py's FileClock)."""

    def __init__(self, path: Path, now: datetime) -> None:
        self.path = path
        self.set(now)

    def set(self, now: datetime) -> None:
        self.now = now
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(now.isoformat())
        os.replace(tmp, self.path)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Proc:
    name: str
    args: list[str]
    process: asyncio.subprocess.Process
    ready: str  # what the driver printed after "ready"


@dataclass
class Cluster:
    """The bot processes, started, killed and restarted by name."""

    folder: Path
    common: list[str]
    procs: dict[str, Proc] = field(default_factory=dict)
    killed: list[str] = field(default_factory=list)

    async def start(self, name: str, args: list[str]) -> Proc:
        log = (self.folder / f"{name}.log").open("ab")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.hosts.driver", *args, *self.common,
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE, stderr=log)
        log.close()
        try:
            line = await asyncio.wait_for(process.stdout.readline(), 90)
        except TimeoutError:
            line = b""
        if not line.startswith(b"ready"):
            process.kill()
            await process.wait()
            raise AssertionError(f"{name} did not start:\n{self.log(name)}")
        ready = line.decode().split(maxsplit=1)[1].strip()
        proc = self.procs[name] = Proc(name, args, process, ready)
        return proc

    async def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no finally blocks, claims left as they were."""
        proc = self.procs.pop(name)
        proc.process.kill()
        await proc.process.wait()
        self.killed.append(name)

    async def restart(self, name: str, args: list[str]) -> Proc:
        return await self.start(name, args)

    async def stop(self) -> None:
        for proc in self.procs.values():
            if proc.process.returncode is None:
                proc.process.terminate()
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.process.wait(), 15)
            except TimeoutError:
                proc.process.kill()
                await proc.process.wait()

    def log(self, name: str, tail: int = 4000) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text("utf-8", "replace")[-tail:] if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"==== {p.name}\n{self.log(p.stem, 1500)}"
                         for p in sorted(self.folder.glob("*.log")))

    def dead(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.process.returncode is not None]


async def open_db(target: str):
    if target.startswith("postgresql://"):
        from quotebot.store.pg_db import PgDatabase

        return await PgDatabase.open(target)
    from quotebot.store.db import Database

    return await Database.open(target)


async def subscribe(db, clock: Clock) -> dict[ChannelRef, Subscription]:
    """The known quotes, then 100 subscriptions all due at 09:00 UTC, in four zones."""
    library = QuoteLibrary(db)
    await fill(library)
    service = DailyService(library, clock=clock)
    subs = {}
    for i, channel in enumerate(discord_channels() + slack_channels()):
        timezone, local_time = ZONES[i % len(ZONES)]
        result = await service.set(channel, time=local_time, timezone=timezone,
                                   actor=OPERATOR)
        subs[channel] = result.subscription
    return subs


@dataclass
class Wire:
    """What reached the fake platforms: the daily messages made in each channel."""

    discord: FakeDiscord
    slack: FakeSlack
    channels: set[int]
    seen_discord: int = 0  # messages already counted (by position in the fake's dict)
    seen_slack: int = 0

    def discord_messages(self) -> list[dict]:
        return [m for m in self.discord.messages.values()
                if int(m["channel_id"]) in self.channels]

    def new(self) -> tuple[list[dict], list[dict]]:
        """The daily messages made since the last `take`."""
        return (self.discord_messages()[self.seen_discord:],
                self.slack.posted[self.seen_slack:])

    def take(self) -> tuple[list[dict], list[dict]]:
        made = self.new()
        self.seen_discord += len(made[0])
        self.seen_slack += len(made[1])
        return made


def local_date(sub: Subscription, instant: datetime) -> str:
    return local_day(instant, zone(sub.timezone)).isoformat()


async def todays(store: DailyStore, subs, instant: datetime) -> dict[int, Post]:
    """Each subscription's post row of its local day at `instant` (by subscription id)."""
    dates = {s.id: local_date(s, instant) for s in subs.values()}
    return {p.subscription_id: p for p in await store.posts()
            if dates.get(p.subscription_id) == p.local_date}


async def until(predicate, what: str, cluster: Cluster, timeout: float = WAIT):
    """Poll `predicate` (async) until it is truthy; fail, with the processes' logs, if not."""
    deadline = time.monotonic() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        dead = cluster.dead()
        if dead or time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (dead: {dead})\n"
                                 + cluster.logs())
        await asyncio.sleep(0.1)


@pytest.fixture
def db_target(tmp_path) -> str:
    return str(tmp_path / "shared.db")


async def test_six_processes_post_every_daily_quote_once_through_a_week_and_two_kills(
        tmp_path, db_target):
    clock = Clock(tmp_path / "clock.txt", START)
    db = await open_db(db_target)
    subs = await subscribe(db, clock)
    store = DailyStore(db)
    by_id = {s.id: s for s in subs.values()}
    discord_subs = {int(c.channel): subs[c] for c in discord_channels()}
    slack_subs = {c.channel: subs[c] for c in slack_channels()}

    fake_discord = FakeDiscord(shards=SHARDS)
    for guild in GUILDS:
        fake_discord.add_guild(guild)
    for channel in discord_channels():
        fake_discord.add_channel(int(channel.channel), "daily", guild_id=int(channel.workspace))
    await fake_discord.start()
    fake_slack = FakeSlack(unique_ts=True)
    await fake_slack.start()
    wire = Wire(fake_discord, fake_slack, set(discord_subs))

    logs = tmp_path / "logs"
    logs.mkdir()
    cluster = Cluster(logs, ["--db", db_target, "--clock", str(clock.path)])
    discord_args = {k: ["discord", "--api", fake_discord.api_base, "--gateway",
                        fake_discord.ws_url, "--token", TOKEN, "--shard-count", str(SHARDS),
                        "--shard-ids", str(k)] for k in range(SHARDS)}
    slack_args = {n: ["slack", "--api", fake_slack.api_url, "--token", BOT_TOKEN,
                      "--signing-secret", SECRET, "--name", str(n)] for n in (1, 2)}
    numbers: dict[str, object] = {"posts per day": [], "takeovers": []}
    session = aiohttp.ClientSession()
    try:
        await asyncio.gather(*(cluster.start(f"discord-{k}", args)
                               for k, args in discord_args.items()),
                             *(cluster.start(f"slack-{n}", args)
                               for n, args in slack_args.items()))
        assert sorted(fake_discord.shards) == list(range(SHARDS))

        def workers() -> dict[int, Driver]:
            return {n: Driver(cluster.procs[f"slack-{n}"].ready.removesuffix("/slack/events"),
                              fake_slack, session) for n in (1, 2)}

        async def all_sent() -> bool:
            rows = await todays(store, subs, clock())
            return len(rows) == len(subs) and all(p.sent_at for p in rows.values())

        for day in range(DAYS):
            run = datetime.combine(START.date() + timedelta(days=day), datetime.min.time(),
                                   UTC) + DUE
            takeovers = 0
            if day in KILL_DAYS:
                takeovers = await kill_day(KILL_DAYS[day], run, clock, cluster, store, subs,
                                           fake_discord, fake_slack, discord_args, slack_args)
            else:
                clock.set(run)
                await until(all_sent, f"day {day}'s 100 posts", cluster)
            await asyncio.sleep(1.0)  # a double post would arrive within a pass or two
            rows = await todays(store, subs, clock())
            made_discord, made_slack = wire.take()
            check_day(rows, made_discord, made_slack, discord_subs, slack_subs, by_id, clock())
            check_shards(fake_discord, discord_subs, rows)
            numbers["posts per day"].append(len(made_discord) + len(made_slack))
            numbers["takeovers"].append(takeovers)
            if day == SAVE_DAY:
                numbers["saved quote found after (s)"] = await saved_across(workers())

        # Every local day of the week once, each from the subscription's no-repeat cycle.
        history = await store.posts()
        assert Counter(p.subscription_id for p in history if p.sent_at) == {
            s.id: DAYS for s in subs.values()}
        assert not fake_discord.unexpected
        print(numbers)
    finally:
        await cluster.stop()
        await session.close()
        await fake_discord.close()
        await fake_slack.stop()
        await db.close()


@dataclass(frozen=True)
class Kill:
    """On a day: which Discord shard's process and which Slack post die mid-post, and whether
    the platform had made the message before the process died (`*_sent`)."""

    shard: int
    discord_sent: bool
    slack_sent: bool


KILL_DAYS = {2: Kill(shard=1, discord_sent=True, slack_sent=False),
             4: Kill(shard=2, discord_sent=False, slack_sent=True)}
SAVE_DAY = 5


async def kill_day(kill: Kill, run: datetime, clock: Clock, cluster: Cluster, store, subs,
                   fake_discord: FakeDiscord, fake_slack: FakeSlack, discord_args,
                   slack_args) -> int:
    """Hold one Discord post (of `kill.shard`) and one Slack post at the platform, SIGKILL the
    processes sending them, restart them, let the leases run out; returns the takeovers."""
    discord_sub = next(subs[c] for c in discord_channels()
                       if shard_of(int(c.workspace), SHARDS) == kill.shard)
    slack_sub = subs[slack_channels()[7]]
    held_discord = fake_discord.stall_posts(int(discord_sub.channel), commit=kill.discord_sent)
    held_slack = fake_slack.stall_posts(slack_sub.channel, commit=kill.slack_sent)
    clock.set(run)
    await asyncio.wait_for(asyncio.gather(held_discord.arrived.wait(),
                                          held_slack.arrived.wait()), WAIT)
    rows = await todays(store, subs, clock())
    slack_holder = rows[slack_sub.id].claimed_by.split(":")[0]
    assert rows[discord_sub.id].claimed_by.startswith(f"discord-{kill.shard}:")
    await cluster.kill(f"discord-{kill.shard}")
    await cluster.kill(slack_holder)
    held_discord.release.set()
    held_slack.release.set()
    dead = {f"discord-{kill.shard}", slack_holder}

    await cluster.restart(f"discord-{kill.shard}", discord_args[kill.shard])
    await cluster.restart(slack_holder, slack_args[int(slack_holder.split("-")[1])])

    async def only_dead_claims_left() -> list[Post] | None:
        """Every post sent but those still leased to a killed process: the held ones."""
        rows = await todays(store, subs, clock())
        if len(rows) < len(subs):
            return None
        unsent = [p for p in rows.values() if not p.sent_at]
        if all(p.claimed_by.split(":")[0] in dead for p in unsent):
            return unsent
        return None

    held = await until(only_dead_claims_left, "every post but the killed processes' claims",
                       cluster)
    assert {discord_sub.id, slack_sub.id} <= {p.subscription_id for p in held}
    # Nobody touches a claim before its lease runs out; then the restarted shard (the only
    # process that serves its servers) and either Slack worker take them over.
    clock.set(run + LEASE + timedelta(minutes=1))

    async def all_sent() -> bool:
        rows = await todays(store, subs, clock())
        return all(p.sent_at for p in rows.values())

    await until(all_sent, "the held posts, taken over", cluster)
    rows = await todays(store, subs, clock())
    for post in held:
        assert rows[post.subscription_id].claimed_by.split(":")[0] not in dead or \
            rows[post.subscription_id].claimed_by != post.claimed_by
    return len(held)


def check_day(rows: dict[int, Post], made_discord: list[dict], made_slack: list[dict],
              discord_subs: dict[int, Subscription], slack_subs: dict[str, Subscription],
              by_id: dict[int, Subscription], now: datetime) -> None:
    """Each of the 100 channels got exactly one message today, the one its post row names."""
    assert len(rows) == len(by_id) and all(p.sent_at for p in rows.values())
    per_discord = Counter(int(m["channel_id"]) for m in made_discord)
    assert per_discord == {c: 1 for c in discord_subs}, "Discord: lost or doubled posts"
    per_slack = Counter(m["channel"] for m in made_slack)
    assert per_slack == {c: 1 for c in slack_subs}, "Slack: lost or doubled posts"
    for message in made_discord:
        sub = discord_subs[int(message["channel_id"])]
        post = rows[sub.id]
        assert message["nonce"] == idempotency_key(sub.id, post.local_date)
        assert post.message_ref == message["id"]
    for message in made_slack:
        post = rows[slack_subs[message["channel"]].id]
        assert post.message_ref == message["ts"]


def check_shards(fake: FakeDiscord, discord_subs: dict[int, Subscription],
                 rows: dict[int, Post]) -> None:
    """Each Discord post was claimed and sent by the process running its server's shard."""
    for channel, sub in discord_subs.items():
        shard = shard_of(int(sub.workspace), SHARDS)
        assert rows[sub.id].claimed_by.startswith(f"discord-{shard}:")
        for call in fake.channel_posts(channel):
            assert call.headers["User-Agent"].endswith(f"quotebot-test/discord-{shard}")


async def saved_across(workers: dict[int, Driver]) -> float:
    """Save a message as a quote through Slack worker 1, search it through worker 2 until it
    is found; returns the seconds between the save's answer and the first finding answer."""
    saved = await workers[1].shortcut(chat_message(SAVED, "1700000300.000100"))
    assert "Saved as quote" in block_text(saved.data), saved.data
    started = time.monotonic()
    while True:
        found = await workers[2].command("zebras negotiate bandwidth")
        elapsed = time.monotonic() - started
        if "patience of a glacier" in block_text(found.data):
            break
        assert elapsed < 5.0, "a quote saved through one worker not found through another"
        await asyncio.sleep(0.2)
    assert elapsed < 5.0
    # And through the first worker, and the other way round.
    assert "patience of a glacier" in block_text(
        (await workers[1].command("zebras negotiate bandwidth")).data)
    return round(elapsed, 2)
