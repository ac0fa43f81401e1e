"""Settings of a whole server or workspace (the Discord admin role), kept in `meta`.

`channel_settings` holds per-channel switches in typed, CHECKed columns; a server-wide
value such as a role id has no column there, and adding one needs a migration. Each is
one `meta` row instead, keyed `server:<name>:<platform>:<workspace>`.
"""

from __future__ import annotations

import logging

from quotebot.store.db import Database

log = logging.getLogger(__name__)

# The settings a server may have; the name goes into a meta key, so only these.
SERVER_SETTINGS = frozenset({"admin_role"})


def _key(name: str, platform: str, workspace: str) -> str:
    if name not in SERVER_SETTINGS:
        raise ValueError(f"no server setting called {name!r}")
    return f"server:{name}:{platform}:{workspace}"


class ServerSettings:
    """All SQL about server-wide settings."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, platform: str, workspace: str, name: str) -> str | None:
        """The server's setting `name`, None when never set (or cleared)."""
        value = await self.db.scalar("SELECT value FROM meta WHERE key = ?",
                                     (_key(name, platform, workspace),))
        return None if value is None else str(value)

    async def set(self, platform: str, workspace: str, name: str, value: str | None) -> None:
        """Set the server's setting `name`, or clear it (None)."""
        key = _key(name, platform, workspace)
        async with self.db.transaction() as conn:
            if value is None:
                await conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                await conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
