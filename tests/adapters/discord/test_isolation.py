"""Issue 13's isolation, through the fake Discord: what one server saved, uploaded or switched
on never reaches another server, by any command, autocomplete or button."""

from __future__ import annotations

import json
import re

import pytest

from quotebot.bot.library import QuoteLibrary
from quotebot.store.quotes import SpeakerInfo
from tests.adapters.discord.fake_discord import (
    ADMIN_PERMISSIONS,
    APP_ID,
    GUILD_ID,
    MEMBER_PERMISSIONS,
    OWNER_ID,
    Attached,
)
from tests.conftest import add_lines

OTHER_GUILD = 929292929292929292
# One word per way a quote arrives in server A, found nowhere else in the database.
SAVED = "pangolin"
UPLOADED = "okapi"
ENABLED = "narwhal"
# What server A holds, as only A's quotes, speakers and sources would show it (queries
# below name single words, which an answer may echo back).
MARKERS = ("nobody ships on a Friday", "described by science", "cleans its own ears",
           "tooth that keeps growing", "Pia Quillfeather", "Okonkwo Vantablack", "Nyx Harrow",
           "Narwhal Episode", "Okapi Notes")
SRT = """1
00:00:01,000 --> 00:00:04,500
OKONKWO VANTABLACK: The okapi was described by science only in 1901, long after the giraffe.

2
00:00:05,000 --> 00:00:09,000
OKONKWO VANTABLACK: An okapi cleans its own ears with a tongue about a foot long, believe me.
"""


@pytest.fixture
async def library(db) -> QuoteLibrary:
    """A shared collection `deepsea` (a narwhal episode) that no server has enabled yet."""
    lib = QuoteLibrary(db)
    nyx = SpeakerInfo("Nyx Harrow", None, ())
    await add_lines(lib, "tusks", "The Narwhal Episode", nyx,
                    ["A narwhal tusk is a tooth that keeps growing for years.",
                     "Every narwhal we tagged dove deeper than a kilometre."],
                    collection="deepsea")
    await lib.store.refresh_terms()
    await lib.load()
    return lib


def _payload(fake, kind: int, path: str, options: dict, *, guild: int, admin: bool = False,
             focused: str | None = None):
    perms = ADMIN_PERMISSIONS if admin else MEMBER_PERMISSIONS
    return fake.interaction(kind, fake.command_data(path, options, focused, perms=perms),
                            perms=perms, guild_id=guild)


async def answer(fake, path: str, *, guild: int, admin: bool = False, **options) -> str:
    """Everything the bot answered to `/quote <path>` in `guild`, as one string."""
    body = await fake.callback(await fake.send(_payload(fake, 2, path, options, guild=guild,
                                                        admin=admin)))
    return json.dumps(body, ensure_ascii=False)


async def deferred(fake, path: str, *, guild: int, **options):
    """A slow admin command's final answer (the edited original) and its files."""
    payload = _payload(fake, 2, path, options, guild=guild, admin=True)
    await fake.send(payload)
    assert (await fake.callback(payload))["type"] == 5
    return await fake.wait_call(
        "PATCH", f"/webhooks/{APP_ID}/{payload['token']}/messages/@original", timeout=15)


async def suggest(fake, path: str, focused: str, *, guild: int, **options) -> str:
    """The autocomplete choices offered for option `focused`, as one string."""
    body = await fake.callback(await fake.send(_payload(fake, 4, path, options, guild=guild,
                                                        focused=focused)))
    return json.dumps(body, ensure_ascii=False)


async def press(fake, custom_id: str, *, guild: int) -> str:
    row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "x",
                                      "custom_id": custom_id}]}
    message = fake.message_json({"content": "a quote", "components": [row]})
    body = await fake.callback(await fake.send(fake.click(message, custom_id, guild_id=guild)))
    return json.dumps(body, ensure_ascii=False)


def leaked(text: str) -> list[str]:
    return [m for m in MARKERS if m.lower() in text.lower()]


async def test_what_one_server_saves_uploads_or_enables_never_reaches_another(
        fake, bot, services):
    # Server A: a message saved, a transcript uploaded, a shared collection switched on.
    message = fake.user_message("The pangolin rule: nobody ships on a Friday afternoon "
                                "unless every test is green.", author="Pia Quillfeather",
                                author_id=OWNER_ID)
    saved = await fake.callback(await fake.send(fake.message_command(message)))
    saved_id = int(re.search(r"#(\d+)", saved["data"]["content"]).group(1))
    upload = await deferred(fake, "ingest", guild=GUILD_ID,
                            file=Attached("okapi-notes.srt", SRT.encode()), title="Okapi Notes")
    assert "Added" in upload.json["content"], upload.json
    assert "deepsea is on" in await answer(fake, "library enable", guild=GUILD_ID, admin=True,
                                           name="deepsea")
    library = services.library
    scope = await library.scope_of("discord", str(GUILD_ID))
    ids = {saved_id}
    for word in (UPLOADED, ENABLED):
        hits = await library.search(word, limit=10, scope=scope)
        assert hits, word  # server A does see each of them
        ids.update(q.id for q in hits)

    # Server B, by every path a member or an admin has.
    seen = []
    for word in (SAVED, UPLOADED, ENABLED, "Friday afternoon", "giraffe", "tusk"):
        seen.append(await answer(fake, "search", guild=OTHER_GUILD, query=word))
        seen.append(await suggest(fake, "search", "query", guild=OTHER_GUILD, query=word))
    for partial in ("Pia", "Okonkwo", "Nyx"):
        seen.append(await suggest(fake, "search", "speaker", guild=OTHER_GUILD,
                                  query="x", speaker=partial))
    for partial in ("Saved", "okapi", "Narwhal", "tusks"):
        seen.append(await suggest(fake, "search", "source", guild=OTHER_GUILD,
                                  query="x", source=partial))
    seen += [await answer(fake, "random", guild=OTHER_GUILD) for _ in range(15)]
    seen += [await answer(fake, "speakers", guild=OTHER_GUILD),
             await answer(fake, "sources list", guild=OTHER_GUILD),
             await answer(fake, "list", guild=OTHER_GUILD),
             await answer(fake, "library show", guild=OTHER_GUILD)]
    for quote_id in sorted(ids):
        shown = await answer(fake, "show", guild=OTHER_GUILD, id=quote_id)
        assert f"There is no quote #{quote_id}." in shown
        seen.append(shown)
        for kind in ("share", "ctx", "card"):  # a button forged with server A's quote
            seen.append(await press(fake, f"qb:{kind}:{quote_id}", guild=OTHER_GUILD))
    exported = await deferred(fake, "export", guild=OTHER_GUILD)
    seen.append(json.dumps(exported.json) + "".join(f.data.decode() for f in exported.files))
    assert [leaked(text) for text in seen if leaked(text)] == []

    # And server A, by the same paths, does see them (the checks above can fail).
    mine = await answer(fake, "search", guild=GUILD_ID, query="narwhal tusk")
    assert leaked(mine) and "There is no quote" not in await answer(
        fake, "show", guild=GUILD_ID, id=saved_id)
