"""`quotebot audit`: the curating changes (remove, hide, unhide, edit; sources removed),
newest first."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

import click

from quotebot.adapters.cli_support import run_async
from quotebot.bot.models import clip_words
from quotebot.store.curate import AuditEntry, CurateStore
from quotebot.store.engine import open_database
from quotebot.store.libraries import LibraryStore

log = logging.getLogger(__name__)


def describe(entry: AuditEntry) -> str:
    """One line: when, who, what, and what changed (a removed quote's words, clipped)."""
    who = f"{entry.actor_name} ({entry.actor_platform}:{entry.actor_id})" if entry.actor_name \
        else f"{entry.actor_platform}:{entry.actor_id}"
    target = f"{entry.target_kind} #{entry.target_id}"
    before, after = entry.before or {}, entry.after or {}
    if entry.target_kind == "source":  # `/quote sources remove`: the slug names it
        target = f"source {entry.target_id}"
        what = f"was “{before.get('title')}” ({before.get('quotes')} quotes)"
    elif entry.action in ("save", "add") and not before:  # a quote saved from chat, or added
        origin = after.get("saved_from") or {}
        where = origin.get("link") or f"{origin.get('platform')}:{origin.get('channel')}"
        what = (f"“{clip_words(str(after.get('text', '')), 80)}” "
                f"({after.get('speaker') or 'Unknown speaker'}) from {where}")
    elif after:
        changed = [f"{key}: {json.dumps(before.get(key), ensure_ascii=False)} -> "
                   f"{json.dumps(value, ensure_ascii=False)}"
                   for key, value in after.items() if before.get(key) != value]
        what = "; ".join(changed) or "no change"
    else:
        what = (f"was “{clip_words(str(before.get('text', '')), 80)}” "
                f"({before.get('speaker') or 'Unknown speaker'}, {before.get('source')})")
    return f"{entry.at}  {entry.action:<6}  {target}  by {who}  {what}"


@click.command("audit", short_help="List curating changes (save, remove, hide, edit), newest "
               "first.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True,
              help="How many changes to list.")
@click.option("--json", "as_json", is_flag=True,
              help="Every field, with the quote before and after each change.")
@click.pass_obj
def audit_command(settings, limit: int, as_json: bool) -> None:
    """List who removed, hid, unhid or re-attributed which quote, and when, newest first:
    every change, or with `quotebot --library NAME audit` the changes to that library's own
    quotes."""

    async def main() -> int:
        db = await open_database(settings.db)
        try:
            collection = None
            if settings.library is not None:  # that library's own quotes' changes
                collection = (await LibraryStore(db).library(*settings.library)).own
            entries = await CurateStore(db).audit(limit, collection)
        finally:
            await db.close()
        if as_json:
            click.echo(json.dumps([asdict(e) for e in entries], ensure_ascii=False, indent=2))
        elif not entries:
            click.echo("No changes recorded yet.")
        for entry in [] if as_json else entries:
            click.echo(describe(entry))
        return 0

    run_async(main)
