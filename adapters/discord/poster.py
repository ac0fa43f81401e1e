"""The Discord Poster: daily quotes sent through the bot's own connection, for its shards only."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import discord

from quotebot.adapters.discord.interactions import PLATFORM
from quotebot.adapters.discord.render import render
from quotebot.bot.daily.poster import PermanentPostError, PostError, TransientPostError
from quotebot.bot.models import ChannelRef, QuoteReply

log = logging.getLogger(__name__)

# What the bot needs in a channel to post a quote there, as (Permissions flag, its UI name).
NEEDED = (("view_channel", "View Channel"), ("send_messages", "Send Messages"),
          ("embed_links", "Embed Links"))
IN_THREADS = (("view_channel", "View Channel"),
              ("send_messages_in_threads", "Send Messages in Threads"),
              ("embed_links", "Embed Links"))
MISSING_ACCESS, UNKNOWN_CHANNEL, MISSING_PERMISSIONS = 50001, 10003, 50013
ASK = "I need View Channel, Send Messages and Embed Links there"
FAILURES = (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, TimeoutError,
            OSError)
# A retried daily post is looked for among the channel's newest messages of the last day.
HISTORY_LIMIT = 50
HISTORY_WINDOW = timedelta(days=1)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that serves a guild (Discord's rule: `(guild_id >> 22) % shard_count`)."""
    return (guild_id >> 22) % max(shard_count, 1)


def post_error(exc: Exception) -> PostError:
    """One of `FAILURES` as the scheduler's transient or permanent error."""
    if isinstance(exc, discord.RateLimited):
        return TransientPostError("rate limited by Discord", exc.retry_after)
    if isinstance(exc, discord.Forbidden):
        if exc.code == MISSING_ACCESS:
            return PermanentPostError("I cannot see that channel (Missing Access): "
                                      f"{ASK}")
        return PermanentPostError(f"Discord says I am missing permissions: {ASK}")
    if isinstance(exc, discord.NotFound):
        if exc.code == UNKNOWN_CHANNEL:
            return PermanentPostError("the channel no longer exists")
        return PermanentPostError(f"Discord answered 404 ({exc.text or 'not found'})")
    if isinstance(exc, discord.DiscordServerError):
        return TransientPostError(f"Discord server error {exc.status}")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return TransientPostError("rate limited by Discord", _retry_after(exc))
        if exc.status == 401:
            return PermanentPostError("Discord no longer accepts the bot token")
        return PermanentPostError(f"Discord refused the post ({exc.status}: "
                                  f"{exc.text or 'no reason given'})")
    return TransientPostError(f"cannot reach Discord ({type(exc).__name__})")


def _retry_after(exc: discord.HTTPException) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return float(headers.get("Retry-After"))
    except (TypeError, ValueError):
        return None


class DiscordPoster:
    """Posts daily quotes publicly, rendered as search results are, pinging nobody.

    Args:
        client: the running bot; its shard count and ids decide which guilds it owns.
    """

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def owns(self, channel: ChannelRef) -> bool:
        """True for guilds on this process's shards (all of them when it runs every shard)."""
        if channel.platform != PLATFORM or not channel.workspace.isdigit():
            return False
        shard_ids = getattr(self.client, "shard_ids", None)
        if shard_ids is None:
            single = getattr(self.client, "shard_id", None)
            shard_ids = None if single is None else [single]
        if shard_ids is None:
            return True
        return shard_of(int(channel.workspace), self.client.shard_count or 1) in shard_ids

    async def check(self, channel: ChannelRef) -> None:
        """Fetch the channel and make sure the bot may view it, send and embed there.

        Raises:
            PermanentPostError: gone, not visible, not in this server, not a text channel,
                or a permission is missing (named).
            TransientPostError: Discord could not be asked just now.
        """
        if not channel.workspace.isdigit():
            raise PermanentPostError("daily quotes are for server channels, not DMs")
        guild = self.client.get_guild(int(channel.workspace))
        if guild is None:
            raise TransientPostError("the server is not available right now")
        try:
            target = await self.client.fetch_channel(int(channel.channel))
        except ValueError as exc:
            raise PermanentPostError("that is not a Discord channel") from exc
        except FAILURES as exc:
            raise post_error(exc) from exc
        if getattr(target, "guild", None) is None or target.guild.id != guild.id:
            raise PermanentPostError("that channel is not in this server")
        if not isinstance(target, discord.abc.Messageable):
            raise PermanentPostError("I can only post in text channels")
        me = guild.me
        if me is None:
            raise TransientPostError("the server is not ready yet")
        try:
            allowed = target.permissions_for(me)
        except discord.ClientException as exc:  # a thread whose parent is not cached yet
            raise TransientPostError("the channel is not available right now") from exc
        needed = IN_THREADS if isinstance(target, discord.Thread) else NEEDED
        missing = [name for flag, name in needed if not getattr(allowed, flag)]
        if missing:
            plural = "permission" if len(missing) == 1 else "permissions"
            raise PermanentPostError(f"I need the {_join(missing)} {plural} there")

    async def post(self, channel: ChannelRef, reply: QuoteReply, *, idempotency_key: str) -> str:
        """Send the quote for everyone; the key is the message nonce (enforced), so a retry
        of a send that did go through returns the same message instead of a second one."""
        out = render(reply, public=True)
        target = self.client.get_partial_messageable(
            int(channel.channel),
            guild_id=int(channel.workspace) if channel.workspace.isdigit() else None,
        )
        try:
            # discord.py sends `enforce_nonce: true` with every nonce.
            message = await target.send(**out.send_kwargs(), nonce=idempotency_key)
        except discord.Forbidden as exc:
            if reply.card is None or exc.code != MISSING_PERMISSIONS:
                raise post_error(exc) from exc
            # A card needs Attach Files too; without it the words still go out, once.
            log.warning("daily %s in %s: no Attach Files permission, posting without the card",
                        idempotency_key, channel.channel)
            return await self.post(channel, replace(reply, card=None),
                                   idempotency_key=idempotency_key)
        except FAILURES as exc:
            raise post_error(exc) from exc
        return str(message.id)

    async def find_sent(self, channel: ChannelRef, reply: QuoteReply, *,
                        idempotency_key: str) -> str | None:
        """The id of this post if an earlier attempt made it: a message of the bot's own
        (not an interaction's answer) among the channel's newest, from the last day, showing
        the same quote the same way.

        The nonce cannot tell: Discord keeps it for a few minutes only, and a post is taken
        over from a dead process after its 5-minute lease at the earliest, while fetched
        messages do not carry it. The day's quote is kept across a takeover and a channel's
        daily quotes do not repeat within a cycle, so the quote itself marks the day's post.

        Raises:
            PostError: the channel's messages cannot be read (the bot lacks Read Message
                History there, Discord is down); the scheduler then posts anyway.
        """
        me = self.client.user
        wanted = render(reply, public=True).embed
        if me is None or wanted is None:
            return None
        target = self.client.get_partial_messageable(
            int(channel.channel),
            guild_id=int(channel.workspace) if channel.workspace.isdigit() else None,
        )
        since = datetime.now(UTC) - HISTORY_WINDOW
        try:
            async for message in target.history(limit=HISTORY_LIMIT):
                if message.created_at < since:
                    break
                if message.author.id != me.id or message.interaction_metadata is not None:
                    continue
                shown = message.embeds[0] if message.embeds else None
                if shown is not None and (shown.description, shown.footer.text) == \
                        (wanted.description, wanted.footer.text):
                    log.info("daily %s: found as message %s", idempotency_key, message.id)
                    return str(message.id)
        except FAILURES as exc:
            raise post_error(exc) from exc
        return None


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
