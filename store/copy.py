"""Copy a whole database between SQLite and PostgreSQL: every row, id and id counter kept."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from quotebot.store.db import Database, database_path
from quotebot.store.engine import is_postgres
from quotebot.store.pg_db import connect_migrated, register_types

# Parents before children, so foreign keys hold at every insert.
TABLES = (
    "meta", "collections", "library_collections", "speakers", "speaker_aliases", "sources",
    "quotes", "saved_quotes", "terms", "highlights", "subscriptions", "daily_posts", "decks",
    "channel_settings", "slack_installations", "slack_oauth_states", "audit",
)
# Tables with an `id` counter: SQLite's INTEGER PRIMARY KEY (AUTOINCREMENT for some, whose
# counter lives in sqlite_sequence), PostgreSQL's identity columns.
ID_TABLES = ("collections", "sources", "speakers", "quotes", "highlights", "subscriptions",
             "daily_posts", "slack_installations", "audit")
# What makes a target "not empty": rows a user made (migrations only seed collections).
USER_TABLES = ("sources", "quotes", "subscriptions", "slack_installations", "audit",
               "channel_settings")
BATCH_ROWS = 5000
# A PostgreSQL table receiving at least this many rows is loaded without its secondary
# indexes and foreign keys, made again after (inside the same transaction): GIN indexes
# updated and foreign keys checked row by row cost far more than once at the end.
BULK_INDEX_ROWS = 20_000


class CopyError(RuntimeError):
    """The copy cannot be made (a target that is not empty, schemas that differ)."""


@dataclass
class CopyResult:
    """How many rows each table received."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def copy_database(source: str, target: str,
                        progress: Callable[[str, int], None] | None = None) -> CopyResult:
    """Copy every row of `source` into the new, empty database `target`, in one transaction.

    Args:
        source, target: SQLite paths or `sqlite:///` URLs, or `postgresql://` URLs. Both
            are migrated to the current schema first (as every command does).
        progress: called with (table, rows copied so far) after each batch.

    Raises:
        CopyError: the target already holds data, or the two schemas' columns differ.
        StoreError: a database cannot be opened.
    """
    if str(source) == str(target):
        raise CopyError("--from and --to are the same database")
    reader = await _endpoint(source)
    try:
        writer = await _endpoint(target)
        try:
            return await _copy(reader, writer, progress)
        finally:
            await writer.close()
    finally:
        await reader.close()


async def _copy(reader, writer, progress) -> CopyResult:
    held = {t: n for t in USER_TABLES if (n := await writer.count(t))}
    if held:
        listed = ", ".join(f"{n} {t}" for t, n in held.items())
        raise CopyError(f"the target already holds data ({listed}); copy into a new, "
                        "empty database")
    columns = {}
    for table in TABLES:
        mine, theirs = await reader.columns(table), await writer.columns(table)
        if set(mine) != set(theirs):
            raise CopyError(f"table {table} differs: {sorted(set(mine) ^ set(theirs))} "
                            "exist on one side only (are both quotebot versions the same?)")
        columns[table] = mine
    rows: dict[str, int] = {}
    await writer.begin()
    try:
        for table in reversed(TABLES):  # what the migrations seeded (collections)
            await writer.clear(table)
        for table in TABLES:
            async with writer.loading(table, await reader.count(table)):
                rows[table] = await writer.load(
                    table, columns[table], reader.rows(table, columns[table]),
                    lambda done, table=table: progress and progress(table, done))
        for table in ID_TABLES:
            await writer.set_next_id(table, await reader.next_id(table))
        await writer.commit()
    except BaseException:
        await writer.rollback()
        raise
    await writer.settle([t for t, n in rows.items() if n])
    return CopyResult(rows)


async def _endpoint(url: str):
    if is_postgres(url):
        return await _Postgres.open(url)
    return await _SQLite.open(url)


class _SQLite:
    """One side of a copy in a SQLite file (plain sqlite3: a one-off bulk job, no server)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, url: str) -> _SQLite:
        path = database_path(url)
        db = await Database.open(path)  # creates and migrates, as every command does
        await db.close()
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = OFF")  # rows arrive with their ids, in order
        return cls(conn)

    async def close(self) -> None:
        self.conn.close()

    async def count(self, table: str) -> int:
        return self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    async def columns(self, table: str) -> list[str]:
        return [row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")]

    async def rows(self, table: str, columns: Sequence[str]) -> AsyncIterator[list[tuple]]:
        cursor = self.conn.execute(f"SELECT {', '.join(columns)} FROM {table}")
        while batch := cursor.fetchmany(BATCH_ROWS):
            yield batch

    async def next_id(self, table: str) -> int:
        """The id the next new row would get (never one used before, for AUTOINCREMENT)."""
        top = self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
        seq = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?",
                                (table,)).fetchone()
        return max(top, seq[0] if seq else 0) + 1

    async def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    async def clear(self, table: str) -> None:
        self.conn.execute(f"DELETE FROM {table}")

    @asynccontextmanager
    async def loading(self, table: str, rows: int) -> AsyncIterator[None]:
        """SQLite's indexes (FTS5 included) stay as they are: its triggers keep them."""
        yield

    async def settle(self, tables: Sequence[str]) -> None:
        """Nothing to do: SQLite plans without gathered statistics."""

    async def load(self, table: str, columns: Sequence[str],
                   batches: AsyncIterator[list[tuple]], counted: Callable[[int], object]
                   ) -> int:
        """Insert every row of `batches`; `counted` hears the running total. Returns it."""
        done = 0
        async for batch in batches:
            await self.insert(table, columns, batch)
            done += len(batch)
            counted(done)
        return done

    async def insert(self, table: str, columns: Sequence[str], batch: list) -> None:
        marks = ", ".join("?" * len(columns))
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)

    async def set_next_id(self, table: str, next_id: int) -> None:
        autoincrement = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ? AND sql LIKE '%AUTOINCREMENT%'",
            (table,)).fetchone()
        if autoincrement:
            self.conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
            if next_id > 1:
                self.conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
                                  (table, next_id - 1))

    async def commit(self) -> None:
        self.conn.execute("COMMIT")

    async def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


class _Postgres:
    """One side of a copy in PostgreSQL (asyncpg; rows written with COPY)."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.transaction = None
        self._types: dict[str, dict[str, str]] = {}

    @classmethod
    async def open(cls, url: str) -> _Postgres:
        conn = await connect_migrated(url)
        try:
            await register_types(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn)

    async def close(self) -> None:
        await self.conn.close()

    async def count(self, table: str) -> int:
        return await self.conn.fetchval(f"SELECT count(*) FROM {table}")

    async def columns(self, table: str) -> list[str]:
        if table not in self._types:
            rows = await self.conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = $1"
                " AND is_generated = 'NEVER' ORDER BY ordinal_position", table)
            self._types[table] = {r["column_name"]: r["data_type"] for r in rows}
        return list(self._types[table])

    async def rows(self, table: str, columns: Sequence[str]) -> AsyncIterator[list[tuple]]:
        async with self.conn.transaction(readonly=True):
            cursor = await self.conn.cursor(f"SELECT {', '.join(columns)} FROM {table}")
            while batch := await cursor.fetch(BATCH_ROWS):
                yield [tuple(record) for record in batch]

    async def next_id(self, table: str) -> int:
        row = await self.conn.fetchrow(
            f"SELECT last_value, is_called FROM {await self._sequence(table)}")
        return row["last_value"] + 1 if row["is_called"] else row["last_value"]

    async def _sequence(self, table: str) -> str:
        return await self.conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)

    async def begin(self) -> None:
        self.transaction = self.conn.transaction()
        await self.transaction.start()
        # For the indexes `loading` builds again (PostgreSQL's default is 64 MB).
        await self.conn.execute("SET LOCAL maintenance_work_mem = '512MB'")

    @asynccontextmanager
    async def loading(self, table: str, rows: int) -> AsyncIterator[None]:
        """Load `table` without its secondary indexes and its foreign keys when `rows` is
        large, then make them again from their own definitions: an index built once, and a
        foreign key checked by one join, instead of row by row (unique and primary-key
        indexes stay: constraints and other tables' foreign keys rest on them). DDL is
        transactional here: a failed copy leaves every index and constraint as it was, and
        rows that break a foreign key fail the copy when it is added back."""
        if rows < BULK_INDEX_ROWS:
            yield
            return
        indexes = await self.conn.fetch(
            "SELECT i.indexrelid::regclass::text AS name,"
            " pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i"
            " WHERE i.indrelid = $1::regclass AND NOT i.indisunique"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            table)
        keys = await self.conn.fetch(
            "SELECT conname AS name, pg_get_constraintdef(oid) AS definition"
            " FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'"
            " ORDER BY conname", table)
        for index in indexes:
            await self.conn.execute(f"DROP INDEX {index['name']}")
        for key in keys:
            await self.conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{key["name"]}"')
        yield
        for index in indexes:
            await self.conn.execute(index["definition"])
        for key in keys:
            await self.conn.execute(
                f'ALTER TABLE {table} ADD CONSTRAINT "{key["name"]}" {key["definition"]}')

    async def settle(self, tables: Sequence[str]) -> None:
        """Gather the planner's statistics and mark the new rows visible to all (VACUUM):
        without it the first queries plan blind and write hint bits to every page they
        read. Runs after the commit (VACUUM cannot run inside a transaction)."""
        for table in tables:
            await self.conn.execute(f"VACUUM (ANALYZE) {table}")

    async def clear(self, table: str) -> None:
        await self.conn.execute(f"DELETE FROM {table}")

    async def load(self, table: str, columns: Sequence[str],
                   batches: AsyncIterator[list[tuple]], counted: Callable[[int], object]
                   ) -> int:
        """Write every row of `batches` with one COPY; `counted` hears the running total.

        One COPY for the whole table, fed as the rows are read: the server turns rows into
        tuples (and their text into the `words` tsvector, most of its work) while this
        process reads and converts the next ones, each on its own core.
        """
        types = {c: t for c, t in (await self._column_types(table)).items() if c in columns}
        if "USER-DEFINED" in types.values():
            return await _SQLite.load(self, table, columns, batches, counted)  # row by row
        casts = [_CASTS.get(types[c], _same) for c in columns]
        done = 0

        async def records() -> AsyncIterator[tuple]:
            nonlocal done
            async for batch in batches:
                for row in batch:
                    yield tuple(None if v is None else cast(v)
                                for cast, v in zip(casts, row, strict=True))
                done += len(batch)
                counted(done)

        await self.conn.copy_records_to_table(table, records=records(), columns=list(columns))
        return done

    async def _column_types(self, table: str) -> dict[str, str]:
        await self.columns(table)
        return self._types[table]

    async def insert(self, table: str, columns: Sequence[str], batch: list) -> None:
        await self.columns(table)
        casts = [_CASTS.get(self._types[table][c], _same) for c in columns]
        records = [tuple(None if v is None else cast(v) for cast, v in zip(casts, row, strict=True))
                   for row in batch]
        if any(self._types[table][c] == "USER-DEFINED" for c in columns):
            # citext has no binary COPY encoder: these small tables (speakers, aliases) go
            # row by row, as text.
            marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
            await self.conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", records)
            return
        await self.conn.copy_records_to_table(table, records=records, columns=list(columns))

    async def set_next_id(self, table: str, next_id: int) -> None:
        # setval(seq, n, false): the next nextval() returns n exactly.
        await self.conn.execute("SELECT setval($1, $2, false)", await self._sequence(table),
                                next_id)

    async def commit(self) -> None:
        await self.transaction.commit()

    async def rollback(self) -> None:
        if self.transaction is not None:
            await self.transaction.rollback()


def _same(value):
    return value


# SQLite hands back what was stored; PostgreSQL's COPY wants the column's own type.
_CASTS: dict[str, Callable] = {
    "bigint": int, "integer": int, "double precision": float, "text": str, "USER-DEFINED": str,
}

