"""The daily-post loop: sleep until the next post is due, claim it, post it, record the outcome.

One pass (`run_once`) reads every enabled subscription with the state of its latest post,
decides from the schedule maths which are due, and for each one claims the day
(`DailyStore.claim`: quote chosen and (subscription, local date) recorded in one
transaction), posts through the platform's Poster, and marks it sent or failed. `run()`
repeats passes, sleeping until the earliest next due time (capped at `max_sleep` so changes
made by other processes, e.g. the operator CLI, are picked up), and wakes at once when
`notify_changed()` is called. Time, sleep and randomness are injected.

Guarantees (see store/daily.py): at most one claim per subscription per local day across
processes; a claim whose sender crashed is retried by anyone once its lease expires; a
failed send is retried with backoff while its local day lasts, then abandoned.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from quotebot.bot import cards
from quotebot.bot.daily.poster import (
    FindsSent,
    PermanentPostError,
    Poster,
    PostError,
    TransientPostError,
)
from quotebot.bot.daily.schedule import (
    ScheduleError,
    first_run_after_day,
    local_day,
    parse_time,
    run_at,
    zone,
)
from quotebot.bot.library import CLEAN, QuoteLibrary, quote_from_row
from quotebot.bot.models import Card, ChannelRef, QuoteReply
from quotebot.store.daily import Claim, DailyStore, Subscription, parse_iso
from quotebot.store.db import StoreError
from quotebot.store.quotes import RAND_KEY_MAX

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[object]]

LEASE = timedelta(minutes=5)  # how long a claim is ours; far longer than SEND_TIMEOUT
SEND_TIMEOUT = 60.0  # seconds a Poster may take before the attempt counts as transient
MAX_SLEEP = 900.0  # re-read the subscriptions at least this often (seconds)
MIN_SLEEP = 1.0  # never spin, even if something is due again at once
ERROR_SLEEP = 60.0  # after a pass failed unexpectedly (database locked for 10 s, ...)
TRANSIENT_BASE = 30.0  # first retry after a transient failure; doubles up to TRANSIENT_MAX
TRANSIENT_MAX = 1800.0
PERMANENT_RETRY = 3600.0  # retry after a permanent failure (an admin may fix permissions)
DAILY_NOTE = "Quote of the day"


def utc_now() -> datetime:
    return datetime.now(UTC)


def idempotency_key(subscription_id: int, local_date: str) -> str:
    """The key every attempt of one daily post shares: `qb-<subscription>-<local date>`."""
    return f"qb-{subscription_id}-{local_date}"


def channel_of(sub: Subscription) -> ChannelRef:
    return ChannelRef(sub.platform, sub.workspace, sub.channel)


def daily_reply(quote_row, style: str = CLEAN, card: Card | None = None) -> QuoteReply:
    """The public post: one highlight (or quote), rendered like a search result (with its
    #id), clean unless the channel asked for the exact words, with its card if drawn."""
    return QuoteReply((quote_from_row(quote_row, style),), public=True, note=DAILY_NOTE,
                      card=card)


async def channel_reply(library: QuoteLibrary, channel: ChannelRef, quote_row) -> QuoteReply:
    """`daily_reply` as the channel's settings ask: its style, and a card when cards are on
    (left out, and logged, when the quote cannot be drawn)."""
    style = await library.style_for(channel)
    card = None
    if await library.card_for(channel):
        card, _ = await cards.draw_card(quote_from_row(quote_row, CLEAN))
    reply = daily_reply(quote_row, style, card)
    # A quote saved from chat links back to its message, as it does when searched.
    quotes = await library.with_origins(list(reply.quotes))
    return replace(reply, quotes=tuple(quotes))


@dataclass(frozen=True)
class Plan:
    """What a pass should do about one subscription at `now`."""

    due: bool
    next_at: datetime | None  # when it next needs attention (None: never, e.g. bad data)
    stale: bool = False  # an unsent claim of an earlier day waits to be abandoned


def plan(sub: Subscription, now: datetime) -> Plan:
    """Pure: whether `sub` is due at `now`, and when it next needs a pass.

    Today's (local) post is due once its run instant has come, if the subscription was
    active by then and no claim for today exists; an unsent claim of today is due again
    when its lease expires. A day without a claim by its end is simply missed.
    """
    tz = zone(sub.timezone)
    at = parse_time(sub.local_time)
    today = local_day(now, tz)
    today_s = today.isoformat()
    active_from = parse_iso(sub.active_from) or parse_iso(sub.created_at) or now

    def first_after(day: date) -> datetime:
        run = first_run_after_day(day, at, tz)
        while run < active_from:
            run = first_run_after_day(local_day(run, tz), at, tz)
        return run

    latest = sub.latest_date
    pending = latest is not None and sub.latest_sent_at is None and sub.latest_abandoned_at is None
    if latest is not None and latest >= today_s:
        if latest == today_s and pending:
            lease = parse_iso(sub.latest_lease_until) or now
            return Plan(due=lease <= now, next_at=lease if lease > now else now)
        return Plan(due=False, next_at=first_after(today))
    stale = pending  # the latest claim is of an earlier day and never went out
    run = run_at(today, at, tz)
    if run is not None and run >= active_from:
        if now >= run:
            return Plan(due=True, next_at=now, stale=stale)
        return Plan(due=False, next_at=run, stale=stale)
    return Plan(due=False, next_at=first_after(today), stale=stale)


@dataclass(frozen=True)
class Outcome:
    """What happened to one due subscription in a pass.

    `status`: "sent", "transient" or "permanent" (failed, retried at `retry_at`),
    "disabled" (the failure disabled it), "skipped" (no claim: another process holds it,
    it is done, or no quote matched), "dry-run" (what would be posted).
    """

    subscription_id: int
    local_date: str
    status: str
    quote_id: int | None = None
    message_ref: str | None = None
    error: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class PassResult:
    outcomes: list[Outcome] = field(default_factory=list)
    next_wake: datetime | None = None


class Scheduler:
    """Posts every channel's daily quote, exactly once per local day.

    Args:
        store: the daily store over the shared database.
        library: the quote library of this process (claims carry their quote rows, which
            become `Quote`s through `quotebot.bot.library.quote_from_row`).
        posters: platform name -> Poster; subscriptions of other platforms, or of channels
            the poster does not `own` (other shards), are left to other processes.
        clock: returns the current aware UTC datetime.
        sleep: `asyncio.sleep` or a test double (e.g. one that advances a fake clock).
        rng: randomness for quote picks and backoff jitter.
        process_id: who holds our claims, unique per process (default host:pid:random).
    """

    def __init__(
        self,
        store: DailyStore,
        library: QuoteLibrary,
        posters: Mapping[str, Poster],
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        process_id: str | None = None,
        *,
        max_sleep: float = MAX_SLEEP,
        lease: timedelta = LEASE,
        send_timeout: float = SEND_TIMEOUT,
        concurrency: int = 4,
    ) -> None:
        self.store = store
        self.library = library
        self.posters = posters
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.process_id = process_id or (
            f"{socket.gethostname()}:{os.getpid()}:{self.rng.getrandbits(32):08x}"
        )
        self.max_sleep = max_sleep
        self.lease = lease
        self.send_timeout = send_timeout
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._changed = asyncio.Event()
        self._stopped = False

    # ---- the loop -----------------------------------------------------------------------

    def notify_changed(self) -> None:
        """Subscriptions changed: recompute the next due time now instead of sleeping on."""
        self._changed.set()

    def stop(self) -> None:
        """End `run()` after the current pass or sleep."""
        self._stopped = True
        self._changed.set()

    async def shutdown(self, task: asyncio.Task, timeout: float) -> None:
        """Stop the loop running in `task`, give a post in progress `timeout` seconds to
        finish, then cancel; a crash of the loop is logged, not raised."""
        self.stop()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
        if isinstance(results[0], Exception):
            log.error("the daily scheduler failed", exc_info=results[0])

    async def run(self) -> None:
        """Run passes until `stop()` (or cancellation), sleeping until the next due time."""
        log.info("daily scheduler %s started", self.process_id)
        # Subscriptions other processes add or change wake this one too (PostgreSQL).
        unfollow = await self.store.follow(self.notify_changed)
        # `_stopped` is reset on the way out, not on the way in: a stop() that comes before
        # this task first runs (a bot shut down as it becomes ready) must not be lost.
        try:
            await self._loop()
        finally:
            unfollow()
            self._stopped = False
        log.info("daily scheduler %s stopped", self.process_id)

    async def _loop(self) -> None:
        while not self._stopped:
            self._changed.clear()  # a change during the pass below triggers another pass
            try:
                result = await self.run_once()
                delay = self.max_sleep
                if result.next_wake is not None:
                    delay = (result.next_wake - self.clock()).total_seconds()
                delay = min(max(delay, MIN_SLEEP), self.max_sleep)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("daily scheduler pass failed; retrying in %.0f s", ERROR_SLEEP)
                delay = ERROR_SLEEP
            if self._stopped:
                break
            await self._sleep_or_change(delay)

    async def _sleep_or_change(self, seconds: float) -> None:
        if self._changed.is_set():
            return
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, changed):
                if not task.done():
                    task.cancel()
            await asyncio.gather(sleeper, changed, return_exceptions=True)

    # ---- one pass -----------------------------------------------------------------------

    def _serves(self, sub: Subscription) -> bool:
        poster = self.posters.get(sub.platform)
        return poster is not None and poster.owns(channel_of(sub))

    async def _plans(self, now: datetime) -> list[tuple[Subscription, Plan]]:
        plans = []
        for sub in await self.store.list(enabled=True):
            if not self._serves(sub):
                continue
            try:
                plans.append((sub, plan(sub, now)))
            except (ScheduleError, ValueError) as exc:
                log.error("daily subscription %s has a bad schedule (%s %s): %s",
                          sub.id, sub.local_time, sub.timezone, exc)
        return plans

    async def run_once(self, now: datetime | None = None, *, dry_run: bool = False) -> PassResult:
        """One pass at `now` (default: the clock): post everything due; return the next wake.

        `dry_run` claims nothing and posts nothing: each due subscription's claim is made
        and rolled back, and the quote it would get is handed to the poster as a preview.
        """
        now = now or self.clock()
        plans = await self._plans(now)
        due = []
        for sub, p in plans:
            if p.stale and not dry_run:
                await self.store.abandon_stale(
                    sub.id, local_day(now, zone(sub.timezone)).isoformat(), now=now)
            if p.due:
                due.append(sub)
        outcomes = list(await asyncio.gather(*(self._handle(sub, now, dry_run) for sub in due)))
        outcomes = [o for o in outcomes if o is not None]
        if due and not dry_run:
            now = self.clock()
            plans = await self._plans(now)
        wakes = [p.next_at for sub, p in plans if p.next_at is not None and not p.due]
        if not dry_run and any(p.due for sub, p in plans):
            # Still due after a pass: its claim or send raised unexpectedly. Try again soon.
            wakes.append(now + timedelta(seconds=ERROR_SLEEP))
        wakes += [o.retry_at for o in outcomes if o.retry_at is not None]
        if dry_run:
            wakes = [w for w in wakes if w > now]
        return PassResult(outcomes, min(wakes) if wakes else None)

    async def _handle(self, sub: Subscription, now: datetime, dry_run: bool) -> Outcome | None:
        async with self._limit:
            try:
                claim = await self.claim(sub, now, dry_run=dry_run)
                if claim is None:
                    return Outcome(sub.id, local_day(now, zone(sub.timezone)).isoformat(),
                                   "skipped")
                if dry_run:
                    return await self.preview(sub, claim)
                return await self.deliver(sub, claim)
            except StoreError as exc:
                # Busy for too long (another process writing): expected, so one line and a
                # retry, not a traceback; the outcome tells `daily run-once` it failed.
                log.error("daily subscription %s: %s", sub.id, exc)
                return Outcome(sub.id, local_day(now, zone(sub.timezone)).isoformat(),
                               "transient", error=str(exc),
                               retry_at=now + timedelta(seconds=ERROR_SLEEP))
            except Exception:
                log.exception("daily subscription %s: pass failed", sub.id)
                return None

    async def claim(self, sub: Subscription, now: datetime, *, dry_run: bool = False
                    ) -> Claim | None:
        """Claim `sub`'s post of its local day at `now`, or None if it is not ours to send."""
        return await self.store.claim(
            sub.id,
            local_day(now, zone(sub.timezone)).isoformat(),
            now=now,
            # From when the claim is really taken: a pass may wait for a slot behind slow
            # sends, and a lease that started with the pass could expire before it is
            # taken, letting another process claim the same post.
            lease_until=max(now, self.clock()) + self.lease,
            process_id=self.process_id,
            rand_key=self.rng.randint(0, RAND_KEY_MAX),
            dry_run=dry_run,
        )

    async def preview(self, sub: Subscription, claim: Claim) -> Outcome:
        """Hand the poster what `claim` would post, recording nothing (dry runs)."""
        poster = self.posters[sub.platform]
        key = idempotency_key(claim.subscription_id, claim.local_date)
        reply = await channel_reply(self.library, channel_of(sub), claim.quote)
        ref = await poster.post(channel_of(sub), reply, idempotency_key=key)
        return Outcome(sub.id, claim.local_date, "dry-run", claim.quote.id, ref)

    async def deliver(self, sub: Subscription, claim: Claim) -> Outcome:
        """Post a claimed quote and record the outcome (sent, or failed with a retry time)."""
        poster = self.posters[sub.platform]
        key = idempotency_key(claim.subscription_id, claim.local_date)
        quote_id = claim.quote.id
        reply = await channel_reply(self.library, channel_of(sub), claim.quote)
        if claim.taken_over or claim.attempts:
            # A retry: the last attempt may have gone out before its sender died or timed out.
            found = await self._already_sent(poster, sub, key, reply)
            if found is not None:
                await self.store.mark_sent(claim, now=self.clock(), message_ref=found)
                log.info("daily subscription %s: quote for %s was already posted (%s)",
                         sub.id, claim.local_date, found)
                return Outcome(sub.id, claim.local_date, "sent", quote_id, found)
        try:
            ref = await asyncio.wait_for(
                poster.post(channel_of(sub), reply, idempotency_key=key),
                self.send_timeout,
            )
        except PermanentPostError as exc:
            return await self._failed(sub, claim, exc.reason, permanent=True)
        except TransientPostError as exc:
            return await self._failed(sub, claim, exc.reason, permanent=False,
                                      retry_after=exc.retry_after)
        except TimeoutError:
            return await self._failed(sub, claim, f"timed out after {self.send_timeout:.0f} s",
                                      permanent=False)
        except Exception as exc:  # a bug in a poster must not stop other channels' posts
            log.exception("daily subscription %s: poster failed", sub.id)
            return await self._failed(sub, claim, f"unexpected error: {exc}", permanent=False)
        await self.store.mark_sent(claim, now=self.clock(), message_ref=str(ref))
        log.info("daily subscription %s: posted quote #%s for %s", sub.id, quote_id,
                 claim.local_date)
        return Outcome(sub.id, claim.local_date, "sent", quote_id, str(ref))

    async def _already_sent(self, poster: Poster, sub: Subscription, key: str,
                            reply: QuoteReply) -> str | None:
        """The message a previous attempt posted, if the poster can find it (`FindsSent`)."""
        if not isinstance(poster, FindsSent):
            return None
        try:
            found = await asyncio.wait_for(
                poster.find_sent(channel_of(sub), reply, idempotency_key=key),
                self.send_timeout)
        except (PostError, TimeoutError) as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            log.warning("daily subscription %s: cannot tell whether %s went out (%s); "
                        "posting it", sub.id, key, reason)
            return None
        return None if found is None else str(found)

    async def _failed(self, sub: Subscription, claim: Claim, error: str, *, permanent: bool,
                      retry_after: float | None = None) -> Outcome:
        now = self.clock()
        attempt = claim.attempts + 1
        if permanent:
            delay = PERMANENT_RETRY
        else:
            delay = min(TRANSIENT_MAX, TRANSIENT_BASE * 2 ** (attempt - 1))
            delay = max(delay, retry_after or 0.0)
        # Jitter, so processes and channels that failed together do not retry in lockstep.
        retry_at = now + timedelta(seconds=delay * self.rng.uniform(1.0, 1.2))
        disabled = await self.store.mark_failed(claim, now=now, error=error, retry_at=retry_at,
                                                permanent=permanent)
        kind = "permanent" if permanent else "transient"
        log.warning("daily subscription %s: %s failure (attempt %d): %s", sub.id, kind,
                    attempt, error)
        if disabled:
            return Outcome(sub.id, claim.local_date, "disabled", claim.quote.id, error=error)
        return Outcome(sub.id, claim.local_date, kind, claim.quote.id, error=error,
                       retry_at=retry_at)
