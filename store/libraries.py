"""Libraries and collections: which sources each community sees (schema migration 6).

A collection is a set of sources: a library's own (kind 'library', owned by a platform and
workspace) or a shared one (kind 'shared': `bundled`, or one an operator ingests with
`--collection`). A library is a (platform, workspace) pair; it sees its own collection plus
the ones enabled for it in `library_collections`. A library comes into being with the
operator's default collections enabled (`DEFAULT_COLLECTIONS`, a meta row).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from quotebot.store.db import Database

log = logging.getLogger(__name__)

SHARED, LIBRARY = "shared", "library"
# meta key: JSON list of the collection names a new library starts with enabled.
DEFAULT_COLLECTIONS = "default_collections"
# meta key: bumped whenever a library's collections change, so serving processes, which
# keep every library's collections in memory, reload them (QuoteLibrary.reload).
LIBRARIES_GENERATION = "libraries_generation"
OPERATOR_PLATFORM = "local"  # the operator's own library: ("local", ""), named "local"
# Platforms of the operator's own terminal (the command line, the console chat): their
# requests and posts belong to the operator's library.
OPERATOR_PLATFORMS = frozenset({"cli", "console", OPERATOR_PLATFORM})


@dataclass(frozen=True, slots=True)
class CollectionRow:
    """A collection with its owner (a library's own) and how many sources and quotes."""

    id: int
    name: str
    kind: str
    platform: str | None
    workspace: str | None
    sources: int = 0
    quotes: int = 0


@dataclass(frozen=True, slots=True)
class LibraryRow:
    """A library: its own collection and the others it has enabled (ids, ascending)."""

    platform: str
    workspace: str
    own: int
    enabled: tuple[int, ...]
    shared: frozenset[int] = frozenset()  # which of `enabled` are shared collections

    @property
    def collections(self) -> tuple[int, ...]:
        """Every collection the library sees: its own first, then the enabled ones."""
        return (self.own, *(c for c in self.enabled if c != self.own))


NAME_MAX = 64  # a shared collection's name is at most this long


def valid_collection_name(name: str) -> bool:
    """Whether `name` may name a shared collection: lower-case letters, digits, `-`, `_`
    and `.`, 1-64 characters, and not `local` (a library's own is `platform:id`, with a
    colon, so the two never clash)."""
    return (0 < len(name) <= NAME_MAX and name != OPERATOR_PLATFORM and name[0].isalnum()
            and all(c.isascii() and (c.islower() or c.isdigit() or c in "-_.") for c in name))


def library_name(platform: str, workspace: str) -> str:
    """The name of a library (and of its own collection): `local` or `platform:workspace`."""
    if platform == OPERATOR_PLATFORM:
        return OPERATOR_PLATFORM
    return f"{platform}:{workspace}"


def library_key(platform: str, workspace: str) -> tuple[str, str]:
    """The library (platform, workspace) a channel of `platform` and `workspace` is in."""
    if platform in OPERATOR_PLATFORMS:
        return OPERATOR_PLATFORM, ""
    return platform, workspace


async def collections_of(conn, platform: str, workspace: str) -> tuple[int, ...]:
    """The collections a channel's library sees, read on `conn` (inside the caller's
    transaction): its own and the enabled ones; for a library never used yet, the default
    collections it would start with (nothing is created)."""
    platform, workspace = library_key(platform, workspace)
    async with conn.execute(
        "SELECT id FROM collections WHERE kind = 'library' AND platform = ? AND workspace = ? "
        "UNION ALL SELECT collection_id FROM library_collections "
        "WHERE platform = ? AND workspace = ?", (platform, workspace, platform, workspace),
    ) as cur:
        found = tuple(r[0] for r in await cur.fetchall())
    if found:
        return found
    async with conn.execute("SELECT value FROM meta WHERE key = ?",
                            (DEFAULT_COLLECTIONS,)) as cur:
        row = await cur.fetchone()
    names = ["bundled"] if row is None else list(json.loads(row[0]))
    if not names:
        return ()
    async with conn.execute(
        f"SELECT id FROM collections WHERE name IN ({','.join('?' * len(names))})", names,
    ) as cur:
        return tuple(r[0] for r in await cur.fetchall())


class LibraryStore:
    """All SQL about libraries and collections."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def library(self, platform: str, workspace: str, *, create: bool = True
                      ) -> LibraryRow | None:
        """The library of (platform, workspace); created with the default collections on
        first use unless `create` is false (then None for one never used)."""
        row = await self._read(self.db.fetchall, platform, workspace)
        if row is not None or not create:
            return row
        async with self.db.transaction() as conn:
            await self._create(conn, platform, workspace)
            return await self._read(_fetchall_on(conn), platform, workspace)

    async def every_library(self) -> dict[tuple[str, str], LibraryRow]:
        """Every library, by (platform, workspace): one read of two small tables."""
        rows = await self.db.fetchall(
            "SELECT platform, workspace, id, 1, kind FROM collections WHERE kind = 'library' "
            "UNION ALL SELECT l.platform, l.workspace, l.collection_id, 0, c.kind "
            "FROM library_collections l JOIN collections c ON c.id = l.collection_id")
        own: dict[tuple[str, str], int] = {}
        enabled: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for platform, workspace, collection_id, is_own, kind in rows:
            if is_own:
                own[(platform, workspace)] = collection_id
            else:
                enabled.setdefault((platform, workspace), []).append((collection_id, kind))
        return {key: LibraryRow(*key, mine, tuple(sorted(c for c, _ in enabled.get(key, ()))),
                                frozenset(c for c, k in enabled.get(key, ()) if k == SHARED))
                for key, mine in own.items()}

    async def generation(self) -> int:
        """The libraries generation (see `LIBRARIES_GENERATION`); 0 before any change."""
        value = await self.db.scalar("SELECT value FROM meta WHERE key = ?",
                                     (LIBRARIES_GENERATION,))
        return 0 if value is None else int(value)

    async def _read(self, fetchall, platform: str, workspace: str) -> LibraryRow | None:
        rows = await fetchall(
            "SELECT id, 1, kind FROM collections WHERE kind = 'library' AND platform = ? "
            "AND workspace = ? UNION ALL SELECT l.collection_id, 0, c.kind "
            "FROM library_collections l JOIN collections c ON c.id = l.collection_id "
            "WHERE l.platform = ? AND l.workspace = ?",
            (platform, workspace, platform, workspace),
        )
        own = next((r[0] for r in rows if r[1]), None)
        if own is None:
            return None
        return LibraryRow(platform, workspace, own, tuple(sorted(r[0] for r in rows if not r[1])),
                          frozenset(r[0] for r in rows if not r[1] and r[2] == SHARED))

    async def _create(self, conn, platform: str, workspace: str) -> None:
        cur = await conn.execute(
            "INSERT INTO collections (name, kind, platform, workspace) VALUES (?, 'library', ?, ?) "
            "ON CONFLICT DO NOTHING",
            (library_name(platform, workspace), platform, workspace),
        )
        if cur.rowcount != 1:  # another process created it first
            return
        names = await self._default_names(conn)
        marks = ",".join("?" * len(names))
        if names:
            await conn.execute(
                "INSERT INTO library_collections (platform, workspace, collection_id) "
                f"SELECT ?, ?, id FROM collections WHERE name IN ({marks}) "
                "ON CONFLICT DO NOTHING",
                (platform, workspace, *names),
            )
        log.info("new library %s with %s", library_name(platform, workspace),
                 ", ".join(names) or "no shared collections")

    async def _default_names(self, conn) -> list[str]:
        async with conn.execute("SELECT value FROM meta WHERE key = ?",
                                (DEFAULT_COLLECTIONS,)) as cur:
            row = await cur.fetchone()
        return ["bundled"] if row is None else list(json.loads(row[0]))

    async def default_collections(self) -> list[str]:
        """The collections a new library starts with (`bundled` unless the operator said)."""
        value = await self.db.scalar("SELECT value FROM meta WHERE key = ?",
                                     (DEFAULT_COLLECTIONS,))
        return ["bundled"] if value is None else list(json.loads(str(value)))

    async def set_default_collections(self, names: Sequence[str]) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (DEFAULT_COLLECTIONS, json.dumps(list(names))),
            )

    async def collections(self, *, counts: bool = True) -> list[CollectionRow]:
        """Every collection by name, with its source and quote counts."""
        count_sql = (
            "(SELECT count(*) FROM sources so WHERE so.collection_id = c.id), "
            "(SELECT count(*) FROM quotes q WHERE q.collection_id = c.id)"
            if counts else "0, 0")
        rows = await self.db.fetchall(
            f"SELECT c.id, c.name, c.kind, c.platform, c.workspace, {count_sql} "
            "FROM collections c ORDER BY c.name")
        return [CollectionRow(*r) for r in rows]

    async def listed(self, also: Sequence[int] = ()) -> list[CollectionRow]:
        """The shared collections, and the collections `also` names (a library's enabled
        ones), by name; counts left at 0 (the caller knows them from its loaded lists)."""
        marks = ",".join("?" * len(also))
        rows = await self.db.fetchall(
            "SELECT id, name, kind, platform, workspace FROM collections WHERE kind = 'shared'"
            + (f" OR id IN ({marks})" if also else "") + " ORDER BY name", tuple(also))
        return [CollectionRow(*r) for r in rows]

    async def enabled(self) -> dict[tuple[str, str], list[int]]:
        """(platform, workspace) -> the collections enabled for that library."""
        found: dict[tuple[str, str], list[int]] = {}
        for platform, workspace, collection_id in await self.db.fetchall(
                "SELECT platform, workspace, collection_id FROM library_collections "
                "ORDER BY platform, workspace, collection_id"):
            found.setdefault((platform, workspace), []).append(collection_id)
        return found

    async def collection(self, name: str) -> CollectionRow | None:
        row = await self.db.fetchone(
            "SELECT id, name, kind, platform, workspace FROM collections WHERE name = ?",
            (name,))
        return None if row is None else CollectionRow(*row)

    async def quote_count(self, collection_id: int) -> int:
        """How many quotes a collection holds (an index range: quotes_good is partial, so
        this counts the table's rows of the collection)."""
        return int(await self.db.scalar(
            "SELECT count(*) FROM quotes WHERE collection_id = ?", (collection_id,)))

    async def create_shared(self, name: str) -> CollectionRow:
        """The shared collection `name`, created if new.

        Raises:
            ValueError: not a valid name (`valid_collection_name`), or a library's own.
        """
        if not valid_collection_name(name):
            raise ValueError(f"“{name[:80]}” cannot name a collection: use lower-case letters, "
                             "digits, - _ and . (at most 64 characters), not “local”")
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO collections (name, kind) VALUES (?, 'shared') "
                "ON CONFLICT (name) DO NOTHING", (name,))
        found = await self.collection(name)
        assert found is not None
        if found.kind != SHARED:
            raise ValueError(f"'{name}' is a library's own collection, not a shared one")
        return found

    async def set_enabled(self, platform: str, workspace: str, collection_id: int,
                          enabled: bool) -> bool:
        """Enable or disable a collection for a library; whether anything changed.

        Serving processes keep every library's collections in memory: the process that
        made the change at once, the others at their next look (QuoteLibrary.watch,
        every few seconds), through the libraries generation bumped here."""
        async with self.db.transaction() as conn:
            if enabled:
                cur = await conn.execute(
                    "INSERT INTO library_collections (platform, workspace, collection_id) "
                    "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (platform, workspace, collection_id))
            else:
                cur = await conn.execute(
                    "DELETE FROM library_collections WHERE platform = ? AND workspace = ? "
                    "AND collection_id = ?", (platform, workspace, collection_id))
            changed = cur.rowcount == 1
            if changed:
                await _bump_generation(conn)
            return changed


async def _bump_generation(conn) -> None:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)",
        (LIBRARIES_GENERATION,))


def _fetchall_on(conn):
    """`Database.fetchall` over a connection inside a transaction."""
    async def fetchall(sql: str, params: tuple = ()):
        async with conn.execute(sql, params) as cur:
            return list(await cur.fetchall())
    return fetchall
