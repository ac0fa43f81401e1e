"""PostgreSQL migrations: applied in order, each exactly once, however many processes start.

Every process of a deployment (Discord shards, Slack workers, `quotebot migrate`) may call
`migrate` at the same moment. One transaction takes a transaction-scoped advisory lock
first, so the others wait, then find the versions already applied and apply nothing.
PostgreSQL's DDL is transactional: a migration that fails leaves no half-made schema and no
version row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key: "quotebot" read as bytes, cut to a signed 64-bit integer.
MIGRATION_LOCK = int.from_bytes(b"quotebot", "big") & 0x7FFF_FFFF_FFFF_FFFF


class NewerSchema(RuntimeError):
    """The database was migrated by a newer quotebot than this one."""


async def migrate(conn, migrations: Sequence[str]) -> int:
    """Apply the migrations `conn`'s database lacks; return how many were applied.

    Args:
        conn: an asyncpg connection (not in a transaction).
        migrations: SQL scripts; migration N (1-based) is `migrations[N - 1]`. Never edit one
            that was released: append.

    Raises:
        NewerSchema: the database already has more migrations than `migrations` holds.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version    integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
        if current > len(migrations):
            raise NewerSchema(
                f"the database is at schema version {current}; this quotebot knows "
                f"{len(migrations)}: upgrade quotebot"
            )
        for version in range(current + 1, len(migrations) + 1):
            log.info("applying PostgreSQL migration %d", version)
            await conn.execute(migrations[version - 1])
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        return len(migrations) - current


async def schema_version(conn) -> int:
    """The newest migration applied (0 for a database quotebot never migrated)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
