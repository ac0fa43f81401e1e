"""Shared fixtures: a library over a tmp_path database filled with known quotes."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from quotebot.bot.all_commands import build_registry
from quotebot.bot.app import ensure_bundled
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.registry import Services
from quotebot.store.db import Database
from quotebot.store.engine import open_database
from quotebot.store.libraries import LibraryStore
from quotebot.store.quotes import NewQuote, NewSource, SpeakerInfo

ILYA = SpeakerInfo("Ilya Sutskever", "Chief Scientist", ("Ilya", "Sutskever"))
DWARKESH = SpeakerInfo("Dwarkesh Patel", "Host", ("Dwarkesh",))
GREG = SpeakerInfo("Greg Brockman", "President", ("Greg", "Brockman"))

PODCAST = [
    (DWARKESH, "What is the vibe going to be if we go back to the era of research?", 20.0, 0.7),
    (ILYA, "So, one consequence of the age of scaling is that scaling sucked out all the air "
           "in the room.", 52.7, 0.8),
    (ILYA, "Actually, on that, there is the Silicon Valley saying that says that ideas are "
           "cheap, execution is everything.", 85.0, 0.9),
    (DWARKESH, "Yeah.", 92.0, 0.05),
    (ILYA, "AlexNet was built on two GPUs, and that was the total amount of compute used "
           "for it.", 160.0, 0.8),
]
STAGE = [
    (GREG, "We just make payments really good, and that was the secret sauce.", None, 0.8),
    (GREG, "You can only control your inputs, you can control the experiments you run.",
     None, 0.85),
    (GREG, "Hey.", None, 0.02),
]


def source(slug: str, title: str) -> NewSource:
    return NewSource(slug, title, None, None, None, None, "test", f"hash-{slug}", {})


def quotes(rows) -> list[NewQuote]:
    return [
        NewQuote(who.name, text, start, i, score)
        for i, (who, text, start, score) in enumerate(rows)
    ]


async def share_operator_library(db: Database) -> None:
    """The operator's setting that every new server and workspace sees the operator's own
    library (`local`) besides `bundled`: one library for all, as before libraries existed.
    The tests of features other than libraries run so; tests/bot/test_libraries.py and the
    platform isolation tests do not."""
    await LibraryStore(db).set_default_collections(["bundled", "local"])


async def fill(library: QuoteLibrary) -> None:
    await share_operator_library(library.db)
    await library.store.replace_source(
        source("podcast", "Ilya Sutskever on the Dwarkesh Podcast"), [ILYA, DWARKESH],
        quotes(PODCAST),
    )
    await library.store.replace_source(
        source("stage", "Greg Brockman on stage"), [GREG], quotes(STAGE)
    )
    await library.store.refresh_terms()
    await library.load()


def build_database(path: Path, fill_with: Callable[[Database], Awaitable[None]]) -> Path:
    """Create the database at `path` and fill it, outside any test's event loop."""

    async def build() -> None:
        database = await Database.open(path)
        try:
            await fill_with(database)
        finally:
            await database.close()  # the last connection: the WAL is folded into the file

    asyncio.run(build())
    return path


def copy_database(original: Path, folder: Path) -> Path:
    """A private copy of a closed database (one file: closing folded its WAL in)."""
    copy = folder / original.name
    shutil.copyfile(original, copy)
    return copy


async def _ingest_bundle(database: Database) -> None:
    report = await ensure_bundled(QuoteLibrary(database).store)
    assert report is not None and not report.failed


@pytest.fixture(scope="session")
def bundled_file(tmp_path_factory) -> Path:
    """The bundled interviews ingested once per test process; open a `copy_database` of it."""
    return build_database(tmp_path_factory.mktemp("bundle") / "bundled.db", _ingest_bundle)


async def _nothing(database: Database) -> None:
    pass


@pytest.fixture(scope="session")
def empty_file(tmp_path_factory) -> Path:
    """A new database with every migration applied, made once per test process."""
    return build_database(tmp_path_factory.mktemp("empty") / "quotes.db", _nothing)


ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    """Run a test marked `both_engines` (most often by its module's `pytestmark`) once per
    engine when its fixtures reach `engine` (through `db` or `library`); a test marked
    `sqlite_only` besides stays on SQLite (it reads SQLite's internals).

    `both_engines(postgresql="slow")` puts the PostgreSQL run in the slow tier (CI runs
    both): for suites beyond the store, search and daily ones, whose second run would
    lengthen the quick suite more than it tells there.
    """
    marker = metafunc.definition.get_closest_marker("both_engines")
    if ("engine" in metafunc.fixturenames and marker is not None
            and metafunc.definition.get_closest_marker("sqlite_only") is None):
        postgresql = "postgresql"
        if marker.kwargs.get("postgresql") == "slow":
            postgresql = pytest.param("postgresql", marks=pytest.mark.slow)
        metafunc.parametrize("engine", ["sqlite", postgresql], indirect=True)


@pytest.fixture
def engine(request) -> str:
    """The engine `db` opens: SQLite, or each engine in turn for `both_engines` tests."""
    return getattr(request, "param", "sqlite")


async def open_any(target: str | Path):
    """Open a database by SQLite path or PostgreSQL URL (a second connection to the same
    database, as another host or process would open it)."""
    return await open_database(target)


@pytest.fixture
def db_target(engine, request, empty_file, tmp_path) -> Path | str:
    """Where `db` opens: a copy of the migrated SQLite file, or a migrated PostgreSQL
    database's URL. (A plain fixture: `db` cannot resolve PostgreSQL's from its loop.)"""
    if engine == "sqlite":
        return copy_database(empty_file, tmp_path)
    return request.getfixturevalue("postgres_migrated_db")


@pytest.fixture
async def db(db_target):
    """A new, migrated database: SQLite unless the test runs on both engines (`engine`)."""
    database = await open_any(db_target)
    yield database
    await database.close()


@pytest.fixture
async def library(db) -> QuoteLibrary:
    lib = QuoteLibrary(db)
    await fill(lib)
    return lib


@pytest.fixture
def registry():
    return build_registry()


@pytest.fixture
def services(library) -> Services:
    return Services(library=library)


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server (tests/postgres.py), one per test process, stopped at exit."""
    from tests.postgres import PostgresServer

    server = PostgresServer.create().start()
    yield server
    server.stop()


_databases = itertools.count(1)


@pytest.fixture
def postgres_db(postgres_server) -> str:
    """The URL of a new, empty PostgreSQL database on the shared test server."""
    return postgres_server.create_database(f"test_{next(_databases)}")


@pytest.fixture(scope="session")
def postgres_admin(postgres_server):
    """Creates, copies and empties the test server's databases (tests/postgres_pool.py)."""
    from tests.postgres_pool import Admin

    admin = Admin(postgres_server.url())
    yield admin
    admin.close()


def _postgres_build(server, admin, name: str, fill_with) -> str:
    """Create database `name`, migrate it and fill it (on the admin's loop); its name."""
    from quotebot.store.pg_db import PgDatabase

    async def build(url: str) -> None:
        database = await PgDatabase.open(url, min_size=0)
        try:
            await fill_with(database)
        finally:
            await database.close()

    admin.execute(f'CREATE DATABASE "{name}"')
    admin.run(build(server.url(name)))
    return name


@pytest.fixture(scope="session")
def postgres_pools(postgres_server, postgres_admin):
    """`pool(name, fill_with)`: the reusable databases (tests/postgres_pool.py) of a
    template made once per test process by `fill_with` (migrated, then filled)."""
    from tests.postgres_pool import Databases

    pools: dict[str, Databases] = {}

    def pool(name: str, fill_with: Callable[[Database], Awaitable[None]]) -> Databases:
        if name not in pools:
            template = _postgres_build(postgres_server, postgres_admin, f"{name}_template",
                                       fill_with)
            pools[name] = Databases(postgres_admin, postgres_server, template)
        return pools[name]

    yield pool
    for databases in pools.values():
        databases.close()


@pytest.fixture
def postgres_filled(postgres_server, postgres_pools):
    """`take(name, fill_with)`: the URL of a PostgreSQL database holding what `fill_with`
    put in a migrated one (the template `name`), for this test alone: the PostgreSQL twin
    of a `copy_database` of a `build_database` file."""
    taken = []

    def take(name: str, fill_with: Callable[[Database], Awaitable[None]]) -> str:
        databases = postgres_pools(name, fill_with)
        database = databases.take()
        taken.append((databases, database))
        return postgres_server.url(database)

    yield take
    for databases, database in taken:
        databases.give_back(database)


@pytest.fixture
def postgres_migrated_db(postgres_filled) -> str:
    """The URL of a migrated PostgreSQL database holding nothing but what migrating put
    there, for this test alone."""
    return postgres_filled("empty", _nothing)


@pytest.fixture
def postgres_bundled_db(postgres_filled) -> str:
    """The URL of a PostgreSQL database holding the bundled interviews (the `bundled_file`
    of that engine), for this test alone."""
    return postgres_filled("bundled", _ingest_bundle)


@pytest.fixture
def bundled_target(engine, request, bundled_file, tmp_path) -> Path | str:
    """A private copy of the bundled interviews, ingested, on `engine`: a SQLite file's
    path or a PostgreSQL database's URL (open it with `open_any`)."""
    if engine == "sqlite":
        return copy_database(bundled_file, tmp_path)
    return request.getfixturevalue("postgres_bundled_db")


@pytest.fixture(params=ENGINES)
async def any_db(request, empty_file, tmp_path):
    """A new, migrated database on each engine in turn: store tests that take it run twice."""
    if request.param == "sqlite":
        database = await Database.open(copy_database(empty_file, tmp_path))
    else:
        from quotebot.store.pg_db import PgDatabase

        database = await PgDatabase.open(request.getfixturevalue("postgres_migrated_db"))
    yield database
    await database.close()


async def add_lines(library: QuoteLibrary, slug: str, title: str, who: SpeakerInfo,
                    lines: list[str], *, owner: tuple[str, str] | None = None,
                    collection: str | None = None) -> None:
    """A source `slug` of `lines` said by `who`, one a second, into the own collection of
    library `owner` or the shared `collection` (for the libraries' tests)."""
    store = await library.writer(library=owner, collection=collection)
    await store.replace_source(
        NewSource(slug, title, None, None, None, None, "t", f"h-{slug}", {}), [who],
        [NewQuote(who.name, text, float(i), i, 0.9) for i, text in enumerate(lines)])

