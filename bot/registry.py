"""The command registry: names, help, options and handlers that every adapter walks."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from quotebot.bot.models import ErrorReply, Hint, Reply, Request

if TYPE_CHECKING:
    from quotebot.bot.daily.service import DailyService
    from quotebot.bot.library import QuoteLibrary

log = logging.getLogger(__name__)

# A request argument the text grammar adds when a lone word is one typo from a command name.
DID_YOU_MEAN = "did_you_mean"


@dataclass(frozen=True)
class Choice:
    """An autocomplete choice: what the user sees and the value the option receives."""

    name: str
    value: str


@dataclass
class Services:
    """What command handlers may use. Adapters build one and pass it in; nothing is global."""

    library: QuoteLibrary
    daily: DailyService | None = None  # set while the bot's daily scheduler runs


class ChannelId(str):
    """Option type: a channel of the same server or workspace; the argument is its id (`str`).

    Adapters with a channel picker (Discord) show one; in the text grammar it is typed.
    """


class RoleId(str):
    """Option type: a role of the same server; the argument is its id (`str`). Only
    platforms with roles (Discord) have such options."""


Completer = Callable[[Services, str, Request], Awaitable[list[Choice]]]
Handler = Callable[[Request, Services], Awaitable[Reply]]


@dataclass(frozen=True)
class Option:
    """A command option.

    Args:
        name: the argument name in `Request.args` (and the Discord option name).
        help: one line shown in help and in Discord's option description.
        type: `str`, `int`, `ChannelId` (a channel picker where the platform has one) or
            `RoleId` (a role picker; Discord only), or `Attachment` (a file: only where slash
            commands take files, Discord; give such an option `platforms={"discord"}`, and
            other adapters leave it out).
        required: whether the command refuses to run without it.
        keyword: in the text grammar, the `key:value` prefix (`by`, `in`); None = positional.
        complete: an async completer for live suggestions, or None.
        min_value, max_value: bounds for int options.
        platforms: where the option exists ("discord", "text"); text = console and Slack.
    """

    name: str
    help: str
    type: type = str
    required: bool = False
    keyword: str | None = None
    complete: Completer | None = None
    min_value: int | None = None
    max_value: int | None = None
    platforms: frozenset[str] = frozenset({"discord", "text"})


@dataclass(frozen=True)
class Command:
    """A command defined once: every adapter builds its own surface from this.

    `name` may have a group prefix ("daily set"); `aliases` are extra text-grammar verbs
    ("daily off"). `admin` marks commands whose handler decides by `user.is_admin` (the
    handler applies the rule, e.g. "admins or the subscription's creator"); adapters whose
    platform does not say who is an admin (Slack) look it up for these commands only.
    `slow` marks commands that download or build a file: adapters acknowledge them at once
    (Discord defers before running them) rather than racing the platform's deadline.
    `menu` makes it a command run on a chat message, named so in the message's menu
    (Discord's Apps menu, Slack's message shortcuts): the adapter fills its options from
    the message, and it is neither a slash command nor typed, nor listed in help.
    """

    name: str
    help: str
    handler: Handler
    options: tuple[Option, ...] = ()
    aliases: tuple[str, ...] = ()
    admin: bool = False
    examples: tuple[str, ...] = field(default=(), compare=False)
    slow: bool = False
    menu: str | None = None

    @property
    def group(self) -> str | None:
        return self.name.split(" ", 1)[0] if " " in self.name else None

    @property
    def leaf(self) -> str:
        return self.name.rsplit(" ", 1)[-1]

    def usage(self, prefix: str = "/quote") -> str:
        """The text-grammar usage line, e.g. `/quote random [by:<speaker>] [in:<source>]`."""
        parts = [prefix, self.name]
        for opt in self.options:
            if "text" not in opt.platforms:
                continue
            token = f"{opt.keyword}:<{opt.name}>" if opt.keyword else f"<{opt.name}>"
            parts.append(token if opt.required else f"[{token}]")
        return " ".join(parts)


class Registry:
    """An ordered, immutable set of commands, looked up by name or text alias."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self.commands: tuple[Command, ...] = tuple(commands)
        self._by_name: dict[str, Command] = {}
        for cmd in self.commands:
            for name in (cmd.name, *cmd.aliases):
                if name in self._by_name:
                    raise ValueError(f"duplicate command name {name!r}")
                self._by_name[name] = cmd

    def __iter__(self):
        """The commands people type (slash and text commands), in order."""
        return (c for c in self.commands if c.menu is None)

    def on_messages(self) -> tuple[Command, ...]:
        """The commands run on a chat message (`Command.menu`)."""
        return tuple(c for c in self.commands if c.menu is not None)

    def get(self, name: str) -> Command | None:
        return self._by_name.get(name)

    def typed(self, name: str) -> Command | None:
        """The command `name` names if people can type it (not a message-menu command)."""
        command = self._by_name.get(name)
        return None if command is None or command.menu is not None else command

    def names(self) -> list[str]:
        return [name for name, c in self._by_name.items() if c.menu is None]

    async def dispatch(self, request: Request, services: Services) -> Reply:
        """Run the request's command. Never raises: failures become friendly ErrorReplies."""
        reply = await self._run(request, services)
        return self.spell(reply) if isinstance(reply, ErrorReply) else reply

    async def _run(self, request: Request, services: Services) -> Reply:
        command = self.get(request.command)
        if command is None:
            return ErrorReply(
                f"There is no command “{request.command}”.",
                tuple(Hint(command=c.name) for c in self.commands[:4]),
            )
        problem = validate(command, request)
        if problem:
            return ErrorReply(problem, (Hint(command=command.name),))
        try:
            reply = await command.handler(request, services)
        except Exception:
            log.exception("command %s failed on %r", command.name, dict(request.args))
            return ErrorReply("Something went wrong on our side; it has been logged. Try again.")
        verb = request.args.get(DID_YOU_MEAN)
        if verb and isinstance(reply, ErrorReply) and not request.args.get("offset"):
            word = " ".join(str(v) for k, v in request.args.items() if k == "query")
            return ErrorReply(f"Unknown command “{word}”.",
                              (Hint("Did you mean", command=verb),
                               *(Hint(command=c.name) for c in self if c.name != verb)))
        return reply

    def spell(self, reply: ErrorReply) -> ErrorReply:
        """`reply` with each suggestion's request or command written in the text grammar."""
        hints = []
        for hint in reply.suggestions:
            spelled = hint.spelled
            if hint.request is not None:
                spelled = self.invocation(hint.request)
            elif hint.command is not None and (command := self.get(hint.command)):
                spelled = command.usage()
            hints.append(replace(hint, spelled=spelled))
        return replace(reply, suggestions=tuple(hints))

    def invocation(self, request: Request, prefix: str = "/quote") -> str:
        """`request` as the text grammar asks for it: `/quote ideas are cheap by:ilya`."""
        command = self.get(request.command)
        if command is None:
            return f"{prefix} {request.command}"
        # A search is what any words ask for: the verb is left out.
        parts = [prefix] if command.name == "search" else [prefix, command.name]
        keyed = []
        for opt in command.options:
            value = request.args.get(opt.name)
            if value is None or value == "" or "text" not in opt.platforms:
                continue
            text = str(value)
            if opt.keyword:
                keyed.append(f'{opt.keyword}:"{text}"' if " " in text else f"{opt.keyword}:{text}")
            else:
                parts.append(text)
        return " ".join(parts + keyed)


def validate(command: Command, request: Request) -> str | None:
    """A message for the first missing or malformed argument, or None if all are fine."""
    for opt in command.options:
        value = request.args.get(opt.name)
        if value is None or value == "":
            # An option only some platforms have (a Discord file) is theirs to require:
            # elsewhere the handler says how to give it.
            if opt.required and "text" in opt.platforms:
                return f"`{command.name}` needs {opt.name}: {opt.help}"
            continue
        if opt.type is int:
            try:
                number = int(value)
            except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
                return f"{opt.name} must be a whole number, not “{value}”."
            if opt.min_value is not None and number < opt.min_value:
                return f"{opt.name} must be at least {opt.min_value}."
            if opt.max_value is not None and number > opt.max_value:
                return f"{opt.name} must be at most {opt.max_value}."
    return None
