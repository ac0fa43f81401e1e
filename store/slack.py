"""Slack queries: installations per workspace, the short-lived install states, and the
signatures of the requests already accepted (refusing replays in every worker).

Rows of `slack_installations` hold a JSON document each. A row with `user_id = ''` is the
workspace's bot (its token and scopes); any other row is an installation by that user. Only
the newest row per (client, enterprise, team, user) is kept: a re-install replaces the old
one in the same transaction. The store knows nothing of slack_sdk; it keeps dicts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quotebot.store.db import Database

log = logging.getLogger(__name__)

BOT_ROW = ""  # the user_id of a workspace's bot row


@dataclass(frozen=True)
class WorkspaceKey:
    """Which app installation a row belongs to. Empty strings stand for "none"."""

    client_id: str
    enterprise_id: str = ""
    team_id: str = ""


def stamp(moment: datetime) -> str:
    """A fixed-width UTC timestamp, so that text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class SlackStore:
    """All SQL about Slack installations, OAuth states and request signatures. Every
    parameter is bound."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- installations --------------------------------------------------------------------

    async def save(
        self,
        key: WorkspaceKey,
        *,
        installed_at: datetime,
        is_enterprise_install: bool = False,
        user_id: str = BOT_ROW,
        installation: dict[str, Any] | None = None,
        bot: dict[str, Any] | None = None,
    ) -> None:
        """Store an installation by `user_id` and/or the workspace's bot, replacing older rows."""
        rows = []
        if installation is not None:
            if not user_id:
                raise ValueError("an installation needs the installing user's id")
            rows.append((user_id, installation))
        if bot is not None:
            rows.append((BOT_ROW, bot))
        if not rows:
            return
        when = stamp(installed_at)
        async with self.db.transaction() as conn:
            for row_user, data in rows:
                await conn.execute(
                    "DELETE FROM slack_installations WHERE client_id = ? AND enterprise_id = ? "
                    "AND team_id = ? AND user_id = ?",
                    (key.client_id, key.enterprise_id, key.team_id, row_user),
                )
                await conn.execute(
                    "INSERT INTO slack_installations (client_id, enterprise_id, team_id, user_id, "
                    "is_enterprise_install, data_json, installed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key.client_id, key.enterprise_id, key.team_id, row_user,
                     int(is_enterprise_install), json.dumps(data, ensure_ascii=False), when),
                )

    async def find_bot(self, key: WorkspaceKey) -> dict[str, Any] | None:
        """The workspace's bot document, or None when it is not installed."""
        row = await self.db.fetchone(
            "SELECT data_json FROM slack_installations WHERE client_id = ? AND enterprise_id = ? "
            "AND team_id = ? AND user_id = ? ORDER BY installed_at DESC, id DESC LIMIT 1",
            (key.client_id, key.enterprise_id, key.team_id, BOT_ROW),
        )
        return None if row is None else json.loads(row[0])

    async def find_installation(
        self, key: WorkspaceKey, user_id: str | None = None
    ) -> dict[str, Any] | None:
        """The newest installation by `user_id`, or by anyone when `user_id` is None."""
        if user_id is None:
            row = await self.db.fetchone(
                "SELECT data_json FROM slack_installations WHERE client_id = ? "
                "AND enterprise_id = ? AND team_id = ? AND user_id <> ? "
                "ORDER BY installed_at DESC, id DESC LIMIT 1",
                (key.client_id, key.enterprise_id, key.team_id, BOT_ROW),
            )
        elif not user_id:
            return None
        else:
            row = await self.db.fetchone(
                "SELECT data_json FROM slack_installations WHERE client_id = ? "
                "AND enterprise_id = ? AND team_id = ? AND user_id = ? "
                "ORDER BY installed_at DESC, id DESC LIMIT 1",
                (key.client_id, key.enterprise_id, key.team_id, user_id),
            )
        return None if row is None else json.loads(row[0])

    async def delete_bot(self, key: WorkspaceKey) -> int:
        """Forget the workspace's bot; returns the number of rows removed."""
        return await self._delete(
            "DELETE FROM slack_installations WHERE client_id = ? AND enterprise_id = ? "
            "AND team_id = ? AND user_id = ?",
            (key.client_id, key.enterprise_id, key.team_id, BOT_ROW),
        )

    async def delete_installations(self, key: WorkspaceKey, user_id: str | None = None) -> int:
        """Forget the installation by `user_id`, or every user's when None (not the bot)."""
        if user_id is None:
            return await self._delete(
                "DELETE FROM slack_installations WHERE client_id = ? AND enterprise_id = ? "
                "AND team_id = ? AND user_id <> ?",
                (key.client_id, key.enterprise_id, key.team_id, BOT_ROW),
            )
        if not user_id:
            return 0
        return await self._delete(
            "DELETE FROM slack_installations WHERE client_id = ? AND enterprise_id = ? "
            "AND team_id = ? AND user_id = ?",
            (key.client_id, key.enterprise_id, key.team_id, user_id),
        )

    async def _delete(self, sql: str, params: tuple) -> int:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    # ---- OAuth states ---------------------------------------------------------------------

    async def add_state(self, state: str, *, expires_at: datetime, now: datetime) -> None:
        """Remember an issued state until `expires_at`; states that expired are dropped."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM slack_oauth_states WHERE expires_at <= ?",
                               (stamp(now),))
            await conn.execute(
                "INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)",
                (state, stamp(expires_at)),
            )

    async def take_state(self, state: str, *, now: datetime) -> bool:
        """Consume a state: True once if it was issued and has not expired, then never again."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT expires_at FROM slack_oauth_states WHERE state = ?", (state,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return False
            await conn.execute("DELETE FROM slack_oauth_states WHERE state = ?", (state,))
        return str(row[0]) > stamp(now)

    # ---- request signatures ---------------------------------------------------------------

    async def first_request(self, signature: str, *, expires_at: datetime,
                            now: datetime) -> bool:
        """Record a signed request's signature until `expires_at`: False when it is on
        record already (a replay, accepted before by any process of this database).
        Signatures whose window has closed are dropped first. PostgreSQL only (its
        migration 5): SQLite's processes keep their own, in memory."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM slack_signatures WHERE expires_at <= ?",
                               (stamp(now),))
            cursor = await conn.execute(
                "INSERT INTO slack_signatures (signature, expires_at) VALUES (?, ?) "
                "ON CONFLICT (signature) DO NOTHING RETURNING signature",
                (signature, stamp(expires_at)),
            )
            return await cursor.fetchone() is not None
