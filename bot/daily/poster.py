"""The small outbound protocol each chat adapter implements so the scheduler can post."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from quotebot.bot.models import ChannelRef, QuoteReply


class PostError(Exception):
    """A post that did not go out."""


class TransientPostError(PostError):
    """Worth retrying: rate limit, 5xx, timeout, connection reset.

    Args:
        reason: what happened, for the logs and `daily list`.
        retry_after: seconds the platform asked us to wait (a 429's Retry-After), if any.
    """

    def __init__(self, reason: str = "temporary failure", retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentPostError(PostError):
    """Will not get better by itself: channel deleted, bot removed, missing permissions.

    After `quotebot.store.daily.DISABLE_AFTER` (3) consecutive permanent failures the subscription
    is disabled and `reason` is shown in `daily list`, so write it for a channel admin to
    act on ("the bot lacks the Send Messages permission in #general"). Permanent failures
    are retried an hour apart meanwhile, in case an admin fixes the permissions.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class Poster(Protocol):
    """How the scheduler reaches one platform. One instance per platform per process.

    The scheduler never knows which platform it talks to; it picks the Poster by
    `ChannelRef.platform`.
    """

    def owns(self, channel: ChannelRef) -> bool:
        """Whether this process serves the channel's guild/workspace.

        A sharded Discord bot returns True only for guilds on its own shards, so every
        subscription is handled by exactly one process; unsharded posters return True.
        """
        ...

    async def check(self, channel: ChannelRef) -> None:
        """Verify, before a subscription is saved, that the bot can post in `channel`.

        Raises:
            PermanentPostError: with a reason the user can act on ("I can't post in
                #general: I need the Send Messages and Embed Links permissions").
        """
        ...

    async def post(self, channel: ChannelRef, reply: QuoteReply, *, idempotency_key: str) -> str:
        """Post `reply` publicly in `channel`, rendered as search results are; return a ref.

        `idempotency_key` (e.g. `qb-12-2024-11-24`; at most 25 characters, Discord's nonce
        limit) is the same for every retry of one daily post. Platforms that can
        deduplicate should use it so a retry after a timeout that actually went through
        does not post twice: Discord sends it as the message `nonce` with
        `enforce_nonce=True` (Discord remembers nonces for a few minutes; our first retry
        comes 30 s later); Slack has no such key, so its poster sends it as message
        metadata and finds it again with `FindsSent.find_sent` before a retry. Return a
        message reference (Discord message id, Slack `ts`) for the post history.

        Raises:
            TransientPostError: rate limits, 5xx, timeouts; retried with backoff.
            PermanentPostError: channel gone, bot removed or not in the channel, missing
                permissions; counts toward disabling the subscription.
        """
        ...


@runtime_checkable
class FindsSent(Protocol):
    """A Poster that can tell whether a post already went out (optional).

    For platforms without a lasting server-side idempotency key (Slack has none; Discord
    forgets a nonce after a few minutes), a retry of a post whose sender died (or timed out)
    after the platform had made the message would post it twice.
    The scheduler asks `find_sent` first whenever it retries a claim (taken over after a
    crash, or after a failure), and records the message found instead of posting again.
    """

    async def find_sent(self, channel: ChannelRef, reply: QuoteReply, *,
                        idempotency_key: str) -> str | None:
        """The reference of a message posted under `idempotency_key` in `channel`, or None.
        `reply` is what that message showed (for platforms that keep no key with it).

        Raises:
            PostError: the platform could not be asked (the scheduler then posts anyway, as
                it would without this method).
        """
        ...
