"""The `quotebot` command line: the entry point that reads settings and wires everything."""

from __future__ import annotations

import getpass
import json
import logging
import sys
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path

import click
import platformdirs

from quotebot.adapters.cli_support import (
    Settings,
    echo_error,
    echo_error_reply,
    print_progress,
    registry,
    run_async,
)
from quotebot.adapters.console import CONSOLE_CHANNEL, Console, LineReader
from quotebot.adapters.ingest_view import IngestView, plural
from quotebot.adapters.text import render_text
from quotebot.bot.app import open_services
from quotebot.bot.ingest.prune import gone_sources
from quotebot.bot.ingest.runner import ingest_paths
from quotebot.bot.ingest.speakers import split_label
from quotebot.bot.ingest.types import Participant, SourceOverrides
from quotebot.bot.library import parse_library
from quotebot.bot.models import ChannelRef, ErrorReply, QuoteReply, Reply, Request
from quotebot.store.db import StoreError, database_path
from quotebot.store.engine import describe, is_postgres

log = logging.getLogger(__name__)


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("quotebot", appauthor=False)) / "quotes.db"


def emit(reply: Reply, as_json: bool) -> int:
    """Print a reply; exit code 1 for a user-facing error (no match, unknown id)."""
    if as_json:
        if isinstance(reply, QuoteReply):
            if reply.context:
                items = [{**q.to_json(), "focus": reply.is_focus(q)} for q in reply.context]
            else:
                items = [q.to_json() for q in reply.quotes]
            click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        elif isinstance(reply, ErrorReply):
            click.echo(json.dumps([]))
            echo_error_reply(reply)
        else:
            click.echo(json.dumps({"text": render_text(reply)}, ensure_ascii=False))
    elif isinstance(reply, ErrorReply):
        echo_error_reply(reply)
    else:
        click.echo(render_text(reply))
    return 1 if isinstance(reply, ErrorReply) else 0


def cli_channel(library: tuple[str, str] | None = None) -> ChannelRef:
    """The terminal user's own "channel": random draws keep a no-repeat deck per user.

    In the operator's library unless `library` (`--library`) names another: then a
    channel of that server or workspace no platform would use (`cli:USER`), so the core
    reads that library, and the user's deck and settings there are their own.
    """
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    if library is None:
        return ChannelRef("cli", "local", user)
    return ChannelRef(library[0], library[1], f"cli:{user}")


async def run_command(settings: Settings, name: str, args: dict, as_json: bool) -> int:
    async with open_services(settings.db, bundled=settings.bundled,
                             progress=print_progress) as services:
        reply = await registry().dispatch(
            Request(name, args, user=None, channel=cli_channel(settings.library)), services
        )
        return emit(reply, as_json)


def library_option(value: str | None) -> tuple[str, str] | None:
    """--library as (platform, workspace); None for the operator's own (`local`)."""
    if value is None or value.strip() == "local":
        return None
    try:
        return parse_library(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--library") from exc


EXACT_OPTION = click.option(
    "--exact", is_flag=True,
    help="The exact words as transcribed (um, uh, stutters and all), not the clean form.",
)


def chat_history(db: Path | str) -> Path:
    """Where `quotebot chat` keeps its line history: beside a SQLite file, else in the user
    data directory (a PostgreSQL database has no folder of ours)."""
    if isinstance(db, Path):
        return db.parent / "chat_history"
    return default_db_path().parent / "chat_history"


def db_option(value: str | Path) -> Path | str:
    """--db as a SQLite path (`sqlite:///path` is read as the path) or a PostgreSQL URL,
    kept whole; other URLs are a usage error."""
    if is_postgres(value):
        return str(value)
    try:
        return Path(database_path(value))
    except StoreError as exc:
        raise click.BadParameter(str(exc), param_hint="--db") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="QUOTEBOT_DB", callback=lambda _c, _p, value: db_option(value),
              default=default_db_path, show_default="the user data directory",
              help="SQLite database file (or sqlite:///path), or a postgresql://user@host/dbname "
                   "URL for a database shared by several processes (env QUOTEBOT_DB).")
@click.option("--db-pool", "pool_size", envvar="QUOTEBOT_DB_POOL", type=click.IntRange(2, 500),
              metavar="N", help="PostgreSQL: at most N connections per process (default "
                                "10; env QUOTEBOT_DB_POOL). SQLite ignores it.")
@click.option("--no-bundled", is_flag=True, envvar="QUOTEBOT_NO_BUNDLED",
              help="Do not ingest the bundled transcripts into an empty database.")
@click.option("--library", "library", envvar="QUOTEBOT_LIBRARY", metavar="NAME",
              callback=lambda _c, _p, value: library_option(value),
              help="Work on this library: discord:SERVER_ID, slack:TEAM_ID (or ENTERPRISE_ID "
                   "for an org-wide install) or local, yours (the default) (env "
                   "QUOTEBOT_LIBRARY).")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, db: Path | str, pool_size: int | None, no_bundled: bool, library,
        verbose: int) -> None:
    """quotebot: find the exact words people said in interviews and podcasts.

    Each Discord server and Slack workspace has its own library: its own quotes plus the
    shared collections it enabled (`bundled`, the interviews shipped with quotebot, and
    any you ingest with `ingest --collection NAME`). Commands work on your own library,
    `local`, unless --library names another.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = Settings(db, not no_bundled, library, pool_size)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--speaker", "-s", help="Only quotes by this person (fuzzy: 'ilya').")
@click.option("--source", help="Only quotes from this source (slug or title).")
@click.option("--limit", "-n", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@EXACT_OPTION
@click.pass_obj
def search(settings: Settings, query, speaker, source, limit, as_json, exact) -> None:
    """Find quotes matching a half-remembered line."""
    args = {"query": " ".join(query), "speaker": speaker, "source": source, "limit": limit,
            "style": "exact" if exact else None}
    run_async(lambda: run_command(settings, "search", args, as_json))


@cli.command(short_help="A random highlight worth posting, no repeats.")
@click.option("--speaker", "-s", help="Only quotes by this person.")
@click.option("--source", help="Only quotes from this source.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@EXACT_OPTION
@click.pass_obj
def random(settings: Settings, speaker, source, as_json, exact) -> None:
    """A random highlight worth posting (no repeats until you have seen them all)."""
    args = {"speaker": speaker, "source": source, "style": "exact" if exact else None}
    run_async(lambda: run_command(settings, "random", args, as_json))


@cli.command()
@click.argument("quote_id", type=int)
@click.option("--context", "-c", default=0, show_default=True, type=click.IntRange(0, 10),
              help="Quotes before and after to show.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--why", is_flag=True, help="Explain why it was or was not chosen as a highlight.")
@EXACT_OPTION
@click.pass_obj
def show(settings: Settings, quote_id: int, context: int, as_json: bool, why: bool,
         exact: bool) -> None:
    """Show a quote by its id."""
    args = {"id": quote_id, "context": context, "why": int(why),
            "style": "exact" if exact else None}
    run_async(lambda: run_command(settings, "show", args, as_json))


@cli.command(short_help="Draw a quote as a PNG card.")
@click.argument("quote_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              required=True, help="Where to write the PNG.")
@click.option("--theme", type=click.Choice(["light", "dark"]), default="light",
              show_default=True)
@click.pass_obj
def card(settings: Settings, quote_id: int, output: Path, theme: str) -> None:
    """Draw quote QUOTE_ID as a PNG card (its clean words, speaker and source)."""

    async def main() -> int:
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            reply = await registry().dispatch(
                Request("show", {"id": quote_id, "context": 0, "card": True, "theme": theme},
                        user=None, channel=cli_channel(settings.library)), services)
        if isinstance(reply, ErrorReply):
            echo_error_reply(reply)
            return 1
        if not isinstance(reply, QuoteReply) or reply.card is None:
            note = reply.note if isinstance(reply, QuoteReply) else None
            echo_error(note or "no card for that quote")
            return 1
        output.write_bytes(reply.card.png)
        click.echo(f"wrote {output} ({len(reply.card.png):,} bytes)")
        click.echo(f"alt text: {reply.card.alt_text}")
        return 0

    run_async(main)


@cli.command()
@click.pass_obj
def speakers(settings: Settings) -> None:
    """List the speakers."""
    run_async(lambda: run_command(settings, "speakers", {}, False))


@cli.group(invoke_without_command=True)
@click.pass_context
def sources(ctx: click.Context) -> None:
    """List the sources (or remove some: `sources remove SLUG`)."""
    if ctx.invoked_subcommand is None:
        settings = ctx.obj
        run_async(lambda: run_command(settings, "sources", {}, False))


@sources.command("remove")
@click.argument("slugs", nargs=-1, required=True)
@click.pass_obj
def remove_sources(settings: Settings, slugs: tuple[str, ...]) -> None:
    """Remove sources and all their quotes, by slug (as `quotebot sources` shows them); with
    --library, only that library's own."""

    async def main() -> int:
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            store = services.library.store
            found = await store.sources_by_slug(list(dict.fromkeys(slugs)))
            if settings.library is not None:  # only that library's own sources
                own = (await services.library.scope_of(*settings.library)).own
                found = [s for s in found if s.collection_id == own]
            unknown = sorted(set(slugs) - {s.slug for s in found})
            for slug in unknown:
                echo_error(f"no source with the slug '{slug}' (`quotebot sources` lists them)")
            if found:
                view = IngestView(sys.stderr)
                view.removing(found, "sources remove")
                result = await store.remove_sources([s.id for s in found])
                _removed(result)
        return 1 if unknown else 0

    run_async(main)


def _removed(result) -> None:
    message = (f"removed {plural(result.sources, 'source')} and "
               f"{plural(result.quotes, 'quote')}")
    if result.subscriptions_disabled:
        message += (f"; disabled {plural(result.subscriptions_disabled, 'daily subscription')}"
                    " limited to them")
    click.echo(message, err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def stats(settings: Settings, as_json: bool) -> None:
    """Counts and database size."""

    async def main() -> int:
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            scope = await services.library.scope(cli_channel(settings.library))
            # The library's counts (its own quotes and the collections it enabled); the
            # search vocabulary (`terms`) and the file are the database's.
            data = {"db": describe(settings.db), "library": scope.name,
                    **await services.library.store.stats(scope.collections)}
        if as_json:
            click.echo(json.dumps(data, indent=2))
        else:
            for key, value in data.items():
                click.echo(f"{key:>12}: {value}")
        return 0

    run_async(main)


@cli.command(short_help="Add transcripts: files, folders or podcast feeds.")
# readable=False: one unreadable file must not make click refuse the whole batch; the
# ingester names it with its reason and reads the rest.
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(path_type=Path, readable=False))
@click.option("--force", is_flag=True, help="Re-ingest files even when unchanged.")
@click.option("--prune", is_flag=True,
              help="Remove sources whose files are gone from the folders given.")
@click.option("--title", help="The source's title (one file only).")
@click.option("--date", help="The source's date, e.g. 2024-05-01 (one file only).")
@click.option("--url", help="Where the recording is (one file only).")
@click.option("--speaker", "speakers", multiple=True, metavar="'NAME (ROLE)'",
              help="A speaker and their role; repeat for each person.")
@click.option("--collection", metavar="NAME",
              help="Into the shared collection NAME (created if new; servers enable it with "
                   "/quote library enable NAME) instead of a library.")
@click.pass_obj
def ingest(settings: Settings, paths: tuple[Path, ...], force: bool, prune: bool, title, date,
           url, speakers, collection: str | None) -> None:
    """Ingest transcript files, folders or podcast feeds (txt, md, srt, vtt, json, RSS xml).

    New sources go into your own library (`local`) unless --library or --collection names
    another; a source already stored is updated where it is. Into a named library or
    collection, a file whose slug another collection holds is refused.
    """
    if (title or date or url) and (
        len(paths) != 1 or paths[0].is_dir() or paths[0].suffix.lower() in (".xml", ".rss")
    ):
        raise click.UsageError("--title, --date and --url describe one transcript file; "
                               "name just one")
    people = tuple(Participant(*split_label(s)) for s in speakers if split_label(s)[0])
    overrides = SourceOverrides(title=title, date=date, url=url, participants=people)

    async def main() -> int:
        view = IngestView(sys.stderr)
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            try:
                store = await services.library.writer(library=settings.library,
                                                      collection=collection)
            except ValueError as exc:
                echo_error(str(exc))
                return 2
            report = await ingest_paths(store, paths, progress=view.progress,
                                        force=force, started=view.started,
                                        overrides=overrides or None, stop_on_sigterm=True)
            view.finished(report)
            if prune and report.found and report.found.folders:
                gone = await gone_sources(store, report.found.folders)
                if gone:
                    view.removing(gone, "prune")
                    _removed(await store.remove_sources([s.id for s in gone]))
                else:
                    click.echo("prune: every source from these folders is still there",
                               err=True)
        return 1 if report.failed else 0

    run_async(main)


@cli.command(short_help="Read a guide: quotebot docs discord, slack, ...")
@click.argument("name", required=False)
def docs(name: str | None) -> None:
    """Print one of the guides installed with quotebot (without NAME: list them)."""
    guides = {p.name.removesuffix(".md"): p for p in resources.files("quotebot.docs").iterdir()
              if p.name.endswith(".md")}
    if name is None or name.removesuffix(".md") not in guides:
        if name is not None:
            echo_error(f"there is no guide called “{name}”.")
        click.echo("Guides: " + ", ".join(sorted(guides)) + "  (quotebot docs NAME)",
                   err=name is not None)
        sys.exit(0 if name is None else 2)
    click.echo(guides[name.removesuffix(".md")].read_text(encoding="utf-8"))


@cli.command(short_help="A console chat: /quote lines as in Discord or Slack.")
@click.pass_obj
def chat(settings: Settings) -> None:
    """A console chat: type `/quote ...` lines as you would in Discord or Slack."""

    async def main() -> int:
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress, watch=True) as services:
            console = Console(registry(), services, cli_channel(settings.library)
                              if settings.library else CONSOLE_CHANNEL)
            lines = LineReader(sys.stdin.isatty(), chat_history(settings.db))
            if lines.interactive:
                click.echo("quotebot chat — try `/quote help`; Ctrl-D or Ctrl-C to leave.")
            try:
                while (line := await lines.read()) is not None:
                    if line.strip():
                        click.echo(render_text(await console.run(line)))
                        click.echo()
            finally:
                lines.close()
            return 0

    run_async(main)


def _add_platform_commands() -> None:
    """Commands that live beside their adapters (each imports its platform lazily), then the
    ones installed by extras through the `quotebot.commands` entry point (`bench`)."""
    from quotebot.adapters.audit_cli import audit_command
    from quotebot.adapters.daily_cli import daily
    from quotebot.adapters.db_cli import copy_command, migrate_command
    from quotebot.adapters.discord.cli import discord_command
    from quotebot.adapters.exchange_cli import export_command, import_command
    from quotebot.adapters.library_cli import library_command
    from quotebot.adapters.slack.cli import slack_command

    for command in (discord_command, slack_command, daily, export_command, import_command,
                    audit_command, library_command, migrate_command, copy_command):
        cli.add_command(command)
    for entry in entry_points(group="quotebot.commands"):
        try:
            cli.add_command(entry.load())
        except ImportError as exc:  # its extra is not installed
            log.debug("quotebot %s is not available: %s", entry.name, exc)


_add_platform_commands()


def main() -> None:
    cli(prog_name="quotebot")


if __name__ == "__main__":
    main()
