"""`quotebot migrate` and `quotebot copy`: apply the schema, move a database between backends."""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import click

from quotebot.adapters.cli_support import echo_error, run_async
from quotebot.adapters.ingest_view import plural
from quotebot.store.copy import CopyError, copy_database
from quotebot.store.db import Database, StoreError, database_path
from quotebot.store.engine import is_postgres
from quotebot.store.pg_migrate import NewerSchema
from quotebot.store.schema import SCHEMA_VERSION


@click.command("migrate", short_help="Apply the database schema's migrations, then exit.")
@click.argument("database", required=False, metavar="[DATABASE]")
@click.pass_obj
def migrate_command(settings, database: str | None) -> None:
    """Bring DATABASE (a SQLite path, sqlite:///path or postgresql://… URL; default --db)
    up to this quotebot's schema, and exit.

    Every command migrates the database it opens; run this before a rollout so that no
    process of a deployment has to. Safe to run from several processes at once: each
    migration is applied exactly once.
    """
    target = database or str(settings.db)

    async def main() -> int:
        try:
            if is_postgres(target):
                applied, version = await _migrate_postgres(target)
            else:
                applied, version = await _migrate_sqlite(database_path(target))
        except (StoreError, NewerSchema, OSError) as exc:
            echo_error(str(exc))
            return 1
        click.echo(f"{target}: {plural(applied, 'migration')} applied; schema version "
                   f"{version}.")
        return 0

    run_async(main)


async def _migrate_sqlite(path: str) -> tuple[int, int]:
    before = 0
    if Path(path).exists():
        with closing(sqlite3.connect(path)) as conn:
            before = conn.execute("PRAGMA user_version").fetchone()[0]
    db = await Database.open(path)
    await db.close()
    return max(0, SCHEMA_VERSION - before), SCHEMA_VERSION


async def _migrate_postgres(url: str) -> tuple[int, int]:
    from quotebot.store.pg_db import driver, redacted
    from quotebot.store.pg_migrate import migrate, schema_version
    from quotebot.store.pg_schema import PG_MIGRATIONS

    asyncpg = driver()
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise StoreError(f"cannot connect to {redacted(url)}: {exc}") from exc
    try:
        applied = await migrate(conn, PG_MIGRATIONS)
        return applied, await schema_version(conn)
    finally:
        await conn.close()


@click.command("copy", short_help="Copy a whole database to a new one (SQLite <-> PostgreSQL).")
@click.option("--from", "source", required=True, metavar="DATABASE",
              help="The database to read: a SQLite path, sqlite:///path or postgresql://… URL.")
@click.option("--to", "target", required=True, metavar="DATABASE",
              help="A new, empty database to write (created and migrated if needed).")
def copy_command(source: str, target: str) -> None:
    """Copy every quote, source, library, subscription, daily post, deck, setting, Slack
    installation and audit record from one database to another, ids included, in one
    transaction: the target ends up complete or untouched.
    """

    shown: list[str] = []
    live = sys.stderr.isatty()

    def progress(table: str, rows: int) -> None:
        # On a terminal one line per table, rewritten as it grows; in a log, one per table.
        if live:
            click.echo(f"\r{table}: {rows:,} rows", nl=False, err=True)
        if not shown or shown[-1] != table:
            if shown and live:
                click.echo("", err=True)
            shown.append(table)
            if not live:
                click.echo(f"copying {table}", err=True)

    async def main() -> int:
        try:
            result = await copy_database(source, target, progress)
        except (CopyError, StoreError, NewerSchema) as exc:
            if live and shown:
                click.echo("", err=True)
            echo_error(str(exc))
            return 1
        if live and shown:
            click.echo("", err=True)
        click.echo(f"Copied {plural(result.total, 'row')} "
                   f"({plural(result.rows['quotes'], 'quote')}, "
                   f"{plural(result.rows['sources'], 'source')}) to {target}.")
        return 0

    run_async(main)
