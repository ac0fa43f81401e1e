"""The daily-quote facade the commands and the operator CLI use: set, stop, list, post now.

Every input is validated before anything is written, so a bad time, an unknown timezone
or speaker, a filter with no good quote or a channel the bot cannot post in changes
nothing. The permission rule lives here: an admin of the server/workspace (the adapter's
`UserRef.is_admin`) or the creator of the subscription may change it; creating one needs
an admin.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from quotebot.bot import cards
from quotebot.bot.commands import FILTER_MAX
from quotebot.bot.daily.poster import PermanentPostError, Poster, TransientPostError
from quotebot.bot.daily.schedule import (
    ScheduleError,
    format_local,
    format_time,
    local_day,
    next_run,
    parse_time,
    parse_timezone,
    timezone_choices,
    zone,
)
from quotebot.bot.daily.scheduler import Clock, Scheduler, Sleep, channel_of, plan, utc_now
from quotebot.bot.library import LookupFailed, QuoteLibrary, quote_from_row
from quotebot.bot.models import ChannelRef, Hint, Mention, Quote, QuoteReply, Text, UserRef
from quotebot.store.daily import DailyStore, Subscription, parse_iso
from quotebot.store.quotes import RAND_KEY_MAX

log = logging.getLogger(__name__)

OPERATOR = UserRef("cli", "operator", "operator", is_admin=True)
"""The actor of the operator CLI: may change any subscription, checks no channel."""


class DailyError(Exception):
    """A daily request we refuse; `message` and `suggestions` are for the user."""

    def __init__(self, message: str | Text, suggestions: tuple[str | Hint, ...] = ()) -> None:
        super().__init__(str(message))
        self.message = message
        self.suggestions = suggestions


def creator_key(user: UserRef) -> str:
    """How `subscriptions.created_by` names a user: `discord:1234`, `slack:U0123`."""
    return f"{user.platform}:{user.id}"


def may_manage(user: UserRef | None, sub: Subscription | None) -> bool:
    """An admin may change anything; otherwise only the creator, their own subscription."""
    if user is None:
        return False
    if user.is_admin:
        return True
    return sub is not None and sub.created_by == creator_key(user)


# `<#C0123|general>` (Slack), `<#1234>` (Discord): a channel written as a link.
_CHANNEL_MENTION = re.compile(r"^<#([^>|]+)(?:\|[^>]*)?>$")
# What Discord (digits), Slack (C0123, T0123) and the console ids look like; a workspace
# may also be an adapter's marker such as Discord's `@me` (DMs), which its poster refuses
# with a better message.
_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_WORKSPACE = re.compile(r"^@?[A-Za-z0-9_-]{1,80}$")


def channel_id(text: str) -> str:
    """A channel as its bare id: `<#C9|general>` and `<#C9>` become `C9`; else stripped."""
    text = text.strip()
    if match := _CHANNEL_MENTION.match(text):
        return match.group(1).strip()
    return text


def check_channel(channel: ChannelRef) -> None:
    """Refuse a blank or malformed workspace or channel id before it is stored or looked up.

    Raises:
        DailyError: naming what is wrong (the value shown clipped).
    """
    for what, value, pattern in (("workspace", channel.workspace, _WORKSPACE),
                                 ("channel", channel.channel, _ID)):
        if not value.strip():
            raise DailyError(f"The {what} is empty.", (f"Give a {what} id, e.g. C0123.",))
        if not pattern.match(value):
            shown = value if len(value) <= 40 else value[:39] + "…"
            raise DailyError(f"“{shown}” is not a {what} id.",
                             (f"Give the {what}'s id (letters, digits, - or _), "
                              "e.g. C0123 or 1234567890.",))


def check_name(what: str, value: str | None) -> None:
    """Refuse a speaker or source filter too long to be a name, without echoing it whole."""
    if value is not None and len(value) > FILTER_MAX:
        raise DailyError(f"That {what} name is too long ({len(value):,} characters; "
                         f"at most {FILTER_MAX}).")


def mention(channel: str) -> Mention:
    """The channel as a part of a reply's text: each platform links it its own way."""
    return Mention(channel)


@dataclass(frozen=True)
class SetResult:
    subscription: Subscription
    created: bool
    next_at: datetime


class DailyService:
    """What handlers and the CLI call; owns the store and a Scheduler sharing its posters.

    Adapters build one per process with their Poster, put it in `Services(daily=...)` and
    run `service.scheduler.run()` as a background task; changes made here wake it.

    Args:
        library: the quote library (speaker/source names and quote rows).
        store: the daily store (default: over the library's database).
        posters: platform -> Poster. Without one for a platform, `set` skips the channel
            check and `post_now` returns the quote for the caller to show instead.
        clock, sleep, rng, process_id: injected into the scheduler; see Scheduler.
    """

    def __init__(
        self,
        library: QuoteLibrary,
        store: DailyStore | None = None,
        *,
        posters: Mapping[str, Poster] | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        process_id: str | None = None,
    ) -> None:
        self.library = library
        self.store = store or DailyStore(library.db)
        self.posters: dict[str, Poster] = dict(posters or {})
        self.clock = clock
        self.rng = rng or random.Random()
        self.scheduler = Scheduler(self.store, library, self.posters, clock, sleep, self.rng,
                                   process_id)

    # ---- changes ------------------------------------------------------------------------

    async def set(
        self,
        channel: ChannelRef,
        *,
        time: str,
        timezone: str | None = None,
        speaker: str | None = None,
        source: str | None = None,
        actor: UserRef | None,
    ) -> SetResult:
        """Subscribe `channel` (or change its subscription) after validating everything.

        `timezone` defaults to the subscription's current one, else UTC; `speaker` and
        `source` replace the current filters (omitted = no filter).

        Raises:
            DailyError: not allowed, bad time or timezone, unknown speaker or source, no
                good quote for the filters, or the bot cannot post in the channel.
        """
        check_channel(channel)
        existing = await self.store.find(channel.platform, channel.workspace, channel.channel)
        self._require(actor, existing, "set up a daily quote")
        if timezone is not None and not timezone.strip():
            # An empty value given on purpose is a mistake, not "UTC" (leave it out for that).
            raise DailyError("The timezone is empty.",
                             ("Give an IANA timezone, e.g. Europe/Paris, or leave it out.",))
        try:
            at = format_time(parse_time(time))
            tz_name = parse_timezone(timezone) if timezone else (
                existing.timezone if existing else "UTC")
        except ScheduleError as exc:
            raise DailyError(exc.message, exc.suggestions) from exc
        check_name("speaker", speaker)
        check_name("source", source)
        # The channel's library: its names, and later its quotes (the store reads the
        # subscription's library at every draw).
        scope = await self.library.scope(channel)
        try:
            # Fuzzy matching in a worker thread: the bot keeps answering while it runs.
            who = await asyncio.to_thread(self.library.resolve_speaker, speaker, scope) \
                if speaker else None
            where = await asyncio.to_thread(self.library.resolve_source, source, scope) \
                if source else None
        except LookupFailed as exc:
            raise DailyError(exc.message, exc.suggestions) from exc
        speaker_id = who.id if who else None
        source_id = where.id if where else None
        if not await self.store.has_eligible(speaker_id, source_id, scope.collections):
            what = " and ".join(filter(None, (
                f"by {who.name}" if who else None, f"from {where.title}" if where else None)))
            raise DailyError(
                f"No quote {what} is good enough for a daily post." if what
                else "There are no quotes good enough for a daily post yet.",
                ("Try another speaker or source, or none.",) if what else (),
            )
        await self._check_channel(channel)
        now = self.clock()
        sub, created = await self.store.upsert(
            platform=channel.platform, workspace=channel.workspace, channel=channel.channel,
            local_time=at, timezone=tz_name, speaker_id=speaker_id, source_id=source_id,
            created_by=creator_key(actor), now=now, org=channel.org,
        )
        self.scheduler.notify_changed()
        log.info("daily subscription %s %s by %s: %s %s", sub.id,
                 "created" if created else "changed", creator_key(actor), at, tz_name)
        return SetResult(sub, created, self.next_at(sub, now))

    async def stop(self, channel: ChannelRef, *, actor: UserRef | None) -> Subscription:
        """Remove the channel's subscription (and its history).

        Raises:
            DailyError: there is none, or the actor may not change it.
        """
        check_channel(channel)
        sub = await self.store.find(channel.platform, channel.workspace, channel.channel)
        if sub is None:
            raise DailyError(Text.of("There is no daily quote in ", mention(channel.channel),
                                     "."))
        self._require(actor, sub, "stop this daily quote")
        await self.store.delete(sub.id)
        self.scheduler.notify_changed()
        return sub

    async def remove(self, subscription_id: int) -> Subscription | None:
        """Operator removal by id; the removed subscription, or None if there was none."""
        sub = await self.store.get(subscription_id)
        if sub is not None and await self.store.delete(subscription_id):
            self.scheduler.notify_changed()
            return sub
        return None

    async def post_now(
        self, channel: ChannelRef, *, actor: UserRef | None
    ) -> tuple[Subscription, Quote, str | None]:
        """Post the channel's next quote at once, publicly; the day's own post still happens.

        The quote comes from the subscription's filters and current no-repeat cycle but is
        not recorded in it. Returns (subscription, quote, message ref); the ref is None when
        this process has no poster for the platform (the caller shows the quote itself).

        Raises:
            DailyError: no subscription, not allowed, no quote, or the post failed.
        """
        check_channel(channel)
        sub = await self.store.find(channel.platform, channel.workspace, channel.channel)
        if sub is None:
            raise DailyError(Text.of("There is no daily quote in ", mention(channel.channel),
                                     "."),
                             (Hint("Set one up first:", command="daily set"),))
        self._require(actor, sub, "post this daily quote")
        row = await self.store.pick(sub.id, rand_key=self.rng.randint(0, RAND_KEY_MAX))
        if row is None:
            raise DailyError("No quote matches this daily quote's filters any more.",
                             (Hint("Set it again with other filters:", command="daily set"),))
        quote = quote_from_row(row)
        poster = self.posters.get(channel.platform)
        if poster is None:
            return sub, quote, None
        key = f"qb-{sub.id}-n{self.rng.getrandbits(40):010x}"  # <= 25 chars, like the daily one
        card = None
        if await self.library.card_for(channel):
            card, _ = await cards.draw_card(quote)
        try:
            ref = await poster.post(channel_of(sub), QuoteReply((quote,), public=True, card=card),
                                    idempotency_key=key)
        except PermanentPostError as exc:
            raise DailyError(Text.of("I can't post in ", mention(channel.channel),
                                     f": {exc.reason}")) from exc
        except TransientPostError as exc:
            raise DailyError(f"Posting failed for now ({exc.reason}); try again shortly.") from exc
        return sub, quote, str(ref)

    # ---- reads --------------------------------------------------------------------------

    async def list(self, *, platform: str | None = None, workspace: str | None = None
                   ) -> list[Subscription]:
        return await self.store.list(platform=platform, workspace=workspace)

    async def find(self, channel: ChannelRef) -> Subscription | None:
        return await self.store.find(channel.platform, channel.workspace, channel.channel)

    def next_at(self, sub: Subscription, now: datetime | None = None) -> datetime:
        """When the subscription next posts (UTC): its schedule, minus a day already done,
        or the retry time of today's failed post."""
        now = now or self.clock()
        return plan(sub, now).next_at or next_run(now, parse_time(sub.local_time),
                                                  zone(sub.timezone))

    def describe(self, sub: Subscription, now: datetime | None = None) -> Text:
        """One line for `daily list`: where, when, filters, next, last post, last error."""
        now = now or self.clock()
        tz = zone(sub.timezone)
        parts = [f"{sub.local_time} {sub.timezone}"]
        if sub.speaker:
            parts.append(f"by {sub.speaker}")
        if sub.source:
            parts.append(f"in {sub.source}")
        if sub.enabled:
            retrying = (sub.latest_date == local_day(now, tz).isoformat()
                        and sub.latest_sent_at is None and sub.latest_abandoned_at is None)
            word = "retrying" if retrying else "next"
            parts.append(f"{word} {format_local(self.next_at(sub, now), tz)}")
        else:
            parts.append(f"disabled: {sub.disabled_reason or 'unknown reason'}")
        last = parse_iso(sub.last_sent_at)
        parts.append(f"last posted {format_local(last, tz)}" if last else "not posted yet")
        if sub.last_error and sub.last_error != sub.disabled_reason:
            parts.append(f"last error: {sub.last_error}")
        return Text.of(mention(sub.channel), " · " + " · ".join(parts))

    def timezone_choices(self, partial: str, limit: int = 25) -> list[str]:
        return timezone_choices(partial, limit)

    # ---- helpers ------------------------------------------------------------------------

    def _require(self, actor: UserRef | None, sub: Subscription | None, what: str) -> None:
        if may_manage(actor, sub):
            return
        if sub is None:
            raise DailyError(f"Only server or workspace admins can {what}.")
        raise DailyError(f"Only server or workspace admins, or whoever set it up, can {what}.")

    async def _check_channel(self, channel: ChannelRef) -> None:
        poster = self.posters.get(channel.platform)
        if poster is None:
            return
        try:
            await poster.check(channel)
        except PermanentPostError as exc:
            raise DailyError(Text.of("I can't post in ", mention(channel.channel),
                                     f": {exc.reason}")) from exc
        except TransientPostError as exc:
            raise DailyError(
                Text.of("I couldn't check ", mention(channel.channel),
                        f" just now ({exc.reason}); try again shortly.")
            ) from exc
