"""The connections to the SQLite file: opening, pragmas, migrations, transactions and leases."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from quotebot.store import derived
from quotebot.store.schema import MIGRATIONS, RANDOM_INDEXES, SCHEMA_VERSION

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; leases are always granted
    fcntl = None

log = logging.getLogger(__name__)

# A writer waits this long for another process's write transaction before giving up.
WRITE_WAIT_MS = 10_000
# Readers never wait for writers under WAL; only rare moments (WAL recovery after a crash,
# a connection being created) make them retry, briefly.
READ_WAIT_MS = 5_000
# Opening waits at most this long to rebuild stale derived state before serving without.
OPEN_REPAIR_WAIT_MS = 1_000
_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


class StoreError(RuntimeError):
    """The database cannot be opened, is from a newer quotebot, or is busy too long."""


# "postgresql://user@host/db", "sqlite:///var/lib/quotes.db": a scheme, then "://".
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$", re.DOTALL)


def database_path(target: str | Path) -> str:
    """The SQLite file `target` names: a path, ":memory:", or a `sqlite:///path` URL (three
    slashes and a relative path, or four and an absolute one).

    Raises:
        StoreError: for any other URL (PostgreSQL's are opened by `store.engine`): read as a
            path, such a URL would make a folder named after its scheme.
    """
    text = str(target)
    match = _URL.match(text)
    if match is None:
        return text
    if match["scheme"].lower() == "sqlite" and match["rest"].startswith("/"):
        return match["rest"][1:]  # as SQLAlchemy reads it: sqlite:///rel.db, sqlite:////abs.db
    raise StoreError(f"{match['scheme']}:// databases are not supported: give a SQLite file "
                     "path, sqlite:///path/to/quotes.db or postgresql://user@host/dbname")


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(exc) or "busy" in str(exc)


def _busy_error(path: str, exc: sqlite3.Error) -> StoreError:
    return StoreError(
        f"database {path} is busy: another process kept it locked too long ({exc}); "
        "try again when it has finished"
    )


class Database:
    """An open quotebot database.

    Two aiosqlite connections in autocommit mode. `conn` writes: multi-statement changes
    go through `transaction()`, which serialises this process's writers with a lock and
    takes SQLite's write lock up front (BEGIN IMMEDIATE) so that other processes wait instead
    of failing. `reader` (read-only) serves `scalar`, `fetchone` and `fetchall`: under WAL
    its reads never wait for a writer, and never see a transaction another task has open on
    `conn`. (":memory:" has one connection for both, since a second would be another
    database.)
    """

    engine = "sqlite"  # store modules branch on it only where the engines differ
    # What a read-then-write transaction adds to the SELECT of the row it is about to
    # change: nothing here, where BEGIN IMMEDIATE already serialises every writer.
    row_lock = ""

    def __init__(self, conn: aiosqlite.Connection, path: str,
                 reader: aiosqlite.Connection | None = None) -> None:
        self.conn = conn
        self.reader = reader or conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating if needed) and migrate the database at `path` (":memory:" works).

        Takes the write lock only to migrate or to rebuild stale derived state; an up to
        date database opens with reads only, however busy its writers are.
        """
        path = database_path(path)
        memory = path == ":memory:"
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = reader = None
        try:
            conn = await _connect(path)
            db = cls(conn, path)
            await db._configure(conn, WRITE_WAIT_MS)
            if not memory:
                reader = await _connect(path)
                db.reader = reader
                await db._configure(reader, READ_WAIT_MS)
                await reader.execute("PRAGMA query_only = 1")
            await db._migrate()
            await db._repair_at_open()
        except BaseException:
            for c in (reader, conn):
                if c is not None:
                    await c.close()
            raise
        return db

    async def close(self) -> None:
        if self.reader is not self.conn:
            await self.reader.close()
        await self.conn.close()

    async def _configure(self, conn: aiosqlite.Connection, wait_ms: int) -> None:
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            if self.path != ":memory:" and conn is self.conn:
                await self._use_wal(conn)
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA temp_store = MEMORY")
            # Keep the page cache modest: the serving process must stay small at 1M quotes.
            await conn.execute("PRAGMA cache_size = -32000")
            await conn.execute("PRAGMA mmap_size = 0")
        except sqlite3.DatabaseError as exc:
            if _is_busy(exc):
                raise _busy_error(self.path, exc) from exc
            raise StoreError(f"{self.path} is not a quotebot database: {exc}") from exc

    async def _use_wal(self, conn: aiosqlite.Connection) -> None:
        """Switch the file to WAL (persistent; a lock-free no-op once done).

        Switching needs an exclusive lock and SQLite answers "locked" at once, without the
        busy timeout, when another connection holds one (two processes creating one new
        database): retry for as long as a writer would wait.
        """
        for _ in range(WRITE_WAIT_MS // 50):
            try:
                await conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                await asyncio.sleep(0.05)
        await conn.execute("PRAGMA journal_mode = WAL")

    async def _migrate(self) -> None:
        version = await self.scalar("PRAGMA user_version")
        self._check_version(version)
        if version == SCHEMA_VERSION:
            return
        async with self.transaction() as conn:
            # Another process may have migrated while we waited for the write lock.
            async with conn.execute("PRAGMA user_version") as cur:
                version = (await cur.fetchone())[0]
            self._check_version(version)
            for number in range(version, SCHEMA_VERSION):
                log.info("migrating %s to schema version %d", self.path, number + 1)
                # executescript would COMMIT our transaction; run statement by statement.
                for statement in _statements(MIGRATIONS[number]):
                    await conn.execute(statement)
                # PRAGMA takes no bound parameters; the value is our own integer.
                await conn.execute(f"PRAGMA user_version = {int(number + 1)}")

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this quotebot "
                f"understands ({SCHEMA_VERSION}); upgrade quotebot"
            )

    async def _repair_at_open(self) -> None:
        """Rebuild stale derived state (left by a crash) unless someone is busy writing."""
        # Wait only briefly for the write lock: serving stale derived state beats a slow
        # start, and the next ingest, open or library watcher tick repairs it.
        await self.conn.execute(f"PRAGMA busy_timeout = {OPEN_REPAIR_WAIT_MS}")
        try:
            await derived.repair(self)
        except (StoreError, sqlite3.Error) as exc:  # busy, or a read-only file
            log.warning("could not rebuild derived state at open: %s", exc)
        finally:
            await self.conn.execute(f"PRAGMA busy_timeout = {WRITE_WAIT_MS}")

    async def create_random_indexes(self) -> None:
        """Create the random-key indexes that are missing (all of them after a bulk load)."""
        await derived.create_random_indexes(self)

    async def drop_random_indexes(self) -> None:
        async with self.transaction() as conn:
            for name in RANDOM_INDEXES:
                # The name is one of our constants, never user input.
                await conn.execute(f"DROP INDEX IF EXISTS {name}")

    @asynccontextmanager
    async def side_reader(self) -> AsyncIterator[Database]:
        """This database seen through a read connection of its own, closed on exit.

        For long reads (a library reload: seconds at 1M quotes) that must not queue the
        serving reads behind them on `reader`. Writes still go through this database.
        """
        if self.reader is self.conn:  # ":memory:": there is no second connection
            yield self
            return
        conn = await _connect(self.path)
        try:
            await self._configure(conn, READ_WAIT_MS)
            await conn.execute("PRAGMA query_only = 1")
            view = Database(self.conn, self.path, conn)
            view._write_lock = self._write_lock
            yield view
        finally:
            await conn.close()

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[aiosqlite.Connection]:
        """The write connection to this process alone, with no SQLite lock taken yet."""
        async with self._write_lock:
            yield self.conn

    @asynccontextmanager
    async def begun(self, conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
        """An IMMEDIATE transaction on `conn`, held through `writer()`."""
        try:
            await conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise _busy_error(self.path, exc) from exc
            raise
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (e.g. disk full)
                await conn.execute("ROLLBACK")
            raise
        else:
            try:
                await conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                if _is_busy(exc):
                    raise _busy_error(self.path, exc) from exc
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the body as one IMMEDIATE transaction: all of it is committed or none.

        Raises:
            StoreError: another process held the write lock for over WRITE_WAIT_MS.
        """
        async with self.writer() as conn, self.begun(conn):
            yield conn

    @asynccontextmanager
    async def ingesting(self) -> AsyncIterator[None]:
        """Hold the shared ingest lease: while any process holds it, nobody else rebuilds
        derived state (the ingest does at its end). Released by the kernel on any exit."""
        fd = await self._lease_fd()
        if fd is None:
            yield
            return
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    # A repair holds it exclusively, for seconds at most. Polling (not a
                    # blocking flock in a thread) keeps this cancellable.
                    await asyncio.sleep(0.1)
            yield
        finally:
            os.close(fd)

    @asynccontextmanager
    async def maintenance(self) -> AsyncIterator[bool]:
        """The exclusive lease, if no ingest holds the shared one; yields whether granted."""
        fd = await self._lease_fd()
        if fd is None:
            yield True
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
            else:
                yield True
        finally:
            os.close(fd)

    async def ingest_running(self) -> bool:
        """Whether some process (this one included) is ingesting into this database."""
        async with self.maintenance() as granted:
            return not granted

    async def _lease_fd(self) -> int | None:
        """A descriptor of the lease file beside the database (None: no leases here)."""
        if fcntl is None or self.path == ":memory:":
            return None
        try:
            return os.open(f"{self.path}-ingest", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only folder: nobody can ingest here either
            log.debug("no ingest lease for %s: %s", self.path, exc)
            return None

    async def ping(self) -> None:
        """Raise unless the database answers (health checks)."""
        await self.scalar("SELECT 1")

    async def data_version(self) -> int:
        """SQLite's counter of commits by other connections: a cheap "anything changed?"."""
        return int(await self.scalar("PRAGMA data_version"))

    async def on_change(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Nothing calls `callback` here: SQLite cannot notify other processes of a
        commit. They poll instead (`data_version`; the daily schedulers re-read their
        subscriptions every few minutes). PostgreSQL's `on_change` notifies at once."""
        return lambda: None

    async def scalar(self, sql: str, params: tuple = ()) -> object:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        try:
            async with self.reader.execute(sql, params) as cur:
                return list(await cur.fetchall())
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise _busy_error(self.path, exc) from exc
            raise

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        try:
            async with self.reader.execute(sql, params) as cur:
                return await cur.fetchone()
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise _busy_error(self.path, exc) from exc
            raise


async def _connect(path: str) -> aiosqlite.Connection:
    try:
        conn = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    conn.row_factory = aiosqlite.Row
    return conn


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
