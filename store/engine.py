"""Open the database a `--db` value names: a SQLite file (the default) or a PostgreSQL URL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Union

from quotebot.store.db import Database, database_path

if TYPE_CHECKING:
    from quotebot.store.pg_db import PgDatabase

# What the store modules are given: either engine offers the same methods (store/pg_db.py).
AnyDatabase = Union[Database, "PgDatabase"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str | Path) -> bool:
    """Whether `target` is a PostgreSQL URL (anything else is a SQLite file)."""
    return str(target).lower().startswith(POSTGRES_SCHEMES)


def describe(target: str | Path) -> str:
    """`target` fit for messages and logs: a PostgreSQL URL loses its password."""
    if is_postgres(target):
        from quotebot.store.pg_db import redacted

        return redacted(str(target))
    return str(target)


async def open_database(target: str | Path, *, pool_size: int | None = None) -> AnyDatabase:
    """Open (creating and migrating as needed) the database `target` names.

    Args:
        target: a SQLite path, ":memory:", a `sqlite:///path` URL, or a
            `postgresql://user:password@host:port/dbname` URL (needs the `postgres` extra).
        pool_size: PostgreSQL: the most connections the pool opens (default
            `pg_db.POOL_MAX`); one more listens for other processes' changes. SQLite
            always uses two.

    Raises:
        StoreError: the database cannot be opened or reached, or the URL is of another kind.
    """
    if is_postgres(target):
        from quotebot.store.pg_db import POOL_MAX, PgDatabase

        return await PgDatabase.open(str(target), max_size=pool_size or POOL_MAX)
    return await Database.open(database_path(target))
