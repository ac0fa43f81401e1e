"""`quotebot export` and `quotebot import`: the library to and from a file (see bot.exchange)."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import click

from quotebot.adapters.cli_support import echo_error, print_progress, run_async
from quotebot.adapters.ingest_view import plural
from quotebot.bot.app import open_services
from quotebot.bot.exchange import (
    MAX_IMPORT_BYTES,
    ExchangeError,
    apply_import,
    export_document,
    parse_import,
    write_csv,
    write_json,
)
from quotebot.bot.library import LookupFailed
from quotebot.store.quotes import SlugTaken

log = logging.getLogger(__name__)


@click.command("export", short_help="Write the whole library to a JSON (or CSV) file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@click.option("--collection", metavar="NAME",
              help="Only this collection (a shared one, or a library's own: discord:ID...).")
@click.pass_obj
def export_command(settings, output: Path | None, fmt: str, collection: str | None) -> None:
    """Write the library to a file.

    Without options, everything in the database (a backup: every library's and every
    shared collection's sources). With `quotebot --library NAME export`, that library's
    own quotes only: the shared collections it enabled are the operator's, exported with
    --collection NAME. An import puts every source where its own options say.

    \b
    json  everything needed to rebuild the library elsewhere with `quotebot import`:
          sources (with their metadata), speakers (roles, aliases), every quote with
          its time and position, and the highlights random and daily draw from.
    csv   one row per quote: id, text, speaker, source_slug, source_title, start,
          position (for spreadsheets and other quote bots; `id` is the row number).
    """

    async def main() -> int:
        started = time.monotonic()
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            try:
                collections = await services.library.export_collections(
                    library=settings.library, collection=collection)
            except LookupFailed as exc:
                echo_error(exc.message)
                return 1
            document = await export_document(services.library.store, collections)
        buffer = io.StringIO()
        (write_json if fmt == "json" else write_csv)(document, buffer)
        text = buffer.getvalue()
        if output is None:
            click.echo(text, nl=False)
        else:
            # Written whole, then renamed: an interrupted export never leaves half a file.
            partial = output.with_name(output.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(output)
        where = "standard output" if output is None else str(output)
        click.echo(f"exported {plural(len(document['sources']), 'source')}, "
                   f"{plural(len(document['quotes']), 'quote')} and "
                   f"{plural(len(document['highlights']), 'highlight')} to {where} "
                   f"({len(text.encode()):,} bytes, {time.monotonic() - started:.1f} s)",
                   err=True)
        return 0

    run_async(main)


@click.command("import", short_help="Add a library export, a CSV quote list or a NadekoBot "
                                    "quote export.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--collection", metavar="NAME",
              help="Into the shared collection NAME (created if new) instead of a library.")
@click.option("--format", "fmt", type=click.Choice(["auto", "json", "csv", "nadeko"]),
              default="auto", show_default=True,
              help="auto: by the file's extension (.json, .csv, .yml), else its content.")
@click.pass_obj
def import_command(settings, file: Path, fmt: str, collection: str | None) -> None:
    """Import FILE into the library: all of it, or (on any error) nothing.

    \b
    json    a `quotebot export`: sources, speakers, quotes and highlights as they were.
    csv     a quote list with a header row naming at least `text` (or quote) and
            `speaker` (or author); optional `source` (or source_slug), `source_title`,
            `start` (seconds) and `position` (an `id` column is ignored: quotes get
            new ids). Rows become quotes of a source named by the source column, else
            after the file (quotes.csv: source "quotes").
    nadeko  NadekoBot's `.quotesexport` file (quote-export.yml): each keyword becomes
            a source "nadeko-<keyword>", each author a speaker, each text kept exactly.

    A source whose slug is already in the library is replaced, as re-ingesting its
    file would; the command names them. Quotes from a CSV or NadekoBot list each
    stand alone, so random and daily posts draw them. Files over 64 MB are refused;
    errors name the row and field and exit with code 1.
    """

    async def main() -> int:
        started = time.monotonic()
        try:
            size = file.stat().st_size
            if size > MAX_IMPORT_BYTES:
                raise ExchangeError(f"{file}: file is {size // 2**20} MB; the limit is "
                                    f"{MAX_IMPORT_BYTES // 2**20} MB")
            data = file.read_bytes()
        except OSError as exc:
            echo_error(f"cannot read {file}: {exc.strerror or exc}")
            return 1
        except ExchangeError as exc:
            echo_error(f"{exc}; nothing was imported")
            return 1
        try:
            plan = parse_import(data, file.name, fmt)
        except ExchangeError as exc:
            echo_error(f"{exc}; nothing was imported")
            return 1
        # The file is the library's content: the bundled interviews are not added first.
        async with open_services(settings.db, bundled=False) as services:
            try:
                store = await services.library.writer(library=settings.library,
                                                      collection=collection)
                report = await apply_import(store, plan)
            except SlugTaken as exc:
                echo_error(f"{exc}; nothing was imported")
                return 1
            except ValueError as exc:
                echo_error(str(exc))
                return 2
        for slug in report.replaced:
            click.echo(f"replaced source '{slug}' (it was already in the library)", err=True)
        click.echo(f"imported {plural(report.sources, 'source')}, "
                   f"{plural(report.quotes, 'quote')}, "
                   f"{plural(report.highlights, 'highlight')} and "
                   f"{plural(report.speakers, 'speaker')} from {file} ({report.format}, "
                   f"{time.monotonic() - started:.1f} s)", err=True)
        return 0

    run_async(main)
