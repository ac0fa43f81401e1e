"""All SQL of daily posts: subscriptions, exactly-once claims, no-repeat picks, failures.

Exactly-once rests on two things: the UNIQUE (subscription_id, local_date) of `daily_posts`
and `claim()` choosing the quote and inserting that row in ONE `BEGIN IMMEDIATE`
transaction, so two processes sharing the file cannot both claim a day. A claimed row
carries a lease (`claimed_by`, `lease_until`); until it expires nobody else touches it.
After a failed send the lease is set to the retry time, so whoever is up then retries.

Timestamps are stored as UTC ISO-8601 strings with seconds (`2024-11-24T08:00:00+00:00`);
`local_date` is the subscription's local calendar date (`2024-11-24`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from quotebot.store.db import Database
from quotebot.store.libraries import collections_of
from quotebot.store.quotes import (
    HIGHLIGHT_SELECT,
    QUOTE_SELECT,
    STANDALONE_SCORE,
    VISIBLE_HIGHLIGHT,
    VISIBLE_QUOTE,
    QuoteRow,
    highlight_filters,
    quote_filters,
    quote_row,
)

log = logging.getLogger(__name__)

NO_QUOTE = "no quote matches this subscription's filters"
DISABLE_AFTER = 3  # consecutive permanent failures before a subscription is disabled

_SUBSCRIPTION_SELECT = """
    SELECT s.id, s.platform, s.workspace, s.channel, s.local_time, s.timezone,
           s.speaker_id, s.source_id, sp.name AS speaker, so.title AS source,
           s.created_by, s.created_at, s.active_from, s.enabled, s.cycle, s.failures,
           s.last_error, s.disabled_reason,
           p.id AS latest_post_id, p.local_date AS latest_date, p.sent_at AS latest_sent_at,
           p.abandoned_at AS latest_abandoned_at, p.lease_until AS latest_lease_until,
           (SELECT x.sent_at FROM daily_posts x
             WHERE x.subscription_id = s.id AND x.sent_at IS NOT NULL
             ORDER BY x.local_date DESC LIMIT 1) AS last_sent_at
    FROM subscriptions s
    LEFT JOIN speakers sp ON sp.id = s.speaker_id
    LEFT JOIN sources so ON so.id = s.source_id
    LEFT JOIN daily_posts p ON p.id = (
        SELECT y.id FROM daily_posts y WHERE y.subscription_id = s.id
        ORDER BY y.local_date DESC LIMIT 1)
"""


def iso(instant: datetime) -> str:
    """The stored form of an aware datetime: UTC, to the second."""
    return instant.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


@dataclass(frozen=True)
class Subscription:
    """A channel's daily post, with the state of its most recent post (`latest_*`)."""

    id: int
    platform: str
    workspace: str
    channel: str
    local_time: str
    timezone: str
    speaker_id: int | None
    source_id: int | None
    speaker: str | None
    source: str | None
    created_by: str
    created_at: str
    active_from: str | None
    enabled: bool
    cycle: int
    failures: int
    last_error: str | None
    disabled_reason: str | None
    latest_post_id: int | None
    latest_date: str | None
    latest_sent_at: str | None
    latest_abandoned_at: str | None
    latest_lease_until: str | None
    last_sent_at: str | None

    @classmethod
    def from_row(cls, row) -> Subscription:
        data = dict(row)
        data["enabled"] = bool(data["enabled"])
        return cls(**data)


@dataclass(frozen=True)
class Claim:
    """A claimed (subscription, local date): the quote to post and the lease we hold."""

    post_id: int
    subscription_id: int
    local_date: str
    cycle: int
    quote: QuoteRow  # the quote or highlight to post
    attempts: int
    claimed_by: str
    lease_until: datetime
    taken_over: bool


@dataclass(frozen=True)
class Post:
    """One row of post history."""

    id: int
    subscription_id: int
    local_date: str
    quote_id: int | None
    cycle: int
    claimed_by: str
    claimed_at: str
    lease_until: str
    sent_at: str | None
    message_ref: str | None
    attempts: int
    last_error: str | None
    abandoned_at: str | None


class _DryRun(Exception):
    """Raised inside a claim transaction to roll it back and hand out what it would do."""

    def __init__(self, claim: Claim | None) -> None:
        super().__init__("dry run")
        self.claim = claim


class DailyStore:
    """Subscriptions and post history. Every parameter is bound; writes are transactions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- subscriptions ------------------------------------------------------------------

    async def follow(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` when another process may have added, removed or rescheduled a
        subscription (on PostgreSQL, at once; SQLite cannot tell: see `Database.on_change`).
        Returns what stops the calls."""
        def changed(table: str) -> None:
            if table in ("subscriptions", "*"):
                callback()

        return await self.db.on_change(changed)

    async def upsert(
        self,
        *,
        platform: str,
        workspace: str,
        channel: str,
        local_time: str,
        timezone: str,
        speaker_id: int | None,
        source_id: int | None,
        created_by: str,
        now: datetime,
        org: str = "",
    ) -> tuple[Subscription, bool]:
        """Create the channel's subscription, or change it; return it and whether it is new.

        A change keeps the creator, the no-repeat cycle and the history, re-enables a
        disabled subscription and clears its errors. `active_from` becomes `now` either way,
        so a time already past today first runs tomorrow. `org`: the org-wide install's
        org, whose library the posts come from (else the workspace's).
        """
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM subscriptions WHERE platform = ? AND workspace = ? AND channel = ?",
                (platform, workspace, channel),
            ) as cur:
                existed = await cur.fetchone() is not None
            await conn.execute(
                """
                INSERT INTO subscriptions (platform, workspace, channel, local_time, timezone,
                                           speaker_id, source_id, created_by, created_at,
                                           active_from, org)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (platform, workspace, channel) DO UPDATE SET
                    local_time = excluded.local_time, timezone = excluded.timezone,
                    org = excluded.org,
                    speaker_id = excluded.speaker_id, source_id = excluded.source_id,
                    active_from = excluded.active_from, enabled = 1, failures = 0,
                    last_error = NULL, disabled_reason = NULL
                """,
                (platform, workspace, channel, local_time, timezone, speaker_id, source_id,
                 created_by, iso(now), iso(now), org),
            )
        sub = await self.find(platform, workspace, channel)
        assert sub is not None
        return sub, not existed

    async def get(self, subscription_id: int) -> Subscription | None:
        row = await self.db.fetchone(_SUBSCRIPTION_SELECT + " WHERE s.id = ?",
                                     (subscription_id,))
        return None if row is None else Subscription.from_row(row)

    async def find(self, platform: str, workspace: str, channel: str) -> Subscription | None:
        row = await self.db.fetchone(
            _SUBSCRIPTION_SELECT
            + " WHERE s.platform = ? AND s.workspace = ? AND s.channel = ?",
            (platform, workspace, channel),
        )
        return None if row is None else Subscription.from_row(row)

    async def list(
        self,
        *,
        platform: str | None = None,
        workspace: str | None = None,
        enabled: bool | None = None,
    ) -> list[Subscription]:
        """Subscriptions, optionally of one platform/workspace or only (not) enabled, by id."""
        where, params = [], []
        if platform is not None:
            where.append("s.platform = ?")
            params.append(platform)
        if workspace is not None:
            where.append("s.workspace = ?")
            params.append(workspace)
        if enabled is not None:
            where.append("s.enabled = ?")
            params.append(1 if enabled else 0)
        sql = _SUBSCRIPTION_SELECT
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = await self.db.fetchall(sql + " ORDER BY s.id", tuple(params))
        return [Subscription.from_row(r) for r in rows]

    async def delete(self, subscription_id: int) -> bool:
        """Remove a subscription and its history; False if there was none."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
            return cur.rowcount > 0

    async def has_eligible(self, speaker_id: int | None, source_id: int | None,
                           collections: Sequence[int] | None = None) -> bool:
        """Whether any good quote matches these filters (an index probe), in `collections`
        (a library's) when given."""
        where, params = quote_filters(speaker_id, source_id, collections=collections)
        sql = "SELECT 1 FROM quotes q WHERE " + " AND ".join(where) + " LIMIT 1"
        return await self.db.scalar(sql, tuple(params)) is not None

    async def _uses_highlights(self, conn, sub) -> bool:
        """Whether the subscription draws highlights (its filters match some); otherwise it
        falls back to good quotes, as `/quote random` does."""
        where, params = highlight_filters(sub["speaker_id"], sub["source_id"],
                                          collections=await self._library(conn, sub))
        where.append(VISIBLE_HIGHLIGHT)
        sql = "SELECT 1 FROM highlights h WHERE " + " AND ".join(where)
        async with conn.execute(sql + " LIMIT 1", tuple(params)) as cur:
            return await cur.fetchone() is not None

    # ---- claims -------------------------------------------------------------------------

    async def claim(
        self,
        subscription_id: int,
        local_date: str,
        *,
        now: datetime,
        lease_until: datetime,
        process_id: str,
        rand_key: int,
        dry_run: bool = False,
    ) -> Claim | None:
        """Claim the subscription's post for `local_date`, choosing its quote; None if not ours.

        In one IMMEDIATE transaction: nothing happens if the day is already sent or
        abandoned, or another claim's lease has not expired; an expired unsent claim is
        taken over (same quote); otherwise older unsent claims are abandoned, the next quote
        of the no-repeat cycle is picked and the day's row inserted. A subscription with no
        eligible quote gets an abandoned row for the day (so it is not retried all day) and
        a permanent failure. `dry_run` rolls everything back and returns what would happen.
        """
        try:
            async with self.db.transaction() as conn:
                claim = await self._claim(conn, subscription_id, local_date, now=now,
                                          lease_until=lease_until, process_id=process_id,
                                          rand_key=rand_key)
                if dry_run:
                    raise _DryRun(claim)
                return claim
        except _DryRun as dry:
            return dry.claim

    async def _claim(self, conn, subscription_id, local_date, *, now, lease_until, process_id,
                     rand_key) -> Claim | None:
        # Locked (PostgreSQL) for the whole claim: processes on other hosts claiming the
        # same subscription wait here, then see this claim, so a day is claimed, or taken
        # over, by exactly one of them.
        async with conn.execute(
            "SELECT id, enabled, cycle, speaker_id, source_id, platform, workspace, org "
            "FROM subscriptions WHERE id = ?" + self.db.row_lock,
            (subscription_id,),
        ) as cur:
            sub = await cur.fetchone()
        if sub is None or not sub["enabled"]:
            return None
        async with conn.execute(
            """
            SELECT id, quote_id, highlight_id, cycle, sent_at, abandoned_at, lease_until,
                   attempts
            FROM daily_posts WHERE subscription_id = ? AND local_date = ?
            """,
            (subscription_id, local_date),
        ) as cur:
            row = await cur.fetchone()
        lease = (process_id, now, lease_until)
        if row is not None:
            return await self._take_over(conn, sub, row, local_date, lease, rand_key)
        return await self._claim_new(conn, sub, local_date, lease, rand_key)

    async def _take_over(self, conn, sub, row, local_date, lease, rand_key) -> Claim | None:
        """The day's post already claimed: taken over once its lease ran out, unless sent
        or abandoned; a quote deleted by a re-ingest since is picked again."""
        process_id, now, lease_until = lease
        if row["sent_at"] is not None or row["abandoned_at"] is not None:
            return None
        if parse_iso(row["lease_until"]) > now:
            return None
        ref, cycle = (row["quote_id"], row["highlight_id"]), row["cycle"]
        quote = await self._quote(conn, ref) if ref[0] is not None else None
        if quote is not None and not await self._visible(conn, ref):
            quote = None  # hidden by an admin since the claim: not posted after all
        if quote is None:  # the quote was deleted by a re-ingest since the claim
            picked = await self._pick(conn, sub, rand_key)
            if picked is None:
                await self._no_quote(conn, sub["id"], row["id"], local_date, now)
                return None
            ref, cycle = picked
            quote = await self._quote(conn, ref)
        await conn.execute(
            """
            UPDATE daily_posts SET claimed_by = ?, claimed_at = ?, lease_until = ?,
                                   quote_id = ?, highlight_id = ?, cycle = ?
            WHERE id = ?
            """,
            (process_id, iso(now), iso(lease_until), ref[0], ref[1], cycle, row["id"]),
        )
        return Claim(row["id"], sub["id"], local_date, cycle, quote, row["attempts"],
                     process_id, lease_until, taken_over=True)

    async def _claim_new(self, conn, sub, local_date, lease, rand_key) -> Claim | None:
        """The day's first claim: earlier unsent days abandoned, a quote picked, the post
        row inserted (the unique (subscription, day) constraint makes it exactly once)."""
        process_id, now, lease_until = lease
        await self._abandon_before(conn, sub["id"], local_date, now)
        picked = await self._pick(conn, sub, rand_key)
        if picked is None:
            await self._no_quote(conn, sub["id"], None, local_date, now)
            return None
        ref, cycle = picked
        cur = await conn.execute(
            """
            INSERT INTO daily_posts (subscription_id, local_date, quote_id, highlight_id, cycle,
                                     claimed_by, claimed_at, lease_until)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (subscription_id, local_date) DO NOTHING
            RETURNING id
            """,
            (sub["id"], local_date, ref[0], ref[1], cycle, process_id, iso(now),
             iso(lease_until)),
        )
        inserted = await cur.fetchone()
        if inserted is None:  # cannot happen while the subscription is locked; the
            return None       # constraint holds regardless
        quote = await self._quote(conn, ref)
        return Claim(inserted[0], sub["id"], local_date, cycle, quote, 0, process_id,
                     lease_until, taken_over=False)

    async def _quote(self, conn, ref: tuple[int, int | None]):
        """The row to post for a (quote id, highlight id) pick: the highlight when there is
        one (read with a quote's columns), else the quote."""
        quote_id, highlight_id = ref
        if highlight_id is not None:
            async with conn.execute(HIGHLIGHT_SELECT + " WHERE h.id = ?", (highlight_id,)) as cur:
                return quote_row(await cur.fetchone())
        async with conn.execute(QUOTE_SELECT + " WHERE q.id = ?", (quote_id,)) as cur:
            return quote_row(await cur.fetchone())

    async def _visible(self, conn, ref: tuple[int, int | None]) -> bool:
        """Whether a claimed pick may still be posted: no quote of it has been hidden."""
        quote_id, highlight_id = ref
        if highlight_id is not None:
            sql, key = f"SELECT 1 FROM highlights h WHERE h.id = ? AND {VISIBLE_HIGHLIGHT}", \
                highlight_id
        else:
            sql, key = f"SELECT 1 FROM quotes q WHERE q.id = ? AND {VISIBLE_QUOTE}", quote_id
        async with conn.execute(sql, (key,)) as cur:
            return await cur.fetchone() is not None

    async def _pick(self, conn, sub, rand_key: int):
        """((quote id, highlight id), cycle) of the next pick of the no-repeat cycle.

        Seeks a random `rand_key` among the highlights matching the filters (else, when they
        have none, the good quotes), skipping those already posted in the current cycle:
        O(log n + posts in the cycle), never a scan of the corpus. When the cycle is used
        up, the next one starts (and its first pick is not the one posted last, when there
        is any other).
        """
        highlights = await self._uses_highlights(conn, sub)
        cycle = sub["cycle"]
        ref = await self._seek(conn, sub, cycle, rand_key, avoid=None, highlights=highlights)
        if ref is not None:
            return ref, cycle
        cycle += 1
        ref = await self._seek_new_cycle(conn, sub, cycle, rand_key, highlights=highlights)
        if ref is None:
            return None
        await conn.execute("UPDATE subscriptions SET cycle = ? WHERE id = ?", (cycle, sub["id"]))
        log.info("daily subscription %s starts no-repeat cycle %d", sub["id"], cycle)
        return ref, cycle

    async def _seek_new_cycle(self, conn, sub, cycle: int, rand_key: int, *, highlights: bool):
        """(quote id, highlight id) of the first pick of a new `cycle`: not the one posted
        last, when there is any other."""
        column = "highlight_id" if highlights else "quote_id"
        async with conn.execute(
            f"""
            SELECT {column} FROM daily_posts
            WHERE subscription_id = ? AND {column} IS NOT NULL AND sent_at IS NOT NULL
            ORDER BY local_date DESC LIMIT 1
            """,
            (sub["id"],),
        ) as cur:
            last = await cur.fetchone()
        avoid = last[0] if last else None
        ref = await self._seek(conn, sub, cycle, rand_key, avoid=avoid, highlights=highlights)
        if ref is None and avoid is not None:
            ref = await self._seek(conn, sub, cycle, rand_key, avoid=None, highlights=highlights)
        return ref

    async def _seek(self, conn, sub, cycle: int, rand_key: int, *, avoid: int | None,
                    highlights: bool):
        """(quote id, highlight id) of the first unposted pick at or after `rand_key`;
        highlights that stand alone come before those that may need context."""
        if highlights:
            for floor in (STANDALONE_SCORE, None):
                ref = await self._seek_one(conn, sub, cycle, rand_key, avoid=avoid,
                                           highlights=True, floor=floor)
                if ref is not None:
                    return ref
            return None
        return await self._seek_one(conn, sub, cycle, rand_key, avoid=avoid, highlights=False)

    async def _seek_one(self, conn, sub, cycle: int, rand_key: int, *, avoid: int | None,
                        highlights: bool, floor: float | None = None):
        library = await self._library(conn, sub)
        if highlights:
            filters, values = highlight_filters(sub["speaker_id"], sub["source_id"],
                                                collections=library)
            filters.append(VISIBLE_HIGHLIGHT)
            if floor is not None:
                filters.append("h.score >= ?")
                values.append(floor)
            where = [
                "h.rand_key >= ?",
                "h.id NOT IN (SELECT d.highlight_id FROM daily_posts d WHERE "
                "d.subscription_id = ? AND d.cycle = ? AND d.highlight_id IS NOT NULL)",
                *filters,
            ]
            sql = ("SELECT q.id, h.id FROM highlights h JOIN quotes q ON q.source_id = "
                   "h.source_id AND q.position = h.first_position WHERE ")
            order = " ORDER BY h.rand_key LIMIT 1"
            exclude = "h.id != ?"
        else:
            filters, values = quote_filters(sub["speaker_id"], sub["source_id"],
                                            collections=library)
            where = [
                "q.rand_key >= ?",
                "q.id NOT IN (SELECT d.quote_id FROM daily_posts d WHERE d.subscription_id = ?"
                " AND d.cycle = ? AND d.quote_id IS NOT NULL)",
                *filters,
            ]
            sql = "SELECT q.id, NULL FROM quotes q WHERE "
            order = " ORDER BY q.rand_key LIMIT 1"
            exclude = "q.id != ?"
        params: list = [rand_key, sub["id"], cycle, *values]
        if avoid is not None:
            where.append(exclude)
            params.append(avoid)
        sql += " AND ".join(where) + order
        async with conn.execute(sql, tuple(params)) as cur:
            row = await cur.fetchone()
        if row is None and rand_key > 0:  # wrap around once
            params[0] = 0
            async with conn.execute(sql, tuple(params)) as cur:
                row = await cur.fetchone()
        return None if row is None else (row[0], row[1])

    @staticmethod
    async def _library(conn, sub) -> tuple[int, ...]:
        """The collections the subscription's library sees: posts come from them only."""
        return await collections_of(conn, sub["platform"], sub["org"] or sub["workspace"])

    async def _no_quote(self, conn, subscription_id, post_id, local_date, now) -> None:
        """Record a day with nothing to post: the day is abandoned and a failure counted."""
        if post_id is None:
            await conn.execute(
                """
                INSERT INTO daily_posts (subscription_id, local_date, quote_id, cycle,
                                         claimed_by, claimed_at, lease_until, last_error,
                                         abandoned_at)
                SELECT id, ?, NULL, cycle, '', ?, ?, ?, ? FROM subscriptions WHERE id = ?
                """,
                (local_date, iso(now), iso(now), NO_QUOTE, iso(now), subscription_id),
            )
        else:
            await conn.execute(
                "UPDATE daily_posts SET last_error = ?, abandoned_at = ? WHERE id = ?",
                (NO_QUOTE, iso(now), post_id),
            )
        await self._count_failure(conn, subscription_id, NO_QUOTE, now,
                                  disable_after=DISABLE_AFTER)

    async def _abandon_before(self, conn, subscription_id, local_date, now) -> int:
        async with conn.execute(
            """
            SELECT local_date, last_error FROM daily_posts
            WHERE subscription_id = ? AND local_date < ? AND sent_at IS NULL
              AND abandoned_at IS NULL
            ORDER BY local_date DESC
            """,
            (subscription_id, local_date),
        ) as cur:
            stale = list(await cur.fetchall())
        if not stale:
            return 0
        await conn.execute(
            """
            UPDATE daily_posts SET abandoned_at = ?
            WHERE subscription_id = ? AND local_date < ? AND sent_at IS NULL
              AND abandoned_at IS NULL
            """,
            (iso(now), subscription_id, local_date),
        )
        latest = stale[0]
        message = f"missed the post of {latest['local_date']}: the day ended before it went out"
        if latest["last_error"]:
            message += f" (last error: {latest['last_error']})"
        await conn.execute("UPDATE subscriptions SET last_error = ? WHERE id = ?",
                           (message, subscription_id))
        log.warning("daily subscription %s: %s", subscription_id, message)
        return len(stale)

    async def abandon_stale(self, subscription_id: int, before: str, *, now: datetime) -> int:
        """Abandon (record, never retry) unsent claims of local dates before `before`."""
        async with self.db.transaction() as conn:
            return await self._abandon_before(conn, subscription_id, before, now)

    async def pick(self, subscription_id: int, *, rand_key: int):
        """The quote row the subscription would get next, without claiming anything."""
        sub = await self.db.fetchone(
            "SELECT id, enabled, cycle, speaker_id, source_id, platform, workspace, org "
            "FROM subscriptions WHERE id = ?",
            (subscription_id,),
        )
        if sub is None:
            return None
        conn = self.db.reader  # a read: never inside another task's transaction
        highlights = await self._uses_highlights(conn, sub)
        ref = await self._seek(conn, sub, sub["cycle"], rand_key, avoid=None,
                               highlights=highlights)
        if ref is None:  # the cycle is used up: the next claim opens another, as here
            ref = await self._seek_new_cycle(conn, sub, sub["cycle"] + 1, rand_key,
                                             highlights=highlights)
        return None if ref is None else await self._quote(conn, ref)

    # ---- outcomes -----------------------------------------------------------------------

    async def mark_sent(self, claim: Claim, *, now: datetime, message_ref: str) -> bool:
        """Record the post as sent and reset the failure count; False if it already was."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                """
                UPDATE daily_posts SET sent_at = ?, message_ref = ?, attempts = attempts + 1,
                                       last_error = NULL, abandoned_at = NULL
                WHERE id = ? AND sent_at IS NULL
                """,
                (iso(now), message_ref, claim.post_id),
            )
            fresh = cur.rowcount == 1
            await conn.execute(
                "UPDATE subscriptions SET failures = 0, last_error = NULL WHERE id = ?",
                (claim.subscription_id,),
            )
        if not fresh:
            log.warning("daily post %s (%s) was already marked sent: posted twice?",
                        claim.post_id, claim.local_date)
        return fresh

    async def mark_failed(
        self,
        claim: Claim,
        *,
        now: datetime,
        error: str,
        retry_at: datetime,
        permanent: bool,
        disable_after: int = DISABLE_AFTER,
    ) -> bool:
        """Record a failed send; the claim may be retried from `retry_at` by anyone.

        Only the claim's current holder reports: a process whose lease ran out and whose
        claim was taken over changes nothing. A permanent failure counts toward disabling;
        the `disable_after`-th consecutive one disables the subscription with `error` as
        the reason and abandons its unsent claims. Returns whether the subscription is now
        disabled.
        """
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                """
                UPDATE daily_posts SET attempts = attempts + 1, last_error = ?, lease_until = ?
                WHERE id = ? AND sent_at IS NULL AND claimed_by = ?
                """,
                (error, iso(retry_at), claim.post_id, claim.claimed_by),
            )
            if cur.rowcount == 0:
                # Sent, or taken over once our lease ran out: the report is stale, and must
                # neither move the new holder's lease nor count against the subscription.
                log.info("daily post %s (%s): a stale failure report from %s, ignored",
                         claim.post_id, claim.local_date, claim.claimed_by)
                return False
            if not permanent:
                await conn.execute("UPDATE subscriptions SET last_error = ? WHERE id = ?",
                                   (error, claim.subscription_id))
                return False
            return await self._count_failure(conn, claim.subscription_id, error, now,
                                             disable_after=disable_after)

    async def _count_failure(self, conn, subscription_id, error, now, *, disable_after) -> bool:
        await conn.execute(
            "UPDATE subscriptions SET failures = failures + 1, last_error = ? WHERE id = ?",
            (error, subscription_id),
        )
        async with conn.execute("SELECT failures FROM subscriptions WHERE id = ?",
                                (subscription_id,)) as cur:
            row = await cur.fetchone()
        if row is None or row[0] < disable_after:
            return False
        await conn.execute(
            "UPDATE subscriptions SET enabled = 0, disabled_reason = ? WHERE id = ?",
            (error, subscription_id),
        )
        await conn.execute(
            """
            UPDATE daily_posts SET abandoned_at = ?
            WHERE subscription_id = ? AND sent_at IS NULL AND abandoned_at IS NULL
            """,
            (iso(now), subscription_id),
        )
        log.warning("daily subscription %s disabled after %d failures: %s",
                    subscription_id, row[0], error)
        return True

    # ---- history ------------------------------------------------------------------------

    async def posts(self, subscription_id: int | None = None) -> list[Post]:
        """Post history, oldest first (of one subscription, or all)."""
        sql = """
            SELECT id, subscription_id, local_date, quote_id, cycle, claimed_by, claimed_at,
                   lease_until, sent_at, message_ref, attempts, last_error, abandoned_at
            FROM daily_posts
        """
        params: tuple = ()
        if subscription_id is not None:
            sql += " WHERE subscription_id = ?"
            params = (subscription_id,)
        rows = await self.db.fetchall(sql + " ORDER BY local_date, id", params)
        return [Post(**dict(r)) for r in rows]
