"""The `quotebot discord` command (work in progress: replaced by its adapter's real command)."""

import click


@click.command("discord")
def discord_command() -> None:
    """Not available yet."""
    raise click.ClickException("quotebot discord is not available yet")
