"""The `quotebot bench` command (work in progress: replaced by its adapter's real command)."""

import click


@click.command("bench")
def bench() -> None:
    """Not available yet."""
    raise click.ClickException("quotebot bench is not available yet")
