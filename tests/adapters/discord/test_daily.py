"""Daily quotes on Discord: /quote daily through the real bot, posts over the fake's REST API.

The scheduler is driven with an injected clock: `run_once(now)` at chosen instants, or the
real loop with a sleep that advances the clock. Nothing waits for wall-clock time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from quotebot.adapters.discord.client import QuoteBot
from quotebot.adapters.discord.poster import DiscordPoster, shard_of
from quotebot.bot.daily import DailyService, PermanentPostError, TransientPostError
from quotebot.bot.daily.scheduler import (
    LEASE,
    PassResult,
    Scheduler,
    channel_reply,
    idempotency_key,
)
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef, QuoteReply, UserRef
from quotebot.store.db import Database
from tests.adapters.discord.conftest import embed_of, ephemeral, running
from tests.adapters.discord.fake_discord import (
    EMBED_LINKS,
    GUILD_ID,
    MANAGE_CHANNELS,
    MEMBER_PERMISSIONS,
    QUOTES_ID,
    SEND_MESSAGES,
    Pick,
)
from tests.bot.daily.conftest import FakeClock, utc

PARIS = ZoneInfo("Europe/Paris")
HIDDEN_ID = 646464646464646464  # the bot cannot see it
LOCKED_ID = 656565656565656565  # the bot may not send or embed there
GONE_ID = 666666666666666666  # no such channel
QUOTES = ChannelRef("discord", str(GUILD_ID), str(QUOTES_ID))
OPERATOR = UserRef("discord", "1", "operator", is_admin=True)
# Paris leaves summer time on Sunday 27 October 2024 (03:00 CEST -> 02:00 CET): 09:00 is
# 07:00 UTC before and 08:00 UTC from that day on.
RUNS = {
    date(2024, 10, 25): utc(2024, 10, 25, 7, 0),
    date(2024, 10, 26): utc(2024, 10, 26, 7, 0),
    date(2024, 10, 27): utc(2024, 10, 27, 8, 0),
    date(2024, 10, 28): utc(2024, 10, 28, 8, 0),
    date(2024, 10, 29): utc(2024, 10, 29, 8, 0),
}


async def never(seconds: float) -> None:
    """The loop's sleep in these tests: only a change (or stop) wakes it; we drive run_once."""
    await asyncio.Event().wait()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(utc(2024, 10, 24, 12, 0))  # Thursday, 14:00 in Paris


@asynccontextmanager
async def daily_bot(fake, services, registry, clock, *, sleep=never, process_id="proc-a",
                    **options) -> AsyncIterator[QuoteBot]:
    """The bot with a daily service on the fake clock, built as `quotebot discord` builds it."""
    for channel_id, name, deny in ((HIDDEN_ID, "hidden", 0),
                                   (LOCKED_ID, "locked", SEND_MESSAGES | EMBED_LINKS)):
        fake.add_channel(channel_id, name, deny_bot=deny)
    fake.hidden.add(HIDDEN_ID)

    def daily(bot: QuoteBot, svc) -> DailyService:
        service = DailyService(svc.library, posters={"discord": DiscordPoster(bot)},
                               clock=clock, sleep=sleep, rng=random.Random(5),
                               process_id=process_id)
        if clock.until is not None:  # the fake sleep stops the loop when the clock gets there
            clock.on_limit = service.scheduler.stop
        return service

    async with running(fake, services, registry, daily=daily, sync=True, **options) as bot:
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        for _ in range(500):  # on_ready, which starts the scheduler, runs as its own task
            if bot.daily_task is not None:
                break
            await asyncio.sleep(0.01)
        yield bot


async def at(service: DailyService, clock: FakeClock, when: datetime) -> PassResult:
    clock.set(when)
    return await service.scheduler.run_once(when)


async def command(fake, path: str, **options) -> dict:
    return await fake.callback(await fake.send(fake.command(path, **options)))


def content(body: dict) -> str:
    return body["data"].get("content") or ""


async def subscribe(fake, **options) -> dict:
    options = {"channel": Pick(QUOTES_ID), "time": "09:00", "timezone": "Europe/Paris",
               **options}
    return await command(fake, "daily set", admin=True, **options)


def assert_daily_post(call, sub_id: int, day: date) -> int:
    """A public quote embed in #quotes with its id, no pings, and the day's enforced nonce."""
    assert call.path == f"/channels/{QUOTES_ID}/messages"
    body = call.json
    footer = embed_of(body)["footer"]["text"]
    assert footer.startswith("Quote #")
    quote_id = int(footer.split(" · ")[0].removeprefix("Quote #"))
    assert body["content"] == "Quote of the day"
    assert body["allowed_mentions"] == {"parse": []}
    assert (body["nonce"], body["enforce_nonce"]) == (f"qb-{sub_id}-{day.isoformat()}", True)
    assert not (body.get("flags") or 0) & 64  # public
    custom_ids = [c["custom_id"] for row in body.get("components", [])
                  for c in row["components"]]
    assert custom_ids == [f"qb:ctx:{quote_id}"]  # Context; no Share on a public post
    return quote_id


# ---- the commands --------------------------------------------------------------------------


async def test_an_admin_subscribes_a_picked_channel_privately(fake, services, registry, clock):
    async with daily_bot(fake, services, registry, clock) as bot:
        task = bot.daily_task
        assert task is not None and not task.done()  # the scheduler runs inside the bot
        body = await subscribe(fake)
        assert body["type"] == 4 and ephemeral(body)
        assert content(body) == (f"Daily quote for <#{QUOTES_ID}> at 09:00 Europe/Paris, "
                                 "next on Fri 25 Oct 09:00.")
        (sub,) = await bot.services.daily.list()
        assert (sub.workspace, sub.channel, sub.local_time, sub.timezone) == (
            str(GUILD_ID), str(QUOTES_ID), "09:00", "Europe/Paris")
        assert sub.created_by == "discord:737373737373737373"
        assert fake.find_calls("GET", f"/channels/{QUOTES_ID}")  # the bot checked it first
        assert not fake.channel_posts()  # nothing is posted before the time
    assert task.done() and not task.cancelled()  # stopped cleanly with the bot


async def test_a_member_is_refused_and_nothing_is_stored(fake, services, registry, clock):
    async with daily_bot(fake, services, registry, clock) as bot:
        daily = bot.services.daily
        body = await command(fake, "daily set", channel=Pick(QUOTES_ID), time="09:00")
        assert ephemeral(body)
        assert content(body).startswith("Only server or workspace admins can set up")
        assert await daily.list() == []
        assert not fake.find_calls("GET", "/channels/")
        # Someone else's subscription: a member may neither stop it nor post it now.
        await daily.set(QUOTES, time="09:00", actor=OPERATOR)
        for verb in ("stop", "now"):
            body = await command(fake, f"daily {verb}", channel=Pick(QUOTES_ID))
            assert ephemeral(body)
            assert content(body).startswith("Only server or workspace admins, or whoever set")
        assert len(await daily.list()) == 1 and not fake.channel_posts()


async def test_the_creator_may_stop_their_own_without_being_admin(fake, services, registry,
                                                                 clock):
    async with daily_bot(fake, services, registry, clock) as bot:
        await subscribe(fake)  # as an admin
        body = await command(fake, "daily stop", channel=Pick(QUOTES_ID))  # as a member
        assert content(body) == f"Stopped the daily quote in <#{QUOTES_ID}>."
        assert await bot.services.daily.list() == []


async def test_manage_channels_counts_in_the_channel_concerned(fake, services, registry, clock):
    manager = str(int(MEMBER_PERMISSIONS) | MANAGE_CHANNELS)
    async with daily_bot(fake, services, registry, clock) as bot:
        # Manages #general (where they type) but not #quotes: refused.
        body = await command(fake, "daily set", perms=manager,
                             channel=Pick(QUOTES_ID, MEMBER_PERMISSIONS), time="09:00")
        assert content(body).startswith("Only server or workspace admins")
        # Manages #quotes: allowed there.
        body = await command(fake, "daily set", channel=Pick(QUOTES_ID, manager), time="09:00")
        assert content(body).startswith(f"Daily quote for <#{QUOTES_ID}> at 09:00 UTC")
        assert len(await bot.services.daily.list()) == 1


@pytest.mark.parametrize("options, message", [
    ({"time": "25:00"}, "“25:00” is not a time: use 24-hour HH:MM"),
    ({"time": "9am"}, "is not a time"),
    ({"timezone": "Mars/Olympus"}, "“Mars/Olympus” is not a timezone I know"),
    ({"speaker": "Nobody Atall"}, "No speaker called"),
    ({"speaker": "greg", "source": "podcast"}, "No quote by Greg Brockman and from"),
    ({"channel": Pick(HIDDEN_ID)}, f"I can't post in <#{HIDDEN_ID}>: I cannot see that "
                                   "channel (Missing Access)"),
    ({"channel": Pick(LOCKED_ID)}, f"I can't post in <#{LOCKED_ID}>: I need the Send Messages "
                                   "and Embed Links permissions there"),
    ({"channel": Pick(GONE_ID)}, f"I can't post in <#{GONE_ID}>: the channel no longer exists"),
])
async def test_bad_input_is_a_private_error_and_changes_nothing(fake, services, registry, clock,
                                                               options, message):
    async with daily_bot(fake, services, registry, clock) as bot:
        body = await subscribe(fake, **options)
        assert body["type"] == 4 and ephemeral(body)
        assert message in content(body)
        assert await bot.services.daily.list() == []
        assert not fake.channel_posts()


async def test_timezone_autocompletes_from_the_core(fake, services, registry, clock):
    async with daily_bot(fake, services, registry, clock):
        body = await fake.callback(await fake.send(
            fake.autocomplete("daily set", "timezone", time="09:00", timezone="paris")))
    assert body["type"] == 8 and body["data"]["choices"][0] == {"name": "Europe/Paris",
                                                                "value": "Europe/Paris"}


async def test_list_and_stop(fake, services, registry, clock):
    async with daily_bot(fake, services, registry, clock) as bot:
        await subscribe(fake, speaker="ilya")
        listed = await command(fake, "daily list")
        assert ephemeral(listed)
        line = embed_of(listed)["description"]
        assert line.startswith(f"• <#{QUOTES_ID}> · 09:00 Europe/Paris · by Ilya Sutskever")
        assert "next Fri 25 Oct 09:00" in line and "not posted yet" in line
        body = await command(fake, "daily stop", admin=True, channel=Pick(QUOTES_ID))
        assert ephemeral(body) and content(body) == f"Stopped the daily quote in <#{QUOTES_ID}>."
        assert await bot.services.daily.list() == []


# ---- posting -------------------------------------------------------------------------------


async def test_one_post_per_local_day_at_the_minute_across_dst_and_a_restart(
        fake, services, registry, clock, db):
    async with daily_bot(fake, services, registry, clock) as bot:
        await subscribe(fake)
        service = bot.services.daily
        (sub,) = await service.list()
        restarted: Database | None = None
        posted: dict[date, datetime] = {}
        quote_ids: list[int] = []
        try:
            for day, run in RUNS.items():
                probes = [run - timedelta(minutes=1), run, run + timedelta(minutes=1),
                          run + timedelta(hours=3),
                          datetime(day.year, day.month, day.day, 23, 59, tzinfo=PARIS)]
                if day == date(2024, 10, 27):
                    probes.insert(0, utc(2024, 10, 27, 7, 0))  # 09:00 in summer time: not yet
                for when in probes:
                    if day == date(2024, 10, 26) and when == run + timedelta(hours=3):
                        # "Restart" mid-day: a new process over the same database file.
                        restarted = await Database.open(db.path)
                        library = QuoteLibrary(restarted)
                        await library.load()
                        service = DailyService(library, posters={"discord": DiscordPoster(bot)},
                                               clock=clock, sleep=never, process_id="proc-b")
                    before = len(fake.channel_posts())
                    await at(service, clock, when)
                    calls = fake.channel_posts()[before:]
                    for call in calls:
                        assert day not in posted, f"a second post on {day} at {when}"
                        posted[day] = when
                        quote_ids.append(assert_daily_post(call, sub.id, day))
            assert posted == RUNS  # every local day once, at 09:00 Paris time
            assert len(set(quote_ids)) == len(quote_ids)  # no repeats within a cycle
            for quote_id in quote_ids:
                assert (await services.library.get(quote_id)).quotability >= 0.5
            history = await service.store.posts(sub.id)
            assert [p.local_date for p in history] == [d.isoformat() for d in RUNS]
            assert all(p.sent_at and p.attempts == 1 for p in history)  # one send each
        finally:
            if restarted is not None:
                await restarted.close()


async def test_a_retried_send_reuses_the_nonce_so_discord_keeps_one_message(fake, services,
                                                                             registry, clock):
    async with daily_bot(fake, services, registry, clock) as bot:
        poster = DiscordPoster(bot)
        reply = QuoteReply((await services.library.get(1),), public=True)
        first = await poster.post(QUOTES, reply, idempotency_key="qb-1-2024-10-25")
        again = await poster.post(QUOTES, reply, idempotency_key="qb-1-2024-10-25")
        other = await poster.post(QUOTES, reply, idempotency_key="qb-1-2024-10-26")
    assert first == again != other
    assert len(fake.channel_posts(QUOTES_ID)) == 3  # three sends, two messages


async def died_after_sending(service: DailyService, bot, fake, clock, run: datetime, *,
                             discord_made_it: bool) -> None:
    """Another process claims the post at `run` and dies before recording it: after Discord
    made the message (`discord_made_it`) or before. Then minutes pass: Discord forgets the
    nonce before the lease runs out, so only the channel itself can tell."""
    dead = Scheduler(service.store, service.library, {"discord": DiscordPoster(bot)},
                     clock=clock, sleep=never, process_id="proc-dead")
    (sub,) = await service.list()
    claim = await dead.claim(sub, run)
    assert claim is not None
    if discord_made_it:
        reply = await channel_reply(service.library, QUOTES, claim.quote)
        await DiscordPoster(bot).post(QUOTES, reply, idempotency_key=idempotency_key(
            sub.id, run.astimezone(PARIS).date().isoformat()))
    fake.forget_nonces()


@pytest.mark.parametrize("discord_made_it", [True, False])
async def test_a_post_taken_over_after_discord_forgot_its_nonce_goes_out_once(
        fake, services, registry, clock, discord_made_it):
    async with daily_bot(fake, services, registry, clock) as bot:
        await subscribe(fake)
        service = bot.services.daily
        run = RUNS[date(2024, 10, 25)]
        await died_after_sending(service, bot, fake, clock, run,
                                 discord_made_it=discord_made_it)
        assert (await at(service, clock, run + timedelta(minutes=1))).outcomes == []  # leased
        (taken,) = (await at(service, clock, run + LEASE)).outcomes
        messages = [m for m in fake.messages.values() if m["channel_id"] == str(QUOTES_ID)]
        assert len(messages) == 1  # one message in the channel either way
        assert taken.status == "sent" and taken.message_ref == messages[0]["id"]
        assert fake.find_calls("GET", f"/channels/{QUOTES_ID}/messages")  # it looked first
        assert len(fake.channel_posts(QUOTES_ID)) == 1  # by the dead process or the new one
        (post,) = await service.store.posts()
        assert post.sent_at and post.message_ref == messages[0]["id"]


async def test_a_taken_over_post_goes_out_when_the_history_cannot_be_read(
        fake, services, registry, clock, caplog):
    # Without Read Message History the bot cannot tell: it posts (nothing lost; a repeat is
    # possible if Discord had made the message and forgotten the nonce).
    async with daily_bot(fake, services, registry, clock) as bot:
        await subscribe(fake)
        service = bot.services.daily
        fake.no_history.add(QUOTES_ID)
        run = RUNS[date(2024, 10, 25)]
        await died_after_sending(service, bot, fake, clock, run, discord_made_it=False)
        (taken,) = (await at(service, clock, run + LEASE)).outcomes
        assert taken.status == "sent" and len(fake.channel_posts(QUOTES_ID)) == 1
        assert "cannot tell whether qb-1-2024-10-25 went out" in caplog.text


async def test_a_channel_refusing_posts_three_days_running_is_disabled_with_the_reason(
        fake, services, registry, clock):
    async with daily_bot(fake, services, registry, clock) as bot:
        await subscribe(fake)
        service = bot.services.daily
        fake.refuse_posts(QUOTES_ID, 403, 50013, "Missing Permissions")
        statuses = []
        for run in list(RUNS.values())[:4]:
            result = await at(service, clock, run)
            statuses.append([o.status for o in result.outcomes])
        assert statuses == [["permanent"], ["permanent"], ["disabled"], []]
        assert len(fake.channel_posts(QUOTES_ID)) == 3  # nothing tried once disabled
        reason = ("Discord says I am missing permissions: I need View Channel, Send Messages "
                  "and Embed Links there")
        listed = await command(fake, "daily list")
        assert ephemeral(listed)
        assert f"disabled: {reason}" in embed_of(listed)["description"]

        # Once the permissions are fixed, setting it again brings it back.
        fake.refusals.clear()
        assert content(await subscribe(fake)).startswith("Daily quote changed:")
        result = await at(service, clock, RUNS[date(2024, 10, 29)])
        assert [o.status for o in result.outcomes] == ["sent"]


async def test_daily_now_posts_publicly_at_once(fake, services, registry, clock):
    async with daily_bot(fake, services, registry, clock):
        await subscribe(fake)
        body = await command(fake, "daily now", admin=True, channel=Pick(QUOTES_ID))
        (call,) = fake.channel_posts(QUOTES_ID)
        footer = embed_of(call.json)["footer"]["text"]
        quote_id = int(footer.split(" · ")[0].removeprefix("Quote #"))
        assert ephemeral(body)
        assert content(body) == f"Posted quote #{quote_id} in <#{QUOTES_ID}>."
        assert call.json["allowed_mentions"] == {"parse": []}
        assert not (call.json.get("flags") or 0) & 64
        assert call.json["nonce"].startswith("qb-") and call.json["enforce_nonce"] is True


async def test_the_loop_inside_the_bot_posts_each_morning(fake, services, registry, clock):
    await DailyService(services.library, clock=clock).set(
        QUOTES, time="09:00", timezone="Europe/Paris", actor=OPERATOR)
    clock.until = utc(2024, 10, 27, 12, 0)
    async with daily_bot(fake, services, registry, clock, sleep=clock.sleep) as bot:
        await asyncio.wait_for(bot.daily_task, 20)
        posts = fake.channel_posts(QUOTES_ID)
    assert [p.json["nonce"][-10:] for p in posts] == ["2024-10-25", "2024-10-26", "2024-10-27"]


# ---- shards --------------------------------------------------------------------------------


def test_owns_only_the_guilds_of_its_shards():
    on_shard_1 = (5 << 22) | 123  # (id >> 22) % 4 == 1
    on_shard_2 = (6 << 22) | 123
    assert shard_of(on_shard_1, 4) == 1 and shard_of(on_shard_2, 4) == 2
    mine = DiscordPoster(SimpleNamespace(shard_ids=[1, 3], shard_count=4))
    assert mine.owns(ChannelRef("discord", str(on_shard_1), "1"))
    assert not mine.owns(ChannelRef("discord", str(on_shard_2), "1"))
    assert not mine.owns(ChannelRef("discord", "@me", "1"))
    assert not mine.owns(ChannelRef("slack", str(on_shard_1), "1"))
    everything = DiscordPoster(SimpleNamespace(shard_ids=None, shard_count=4))
    assert everything.owns(ChannelRef("discord", str(on_shard_2), "1"))


@pytest.mark.parametrize("shard_id, posts", [(1, 0), (0, 1)])
async def test_each_process_posts_only_for_its_own_shards(fake, services, registry, clock,
                                                          shard_id, posts):
    assert shard_of(GUILD_ID, 2) == 0
    await DailyService(services.library, clock=clock).set(
        QUOTES, time="09:00", timezone="Europe/Paris", actor=OPERATOR)
    async with daily_bot(fake, services, registry, clock, shard_count=2,
                         shard_ids=(shard_id,)) as bot:
        result = await at(bot.services.daily, clock, RUNS[date(2024, 10, 25)])
    assert len(result.outcomes) == posts and len(fake.channel_posts()) == posts


# ---- the poster's error mapping ---------------------------------------------------------------


@pytest.mark.parametrize("status, code, message, retry_after, expected, reason", [
    (503, 0, "Service Unavailable", None, TransientPostError, "Discord server error 503"),
    (429, 0, "You are being rate limited.", 7.5, TransientPostError, "rate limited by Discord"),
    (403, 50001, "Missing Access", None, PermanentPostError, "I cannot see that channel"),
    (403, 50013, "Missing Permissions", None, PermanentPostError, "missing permissions"),
    (404, 10003, "Unknown Channel", None, PermanentPostError, "the channel no longer exists"),
])
async def test_discord_errors_become_transient_or_permanent(fake, services, registry, clock,
                                                            status, code, message, retry_after,
                                                            expected, reason):
    async with daily_bot(fake, services, registry, clock) as bot:
        fake.refuse_posts(QUOTES_ID, status, code, message, times=1, retry_after=retry_after)
        reply = QuoteReply((await services.library.get(1),), public=True)
        with pytest.raises(expected) as caught:
            await DiscordPoster(bot).post(QUOTES, reply, idempotency_key="qb-1-2024-10-25")
    assert reason in caught.value.reason
    if retry_after is not None:
        assert caught.value.retry_after == retry_after


async def test_a_stop_before_the_loop_first_runs_is_not_lost(services, clock):
    # The bot may be closed the moment it becomes ready, before the loop's task has run.
    scheduler = Scheduler(DailyService(services.library).store, services.library, {},
                          clock, never)
    task = asyncio.create_task(scheduler.run())
    scheduler.stop()
    await asyncio.wait_for(task, 2)


def in_quotes(payload: dict) -> dict:
    """`payload` as if typed in #quotes (a channel's settings are set in the channel)."""
    payload["channel_id"] = payload["channel"]["id"] = str(QUOTES_ID)
    return payload


async def test_with_cards_on_the_daily_post_carries_the_card(fake, services, registry, clock):
    async with daily_bot(fake, services, registry, clock) as bot:
        await subscribe(fake)
        refused = await fake.callback(await fake.send(in_quotes(
            fake.command("settings", card="on"))))
        assert ephemeral(refused) and "Only admins" in content(refused)
        result = await at(bot.services.daily, clock, RUNS[date(2024, 10, 25)])
        (plain,) = fake.channel_posts(QUOTES_ID)
        assert not plain.files and "image" not in embed_of(plain.json)  # off by default

        done = await fake.callback(await fake.send(in_quotes(
            fake.command("settings", admin=True, card="on"))))
        assert "now come with a quote card" in content(done)
        shown = await fake.callback(await fake.send(in_quotes(fake.command("settings"))))
        assert "(card:on)" in content(shown)
        result = await at(bot.services.daily, clock, RUNS[date(2024, 10, 26)])
        assert [o.status for o in result.outcomes] == ["sent"]
        call = fake.channel_posts(QUOTES_ID)[-1]
        quote_id = assert_daily_post(call, 1, date(2024, 10, 26))
        (upload,) = call.files
        assert upload.filename == f"quote-{quote_id}.png"
        assert upload.data.startswith(b"\x89PNG")
        (attachment,) = call.json["attachments"]
        assert attachment["filename"] == upload.filename
        assert attachment["description"].startswith("“") and "” — " in attachment["description"]
        assert embed_of(call.json)["image"]["url"] == f"attachment://{upload.filename}"

        await fake.callback(await fake.send(in_quotes(
            fake.command("settings", admin=True, card="off"))))
        await at(bot.services.daily, clock, RUNS[date(2024, 10, 27)])
        assert not fake.channel_posts(QUOTES_ID)[-1].files


async def test_without_attach_files_the_daily_post_goes_out_without_its_card(
        fake, services, registry, clock):
    async with daily_bot(fake, services, registry, clock) as bot:
        await subscribe(fake)
        await services.library.store.set_channel_setting("discord", str(GUILD_ID),
                                                         str(QUOTES_ID), "card", 1)
        fake.refuse_posts(QUOTES_ID, 403, 50013, "Missing Permissions", times=1)
        result = await at(bot.services.daily, clock, RUNS[date(2024, 10, 25)])
        assert [o.status for o in result.outcomes] == ["sent"]
        refused, sent = fake.channel_posts(QUOTES_ID)
        assert refused.files and not sent.files  # tried with the card, then the words alone
        assert sent.json["nonce"] == refused.json["nonce"]
        assert_daily_post(sent, 1, date(2024, 10, 25))
