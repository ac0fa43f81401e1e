"""`quotebot daily`: operators list, add, remove and dry-run daily-quote subscriptions.

The posting itself happens inside `quotebot discord` and `quotebot slack`, whose schedulers
share this database; this command has no platform connection. `run-once` therefore shows
what each due subscription would post, printed as the console renders it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import click

from quotebot.adapters.cli_support import echo_error, print_progress, run_async
from quotebot.bot.daily.service import OPERATOR, DailyError, DailyService, channel_id
from quotebot.bot.models import ChannelRef, QuoteReply

log = logging.getLogger(__name__)


class ConsolePoster:
    """A Poster that prints the rendered post instead of sending it."""

    def __init__(self, echo: Callable[[str], None] = click.echo) -> None:
        self.echo = echo

    def owns(self, channel: ChannelRef) -> bool:
        return True

    async def check(self, channel: ChannelRef) -> None:
        return None

    async def post(self, channel: ChannelRef, reply: QuoteReply, *, idempotency_key: str) -> str:
        from quotebot.adapters.text import render_text

        where = f"{channel.platform} {channel.workspace} #{channel.channel}"
        self.echo(f"── {where} ({idempotency_key})\n{render_text(reply)}\n")
        return f"console:{idempotency_key}"


def _run(settings, main: Callable[[DailyService], Awaitable[int | None]],
         now: datetime | None = None) -> None:
    """Open the services with the global settings, run `main`, exit with its code.

    `now` pins the service's clock (run-once --now), so the whole pass sees one time.
    """
    from quotebot.bot.app import open_services

    async def go() -> int | None:
        async with open_services(settings.db, bundled=settings.bundled,
                                 progress=print_progress) as services:
            if now is None:
                return await main(DailyService(services.library))
            return await main(DailyService(services.library, clock=lambda: now))

    run_async(go)


# Schedules look a few days either side of `now`; these bounds keep that inside datetime's
# years 1-9999 (9999-12-31 overflowed) with room to spare.
NOW_MIN = datetime(1970, 1, 1, tzinfo=UTC)
NOW_MAX = datetime(9000, 1, 1, tzinfo=UTC)


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        now = datetime.fromisoformat(value)
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise click.BadParameter(f"“{value}” is not an ISO date-time "
                                 "(e.g. 2024-11-24T09:00:00+01:00)") from exc
    if not NOW_MIN <= now < NOW_MAX:
        raise click.BadParameter(f"“{value}” is out of range: give a time from "
                                 f"{NOW_MIN.year} to {NOW_MAX.year - 1}")
    return now


@click.group("daily", short_help="Daily quote posts: add, list, remove, run once.")
def daily() -> None:
    """Daily quote subscriptions (posted by `quotebot discord` / `quotebot slack`)."""


@daily.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def list_command(settings, as_json: bool) -> None:
    """List every subscription with its next post, last post and last error."""

    async def main(service: DailyService) -> int:
        subs = await service.list()
        now = service.clock()
        if as_json:
            items = [{
                "id": s.id, "platform": s.platform, "workspace": s.workspace,
                "channel": s.channel, "time": s.local_time, "timezone": s.timezone,
                "speaker": s.speaker, "source": s.source, "enabled": s.enabled,
                "next_run": service.next_at(s, now).isoformat() if s.enabled else None,
                "last_sent_at": s.last_sent_at, "last_error": s.last_error,
                "disabled_reason": s.disabled_reason, "failures": s.failures,
                "created_by": s.created_by, "created_at": s.created_at,
            } for s in subs]
            click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        elif not subs:
            click.echo("No daily quotes.")
        else:
            for s in subs:
                click.echo(f"{s.id:>4}  {s.platform} {s.workspace}  {service.describe(s, now)}")
        return 0

    _run(settings, main)


@daily.command("add")
@click.option("--platform", required=True, type=click.Choice(["discord", "slack"]))
@click.option("--workspace", required=True, help="Discord guild id or Slack team id.")
@click.option("--channel", required=True, help="Channel id.")
@click.option("--time", "at", required=True, help="Local time, HH:MM (24-hour).")
@click.option("--timezone", help="IANA timezone (default UTC, or the current one).")
@click.option("--speaker", help="Only quotes by this person.")
@click.option("--source", help="Only quotes from this source.")
@click.option("--org", default="", metavar="ENTERPRISE_ID",
              help="Slack org-wide (Enterprise Grid) install: quotes come from the org's "
                   "library, slack:ENTERPRISE_ID, not the workspace's.")
@click.pass_obj
def add_command(settings, platform, workspace, channel, at, timezone, speaker, source,
                org) -> None:
    """Subscribe a channel, or change its subscription (the bot's access is not checked).

    Its quotes (and the speaker and source named) come from the library of its server or
    workspace."""

    async def main(service: DailyService) -> int:
        try:
            # `<#C9|general>` (pasted from chat) is taken as C9; the service refuses the rest.
            result = await service.set(
                ChannelRef(platform, workspace.strip(), channel_id(channel), org.strip()),
                time=at,
                timezone=timezone,
                speaker=speaker, source=source, actor=OPERATOR,
            )
        except DailyError as exc:
            echo_error(exc.message)
            for hint in exc.suggestions:
                click.echo(f"  · {hint}", err=True)
            return 1
        sub = result.subscription
        click.echo(f"{'added' if result.created else 'changed'} #{sub.id}: "
                   f"{service.describe(sub)}")
        return 0

    _run(settings, main)


@daily.command("remove")
@click.argument("subscription_id", metavar="ID", type=int)
@click.pass_obj
def remove_command(settings, subscription_id: int) -> None:
    """Remove a subscription and its post history."""

    async def main(service: DailyService) -> int:
        sub = await service.remove(subscription_id)
        if sub is None:
            echo_error(f"there is no subscription #{subscription_id}")
            return 1
        click.echo(f"removed #{sub.id}: {sub.platform} {sub.workspace} #{sub.channel}")
        return 0

    _run(settings, main)


@daily.command("run-once")
@click.option("--now", "now_text", metavar="ISO",
              help="Pretend it is this time (default: now; naive = UTC).")
@click.option("--commit", is_flag=True,
              help="Claim the due posts for real and mark them sent as printed here: they "
                   "will NOT reach the channels. For tests; default is a dry run.")
@click.pass_obj
def run_once_command(settings, now_text: str | None, commit: bool) -> None:
    """Show what each due subscription would post now (a dry run by default).

    Real posting happens inside `quotebot discord` and `quotebot slack`.
    """
    now = _parse_now(now_text)

    async def main(service: DailyService) -> int:
        poster = ConsolePoster()
        for sub in await service.list():
            service.posters.setdefault(sub.platform, poster)
        result = await service.scheduler.run_once(now, dry_run=not commit)
        shown = [o for o in result.outcomes if o.status in ("dry-run", "sent")]
        failed = [o for o in result.outcomes if o.status not in ("dry-run", "sent", "skipped")]
        if not shown and not failed:
            click.echo("Nothing is due.")
        verb = "recorded as sent" if commit else "would be posted (dry run: nothing recorded)"
        click.echo(f"{len(shown)} post(s) {verb}.", err=True)
        for o in failed:
            click.echo(f"#{o.subscription_id}: {o.status}: {o.error}", err=True)
        if result.next_wake:
            click.echo(f"next due: {result.next_wake.isoformat()}", err=True)
        return 1 if failed else 0

    _run(settings, main, now)
