"""The `quotebot daily` command (work in progress: replaced by its adapter's real command)."""

import click


@click.command("daily")
def daily() -> None:
    """Not available yet."""
    raise click.ClickException("quotebot daily is not available yet")
