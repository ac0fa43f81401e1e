"""Fixtures for daily posts: a known corpus, a fake clock, scripted posters, a service."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from quotebot.bot.daily.service import DailyService
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef, QuoteReply, UserRef
from quotebot.store.daily import DailyStore
from quotebot.store.quotes import NewQuote, NewSource, SpeakerInfo
from tests.conftest import open_any, share_operator_library

ADA = SpeakerInfo("Ada Lovelace", "Analyst", ("Ada",))
BOB = SpeakerInfo("Bob Kahn", "Engineer", ("Bob",))
CY = SpeakerInfo("Cy Twombly", None, ("Cy",))

# (speaker, quotability) per quote; texts are generated and distinct.
ALPHA = [(ADA, 0.9), (ADA, 0.8), (ADA, 0.7), (ADA, 0.6), (ADA, 0.55), (ADA, 0.2),
         (BOB, 0.9), (BOB, 0.75), (BOB, 0.5)]
BETA = [(ADA, 0.95), (ADA, 0.65), (CY, 0.3), (CY, 0.1), (BOB, 0.4)]
GOOD_TOTAL = 10  # quotability >= 0.5 across both sources

ADMIN = UserRef("discord", "100", "admin", is_admin=True)
MEMBER = UserRef("discord", "200", "member")
GUILD = "G1"


def chan(channel: str = "C1", platform: str = "discord", workspace: str = GUILD) -> ChannelRef:
    return ChannelRef(platform, workspace, channel)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def fill(library: QuoteLibrary) -> None:
    await share_operator_library(library.db)
    for slug, title, rows, speakers in (
        ("alpha", "Alpha Talks", ALPHA, [ADA, BOB]),
        ("beta", "Beta Interviews", BETA, [ADA, BOB, CY]),
    ):
        quotes = [
            NewQuote(who.name, f"{slug} line {i} by {who.name}: words worth keeping {i}.",
                     float(10 * i), i, score)
            for i, (who, score) in enumerate(rows)
        ]
        source = NewSource(slug, title, None, None, None, None, "test", f"h-{slug}", {})
        await library.store.replace_source(source, speakers, quotes)
    await library.store.refresh_terms()
    await library.load()


async def open_library(target) -> QuoteLibrary:
    """Another process's library over the same database (a SQLite path or a URL)."""
    db = await open_any(target)
    library = QuoteLibrary(db)
    await library.load()
    return library


class FakeClock:
    """The injected clock; `sleep` advances it instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.until: datetime | None = None
        self.on_limit = None

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        if self.until is not None and self.now >= self.until and self.on_limit:
            self.on_limit()
        await asyncio.sleep(0)


@dataclass
class Sent:
    channel: ChannelRef
    quote_id: int
    key: str
    at: datetime


@dataclass
class ScriptedPoster:
    """Records posts; fails as scripted: each item of `script` is an exception or None."""

    clock: FakeClock | None = None
    script: list = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    attempts: list[tuple[str, datetime | None]] = field(default_factory=list)
    owned: set[str] | None = None  # workspaces this "shard" serves; None = all
    check_error: Exception | None = None
    failing: Exception | None = None  # raised on every attempt when set
    # channel -> the error its next attempt raises, whatever order concurrent posts come
    # in (`script` is by order: on PostgreSQL, concurrent posts finish in any order).
    fail_next: dict[str, Exception] = field(default_factory=dict)

    def owns(self, channel: ChannelRef) -> bool:
        return self.owned is None or channel.workspace in self.owned

    async def check(self, channel: ChannelRef) -> None:
        if self.check_error:
            raise self.check_error

    async def post(self, channel: ChannelRef, reply: QuoteReply, *, idempotency_key: str) -> str:
        now = self.clock() if self.clock else None
        self.attempts.append((idempotency_key, now))
        assert reply.public and len(reply.quotes) == 1
        await asyncio.sleep(0)  # let a concurrent scheduler run in between
        if self.failing is not None:
            raise self.failing
        if channel.channel in self.fail_next:
            raise self.fail_next.pop(channel.channel)
        if self.script:
            error = self.script.pop(0)
            if error is not None:
                raise error
        self.sent.append(Sent(channel, reply.quote.id, idempotency_key, now))
        return f"msg-{len(self.sent)}"


@pytest.fixture
async def lib(db_target):
    db = await open_any(db_target)
    library = QuoteLibrary(db)
    await fill(library)
    yield library
    await db.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(utc(2024, 11, 20, 12, 0))


@pytest.fixture
def poster(clock) -> ScriptedPoster:
    return ScriptedPoster(clock)


@pytest.fixture
def service(lib, clock, poster) -> DailyService:
    return DailyService(lib, DailyStore(lib.db), posters={"discord": poster}, clock=clock,
                        sleep=clock.sleep, rng=random.Random(7), process_id="test-a")

