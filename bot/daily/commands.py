"""The `daily` commands (set, stop, list, now): plain handlers over `Services.daily`."""

from __future__ import annotations

import logging

from quotebot.bot.commands import SOURCE, SPEAKER
from quotebot.bot.daily.schedule import format_local, timezone_choices, zone
from quotebot.bot.daily.service import DailyError, DailyService, channel_id, mention
from quotebot.bot.models import (
    ChannelRef,
    ErrorReply,
    ListReply,
    QuoteReply,
    Reply,
    Request,
    Text,
    TextReply,
)
from quotebot.bot.registry import ChannelId, Choice, Command, Option, Services

log = logging.getLogger(__name__)

UNAVAILABLE = ErrorReply("Daily quotes are not available here.",
                         ("They run inside the Discord and Slack bots.",))


async def complete_timezone(services: Services, partial: str, request: Request) -> list[Choice]:
    """IANA zone names for the `timezone` option, best first."""
    return [Choice(name, name) for name in timezone_choices(partial)]


def target_channel(request: Request) -> ChannelRef | None:
    """The channel the command is about: its `channel` argument, else where it was typed."""
    if request.channel is None:
        return None
    text = channel_id(str(request.arg("channel") or request.channel.channel))
    return ChannelRef(request.channel.platform, request.channel.workspace, text,
                      request.channel.org)


def _context(request: Request, services: Services
             ) -> tuple[DailyService, ChannelRef] | ErrorReply:
    daily = services.daily
    if daily is None:
        return UNAVAILABLE
    channel = target_channel(request)
    if channel is None or request.user is None:
        return ErrorReply("Daily quotes are set up from a chat channel.")
    return daily, channel


def _error(exc: DailyError) -> ErrorReply:
    return ErrorReply(exc.message, exc.suggestions)


# ---- handlers -----------------------------------------------------------------------------


async def daily_set(request: Request, services: Services) -> Reply:
    """Post a good quote in a channel every day at a local time."""
    context = _context(request, services)
    if isinstance(context, ErrorReply):
        return context
    daily, channel = context
    try:
        result = await daily.set(
            channel,
            time=str(request.arg("time", "")),
            timezone=request.arg("timezone"),
            speaker=request.arg("speaker"),
            source=request.arg("source"),
            actor=request.user,
        )
    except DailyError as exc:
        return _error(exc)
    sub = result.subscription
    filters = " ".join(filter(None, (
        f"by {sub.speaker}" if sub.speaker else None,
        f"from {sub.source}" if sub.source else None,
    )))
    verb = "Daily quote" if result.created else "Daily quote changed:"
    return TextReply(Text.of(
        f"{verb} for ", mention(sub.channel), f" at {sub.local_time} {sub.timezone}"
        f"{f' ({filters})' if filters else ''}, "
        f"next on {format_local(result.next_at, zone(sub.timezone))}."))


async def daily_stop(request: Request, services: Services) -> Reply:
    """Stop a channel's daily quote."""
    context = _context(request, services)
    if isinstance(context, ErrorReply):
        return context
    daily, channel = context
    try:
        sub = await daily.stop(channel, actor=request.user)
    except DailyError as exc:
        return _error(exc)
    return TextReply(Text.of("Stopped the daily quote in ", mention(sub.channel), "."))


async def daily_list(request: Request, services: Services) -> Reply:
    """The daily quotes here, with their next post, last post and last error."""
    daily: DailyService | None = services.daily
    if daily is None:
        return UNAVAILABLE
    where = request.channel
    subs = await daily.list(platform=where.platform if where else None,
                            workspace=where.workspace if where else None)
    now = daily.clock()
    items = tuple(daily.describe(s, now) for s in subs)
    return ListReply("Daily quotes",
                     items or ("No daily quotes yet. Set one with /quote daily set",))


async def daily_now(request: Request, services: Services) -> Reply:
    """Post a channel's daily quote right now (the scheduled one still comes)."""
    context = _context(request, services)
    if isinstance(context, ErrorReply):
        return context
    daily, channel = context
    try:
        sub, quote, ref = await daily.post_now(channel, actor=request.user)
    except DailyError as exc:
        return _error(exc)
    if ref is None:  # no poster for this platform here (console): show it to the caller
        return QuoteReply((quote,), public=True)
    return TextReply(Text.of(f"Posted quote #{quote.id} in ", mention(sub.channel), "."))


CHANNEL = Option("channel", "The channel (default: this one).", type=ChannelId,
                 platforms=frozenset({"discord"}))
DAILY_COMMANDS: tuple[Command, ...] = (
    # First of the group: in the text grammar `/quote daily 09:00 ...` runs it.
    Command(
        "daily set", daily_set.__doc__ or "", daily_set,
        (
            CHANNEL,
            Option("time", "Local time, 24-hour HH:MM (e.g. 09:00).", required=True),
            Option("timezone", "IANA timezone, e.g. Europe/Paris (default: UTC, or the "
                   "current one).", complete=complete_timezone),
            SPEAKER,
            SOURCE,
        ),
        admin=True,
        examples=("/quote daily 09:00 Europe/Paris by:ilya",),
    ),
    Command("daily stop", daily_stop.__doc__ or "", daily_stop, (CHANNEL,),
            aliases=("daily off",), admin=True),
    Command("daily list", daily_list.__doc__ or "", daily_list, aliases=("daily",)),
    Command("daily now", daily_now.__doc__ or "", daily_now, (CHANNEL,), admin=True),
)
