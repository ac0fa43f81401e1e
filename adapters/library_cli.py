"""`quotebot library`: libraries and collections, as the operator sees and switches them."""

from __future__ import annotations

import logging

import click

from quotebot.adapters.cli_support import echo_error, print_progress, registry, run_async
from quotebot.adapters.text import render_text
from quotebot.bot.app import open_services
from quotebot.bot.library import library_key
from quotebot.bot.models import ChannelRef, Request
from quotebot.store.libraries import SHARED, library_name

log = logging.getLogger(__name__)


@click.group("library", invoke_without_command=True,
             short_help="Libraries and shared collections: list, enable, disable, defaults.")
@click.pass_context
def library_command(ctx: click.Context) -> None:
    """Every Discord server and Slack workspace has its own library: its own quotes plus
    the shared collections enabled for it. Without a subcommand: list them all.

    \b
    quotebot library                                  every library and collection
    quotebot --library discord:123 library enable podcasts
    quotebot --library slack:T0123 library disable bundled
    quotebot library default-collections bundled podcasts
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_libraries)


@library_command.command("list")
@click.pass_obj
def list_libraries(settings) -> None:
    """Every collection with its sources and quotes, and what each library enabled."""

    async def main() -> int:
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            libraries = services.library.libraries
            rows = await libraries.collections()
            enabled = await libraries.enabled()
            defaults = await libraries.default_collections()
        names = {c.id: c.name for c in rows}
        click.echo("Collections:")
        for c in rows:
            kind = "shared" if c.kind == SHARED else "library"
            click.echo(f"  {c.name:<32} {kind:<8} {c.sources:>6,} sources {c.quotes:>9,} quotes")
        click.echo("Libraries (own quotes + enabled collections):")
        for c in rows:
            if c.kind == SHARED:
                continue
            on = [names.get(i, str(i)) for i in enabled.get((c.platform, c.workspace), [])]
            click.echo(f"  {c.name:<32} + {', '.join(on) or '(nothing enabled)'}")
        click.echo(f"New libraries start with: {', '.join(defaults) or '(nothing shared)'}")
        return 0

    run_async(main)


@library_command.command("show")
@click.pass_obj
def show_library(settings) -> None:
    """The library --library names (default: yours): its quotes and collections."""

    async def main() -> int:
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            platform, workspace = settings.library or library_key(None)
            # As the terminal user in that library (a channel no platform uses).
            channel = ChannelRef(platform, workspace, "cli")
            reply = await registry().dispatch(Request("library show", {}, None, channel),
                                              services)
        click.echo(render_text(reply))
        return 0

    run_async(main)


def _switch(settings, name: str, on: bool) -> None:
    async def main() -> int:
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            platform, workspace = settings.library or library_key(None)
            libraries = services.library.libraries
            found = await libraries.collection(name)
            row = await libraries.library(platform, workspace)
            target = library_name(platform, workspace)
            if found is None:
                echo_error(f"no collection called '{name}' (`quotebot library` lists them)")
                return 1
            if found.id == row.own:
                echo_error(f"'{name}' is the library's own collection: always on")
                return 1
            changed = await libraries.set_enabled(platform, workspace, found.id, on)
        state = "on" if on else "off"
        click.echo(f"{found.name} is {state} in {target}" if changed
                   else f"{found.name} was already {state} in {target}")
        return 0

    run_async(main)


@library_command.command("enable")
@click.argument("name")
@click.pass_obj
def enable(settings, name: str) -> None:
    """Let the library --library names (default: yours) see collection NAME: a shared one,
    or another library's own (as the operator, you may share `local`, say)."""
    _switch(settings, name, True)


@library_command.command("disable")
@click.argument("name")
@click.pass_obj
def disable(settings, name: str) -> None:
    """Leave collection NAME out of the library --library names (default: yours)."""
    _switch(settings, name, False)


@library_command.command("default-collections")
@click.argument("names", nargs=-1)
@click.option("--none", "clear", is_flag=True, help="New libraries start with nothing shared.")
@click.pass_obj
def default_collections(settings, names: tuple[str, ...], clear: bool) -> None:
    """Show, or set to NAMES, the collections a new server's or workspace's library starts
    with enabled (default: bundled). Libraries that exist keep what they have."""

    async def main() -> int:
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            libraries = services.library.libraries
            if names or clear:
                unknown = [n for n in names if await libraries.collection(n) is None]
                if unknown:
                    echo_error(f"no collection called {', '.join(map(repr, unknown))} "
                               "(`quotebot library` lists them)")
                    return 1
                await libraries.set_default_collections(list(dict.fromkeys(names)))
            current = await libraries.default_collections()
        click.echo("New libraries start with: " + (", ".join(current) or "(nothing shared)"))
        return 0

    run_async(main)


