"""The Slack Poster: daily quotes sent with chat.postMessage, using each workspace's bot token."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from quotebot.adapters.slack.render import render
from quotebot.adapters.slack.requests import PLATFORM
from quotebot.adapters.slack.settings import SlackSettings
from quotebot.adapters.slack.uploads import UPLOAD_FAILURES, upload_card
from quotebot.bot.daily.poster import PermanentPostError, PostError, TransientPostError
from quotebot.bot.models import ChannelRef, QuoteReply

log = logging.getLogger(__name__)

INVITE = "invite me with /invite @quotebot"
REINSTALL = "reinstall the app in this workspace"
# Slack error codes worth retrying; any other error is permanent (and named).
TRANSIENT = frozenset({"ratelimited", "rate_limited", "accesslimited", "fatal_error",
                       "internal_error", "request_timeout", "service_unavailable",
                       "team_added_to_org", "message_limit_exceeded"})
REASONS = {
    "channel_not_found": f"the channel does not exist, or it is private and I am not in it: "
                         f"{INVITE}",
    "not_in_channel": f"I am not in this channel: {INVITE}",
    "is_archived": "the channel is archived",
    "account_inactive": f"quotebot's Slack account is deactivated: {REINSTALL}",
    "token_revoked": f"quotebot's access to this workspace was revoked: {REINSTALL}",
    "invalid_auth": f"Slack no longer accepts quotebot's token: {REINSTALL}",
    "not_authed": f"Slack no longer accepts quotebot's token: {REINSTALL}",
    "restricted_action": "the workspace does not let me post in this channel",
}
NOT_INSTALLED = f"quotebot is not installed in this workspace any more: {REINSTALL}"
# Every daily post carries its idempotency key as message metadata, so a retry can find it.
EVENT_TYPE = "quotebot_daily_post"
HISTORY_LIMIT = 100  # recent messages searched for a retried post's key


def post_error(exc: Exception) -> PostError:
    """A failed Slack call as the scheduler's transient or permanent error."""
    if not isinstance(exc, SlackApiError):  # connection reset, timeout, DNS
        return TransientPostError(f"cannot reach Slack ({type(exc).__name__})")
    response = exc.response
    error = str(response.get("error") or "unknown_error")
    status = getattr(response, "status_code", 200)
    if status == 429 or error in ("ratelimited", "rate_limited"):
        return TransientPostError("rate limited by Slack", _retry_after(response))
    if status >= 500 or error in TRANSIENT:
        return TransientPostError(f"Slack is having trouble ({error})")
    if error == "missing_scope":
        needed = response.get("needed") or "a scope"
        return PermanentPostError(f"quotebot lacks the Slack permission {needed}: {REINSTALL}")
    return PermanentPostError(REASONS.get(error, f"Slack refused the post ({error})"))


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class SlackPoster:
    """Posts daily quotes publicly, rendered as shared search results are (escaped, no buttons).

    Args:
        settings: the API base URL, and the bot token of a single-workspace install.
        installations: with OAuth installs, where each workspace's bot token is kept.
    """

    def __init__(self, settings: SlackSettings,
                 installations: AsyncInstallationStore | None = None) -> None:
        self.settings = settings
        self.installations = installations

    def owns(self, channel: ChannelRef) -> bool:
        """One process serves every workspace."""
        return channel.platform == PLATFORM

    async def client(self, workspace: str) -> AsyncWebClient:
        """A client with the workspace's bot token, looked up on every call (tokens rotate and
        are revoked). No automatic retries: the scheduler retries, with its own backoff.

        Raises:
            PermanentPostError: no installation for the workspace.
        """
        token = self.settings.bot_token
        if self.installations is not None:
            bot = await self.installations.async_find_bot(enterprise_id=None,
                                                          team_id=workspace)
            token = bot.bot_token if bot is not None else None
        if not token:
            raise PermanentPostError(NOT_INSTALLED)
        return AsyncWebClient(token=token, base_url=self.settings.api_url, retry_handlers=[],
                              user_agent_prefix="quotebot")

    async def check(self, channel: ChannelRef) -> None:
        """Ask conversations.info whether the channel exists, is open, and lets the bot in.

        A public channel is fine without the bot in it (chat:write.public); a private one
        or a DM needs the bot as a member.

        Raises:
            PermanentPostError: archived, gone, private without the bot, or access revoked.
            TransientPostError: Slack could not be asked just now.
        """
        client = await self.client(channel.workspace)
        try:
            response = await client.conversations_info(channel=channel.channel)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise post_error(exc) from exc
        info = response.get("channel") or {}
        if info.get("is_archived"):
            raise PermanentPostError(REASONS["is_archived"])
        private = info.get("is_private") or info.get("is_im") or info.get("is_mpim")
        if private and not info.get("is_member"):
            raise PermanentPostError(REASONS["not_in_channel"])

    async def post(self, channel: ChannelRef, reply: QuoteReply, *, idempotency_key: str) -> str:
        """chat.postMessage the quote for everyone, then its card if it has one (an image
        upload with alt text); returns the message `ts`.

        Slack has no idempotency key: `idempotency_key` goes with the message as its metadata,
        where `find_sent` looks for it before a retry.
        """
        client = await self.client(channel.workspace)
        message = render(reply)
        try:
            response = await client.chat_postMessage(
                channel=channel.channel, unfurl_links=False, unfurl_media=False, parse="none",
                metadata={"event_type": EVENT_TYPE,
                          "event_payload": {"key": idempotency_key}},
                **message,
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise post_error(exc) from exc
        log.debug("posted %s in %s/%s", idempotency_key, channel.workspace, channel.channel)
        if reply.card is not None:
            try:
                await upload_card(client, channel.channel, reply.card, reply.quote)
            except UPLOAD_FAILURES as exc:
                # The words went out: failing now would retry and post them twice.
                log.warning("daily %s in %s/%s: the card was not uploaded (%s)",
                            idempotency_key, channel.workspace, channel.channel,
                            post_error(exc).reason)
        return str(response.get("ts"))

    async def find_sent(self, channel: ChannelRef, reply: QuoteReply, *,
                        idempotency_key: str) -> str | None:
        """The `ts` of a message of ours carrying `idempotency_key` among the channel's recent
        messages (conversations.history, which needs channels:history / groups:history), or
        None. The scheduler asks before it retries a post, whose earlier attempt may have gone
        out before its sender died.

        Raises:
            PostError: the history cannot be read (a missing scope in an install made before
                quotebot asked for it, a channel the bot is not in, Slack down).
        """
        client = await self.client(channel.workspace)
        try:
            response = await client.conversations_history(
                channel=channel.channel, limit=HISTORY_LIMIT, include_all_metadata=True)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise post_error(exc) from exc
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == EVENT_TYPE and \
                    (metadata.get("event_payload") or {}).get("key") == idempotency_key:
                return str(message.get("ts"))
        return None
