"""`quotebot show ID --json` carries the link back to a saved quote's message, in its library."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from quotebot.adapters.cli import cli
from quotebot.bot.all_commands import build_registry
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef, Request, UserRef
from quotebot.bot.registry import Services
from quotebot.store.db import Database

LINK = "https://discord.com/channels/111/900/5001"


async def save_one(path) -> int:
    database = await Database.open(path)
    try:
        library = QuoteLibrary(database)
        await library.load()
        reply = await build_registry().dispatch(Request(
            "save", {"text": "Shipping every week beats planning for a month, and the team "
                             "learns twice as fast.", "message_id": "5001",
                     "author_id": "42", "author_name": "Ana", "link": LINK},
            UserRef("discord", "7", "Saver"), ChannelRef("discord", "111", "900")),
            Services(library))
        return int(str(reply.text).split("#", 1)[1].split(":", 1)[0])
    finally:
        await database.close()


def test_show_json_has_the_saved_from_link(tmp_path):
    db = tmp_path / "cli.db"
    qid = asyncio.run(save_one(db))
    run = CliRunner()
    result = run.invoke(cli, ["--db", str(db), "--no-bundled", "--library", "discord:111",
                              "show", str(qid), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.stdout)
    assert (item["id"], item["speaker"], item["saved_from"]) == (qid, "Ana", LINK)
    # The operator's own library does not hold it.
    other = run.invoke(cli, ["--db", str(db), "--no-bundled", "show", str(qid)])
    assert other.exit_code == 1 and f"no quote #{qid}" in other.stderr
