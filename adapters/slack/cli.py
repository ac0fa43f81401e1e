"""The `quotebot slack` command (work in progress: replaced by its adapter's real command)."""

import click


@click.command("slack")
def slack_command() -> None:
    """Not available yet."""
    raise click.ClickException("quotebot slack is not available yet")
