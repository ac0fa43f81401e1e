"""Libraries through the fake Discord: two servers, each seeing its own quotes only;
`/quote library enable` needs Manage Server, as `/quote daily` and `/quote remove` do."""

from __future__ import annotations

import json

import pytest

from quotebot.bot.library import QuoteLibrary
from quotebot.store.quotes import SpeakerInfo
from tests.adapters.discord.fake_discord import (
    ADMIN_PERMISSIONS,
    GUILD_ID,
    MEMBER_PERMISSIONS,
)
from tests.conftest import add_lines

OTHER_GUILD = 747474747474747474
ZED = SpeakerInfo("Zed Alphason", None, ())
LINES = ["The zebra plan was the first thing we built with the whole team.",
         "Nobody expected the zebra idea to change how the company ran."]


@pytest.fixture
async def library(db) -> QuoteLibrary:
    """A podcast in this server's library, and a shared collection `podcasts` (a narwhal
    episode) that no server has enabled yet."""
    lib = QuoteLibrary(db)
    await add_lines(lib, "alpha", "The Zebra Talk", ZED, LINES, owner=("discord", str(GUILD_ID)))
    await add_lines(lib, "gamma", "The Narwhal Episode", ZED,
                    ["A narwhal tusk is a tooth that grows for years."], collection="podcasts")
    await lib.store.refresh_terms()
    await lib.load()
    return lib


async def ask(fake, path: str, *, guild: int = GUILD_ID, admin: bool = False, **options):
    """`/quote <path> …` in `guild`; everything the bot answered, as one string."""
    perms = ADMIN_PERMISSIONS if admin else MEMBER_PERMISSIONS
    payload = fake.interaction(2, fake.command_data(path, options, perms=perms), perms=perms,
                               guild_id=guild)
    return json.dumps(await fake.callback(await fake.send(payload)), ensure_ascii=False)


async def test_search_and_show_by_id_stay_in_their_server(fake, bot, library):
    assert "The zebra plan was the first thing" in await ask(fake, "search", query="zebra plan")
    qid = (await library.search("zebra plan",
                                scope=await library.scope_of("discord", str(GUILD_ID))))[0].id
    assert "zebra plan was" in await ask(fake, "show", id=qid)

    other = await ask(fake, "search", guild=OTHER_GUILD, query="zebra plan")
    assert "This library is empty" in other and "zebra plan was" not in other
    shown = await ask(fake, "show", guild=OTHER_GUILD, id=qid)
    assert f"There is no quote #{qid}." in shown and "zebra" not in shown
    assert "Zed" not in await ask(fake, "speakers", guild=OTHER_GUILD)
    assert "Zed" not in await ask(fake, "random", guild=OTHER_GUILD)


async def test_only_a_server_manager_enables_a_shared_collection(fake, bot):
    assert "No quote matches" in await ask(fake, "search", query="narwhal tusk")
    assert "podcasts — off — 1 quote" in await ask(fake, "library show")

    refused = await ask(fake, "library enable", name="podcasts")
    assert "Only admins can enable collections in this library." in refused
    assert "No quote matches" in await ask(fake, "search", query="narwhal tusk")

    done = await ask(fake, "library enable", admin=True, name="podcasts")
    assert "podcasts is on" in done
    assert "narwhal tusk is a tooth" in await ask(fake, "search", query="narwhal tusk")
    assert "narwhal tusk is a tooth" not in await ask(fake, "search", guild=OTHER_GUILD,
                                                      query="narwhal tusk")
    refused = await ask(fake, "library disable", name="podcasts")
    assert "Only admins can disable collections in this library." in refused
    assert "podcasts is off" in await ask(fake, "library disable", admin=True, name="podcasts")
    assert "No quote matches" in await ask(fake, "search", query="narwhal tusk")
