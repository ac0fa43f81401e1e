"""The connections to a PostgreSQL database: a pool, migrations, transactions and leases.

`PgDatabase` offers what `store.db.Database` offers the store modules (`scalar`,
`fetchall`, `fetchone`, `transaction()` yielding a connection with `execute` and
`executemany`, the ingest leases), so one store module can run on either engine: SQL is
written once, with `?` or `:name` parameters, in the subset both engines speak
(`INSERT … ON CONFLICT`, `RETURNING`, no PRAGMAs), and `translate` turns the parameters
into PostgreSQL's `$1, $2…`. What the engines do differently (full-text search, bulk
loads) lives in modules of its own per engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache

from quotebot.store.db import StoreError
from quotebot.store.pg_migrate import MIGRATION_LOCK, migrate
from quotebot.store.pg_schema import CHANGES_CHANNEL, PG_MIGRATIONS

log = logging.getLogger(__name__)

POOL_MIN = 1
POOL_MAX = 10
# The change listener checks its connection this often (seconds), and waits at most
# RECONNECT_MAX between attempts to get it back.
LISTEN_PING = 30.0
RECONNECT_MAX = 30.0
# Session advisory lock for ingests (shared) and repairs (exclusive): the lease the SQLite
# backend keeps in a file beside the database.
INGEST_LEASE = MIGRATION_LOCK + 1

# A string literal, a quoted name, a comment, a `?`, a `:name` (not `::type`), in that order.
_TOKENS = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|(\?)|(?<!:):([A-Za-z_]\w*)"
)


@lru_cache(maxsize=1024)
def translate(sql: str) -> tuple[str, tuple[str, ...] | int]:
    """`sql` with `?` / `:name` parameters as `$n`; the names in order, or the `?` count.

    >>> translate("SELECT * FROM t WHERE a = ? AND b = '?' AND c::text = ?")
    ("SELECT * FROM t WHERE a = $1 AND b = '?' AND c::text = $2", 2)
    """
    names: list[str] = []
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        if match.group(1):
            count += 1
            return f"${count}"
        if match.group(2):
            name = match.group(2)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"
        return match.group(0)

    out = _TOKENS.sub(replace, sql)
    if names and count:
        raise ValueError("a statement mixes ? and :name parameters")
    return out, tuple(names) if names else count


def _arguments(sql: str, params: Sequence | Mapping) -> tuple[str, list]:
    text, shape = translate(sql)
    if isinstance(shape, tuple):
        if not isinstance(params, Mapping):
            raise TypeError("named parameters need a mapping")
        return text, [params[name] for name in shape]
    values = list(params)
    if len(values) != shape:
        raise TypeError(f"the statement takes {shape} parameters; {len(values)} given")
    return text, values


class Cursor:
    """What one statement returned, read like an sqlite3 cursor."""

    def __init__(self, rows: list, rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    async def fetchone(self):
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list:
        rest = self._rows[self._next:]
        self._next = len(self._rows)
        return rest

    async def fetchmany(self, size: int) -> list:
        batch = self._rows[self._next:self._next + size]
        self._next += len(batch)
        return batch

    def __aiter__(self):
        return self

    async def __anext__(self):
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc) -> None:
        return None


class _Pending:
    """`conn.execute(...)`, awaited or used with `async with`, as aiosqlite allows both."""

    def __init__(self, run) -> None:
        self._run = run
        self._cursor: Cursor | None = None

    def __await__(self):
        return self._run().__await__()

    async def __aenter__(self) -> Cursor:
        self._cursor = await self._run()
        return self._cursor

    async def __aexit__(self, *exc) -> None:
        return None


class _PoolReader:
    """`Database.reader`'s shape over the pool: each statement on a pooled connection."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def execute(self, sql: str, params: Sequence | Mapping = ()) -> _Pending:
        async def run() -> Cursor:
            text, values = _arguments(sql, params)
            async with self.db.connection() as conn:
                return Cursor(await conn.fetch(text, *values), -1)

        return _Pending(run)


class PgConnection:
    """One pooled connection inside a transaction, with aiosqlite's `execute` shape."""

    def __init__(self, conn) -> None:
        self.raw = conn  # the asyncpg connection, for engine-specific work (COPY)
        self.in_transaction = True

    def execute(self, sql: str, params: Sequence | Mapping = ()) -> _Pending:
        async def run() -> Cursor:
            text, values = _arguments(sql, params)
            statement = await self.raw.prepare(text)
            rows = await statement.fetch(*values)
            status = statement.get_statusmsg() or ""
            tail = status.rsplit(" ", 1)[-1]
            return Cursor(rows, int(tail) if tail.isdigit() else -1)

        return _Pending(run)

    async def executemany(self, sql: str, rows: Iterable[Sequence | Mapping]) -> None:
        rows = list(rows)
        if not rows:
            return
        text, _ = translate(sql)
        await self.raw.executemany(text, [_arguments(sql, r)[1] for r in rows])


class PgDatabase:
    """An open quotebot database on PostgreSQL (the `store.db.Database` of that engine)."""

    engine = "postgresql"
    # Writers run side by side here: a read-then-write transaction locks the row it read
    # (the second claimer of a day waits, then sees the first's claim).
    row_lock = " FOR UPDATE"

    def __init__(self, pool, url: str) -> None:
        self.pool = pool
        self.reader = _PoolReader(self)  # reads outside any transaction, as SQLite's
        self.path = redacted(url)  # what messages name: no password
        self._url = url
        self._changes = 0
        self._callbacks: list[Callable[[str], None]] = []
        self._listener: asyncio.Task | None = None
        self._listening = asyncio.Event()

    @classmethod
    async def open(cls, url: str, *, min_size: int = POOL_MIN, max_size: int = POOL_MAX
                   ) -> PgDatabase:
        """Connect a pool to `url` and apply any migration it lacks (exactly once, however
        many processes open it at the same moment)."""
        asyncpg = driver()
        conn = await connect_migrated(url)  # before the pool: its types exist after
        await conn.close()
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size,
                                             reset=_keep_session,
                                             init=register_types)
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"cannot connect to {redacted(url)}: {exc}") from exc
        return cls(pool, url)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.pool.close()

    @asynccontextmanager
    async def connection(self):
        """A pooled connection for the body. A server that cannot be reached, went away or
        refuses more connections is a StoreError saying so, not a driver traceback."""
        asyncpg = driver()
        try:
            async with self.pool.acquire() as conn:
                yield conn
        except asyncpg.QueryCanceledError:
            raise  # a statement cancelled (its time limit), not the connection: the caller's
        except asyncpg.TooManyConnectionsError as exc:
            raise StoreError(
                f"{self.path} refuses more connections ({exc}): lower --db-pool "
                f"(now {self.pool.get_max_size()} per process) or raise the server's "
                "max_connections") from exc
        except (OSError, asyncpg.PostgresConnectionError,
                asyncpg.exceptions.OperatorInterventionError) as exc:
            raise StoreError(f"lost the connection to {self.path}: {exc}") from exc

    async def ping(self) -> None:
        """Raise unless the server answers (health checks)."""
        await self.scalar("SELECT 1")

    # ---- changes made by other processes ------------------------------------------------

    async def data_version(self) -> int:
        """A number that moves when any process commits a change others must hear of (the
        `meta` generations, subscriptions: PG migration 2's NOTIFY triggers), as SQLite's
        `PRAGMA data_version` does for any commit. Starts listening on the first call."""
        await self._listen()
        return self._changes

    async def on_change(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call `callback(table)` whenever a process commits a change to `table` (see
        `data_version`); `table` is "*" when changes may have been missed (the listening
        connection was lost and is back). Returns what stops the calls."""
        await self._listen()
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    async def _listen(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._keep_listening(), name="pg-listener")
        await self._listening.wait()

    async def _keep_listening(self) -> None:
        """LISTEN on a connection of its own (a pooled one would be handed to others), and
        reconnect when it is lost, for as long as the database is open."""
        asyncpg = driver()
        delay = 0.5
        while True:
            try:
                await self._listen_once(asyncpg)
                delay = 0.5  # it listened, then was lost: try again soon
                log.warning("PostgreSQL change listener lost its connection; reconnecting")
            except (TimeoutError, OSError, asyncpg.PostgresError,
                    asyncpg.InterfaceError) as exc:
                log.warning("PostgreSQL change listener cannot connect (%s); "
                            "retrying in %.1f s", exc, delay)
            # Not listening is better than hanging: callers see no change until it is back.
            self._listening.set()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    async def _listen_once(self, asyncpg) -> None:
        """Listen on one connection until it is lost."""
        conn = await asyncpg.connect(self._url)
        try:
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(CHANGES_CHANNEL, self._heard)
            # Whatever was committed before LISTEN took effect went unheard: tell everyone
            # to look (on the first connection too: changes since they loaded).
            self._heard(conn, 0, CHANGES_CHANNEL, "*")
            self._listening.set()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), LISTEN_PING)
                if not lost.is_set():
                    await conn.fetchval("SELECT 1")  # a dead peer shows up here
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close(timeout=2))

    def _heard(self, _conn, _pid: int, _channel: str, table: str) -> None:
        self._changes += 1
        for callback in list(self._callbacks):
            try:
                callback(table)
            except Exception:  # one broken follower must not deafen the others
                log.exception("change callback failed")

    async def scalar(self, sql: str, params: Sequence | Mapping = ()) -> object:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def fetchall(self, sql: str, params: Sequence | Mapping = ()) -> list:
        text, values = _arguments(sql, params)
        async with self.connection() as conn:
            return await conn.fetch(text, *values)

    async def fetchone(self, sql: str, params: Sequence | Mapping = ()):
        text, values = _arguments(sql, params)
        async with self.connection() as conn:
            return await conn.fetchrow(text, *values)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConnection]:
        """Run the body as one transaction on one pooled connection: all of it or none."""
        async with self.connection() as conn, conn.transaction():
            yield PgConnection(conn)

    @asynccontextmanager
    async def side_reader(self) -> AsyncIterator[PgDatabase]:
        """Long reads need no connection of their own here: the pool gives each one."""
        yield self

    @asynccontextmanager
    async def ingesting(self) -> AsyncIterator[None]:
        """Hold the shared ingest lease (see `maintenance`) for the body."""
        async with self.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock_shared($1)", INGEST_LEASE)
            try:
                yield
            finally:
                await _unlock(conn, "SELECT pg_advisory_unlock_shared($1)")

    @asynccontextmanager
    async def maintenance(self) -> AsyncIterator[bool]:
        """The exclusive lease, if no ingest holds the shared one; yields whether granted.

        A session advisory lock: if the process dies, its connection closes and the server
        lets go of the lock, as the kernel does with the SQLite backend's file lock.
        """
        async with self.connection() as conn:
            granted = await conn.fetchval("SELECT pg_try_advisory_lock($1)", INGEST_LEASE)
            try:
                yield granted
            finally:
                if granted:
                    await _unlock(conn, "SELECT pg_advisory_unlock($1)")

    async def ingest_running(self) -> bool:
        """Whether some process (this one included) is ingesting into this database."""
        async with self.maintenance() as granted:
            return not granted

    async def create_random_indexes(self) -> None:
        """Nothing to do: PostgreSQL's random-key indexes are never dropped for a bulk load."""

    async def drop_random_indexes(self) -> None:
        """Nothing to do (see `create_random_indexes`)."""


async def connect_migrated(url: str):
    """One asyncpg connection to `url`, the database migrated to this quotebot's schema.

    Raises:
        StoreError: the server cannot be reached (the password left out of the message).
    """
    asyncpg = driver()  # the postgres extra; SQLite-only installs never import it
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise StoreError(f"cannot connect to {redacted(url)}: {exc}") from exc
    try:
        await migrate(conn, PG_MIGRATIONS)
    except BaseException:
        await conn.close()
        raise
    return conn


async def register_types(conn) -> None:
    """Teach a connection the schema's extension types: `citext` travels as plain text."""
    await conn.set_type_codec("citext", encoder=str, decoder=str, format="text")


def driver():
    """The asyncpg module (the `postgres` extra), or a StoreError that says how to get it."""
    try:
        import asyncpg
    except ImportError:
        raise StoreError("PostgreSQL needs its driver: pip install 'quotebot[postgres]'") from None
    return asyncpg


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


async def _unlock(conn, sql: str) -> None:
    """Let go of the lease's session lock; a connection that cannot is closed, which lets
    go of it too (the pool does not reset connections: see `_keep_session`)."""
    try:
        await conn.execute(sql, INGEST_LEASE)
    except BaseException:
        conn.terminate()
        raise


async def _keep_session(conn) -> None:
    """The pool's reset of a connection it takes back: nothing on the server.

    asyncpg's default sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    each time, a round trip that made every statement half as fast again (0.35 against
    0.17 ms for a `SELECT 1`). Nothing here leaves session state on a pooled connection:
    settings are `SET LOCAL`, LISTEN has a connection of its own, and the leases' advisory
    locks are let go by `_unlock`. asyncpg still ends any open transaction first.
    """
