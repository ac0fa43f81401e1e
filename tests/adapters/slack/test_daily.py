"""Daily quotes on Slack: signed /quote daily requests, posts with chat.postMessage on the fake.

The scheduler is driven with an injected clock: `run_once(now)` at chosen instants. Nothing
waits for wall-clock time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from slack_sdk.oauth.installation_store.models.bot import Bot

from quotebot.adapters.slack.app import DAILY_STOP_WAIT, daily_running
from quotebot.adapters.slack.install_store import DatabaseInstallationStore
from quotebot.adapters.slack.poster import SlackPoster
from quotebot.bot.daily import DailyService, PermanentPostError
from quotebot.bot.daily.scheduler import LEASE, PassResult, daily_reply, idempotency_key
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef, QuoteReply, UserRef
from quotebot.bot.registry import Services
from quotebot.store.db import Database
from quotebot.store.slack import SlackStore
from tests.adapters.slack.conftest import CALLER, CHANNEL, Driver, block_text, http_settings, start
from tests.adapters.slack.fake_slack import TEAM, Recorded
from tests.bot.daily.conftest import FakeClock, utc

OTHER = "U0OTHER"  # a member who is not an admin
PARIS = ZoneInfo("Europe/Paris")
# Paris leaves summer time on Sunday 27 October 2024: 09:00 is 07:00 UTC before, 08:00 after.
RUNS = {
    date(2024, 10, 25): utc(2024, 10, 25, 7, 0),
    date(2024, 10, 26): utc(2024, 10, 26, 7, 0),
    date(2024, 10, 27): utc(2024, 10, 27, 8, 0),
    date(2024, 10, 28): utc(2024, 10, 28, 8, 0),
    date(2024, 10, 29): utc(2024, 10, 29, 8, 0),
}
HERE = ChannelRef("slack", TEAM, CHANNEL)
OPERATOR = UserRef("slack", "U0OPERATOR", is_admin=True)


async def never(seconds: float) -> None:
    """The loop's sleep in these tests: only a change (or stop) wakes it; we drive run_once."""
    await asyncio.Event().wait()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(utc(2024, 10, 24, 12, 0))  # Thursday, 14:00 in Paris


def daily_for(library: QuoteLibrary, fake, clock: FakeClock, process_id: str = "proc-a",
              sleep=never) -> DailyService:
    poster = SlackPoster(http_settings(fake))
    return DailyService(library, posters={"slack": poster}, clock=clock, sleep=sleep,
                        rng=random.Random(5), process_id=process_id)


@asynccontextmanager
async def serving(fake, library, registry, clock, sleep=never
                  ) -> AsyncIterator[tuple[Driver, DailyService]]:
    """The app in HTTP mode with a daily service on the fake clock; the caller is an admin."""
    fake.admins.add(CALLER)
    daily = daily_for(library, fake, clock, sleep=sleep)
    if clock.until is not None:  # the fake sleep stops the loop when the clock gets there
        clock.on_limit = daily.scheduler.stop
    base, stop, task = await start(http_settings(fake), Services(library, daily), registry)
    try:
        async with aiohttp.ClientSession() as session:
            yield Driver(base, fake, session), daily
    finally:
        stop.set()
        await task


@pytest.fixture
async def app(fake, library, registry, clock):
    async with serving(fake, library, registry, clock) as pair:
        yield pair


async def at(service: DailyService, clock: FakeClock, when: datetime) -> PassResult:
    clock.set(when)
    return await service.scheduler.run_once(when)


def posts(fake) -> list[Recorded]:
    return fake.calls("chat.postMessage")


def assert_daily_post(call: Recorded) -> int:
    """A public, escaped Block Kit quote with its id, a Context button only (no Share: it is
    public already), no unfurls, no link_names."""
    body = call.data
    assert body["channel"] == CHANNEL
    assert body["unfurl_links"] is False and body["unfurl_media"] is False
    assert "link_names" not in body
    blocks = body["blocks"]
    assert blocks[0]["type"] == "section" and blocks[0]["text"]["text"].startswith(">")
    assert blocks[0]["text"]["verbatim"] is True
    assert [e["action_id"] for b in blocks if b["type"] == "actions"
            for e in b["elements"]] == ["quote_context"]
    match = re.search(r"· #(\d+)$", blocks[1]["elements"][0]["text"])
    assert match, blocks[1]
    assert "Quote of the day" in block_text(body)
    assert f"#{match.group(1)}" in body["text"]  # the notification fallback
    return int(match.group(1))


def text(recorded: Recorded) -> str:
    return block_text(recorded.data)


# ---- the commands --------------------------------------------------------------------------


async def test_an_admin_subscribes_this_channel_privately(app, fake):
    driver, daily = app
    sent = await driver.command("daily 09:00 Europe/Paris by:ilya")
    assert sent.data["response_type"] == "ephemeral"
    assert text(sent) == (f"Daily quote for <#{CHANNEL}> at 09:00 Europe/Paris (by Ilya "
                          "Sutskever), next on Fri 25 Oct 09:00.")
    (sub,) = await daily.list()
    assert (sub.workspace, sub.channel, sub.speaker) == (TEAM, CHANNEL, "Ilya Sutskever")
    assert sub.created_by == f"slack:{CALLER}"
    assert [c.data["user"] for c in fake.calls("users.info")] == [CALLER]
    assert [c.data["channel"] for c in fake.calls("conversations.info")] == [CHANNEL]
    assert posts(fake) == []


async def test_a_non_admin_who_did_not_create_it_is_refused(app, fake):
    driver, daily = app
    refused = await driver.command("daily 09:00 Europe/Paris", user=OTHER)
    assert refused.data["response_type"] == "ephemeral"
    assert "Only server or workspace admins can set up a daily quote." in text(refused)
    assert await daily.list() == [] and not fake.calls("conversations.info")

    await driver.command("daily 09:00 Europe/Paris")  # the admin sets it up
    for verb in ("off", "now"):
        refused = await driver.command(f"daily {verb}", user=OTHER)
        assert "Only server or workspace admins, or whoever set it up" in text(refused)
    assert len(await daily.list()) == 1 and posts(fake) == []

    # Its creator may stop it even after losing admin rights (asked again, not cached).
    fake.admins.clear()
    stopped = await driver.command("daily off")
    assert text(stopped) == f"Stopped the daily quote in <#{CHANNEL}>."
    assert await daily.list() == []


async def test_admin_status_is_only_asked_for_commands_that_need_it(app, fake):
    driver, _ = app
    await driver.command("ideas are cheap")
    await driver.command("random")
    await driver.command("daily")  # the status list is open to everyone
    assert fake.calls("users.info") == []
    await driver.command("daily off")
    assert len(fake.calls("users.info")) == 1


async def test_a_failed_admin_lookup_counts_as_not_admin(app, fake, caplog):
    driver, daily = app
    caplog.set_level(logging.WARNING)
    fake.fail_once("users.info", status=200, error="missing_scope")
    refused = await driver.command("daily 09:00")
    assert "Only server or workspace admins" in text(refused)
    assert await daily.list() == []
    assert f"users.info for {CALLER} failed (missing_scope)" in caplog.text


async def test_status_and_off(app, fake):
    driver, daily = app
    empty = await driver.command("daily")
    assert "No daily quotes yet." in text(empty)
    await driver.command("daily 09:00 Europe/Paris by:ilya")
    status = await driver.command("daily")
    assert status.data["response_type"] == "ephemeral"
    assert (f"• <#{CHANNEL}> · 09:00 Europe/Paris · by Ilya Sutskever · next Fri 25 Oct 09:00 "
            "· not posted yet") in text(status)
    stopped = await driver.command("daily off")
    assert text(stopped) == f"Stopped the daily quote in <#{CHANNEL}>."
    assert await daily.list() == []


@pytest.mark.parametrize("command, channel_info, message", [
    ("daily 25:00", None, "“25:00” is not a time: use 24-hour HH:MM"),
    ("daily 09:00 Mars/Olympus", None, "“Mars/Olympus” is not a timezone I know"),
    ("daily 09:00 by:nobody", None, "No speaker called “nobody”"),
    ("daily 09:00 by:greg in:podcast", None, "No quote by Greg Brockman and from"),
    ("daily 09:00", {"error": "channel_not_found"},
     f"I can't post in <#{CHANNEL}>: the channel does not exist, or it is private"),
    ("daily 09:00", {"is_archived": True}, f"I can't post in <#{CHANNEL}>: the channel is "
                                           "archived"),
    ("daily 09:00", {"is_private": True, "is_member": False},
     f"I can't post in <#{CHANNEL}>: I am not in this channel: invite me with /invite"),
])
async def test_bad_input_is_a_private_error_and_changes_nothing(app, fake, command,
                                                               channel_info, message):
    driver, daily = app
    if channel_info:
        fake.channels[CHANNEL] = channel_info
    sent = await driver.command(command)
    assert sent.data["response_type"] == "ephemeral"
    assert ":warning:" in text(sent) and message in text(sent)
    assert await daily.list() == [] and posts(fake) == []


async def test_a_public_channel_without_the_bot_is_fine(app, fake):
    driver, daily = app
    fake.channels[CHANNEL] = {"is_member": False}  # chat:write.public covers it
    assert text(await driver.command("daily 09:00")).startswith("Daily quote for")
    assert len(await daily.list()) == 1


# ---- posting -------------------------------------------------------------------------------


async def test_one_post_per_local_day_at_the_minute_across_dst_and_a_restart(
        app, fake, clock, library, db):
    driver, service = app
    await driver.command("daily 09:00 Europe/Paris by:ilya")
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
                    fresh = QuoteLibrary(restarted)
                    await fresh.load()
                    service = daily_for(fresh, fake, clock, process_id="proc-b")
                before = len(posts(fake))
                await at(service, clock, when)
                for call in posts(fake)[before:]:
                    assert day not in posted, f"a second post on {day} at {when}"
                    posted[day] = when
                    quote_ids.append(assert_daily_post(call))
        assert posted == RUNS  # every local day once, at 09:00 Paris time
        quotes = [await library.get(i) for i in quote_ids]
        assert {q.speaker for q in quotes} == {"Ilya Sutskever"}
        assert all(q.quotability >= 0.5 for q in quotes)
        assert len(set(quote_ids[:3])) == 3  # Ilya has three good quotes: all before a repeat
        history = await service.store.posts(sub.id)
        assert [p.local_date for p in history] == [d.isoformat() for d in RUNS]
        assert all(p.message_ref == "1700000000.000100" for p in history)  # the message ts
    finally:
        if restarted is not None:
            await restarted.close()


async def test_the_post_is_escaped_and_pings_nobody(app, fake):
    driver, _ = app
    await driver.command("daily 09:00 by:mallory")
    reply = await driver.command("daily now")
    (call,) = posts(fake)
    quote_id = assert_daily_post_id(call)
    assert call.data["unfurl_links"] is False and "link_names" not in call.data
    body = json.dumps({"blocks": call.data["blocks"], "text": call.data["text"]})
    assert "<" not in body  # no mention, no channel or user link, no URL: all escaped
    assert "&amp;" in body and "Mallory &lt;@U999&gt;" in body
    assert text(reply) == f"Posted quote #{quote_id} in <#{CHANNEL}>."


async def test_daily_now_posts_publicly_at_once(app, fake):
    driver, _ = app
    await driver.command("daily 09:00 Europe/Paris")
    reply = await driver.command("daily now")
    assert reply.data["response_type"] == "ephemeral"
    (call,) = posts(fake)
    assert call.data["channel"] == CHANNEL
    assert text(reply) == f"Posted quote #{assert_daily_post_id(call)} in <#{CHANNEL}>."


def assert_daily_post_id(call: Recorded) -> int:
    """The id of a `daily now` post (no "Quote of the day" note: it is not the day's post)."""
    match = re.search(r"· #(\d+)$", call.data["blocks"][1]["elements"][0]["text"])
    assert match and [e["action_id"] for b in call.data["blocks"] if b["type"] == "actions"
                      for e in b["elements"]] == ["quote_context"]
    return int(match.group(1))


async def test_not_in_channel_three_days_running_disables_with_the_reason(app, fake, clock):
    driver, service = app
    await driver.command("daily 09:00 Europe/Paris")
    fake.api_answers["chat.postMessage"] = {"ok": False, "error": "not_in_channel"}
    statuses = []
    for run in list(RUNS.values())[:4]:
        result = await at(service, clock, run)
        statuses.append([o.status for o in result.outcomes])
    assert statuses == [["permanent"], ["permanent"], ["disabled"], []]
    assert len(posts(fake)) == 3  # nothing tried once disabled
    status = text(await driver.command("daily"))
    assert "disabled: I am not in this channel: invite me with /invite @quotebot" in status


async def test_a_rate_limited_post_is_retried_and_posted_once(app, fake, clock):
    driver, service = app
    await driver.command("daily 09:00 Europe/Paris")
    fake.fail_once("chat.postMessage", 429, retry_after=40)
    run = RUNS[date(2024, 10, 25)]
    (failed,) = (await at(service, clock, run)).outcomes
    assert failed.status == "transient" and failed.error == "rate limited by Slack"
    assert failed.retry_at >= run + timedelta(seconds=40)  # Slack's Retry-After is honoured
    assert (await at(service, clock, run + timedelta(seconds=39))).outcomes == []
    (sent,) = (await at(service, clock, failed.retry_at)).outcomes
    assert sent.status == "sent"
    for _ in range(3):
        await at(service, clock, clock() + timedelta(hours=2))
    calls = posts(fake)
    assert len(calls) == 2 and calls[0].data == calls[1].data  # one refused, one posted
    (post,) = await service.store.posts()
    assert post.sent_at and post.attempts == 2


async def died_after_posting(service: DailyService, fake, clock: FakeClock, run: datetime,
                             *, slack_made_it: bool) -> None:
    """Another process claims the post at `run` and dies before recording it: after Slack
    made the message (`slack_made_it`) or before."""
    dead = daily_for(service.library, fake, clock, process_id="proc-dead")
    sub = await service.find(HERE)
    claim = await dead.scheduler.claim(sub, run)
    assert claim is not None
    if slack_made_it:
        await dead.posters["slack"].post(HERE, daily_reply(claim.quote),
                                         idempotency_key=idempotency_key(sub.id, "2024-10-25"))


@pytest.mark.parametrize("slack_made_it", [True, False])
async def test_a_post_taken_over_from_a_dead_process_goes_out_once(app, fake, clock,
                                                                   slack_made_it):
    # Slack has no idempotency key: the message carries the post's key as metadata, and the
    # process taking the post over (once the dead one's lease ran out) looks for it first.
    driver, service = app
    await driver.command("daily 09:00 Europe/Paris")
    run = RUNS[date(2024, 10, 25)]
    await died_after_posting(service, fake, clock, run, slack_made_it=slack_made_it)
    assert (await at(service, clock, run + timedelta(minutes=1))).outcomes == []  # leased
    (taken,) = (await at(service, clock, run + LEASE)).outcomes
    (message,) = fake.posted
    assert taken.status == "sent" and taken.message_ref == message["ts"]
    assert message["metadata"] == {"event_type": "quotebot_daily_post",
                                   "event_payload": {"key": "qb-1-2024-10-25"}}
    assert len(posts(fake)) == 1
    (history,) = fake.calls("conversations.history")
    assert history.data["channel"] == CHANNEL
    (post,) = await service.store.posts()
    assert post.sent_at and post.message_ref == message["ts"]


async def test_a_taken_over_post_is_posted_when_the_history_cannot_be_read(app, fake, clock,
                                                                          caplog):
    # An install made before quotebot asked for channels:history: it cannot tell, so it
    # posts (a repeat is possible there, as before).
    driver, service = app
    await driver.command("daily 09:00 Europe/Paris")
    fake.api_answers["conversations.history"] = {"ok": False, "error": "missing_scope",
                                                 "needed": "channels:history"}
    run = RUNS[date(2024, 10, 25)]
    await died_after_posting(service, fake, clock, run, slack_made_it=False)
    (taken,) = (await at(service, clock, run + LEASE)).outcomes
    assert taken.status == "sent" and len(posts(fake)) == 1
    assert "cannot tell whether qb-1-2024-10-25 went out" in caplog.text


async def test_the_loop_inside_the_app_posts_each_morning(fake, library, registry, clock):
    await DailyService(library, clock=clock).set(HERE, time="09:00", timezone="Europe/Paris",
                                                 actor=OPERATOR)
    clock.until = utc(2024, 10, 27, 12, 0)
    async with serving(fake, library, registry, clock, sleep=clock.sleep) as (_, daily):
        await fake.wait_for("chat.postMessage", count=3)
        await fake.settle()
    assert len(posts(fake)) == 3  # 25, 26 and 27 October, then the clock stopped the loop
    assert [p.local_date for p in await daily.store.posts()] == [
        "2024-10-25", "2024-10-26", "2024-10-27"]


async def test_the_scheduler_stops_with_the_app_at_once(fake, library, registry, clock):
    started = time.monotonic()
    async with serving(fake, library, registry, clock):
        pass  # the loop is asleep until something is due; stopping must wake it
    assert time.monotonic() - started < DAILY_STOP_WAIT / 2


async def test_a_stop_before_the_loop_first_runs_is_not_lost(library, clock):
    daily = DailyService(library, clock=clock, sleep=never)
    started = time.monotonic()
    async with daily_running(daily):
        pass  # leaving before the scheduler's task has run at all
    assert time.monotonic() - started < 1


# ---- the poster on its own -----------------------------------------------------------------


async def test_multi_workspace_posts_use_that_workspace_bot_token(fake, db, library):
    store = DatabaseInstallationStore(SlackStore(db), "111.222")
    await store.async_save_bot(Bot(team_id="T0OAUTH", bot_token="xoxb-installed-token",
                                   bot_id="B1", bot_user_id="UB",
                                   installed_at=datetime.now(UTC)))
    poster = SlackPoster(http_settings(fake, bot_token=None, client_id="111.222",
                                       client_secret="s"), store)
    reply = QuoteReply(((await library.search("secret sauce"))[0],), public=True)
    ts = await poster.post(ChannelRef("slack", "T0OAUTH", "C1"), reply,
                           idempotency_key="qb-1-2024-10-25")
    assert ts == "1700000000.000100"
    (call,) = posts(fake)
    assert call.headers["Authorization"] == "Bearer xoxb-installed-token"
    with pytest.raises(PermanentPostError, match="not installed in this workspace"):
        await poster.post(ChannelRef("slack", "T0GONE", "C1"), reply, idempotency_key="k")
    assert poster.owns(ChannelRef("slack", "T0GONE", "C1"))


@pytest.mark.parametrize("status, error, kind, reason", [
    (200, "channel_not_found", "permanent", "the channel does not exist"),
    (200, "is_archived", "permanent", "the channel is archived"),
    (200, "account_inactive", "permanent", "deactivated"),
    (200, "token_revoked", "permanent", "revoked"),
    (200, "invalid_auth", "permanent", "no longer accepts"),
    (200, "missing_scope", "permanent", "lacks the Slack permission"),
    (200, "invalid_blocks", "permanent", "Slack refused the post (invalid_blocks)"),
    (429, "ratelimited", "transient", "rate limited by Slack"),
    (503, "service_unavailable", "transient", "Slack is having trouble"),
    (200, "internal_error", "transient", "Slack is having trouble (internal_error)"),
])
async def test_slack_errors_become_transient_or_permanent(fake, library, status, error, kind,
                                                          reason):
    from quotebot.bot.daily import TransientPostError

    fake.fail_once("chat.postMessage", status, retry_after=3, error=error)
    poster = SlackPoster(http_settings(fake))
    reply = QuoteReply(((await library.search("secret sauce"))[0],), public=True)
    expected = PermanentPostError if kind == "permanent" else TransientPostError
    with pytest.raises(expected) as caught:
        await poster.post(HERE, reply, idempotency_key="qb-1-2024-10-25")
    assert reason in caught.value.reason
    if status == 429:
        assert caught.value.retry_after == 3
    assert len(posts(fake)) == 1  # the poster does not retry by itself: the scheduler does


async def test_with_cards_on_the_daily_post_carries_the_card(app, fake, clock):
    driver, daily = app
    # Ilya's quotes all fit a card (this library also holds a 700-word one that does not,
    # which goes out as words: test_a_refused_card_upload_... covers a post without a card).
    await driver.command("daily 09:00 Europe/Paris by:ilya")
    refused = await driver.command("settings card:on", user="U0MEMBER")
    assert "Only admins" in text(refused) and refused.data["response_type"] == "ephemeral"
    await at(daily, clock, RUNS[date(2024, 10, 25)])
    assert len(posts(fake)) == 1 and fake.uploads() == []  # off by default

    done = await driver.command("settings card:on")
    assert "now come with a quote card" in text(done)
    assert "(card:on)" in text(await driver.command("settings"))
    result = await at(daily, clock, RUNS[date(2024, 10, 26)])
    assert [o.status for o in result.outcomes] == ["sent"]
    quote_id = assert_daily_post(posts(fake)[-1])  # the words and buttons as before
    ((ask, sent, complete),) = fake.uploads()  # then the card, in the same channel
    assert ask.data["filename"] == f"quote-{quote_id}.png"
    assert sent.raw.startswith(b"\x89PNG") and int(ask.data["length"]) == len(sent.raw)
    assert ask.data["alt_txt"].startswith("“") and "” — " in ask.data["alt_txt"]
    assert complete.data["channel_id"] == CHANNEL
    assert complete.headers["Authorization"] == "Bearer xoxb-test-token"

    await driver.command("settings card:off")
    await at(daily, clock, RUNS[date(2024, 10, 27)])
    assert len(posts(fake)) == 3 and len(fake.uploads()) == 1


async def test_a_refused_card_upload_does_not_fail_the_daily_post(app, fake, clock):
    driver, daily = app
    await driver.command("daily 09:00 Europe/Paris")
    await driver.command("settings card:on")
    fake.fail_once("files.getUploadURLExternal", status=200, error="missing_scope")
    result = await at(daily, clock, RUNS[date(2024, 10, 25)])
    assert [o.status for o in result.outcomes] == ["sent"]  # the words went out, once
    assert len(posts(fake)) == 1 and fake.uploads() == []
