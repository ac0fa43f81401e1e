"""Saving quotes from chat through the fake Discord: Apps → Save as quote on a message, and
`/quote add`; each server keeps its own, nobody is pinged, the saver or an admin removes."""

from __future__ import annotations

import re

import discord

from quotebot.store.curate import CurateStore
from tests.adapters.discord.conftest import assert_no_pings, embed_of, ephemeral, message_texts
from tests.adapters.discord.fake_discord import CALLER_ID, CHANNEL_ID, GUILD_ID, OWNER_ID

OTHER_GUILD = 535353535353535353
OTHER_USER = 767676767676767676
LINE = "Planning is cheap; shipping every Friday is what teaches the team anything at all."


def content(body: dict) -> str:
    return body["data"].get("content") or ""


def saved_id(body: dict) -> int:
    found = re.search(r"Saved as quote #(\d+)", content(body))
    assert found, content(body)
    return int(found.group(1))


async def save(fake, message: dict, **kwargs) -> dict:
    return await fake.callback(await fake.send(fake.message_command(message, **kwargs)))


async def command(fake, path: str, **options) -> dict:
    return await fake.callback(await fake.send(fake.command(path, **options)))


def link_buttons(body: dict) -> list[str]:
    return [c["url"] for row in body["data"].get("components", []) for c in row["components"]
            if c.get("url")]


async def test_a_saved_message_is_found_in_its_server_and_not_in_another(fake, bot, services):
    message = fake.user_message(LINE, author="Ana", author_id=OWNER_ID)
    reply = await save(fake, message)
    assert ephemeral(reply) and "Ana" in content(reply)
    qid = saved_id(reply)
    jump = f"https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{message['id']}"

    found = await command(fake, "search", query="shipping every friday")
    embed = embed_of(found)
    assert "teaches the team" in embed["description"] and f"#{qid}" in str(embed)
    assert "Ana" in str(embed) and jump in link_buttons(found)
    shown = await command(fake, "show", id=qid)
    assert "teaches the team" in str(embed_of(shown)) and jump in link_buttons(shown)

    elsewhere = await command(fake, "show", id=qid, guild_id=OTHER_GUILD)
    assert f"There is no quote #{qid}." in content(elsewhere)
    missed = await command(fake, "search", query="shipping every friday", guild_id=OTHER_GUILD)
    assert "teaches the team" not in str(missed)

    # And the other way round: the other server's saved message stays there.
    theirs = fake.user_message("Our standups run nine minutes because the timer never lies.",
                               guild_id=OTHER_GUILD)
    other_id = saved_id(await save(fake, theirs, guild_id=OTHER_GUILD))
    assert "timer never lies" in str(await command(fake, "show", id=other_id,
                                                   guild_id=OTHER_GUILD))
    assert f"There is no quote #{other_id}." in content(await command(fake, "show", id=other_id))

    (entry, _) = await CurateStore(services.library.db).audit()
    assert (entry.action, entry.actor_platform, entry.target_id) == ("save", "discord",
                                                                     str(other_id))


async def test_saving_twice_says_already_saved(fake, bot):
    message = fake.user_message(LINE)
    qid = saved_id(await save(fake, message))
    again = await save(fake, message, caller=OTHER_USER)
    assert ephemeral(again) and content(again) == f"That message is already saved as #{qid}."


async def test_saving_and_showing_never_pings(fake, bot, services):
    risky = ("Heads up @everyone and @here: <@123456789012345678> thinks ideas are cheap, "
             "<@987654321098765432> and the <@&456> role disagree.")
    message = fake.user_message(risky, author="Mallory <@1>",
                                mentions=((123456789012345678, "Bob"),))
    qid = saved_id(await save(fake, message))
    stored = (await services.library.get(qid)).verbatim
    # A mention of a user Discord named becomes their name; the rest is kept as typed.
    assert stored.startswith("Heads up @everyone and @here: @Bob thinks ideas are cheap")
    assert "<@987654321098765432>" in stored
    for body in (await command(fake, "show", id=qid),
                 await command(fake, "search", query="ideas are cheap heads up")):
        assert "@everyone" in str(message_texts(body))
    assert_no_pings(fake)  # every message the bot sent allowed no mentions at all


async def test_quote_add_keeps_a_line_said_on_a_call(fake, bot):
    reply = await command(fake, "add", text="We ship on Fridays and never on Mondays, ever.",
                          speaker="Greg", source="Monday call")
    qid = saved_id(reply)
    assert "Greg Brockman" in content(reply) and "Monday call" in content(reply)
    shown = await command(fake, "show", id=qid)
    assert "ship on Fridays" in str(embed_of(shown)) and "Monday call" in str(embed_of(shown))
    assert f"There is no quote #{qid}." in content(
        await command(fake, "show", id=qid, guild_id=OTHER_GUILD))
    missing = await command(fake, "add", text="No speaker given here.", speaker=" ")
    assert ephemeral(missing) and "who said it" in content(missing).lower()


async def test_the_saver_or_an_admin_may_remove_a_saved_quote_nobody_else(fake, bot, services):
    qid = saved_id(await save(fake, fake.user_message(LINE)))  # saved by CALLER_ID
    refused = await command(fake, "remove", id=qid, caller=OTHER_USER)
    assert ephemeral(refused) and "the person who saved" in content(refused)
    assert await services.library.get(qid) is not None
    removed = await command(fake, "remove", id=qid)  # the saver, a plain member
    assert f"Removed quote #{qid}" in content(removed)
    assert await services.library.get(qid) is None

    again = saved_id(await save(fake, fake.user_message(LINE)))
    by_admin = await command(fake, "remove", id=again, caller=OTHER_USER, admin=True)
    assert f"Removed quote #{again}" in content(by_admin)
    actions = [(e.action, e.actor_id) for e in await CurateStore(services.library.db).audit()]
    assert actions == [("remove", str(OTHER_USER)), ("save", str(CALLER_ID)),
                       ("remove", str(CALLER_ID)), ("save", str(CALLER_ID))]


async def test_the_speaker_is_the_server_nickname_and_a_rename_follows(fake, bot, services):
    message = fake.user_message(LINE, author="ana_k", author_id=OWNER_ID)
    message["member"] = {"nick": "Ana (PM)", "roles": [], "deaf": False, "mute": False,
                         "joined_at": "2024-01-01T00:00:00+00:00", "flags": 0}
    first = saved_id(await save(fake, message))
    assert (await services.library.get(first)).speaker == "Ana (PM)"
    renamed = fake.user_message("Good tests read like the way people use the thing, step by "
                                "step.", author="Ana K", author_id=OWNER_ID)
    second = saved_id(await save(fake, renamed))
    for qid in (first, second):
        assert (await services.library.get(qid)).speaker == "Ana K"
    origin = await services.library.saved.origin(first)
    sent = discord.utils.snowflake_time(int(message["id"]))  # Discord's ids carry the time
    assert (origin.author_id, origin.author_name, origin.said_at) == (
        str(OWNER_ID), "Ana K", sent.isoformat(timespec="seconds"))
