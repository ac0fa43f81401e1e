"""The one connection to the SQLite file: opening, pragmas, migrations and transactions."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from store.schema import MIGRATIONS, RANDOM_INDEXES, SCHEMA_VERSION

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The database cannot be opened or is from a newer quotebot."""


class Database:
    """An open quotebot database.

    One aiosqlite connection in autocommit mode; multi-statement changes go through
    `transaction()`, which serialises writers of this process with a lock and takes SQLite's
    write lock up front (BEGIN IMMEDIATE) so that other processes wait instead of failing.
    """

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating if needed) and migrate the database at `path` (":memory:" works)."""
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        conn.row_factory = aiosqlite.Row
        db = cls(conn, path)
        try:
            await db._configure()
            await db._migrate()
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        await self.conn.close()

    async def _configure(self) -> None:
        try:
            await self.conn.execute("PRAGMA busy_timeout = 10000")
            if self.path != ":memory:":
                await self.conn.execute("PRAGMA journal_mode = WAL")
            await self.conn.execute("PRAGMA synchronous = NORMAL")
            await self.conn.execute("PRAGMA foreign_keys = ON")
            await self.conn.execute("PRAGMA temp_store = MEMORY")
            # Keep the page cache modest: the serving process must stay small at 1M quotes.
            await self.conn.execute("PRAGMA cache_size = -32000")
            await self.conn.execute("PRAGMA mmap_size = 0")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a quotebot database: {exc}") from exc

    async def _migrate(self) -> None:
        version = await self.scalar("PRAGMA user_version")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this quotebot "
                f"understands ({SCHEMA_VERSION}); upgrade quotebot"
            )
        for number in range(version, SCHEMA_VERSION):
            log.info("migrating %s to schema version %d", self.path, number + 1)
            async with self.transaction():
                # executescript would COMMIT our transaction; run statement by statement.
                for statement in _statements(MIGRATIONS[number]):
                    await self.conn.execute(statement)
                # PRAGMA takes no bound parameters; the value is our own integer.
                await self.conn.execute(f"PRAGMA user_version = {int(number + 1)}")
        await self.create_random_indexes()

    async def create_random_indexes(self) -> None:
        """Create the random-key indexes that are missing (all of them after a bulk load)."""
        async with self.transaction():
            for statement in RANDOM_INDEXES.values():
                await self.conn.execute(statement)

    async def drop_random_indexes(self) -> None:
        async with self.transaction():
            for name in RANDOM_INDEXES:
                # The name is one of our constants, never user input.
                await self.conn.execute(f"DROP INDEX IF EXISTS {name}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the body as one IMMEDIATE transaction: all of it is committed or none."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def scalar(self, sql: str, params: tuple = ()) -> object:
        async with self.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return None if row is None else row[0]

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, params) as cur:
            return await cur.fetchone()


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (triggers contain semicolons)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements
