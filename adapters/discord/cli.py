"""The `quotebot discord` command: read the token and options, open the services, run the bot."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from quotebot.adapters.cli_support import registry, run_async, services_for

log = logging.getLogger(__name__)

TOKEN_ENV = "DISCORD_TOKEN"


def read_token(token_file: Path | None) -> str:
    """The bot token from `--token-file`, else from DISCORD_TOKEN; a clear error if neither."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise click.ClickException(f"cannot read the token file {token_file}: "
                                       f"{exc.strerror or exc}") from exc
        if not token:
            raise click.ClickException(f"the token file {token_file} is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise click.ClickException(
            f"no Discord bot token: set {TOKEN_ENV} or pass --token-file FILE "
            "(Developer Portal → your application → Bot → Reset Token; see `quotebot docs discord`)"
        )
    return token


def parse_shard_ids(ctx: click.Context, param: click.Parameter,
                    value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        ids = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter("give shard ids as numbers separated by commas, e.g. 0,1") \
            from None
    if not ids or min(ids) < 0 or len(set(ids)) != len(ids):
        raise click.BadParameter("give distinct shard ids, 0 or more, e.g. 0,1")
    return ids


def _operator_logging() -> None:
    """Show the bot's progress and discord.py's connection news (INFO) unless -v asked for more."""
    for name in ("quotebot.adapters.discord", "discord"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


@click.command("discord", short_help="Serve /quote in Discord.")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Read the bot token from this file instead of {TOKEN_ENV}.")
@click.option("--sync", is_flag=True,
              help="Upload the /quote commands to Discord at start-up (after changing them).")
@click.option("--guild", "guild_id", type=int, metavar="ID",
              help="With --sync: sync to this server only (instant; for development).")
@click.option("--shard-count", type=click.IntRange(min=1), metavar="N",
              help="Total number of shards (default: what Discord recommends).")
@click.option("--shard-ids", callback=parse_shard_ids, metavar="A,B",
              help="Run only these shards of --shard-count (e.g. 0,1).")
@click.option("--health-port", type=click.IntRange(1, 65535), metavar="PORT",
              envvar="QUOTEBOT_HEALTH_PORT",
              help="Answer GET /healthz on this port: 200 while the database answers and "
                   "this process's shards are connected, else 503 (env QUOTEBOT_HEALTH_PORT).")
@click.option("--health-host", default="127.0.0.1", show_default=True, metavar="HOST",
              help="Address of the /healthz listener.")
@click.pass_obj
def discord_command(settings, token_file: Path | None, sync: bool, guild_id: int | None,
                    shard_count: int | None, shard_ids: tuple[int, ...] | None,
                    health_port: int | None, health_host: str) -> None:
    """Serve /quote in Discord (token from DISCORD_TOKEN; see `quotebot docs discord`)."""
    if guild_id is not None and not sync:
        raise click.UsageError("--guild only makes sense with --sync")
    if shard_ids is not None:
        if shard_count is None:
            raise click.UsageError("--shard-ids needs --shard-count")
        if max(shard_ids) >= shard_count:
            raise click.UsageError(f"shard ids must be below --shard-count ({shard_count})")
    token = read_token(token_file)

    # Imported here so that the other quotebot commands never load discord.py.
    import aiohttp
    import discord

    from quotebot.adapters.discord.client import BotOptions, QuoteBot, serve

    _operator_logging()
    options = BotOptions(sync=sync, guild_id=guild_id, shard_count=shard_count,
                         shard_ids=shard_ids, health_port=health_port, health_host=health_host)

    async def main() -> int:
        bot = QuoteBot(registry(), options)
        try:
            await serve(bot, token, services_for(settings))
        except discord.LoginFailure as exc:
            raise click.ClickException(
                f"Discord rejected the bot token ({exc}). Check {TOKEN_ENV} or --token-file: "
                "it must be the token from Developer Portal → Bot, not the client secret."
            ) from exc
        except discord.PrivilegedIntentsRequired as exc:
            raise click.ClickException(f"Discord refused the gateway intents: {exc}") from exc
        except (discord.GatewayNotFound, discord.HTTPException, discord.ConnectionClosed,
                aiohttp.ClientError, OSError) as exc:
            raise click.ClickException(f"cannot talk to Discord: {exc}") from exc
        return 0

    click.echo("quotebot is starting on Discord; Ctrl-C to stop.", err=True)
    run_async(main)
