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
from slack_sdk.oauth.installation_store.models.bot import Bot

from quotebot.adapters.discord.poster import shard_of
from quotebot.adapters.slack.install_store import DatabaseInstallationStore
from quotebot.bot.daily import DailyService
from quotebot.bot.daily.schedule import local_day, zone
from quotebot.bot.daily.scheduler import LEASE, idempotency_key
from quotebot.bot.daily.service import OPERATOR
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef
from quotebot.store.daily import DailyStore, Post, Subscription
from quotebot.store.engine import open_database
from quotebot.store.slack import SlackStore
from tests.adapters.discord.fake_discord import TOKEN, FakeDiscord
from tests.adapters.slack.conftest import SECRET, Driver, block_text, chat_message
from tests.adapters.slack.fake_slack import TEAM, FakeSlack
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
SLACK_TEAMS = {TEAM: 26, "T0SECOND": 26}  # 52 Slack subscriptions, in two installs
CLIENT_ID = "111.222"
WAIT = 60.0  # real seconds a day's posts may take at most
SAVED = "Zebras negotiate bandwidth with the patience of a glacier and the timing of a drummer."


def bot_token(team: str) -> str:
    """The bot token of the workspace's install."""
    return f"xoxb-{team.lower()}"


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

    async def kill(self, name: str) -> str:
        """SIGKILL: no shutdown, no finally blocks, claims left as they were. Returns the
        process id its claims carry (`<name>:<pid>`)."""
        proc = self.procs.pop(name)
        proc.process.kill()
        await proc.process.wait()
        self.killed.append(name)
        return f"{name}:{proc.process.pid}"

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


@dataclass
class World:
    """The fake platforms, the shared clock and database, and the processes' command lines."""

    db: object
    target: str
    clock: Clock
    discord: FakeDiscord
    slack: FakeSlack
    cluster: Cluster
    session: aiohttp.ClientSession

    def discord_args(self, shard: int) -> list[str]:
        """`quotebot discord --shard-count 4 --shard-ids <shard>`, against the fake."""
        return ["discord", "--api", self.discord.api_base, "--gateway", self.discord.ws_url,
                "--token", TOKEN, "--shard-count", str(SHARDS), "--shard-ids", str(shard)]

    def slack_args(self, worker: int) -> list[str]:
        """`quotebot slack --port 0` (HTTP mode), against the fake."""
        return ["slack", "--api", self.slack.api_url, "--client-id", CLIENT_ID,
                "--signing-secret", SECRET, "--name", str(worker)]

    async def start(self, name: str) -> Proc:
        role, number = name.rsplit("-", 1)
        args = self.discord_args(int(number)) if role == "discord" else \
            self.slack_args(int(number))
        return await self.cluster.start(name, args)

    def worker(self, number: int) -> Driver:
        """Signed Slack requests to worker `number` (at its current address)."""
        url = self.cluster.procs[f"slack-{number}"].ready
        return Driver(url.removesuffix("/slack/events"), self.slack, self.session)


@pytest.fixture
async def world(request, tmp_path):
    """One real PostgreSQL database for the test and every process (a SQLite file where a
    test asks for `sqlite` by indirect parametrisation); the fakes on loopback."""
    if getattr(request, "param", "postgresql") == "sqlite":
        target = str(tmp_path / "shared.db")
    else:
        target = request.getfixturevalue("postgres_db")
    clock = Clock(tmp_path / "clock.txt", START)
    db = await open_database(target)
    installs = DatabaseInstallationStore(SlackStore(db), CLIENT_ID)
    for team in SLACK_TEAMS:
        await installs.async_save_bot(Bot(team_id=team, bot_token=bot_token(team),
                                          bot_id=f"B{team}", bot_user_id="UBOT",
                                          installed_at=START))
    fake_discord = FakeDiscord(shards=SHARDS)
    for guild in GUILDS:
        fake_discord.add_guild(guild)
    for channel in discord_channels():
        fake_discord.add_channel(int(channel.channel), "daily", guild_id=int(channel.workspace))
    await fake_discord.start()
    fake_slack = FakeSlack(unique_ts=True)
    await fake_slack.start()
    logs = tmp_path / "logs"
    logs.mkdir()
    cluster = Cluster(logs, ["--db", target, "--clock", str(clock.path)])
    session = aiohttp.ClientSession()
    try:
        yield World(db, target, clock, fake_discord, fake_slack, cluster, session)
        assert not fake_discord.unexpected
    finally:
        await cluster.stop()
        await session.close()
        await fake_discord.close()
        await fake_slack.stop()
        await db.close()


ALL = [f"discord-{k}" for k in range(SHARDS)] + ["slack-1", "slack-2"]


async def test_six_processes_post_every_daily_quote_once_through_a_week_and_two_kills(world):
    clock, cluster, store = world.clock, world.cluster, DailyStore(world.db)
    subs = await subscribe(world.db, clock)
    by_id = {s.id: s for s in subs.values()}
    discord_subs = {int(c.channel): subs[c] for c in discord_channels()}
    slack_subs = {c.channel: subs[c] for c in slack_channels()}
    wire = Wire(world.discord, world.slack, set(discord_subs))
    numbers: dict[str, list] = {"posts per day": [], "takeovers": []}

    await asyncio.gather(*(world.start(name) for name in ALL))
    assert sorted(world.discord.shards) == list(range(SHARDS))

    async def all_sent() -> bool:
        rows = await todays(store, subs, clock())
        return len(rows) == len(subs) and all(p.sent_at for p in rows.values())

    for day in range(DAYS):
        run = datetime.combine(START.date() + timedelta(days=day), datetime.min.time(),
                               UTC) + DUE
        takeovers = 0
        if day in KILL_DAYS:
            takeovers = await kill_day(KILL_DAYS[day], run, world, store, subs)
        else:
            clock.set(run)
            await until(all_sent, f"day {day}'s 100 posts", cluster)
        await asyncio.sleep(1.0)  # a double post would arrive within a pass or two
        rows = await todays(store, subs, clock())
        made_discord, made_slack = wire.take()
        check_day(rows, made_discord, made_slack, discord_subs, slack_subs, by_id)
        check_shards(world.discord, discord_subs, rows)
        numbers["posts per day"].append(len(made_discord) + len(made_slack))
        numbers["takeovers"].append(takeovers)

    # Every local day of the week once.
    history = await store.posts()
    assert Counter(p.subscription_id for p in history if p.sent_at) == {
        s.id: DAYS for s in subs.values()}
    assert cluster.killed == ["discord-1", cluster.killed[1], "discord-2", cluster.killed[3]]
    print(numbers)


@pytest.mark.parametrize("world", [
    pytest.param("postgresql", marks=pytest.mark.xfail(
        strict=True, reason="saving a quote fails on PostgreSQL until store/saved.py runs "
        "there (COLLATE NOCASE; the pg-store branch): remove this mark when it does")),
    "sqlite",
], indirect=True)
async def test_a_quote_saved_through_one_worker_is_found_through_the_other_within_5_s(world):
    await fill(QuoteLibrary(world.db))
    await asyncio.gather(world.start("slack-1"), world.start("slack-2"))
    first, second = world.worker(1), world.worker(2)
    saved = await first.shortcut(chat_message(SAVED, "1700000300.000100"))
    assert "Saved as quote" in block_text(saved.data), saved.data
    started = time.monotonic()
    while True:
        found = await second.command("zebras negotiate bandwidth")
        elapsed = time.monotonic() - started
        if "patience of a glacier" in block_text(found.data):
            break
        assert elapsed < 5.0, "a quote saved through one worker not found through the other"
        await asyncio.sleep(0.1)
    assert elapsed < 5.0
    print({"saved quote found through the other worker after (s)": round(elapsed, 2)})
    # Requests go to either worker, no balancer: both answer the same.
    for driver in (first, second, first, second):
        found = await driver.command("zebras negotiate bandwidth")
        assert "patience of a glacier" in block_text(found.data)


@dataclass(frozen=True)
class Kill:
    """On a day: which Discord shard's process and which Slack post die mid-post, and whether
    the platform had made the message before the process died (`*_sent`)."""

    shard: int
    discord_sent: bool
    slack_sent: bool


KILL_DAYS = {2: Kill(shard=1, discord_sent=True, slack_sent=False),
             4: Kill(shard=2, discord_sent=False, slack_sent=True)}


async def kill_day(kill: Kill, run: datetime, world: World, store: DailyStore,
                   subs: dict[ChannelRef, Subscription]) -> int:
    """Hold one Discord post (of `kill.shard`) and one Slack post at the platform, SIGKILL the
    processes sending them, restart them, let the leases run out; returns the takeovers."""
    discord_sub = next(subs[c] for c in discord_channels()
                       if shard_of(int(c.workspace), SHARDS) == kill.shard)
    slack_sub = subs[slack_channels()[7]]
    clock, cluster = world.clock, world.cluster
    held_discord = world.discord.stall_posts(int(discord_sub.channel), commit=kill.discord_sent)
    held_slack = world.slack.stall_posts(slack_sub.channel, commit=kill.slack_sent)
    discord_calls = len(world.discord.channel_posts(int(discord_sub.channel)))
    slack_calls = len(slack_posts(world.slack, slack_sub.channel))
    clock.set(run)
    await asyncio.wait_for(asyncio.gather(held_discord.arrived.wait(),
                                          held_slack.arrived.wait()), WAIT)
    rows = await todays(store, subs, clock())
    slack_holder = rows[slack_sub.id].claimed_by.split(":")[0]
    assert rows[discord_sub.id].claimed_by.startswith(f"discord-{kill.shard}:")
    dead = {await cluster.kill(f"discord-{kill.shard}"), await cluster.kill(slack_holder)}
    held_discord.release.set()
    held_slack.release.set()

    await world.start(f"discord-{kill.shard}")
    await world.start(slack_holder)

    async def only_dead_claims_left() -> list[Post] | None:
        """Every post sent but those still leased to a killed process: the held ones."""
        rows = await todays(store, subs, clock())
        if len(rows) < len(subs):
            return None
        unsent = [p for p in rows.values() if not p.sent_at]
        if all(p.claimed_by in dead for p in unsent):
            return unsent
        return None

    held = await until(only_dead_claims_left, "every post but the killed processes' claims",
                       cluster)
    assert {discord_sub.id, slack_sub.id} <= {p.subscription_id for p in held}
    await asyncio.sleep(1.0)  # passes of every process: none touches a claim still leased
    assert await only_dead_claims_left() == held
    # Nobody touches a claim before its lease runs out; then the restarted shard (the only
    # process that serves its servers) and either Slack worker take them over. By then
    # Discord has forgotten the nonce (it keeps one for a few minutes).
    world.discord.forget_nonces()
    clock.set(run + LEASE + timedelta(minutes=1))

    async def all_sent() -> bool:
        rows = await todays(store, subs, clock())
        return all(p.sent_at for p in rows.values())

    await until(all_sent, "the held posts, taken over", cluster)
    rows = await todays(store, subs, clock())
    assert all(rows[p.subscription_id].claimed_by not in dead for p in held)
    # Each held post was sent again only if the platform had not made it: the retry found
    # the one it had in the channel's history (Discord: its own message showing that quote;
    # Slack: the message carrying the post's key).
    assert len(world.discord.channel_posts(int(discord_sub.channel))) == discord_calls + (
        1 if kill.discord_sent else 2)
    assert len(slack_posts(world.slack, slack_sub.channel)) == slack_calls + (
        1 if kill.slack_sent else 2)
    return len(held)


def slack_posts(fake: FakeSlack, channel: str) -> list:
    return [c for c in fake.calls("chat.postMessage") if c.data.get("channel") == channel]


def check_day(rows: dict[int, Post], made_discord: list[dict], made_slack: list[dict],
              discord_subs: dict[int, Subscription], slack_subs: dict[str, Subscription],
              by_id: dict[int, Subscription]) -> None:
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
        sub = slack_subs[message["channel"]]
        assert rows[sub.id].message_ref == message["ts"]
        assert message["token"] == bot_token(sub.workspace)  # its workspace's install


def check_shards(fake: FakeDiscord, discord_subs: dict[int, Subscription],
                 rows: dict[int, Post]) -> None:
    """Each Discord post was claimed and sent by the process running its server's shard."""
    for channel, sub in discord_subs.items():
        shard = shard_of(int(sub.workspace), SHARDS)
        assert rows[sub.id].claimed_by.startswith(f"discord-{shard}:")
        for call in fake.channel_posts(channel):
            assert call.headers["User-Agent"].endswith(f"quotebot-test/discord-{shard}")
