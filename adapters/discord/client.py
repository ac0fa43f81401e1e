"""The Discord client: wires the `/quote` tree and the buttons to the core, and runs the bot."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import discord
from discord import app_commands

from quotebot.adapters.discord import custom_ids
from quotebot.adapters.discord.components import QuoteButton
from quotebot.adapters.discord.custom_ids import Pressed
from quotebot.adapters.discord.interactions import (
    PLATFORM,
    Mode,
    answer,
    apologise,
    channel_ref,
    message_request,
    to_choices,
    to_request,
)
from quotebot.adapters.discord.poster import DiscordPoster
from quotebot.adapters.discord.tree import build_group, build_menus
from quotebot.adapters.health_http import HEALTH_PATH, start_health_server
from quotebot.bot.daily import DailyService
from quotebot.bot.health import check as check_health
from quotebot.bot.models import PRIVATE, PUBLIC, REPLACE, ErrorReply, Request
from quotebot.bot.registry import Command, Option, Registry, Services

log = logging.getLogger(__name__)

DEFER_AFTER = 1.5  # seconds: well inside Discord's 3 s, leaving time for the defer itself
AUTOCOMPLETE_BUDGET = 2.0  # seconds: autocomplete cannot be deferred; answer empty instead
NOT_AVAILABLE = ("That command is not available (the bot may have been updated). "
                 "Try `/quote help`.")
BROKEN = "Something went wrong on our side; it has been logged. Try again."
MODES = {REPLACE: Mode.UPDATE, PRIVATE: Mode.PRIVATE, PUBLIC: Mode.PUBLIC}  # Action.answer
ADMIN_ROLE = "admin_role"  # the settings option naming it (bot.commands)
DAILY_STOP_WAIT = 10.0  # seconds a post in progress may take to finish when shutting down


def intents() -> discord.Intents:
    """A slash-command bot needs guild events only: no message content, no members."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


@dataclass(frozen=True)
class BotOptions:
    """How to connect and what to do at start-up; read once by the CLI."""

    sync: bool = False
    guild_id: int | None = None
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    defer_after: float = DEFER_AFTER
    autocomplete_budget: float = AUTOCOMPLETE_BUDGET
    health_port: int | None = None  # serve GET /healthz here (None: no health endpoint)
    health_host: str = "127.0.0.1"


class QuoteTree(app_commands.CommandTree):
    """A command tree that refuses malformed interactions and turns errors into apologies."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        data = interaction.data
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            return True
        log.warning("ignoring malformed command interaction %s: data=%r", interaction.id, data)
        await apologise(interaction, NOT_AVAILABLE)
        return False

    async def on_error(self, interaction: discord.Interaction,
                       error: app_commands.AppCommandError, /) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            log.warning("interaction %s for a command we do not have: %s (sync with "
                        "`quotebot discord --sync`)", interaction.id, error)
            await apologise(interaction, NOT_AVAILABLE)
            return
        log.error("interaction %s failed", interaction.id, exc_info=error)
        await apologise(interaction, BROKEN)


class QuoteBot(discord.AutoShardedClient):
    """The `/quote` commands and buttons on Discord; the core does the work.

    Args:
        registry: the commands to expose.
        options: sync, sharding and timing.
        client_options: passed to discord.py's client (e.g. `guild_ready_timeout`).
    """

    def __init__(self, registry: Registry, options: BotOptions | None = None,
                 **client_options: Any) -> None:
        self.options = options or BotOptions()
        # A slash-command bot never joins voice: skip discord.py's "voice will NOT be
        # supported" start-up warnings, which only confuse operators.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=self.options.shard_count,
            shard_ids=list(self.options.shard_ids) if self.options.shard_ids else None,
            **client_options,
        )
        self.registry = registry
        self.services: Services | None = None
        self.tree = QuoteTree(self)
        self.synced: list[app_commands.AppCommand] = []
        self.daily_task: asyncio.Task | None = None

    def gateway_state(self) -> str:
        """"ok" once every shard of this process is connected and ready; else what is not."""
        if self.is_closed():
            return "closed"
        if not self.is_ready():
            return "connecting"
        down = sorted(i for i, shard in self.shards.items() if shard.is_closed())
        return "ok" if not down else "shard(s) " + ",".join(map(str, down)) + " reconnecting"

    def attach(self, services: Services) -> None:
        """Hand the bot the core services (after login, before connecting)."""
        self.services = services

    def start_daily(self) -> None:
        """Run the daily-quote scheduler in the background, once (called when ready)."""
        daily = self.services.daily if self.services else None
        if daily is None or self.daily_task is not None:
            return
        self.daily_task = asyncio.create_task(daily.scheduler.run(), name="daily-scheduler")
        self.daily_task.add_done_callback(_log_end)

    async def stop_daily(self) -> None:
        """Stop the scheduler, letting a post in progress finish for a few seconds.

        A post cut short is safe: its claim's lease expires and it is retried (with the same
        Discord nonce, so a send that did go through is not repeated).
        """
        task, self.daily_task = self.daily_task, None
        if task is None or self.services is None or self.services.daily is None:
            return
        await self.services.daily.scheduler.shutdown(task, DAILY_STOP_WAIT)

    async def close(self) -> None:
        await self.stop_daily()
        await super().close()

    async def setup_hook(self) -> None:
        self._guard_interaction_parser()
        self.tree.add_command(build_group(self.registry, self.on_command, self.on_autocomplete))
        for menu in build_menus(self.registry, self.on_message_command):
            self.tree.add_command(menu)
        self.add_dynamic_items(QuoteButton)
        if self.options.sync:
            await self.sync_commands()

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Upload the `/quote` command and the message menu commands (Save as quote) to
        Discord: to one guild (instant) or globally."""
        guild = discord.Object(self.options.guild_id) if self.options.guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        self.synced = await self.tree.sync(guild=guild)
        where = f"guild {guild.id}" if guild else "globally (may take up to an hour to appear)"
        log.info("synced %d command(s) %s: %s", len(self.synced), where,
                 ", ".join(f"/{c.name}" for c in self.synced))
        return self.synced

    def _guard_interaction_parser(self) -> None:
        """Log and drop an INTERACTION_CREATE discord.py cannot parse instead of dying on it.

        discord.py lets a parser exception end the shard (and so the bot); one malformed
        event must not do that. This reaches into discord.py's parser table, which is
        private: if it moves, we log and carry on unguarded.
        """
        try:
            parsers = self._connection.parsers
            original = parsers["INTERACTION_CREATE"]
        except (AttributeError, KeyError):
            log.warning("cannot guard the interaction parser on this discord.py version")
            return

        def guarded(data: Any) -> None:
            try:
                original(data)
            except Exception:
                log.exception("ignoring a malformed interaction: %.300r", data)

        parsers["INTERACTION_CREATE"] = guarded

    # ---- events ---------------------------------------------------------------------------

    async def on_ready(self) -> None:
        user = self.user
        log.info("connected as %s (id %s) to %d guild(s) on shard(s) %s of %s",
                 user, user.id if user else "?", len(self.guilds),
                 ",".join(map(str, self.shard_ids or range(self.shard_count or 1))),
                 self.shard_count)
        self.start_daily()

    async def on_shard_ready(self, shard_id: int) -> None:
        log.info("shard %d ready", shard_id)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Buttons that are not ours (or are malformed) get a polite answer, not silence."""
        if interaction.type is not discord.InteractionType.component:
            return
        data = interaction.data if isinstance(interaction.data, dict) else {}
        custom_id = data.get("custom_id", "")
        if custom_ids.decode(custom_id) is None:
            log.warning("unknown button %.100r on interaction %s", custom_id, interaction.id)
            await apologise(interaction, "That button no longer works. Try `/quote help`.")

    # ---- the core, translated --------------------------------------------------------------

    async def on_command(self, interaction: discord.Interaction, command: Command,
                         args: dict[str, Any]) -> None:
        role = None
        # The server's admin role is read for admin commands only (searches skip the read).
        # It does not let its members name another admin role (or clear it): that takes
        # Manage Server, so the role cannot widen itself.
        if command.admin and self.services is not None and args.get(ADMIN_ROLE) is None:
            role = await self.services.library.admin_role(channel_ref(interaction))
        request = to_request(interaction, command.name, args, role)
        await self._answer(interaction, request, Mode.REPLY, slow=command.slow)

    async def on_message_command(self, interaction: discord.Interaction, command: Command,
                                 message: discord.Message) -> None:
        """A message's context menu (Apps → Save as quote): the command runs on it."""
        if not interaction.guild_id:
            await apologise(interaction, "Quotes are saved in a server's channels.")
            return
        request = message_request(interaction, command.name, message)
        await self._answer(interaction, request, Mode.REPLY)

    async def on_button(self, interaction: discord.Interaction, pressed: Pressed) -> None:
        request = to_request(interaction, pressed.command, pressed.args)
        await self._answer(interaction, request, MODES[pressed.answer])

    async def on_autocomplete(self, interaction: discord.Interaction, command: Command,
                              option: Option, current: str) -> list[app_commands.Choice]:
        if self.services is None or option.complete is None:
            return []
        try:
            # The other options typed so far (a Namespace iterates as name/value pairs).
            given = dict(iter(interaction.namespace))
            request = to_request(interaction, command.name, given)
            choices = await asyncio.wait_for(
                option.complete(self.services, str(current or ""), request),
                self.options.autocomplete_budget,
            )
        except TimeoutError:
            log.warning("autocomplete for %s %s took too long", command.name, option.name)
            return []
        except Exception:
            log.exception("autocomplete for %s %s failed", command.name, option.name)
            return []
        return to_choices(choices, as_int=option.type is int)

    async def _answer(self, interaction: discord.Interaction, request: Request,
                      mode: Mode, *, slow: bool = False) -> None:
        started = time.monotonic()
        if self.services is None:
            await apologise(interaction, "quotebot is still starting up; try again in a moment.")
            return
        try:
            reply = await answer(
                interaction, self.registry.dispatch(request, self.services), mode=mode,
                defer_after=0 if slow else self.options.defer_after, registry=self.registry,
            )
        except Exception:
            log.exception("could not answer %s (interaction %s)", request.command, interaction.id)
            await apologise(interaction, BROKEN)
            return
        log.info("%s %s by user %s in %s/%s -> %s in %.0f ms", mode.value, request.command,
                 request.user.id, request.channel.workspace, request.channel.channel,
                 type(reply).__name__, (time.monotonic() - started) * 1000)
        if isinstance(reply, ErrorReply):
            log.debug("interaction %s: %s", interaction.id, reply.message)


def _log_end(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the daily scheduler stopped", exc_info=task.exception())


ServicesFactory = Callable[[], AbstractAsyncContextManager[Services]]
DailyFactory = Callable[[QuoteBot, Services], DailyService]


def daily_service(bot: QuoteBot, services: Services) -> DailyService:
    """Daily quotes posted through `bot`, for the guilds on its shards."""
    return DailyService(services.library, posters={PLATFORM: DiscordPoster(bot)})


async def serve(bot: QuoteBot, token: str, open_services: ServicesFactory, *,
                handle_signals: bool = True, daily: DailyFactory | None = daily_service) -> None:
    """Log in (failing fast on a bad token), open the services, and run until closed.

    Unless the services already have one, `daily` builds the daily-quote service; its
    scheduler runs once the bot is ready and stops before the services close. SIGINT and
    SIGTERM close the bot cleanly when `handle_signals` is set.

    Raises:
        discord.LoginFailure: Discord rejected the token.
    """
    async with bot, _close_on_signals(bot, handle_signals):
        await bot.login(token)
        async with open_services() as services:
            if services.daily is None and daily is not None:
                services = replace(services, daily=daily(bot, services))
            bot.attach(services)
            log.info("logged in as %s; connecting to the gateway", bot.user)
            async with _health_endpoint(bot, services):
                try:
                    await bot.connect(reconnect=True)
                finally:
                    await bot.stop_daily()
    log.info("disconnected; bye")


@asynccontextmanager
async def _health_endpoint(bot: QuoteBot, services: Services) -> AsyncIterator[None]:
    """`GET /healthz` on the options' health port while inside (none without a port):
    healthy while the database answers and this process's shards are connected."""
    port = bot.options.health_port
    if port is None:
        yield
        return
    runner = await start_health_server(
        bot.options.health_host, port,
        lambda: check_health(services, gateway=bot.gateway_state()))
    log.info("health checks on http://%s:%d%s", bot.options.health_host, port, HEALTH_PATH)
    try:
        yield
    finally:
        await runner.cleanup()


@asynccontextmanager
async def _close_on_signals(bot: QuoteBot, enabled: bool) -> AsyncIterator[None]:
    """While inside, SIGINT and SIGTERM close the bot (main thread, Unix only)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    closing: set[asyncio.Task] = set()  # held so the closing task is not garbage-collected

    def close(sig: signal.Signals) -> None:
        log.info("received %s; shutting down", sig.name)
        task = loop.create_task(bot.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    for sig in (signal.SIGINT, signal.SIGTERM) if enabled else ():
        try:
            loop.add_signal_handler(sig, close, sig)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # not the main thread, or a platform without signal handlers
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
