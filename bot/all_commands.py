"""Every command quotebot offers in one registry: the quote commands, the daily ones, `help`."""

from __future__ import annotations

from quotebot.bot.commands import QUOTE_COMMANDS, help_reply
from quotebot.bot.daily.commands import DAILY_COMMANDS
from quotebot.bot.libraries import LIBRARY_COMMANDS
from quotebot.bot.models import Reply, Request
from quotebot.bot.registry import Command, Registry, Services


def build_registry(*groups: tuple[Command, ...]) -> Registry:
    """The registry: quote, daily and library commands, any extra groups, and a generated
    `help`."""
    groups = (DAILY_COMMANDS, LIBRARY_COMMANDS, *groups)
    registry: Registry | None = None

    async def show_help(request: Request, services: Services) -> Reply:
        return help_reply(registry)

    commands = [*QUOTE_COMMANDS, *(c for group in groups for c in group)]
    commands.append(Command("help", "Show what quotebot can do.", show_help))
    registry = Registry(commands)
    return registry
