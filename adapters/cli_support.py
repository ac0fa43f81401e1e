"""What the `quotebot` subcommands share: global settings, services, the registry, exit codes."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import click

from quotebot.adapters.ingest_view import describe
from quotebot.adapters.text import ERROR_PREFIX, render_text
from quotebot.bot.all_commands import build_registry
from quotebot.bot.app import open_services
from quotebot.bot.ingest.runner import FileResult
from quotebot.bot.models import ErrorReply
from quotebot.bot.registry import Registry
from quotebot.store.db import StoreError


class Settings:
    """Global options, read once from arguments and the environment.

    `db`: a SQLite file's path, or a PostgreSQL URL (str); `pool_size`: the most
    connections a PostgreSQL pool opens (None: the default).
    `library`: the (platform, workspace) of the library named by `--library`, or None for
    the operator's own (`local`), which commands use when none is named.
    """

    def __init__(self, db: Path | str, bundled: bool, library: tuple[str, str] | None = None,
                 pool_size: int | None = None) -> None:
        self.db = db
        self.bundled = bundled
        self.library = library
        self.pool_size = pool_size


def registry() -> Registry:
    return build_registry()


def echo_error(message: str) -> None:
    """Print an error line on stderr, as click prints its own."""
    click.echo(ERROR_PREFIX + message, err=True)


def echo_error_reply(reply: ErrorReply) -> None:
    """The core's error reply on stderr: its message as an error line, then its hints."""
    echo_error(render_text(reply))


def run_async(fn: Callable[[], Awaitable[int | None]]) -> None:
    """Run a coroutine; exit with its code. Store errors become a message, not a traceback."""
    try:
        code = asyncio.run(fn())
    except StoreError as exc:
        echo_error(str(exc))
        code = 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code or 0)


def print_progress(i: int, total: int, result: FileResult) -> None:
    if result.status == "failed":
        click.echo(f"[{i}/{total}] {ERROR_PREFIX}{result.error}", err=True)
    else:
        click.echo(f"[{i}/{total}] {describe(result)}", err=True)


def services_for(settings: Settings) -> Callable[[], object]:
    """For the bot commands (discord, slack): open the services with the global settings,
    the library watcher running so that ingests by other processes show up live."""
    return lambda: open_services(settings.db, bundled=settings.bundled, progress=print_progress,
                                 watch=True, pool_size=settings.pool_size)
