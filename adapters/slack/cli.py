"""The `quotebot slack` command: read the Slack settings, open the services, serve /quote."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

import click

from quotebot.adapters.cli_support import echo_error, registry, run_async, services_for

log = logging.getLogger(__name__)


@click.command("slack", short_help="Serve /quote in Slack (Socket Mode or HTTP).")
@click.option("--port", type=click.IntRange(0, 65535), default=3000, show_default=True,
              envvar="PORT", help="HTTP mode: the port for /slack/events (env PORT).")
@click.option("--host", default="0.0.0.0", show_default=True,
              help="HTTP mode: the address to listen on.")
@click.pass_obj
def slack_command(settings, port: int, host: str) -> None:
    """Serve /quote in Slack: Socket Mode when SLACK_APP_TOKEN is set, else HTTP.

    Reads SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_CLIENT_ID,
    SLACK_CLIENT_SECRET, SLACK_REDIRECT_URI and SLACK_API_URL; see `quotebot docs slack`.
    """
    from quotebot.adapters.slack.settings import SetupError, SlackSettings

    slack = SlackSettings.from_env(os.environ, host=host, port=port)
    if problem := slack.problem():
        raise click.ClickException(problem)

    # Imported here so that the other quotebot commands never load slack_bolt.
    from quotebot.adapters.slack.app import serve

    def ready(where: str) -> None:
        click.echo(f"quotebot is serving /quote on Slack ({where}); Ctrl-C to stop.", err=True)

    async def main() -> int:
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with services_for(settings)() as services:
            try:
                await serve(slack, services, registry(), stop=stop, on_ready=ready)
            except SetupError as exc:
                echo_error(str(exc))
                return 1
        return 0

    run_async(main)
