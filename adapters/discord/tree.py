"""The `/quote` slash command group, built by walking the command registry."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from quotebot.bot.models import Attachment
from quotebot.bot.registry import ChannelId, Command, Option, Registry, RoleId

log = logging.getLogger(__name__)

ROOT = "quote"
ROOT_HELP = "Find and share exact quotes from interviews and podcasts."
DESCRIPTION_MAX = 100

OnCommand = Callable[[discord.Interaction, Command, dict[str, Any]], Awaitable[None]]
OnAutocomplete = Callable[
    [discord.Interaction, Command, Option, str], Awaitable[list[app_commands.Choice]]
]
OnMessageCommand = Callable[[discord.Interaction, Command, discord.Message], Awaitable[None]]


def describe(text: str) -> str:
    """A description Discord accepts: one line, 1 to 100 characters."""
    line = " ".join((text or "").split()) or "…"
    return line if len(line) <= DESCRIPTION_MAX else line[: DESCRIPTION_MAX - 1] + "…"


def discord_options(command: Command) -> list[Option]:
    """The options a command has on Discord, required ones first (Discord's rule)."""
    options = [o for o in command.options if "discord" in o.platforms]
    return sorted(options, key=lambda o: not o.required)


class ChannelPicker(app_commands.Transformer):
    """A channel option offering text and announcement channels, passed on as Discord resolved it.

    discord.py's `TextChannel` annotation would look the channel up in the cache and fail
    when it is not there; the resolved `AppCommandChannel` carries the id and the caller's
    permissions in that channel, which is all `to_request` needs.
    """

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return value


class RolePicker(app_commands.Transformer):
    """A role option, passed on as Discord resolved it (`to_request` keeps its id)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.role

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return value


def _annotation(option: Option) -> Any:
    if option.type is ChannelId:
        return ChannelPicker
    if option.type is RoleId:
        return RolePicker
    if option.type is Attachment:
        return discord.Attachment
    if option.type is str:
        return str
    if option.type is int:
        if option.min_value is None and option.max_value is None:
            return int
        return app_commands.Range[int, option.min_value, option.max_value]
    raise TypeError(f"option {option.name!r}: Discord options must be str, int, ChannelId, "
                    "RoleId or Attachment")


def _callback(command: Command, on_command: OnCommand) -> Callable[..., Awaitable[None]]:
    """A callback whose signature discord.py reads to build the command's options."""

    async def callback(interaction: discord.Interaction, **kwargs: Any) -> None:
        await on_command(interaction, command, kwargs)

    params = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=discord.Interaction)]
    for opt in discord_options(command):
        params.append(inspect.Parameter(
            opt.name, inspect.Parameter.KEYWORD_ONLY, annotation=_annotation(opt),
            default=inspect.Parameter.empty if opt.required else None,
        ))
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__name__ = callback.__qualname__ = command.leaf
    descriptions = {opt.name: describe(opt.help) for opt in discord_options(command)}
    return app_commands.describe(**descriptions)(callback) if descriptions else callback


def _completer(command: Command, option: Option, on_autocomplete: OnAutocomplete):
    async def complete(interaction: discord.Interaction, current: str):
        return await on_autocomplete(interaction, command, option, current)

    return complete


def build_command(command: Command, on_command: OnCommand,
                  on_autocomplete: OnAutocomplete) -> app_commands.Command:
    """One registry command as a Discord subcommand, autocomplete wired to its completers."""
    slash = app_commands.Command(
        name=command.leaf,
        description=describe(command.help),
        callback=_callback(command, on_command),
        extras={"registry_name": command.name},
    )
    for opt in discord_options(command):
        if opt.complete is not None:
            slash.autocomplete(opt.name)(_completer(command, opt, on_autocomplete))
    return slash


def build_group(registry: Registry, on_command: OnCommand,
                on_autocomplete: OnAutocomplete) -> app_commands.Group:
    """`/quote` with a subcommand per registry command; "daily set" becomes `/quote daily set`.

    Raises:
        ValueError: a command name is nested deeper than Discord allows (group subcommand).
    """
    root = app_commands.Group(name=ROOT, description=ROOT_HELP)
    groups: dict[str, app_commands.Group] = {}
    for command in registry:
        words = command.name.split()
        if len(words) > 2:
            raise ValueError(f"command {command.name!r}: Discord allows /quote group subcommand "
                             "at most")
        parent = root
        if len(words) == 2:
            parent = groups.get(words[0])
            if parent is None:
                parent = app_commands.Group(name=words[0],
                                            description=describe(f"{words[0].capitalize()} "
                                                                 "commands."),
                                            parent=root)
                groups[words[0]] = parent
        parent.add_command(build_command(command, on_command, on_autocomplete))
    return root


def build_menus(registry: Registry, on_message: OnMessageCommand) -> list[app_commands.ContextMenu]:
    """A message context-menu command (Apps → "Save as quote") per registry command run on
    a message (`Command.menu`); servers only, since a library belongs to a server."""
    menus = []
    for command in registry.on_messages():
        menu = app_commands.ContextMenu(name=command.menu, callback=_menu_callback(
            command, on_message), extras={"registry_name": command.name})
        menu.guild_only = True
        menus.append(menu)
    return menus


def _menu_callback(command: Command, on_message: OnMessageCommand):
    async def callback(interaction: discord.Interaction, message: discord.Message) -> None:
        await on_message(interaction, command, message)

    return callback
