"""`/quote list` paged by buttons, `/quote sources remove`, and the server's admin role, through
the real discord.py against the fake Discord: each guild sees its own library only."""

from __future__ import annotations

import asyncio

from quotebot.store.curate import CurateStore
from quotebot.store.quotes import NewQuote, SpeakerInfo
from tests.adapters.discord.conftest import custom_ids, embed_of, ephemeral, shown
from tests.adapters.discord.fake_discord import CALLER_ID, GUILD_ID, RolePick, role_json
from tests.conftest import source

OTHER_GUILD = 717171717171717171
KEEPERS = 535353535353535353  # a role the server names as quotebot's admins
ANA = SpeakerInfo("Ana Lovelace", None, ("Ana",))
BOB = SpeakerInfo("Bob Babbage", None, ("Bob",))


async def own_source(library, guild: int, slug: str, title: str, count: int,
                     speaker: SpeakerInfo = ANA) -> None:
    """`count` quotes numbered in their words, in `guild`'s own collection."""
    store = await library.writer(library=("discord", str(guild)))
    await store.replace_source(source(slug, title), [speaker], [
        NewQuote(speaker.name, f"Line number {i} of {title} is worth keeping.", float(i), i, 0.8)
        for i in range(count)])
    await library.store.refresh_terms()
    await library.reload()


def lines(body) -> list[str]:
    return shown(embed_of(body)["description"]).split("\n")


def content(body) -> str:
    """The message's text as Discord shows it (escapes dropped)."""
    return shown(body["data"].get("content") or "")


async def test_list_pages_with_next_and_previous_buttons(fake, bot, services):
    await own_source(services.library, GUILD_ID, "guild-talk", "Guild talk", 14)
    payload = await fake.send(fake.command("list"))
    first = await fake.callback(payload)
    message = await fake.original(payload)
    # 14 of the guild's own, 9 of the operator's library it shares: 23 quotes, 3 pages.
    assert embed_of(first)["title"] == "Recent quotes — page 1 of 3"
    page1 = lines(first)
    assert len(page1) == 10 and all(line.startswith("• #") for line in page1)
    assert "Line number 0 of Guild talk is worth keeping." in page1[0]  # newest source first
    assert page1[0].endswith("— Ana Lovelace, Guild talk")
    assert custom_ids(first) == ["qb:list:n:2::"]  # no Previous on page 1

    click = await fake.send(fake.click(message, "qb:list:n:2::"))
    second = await fake.callback(click)
    assert second["type"] == 7  # UPDATE_MESSAGE: the list shown is replaced by page 2
    assert embed_of(second)["title"] == "Recent quotes — page 2 of 3"
    page2 = lines(second)
    assert len(page2) == 10 and not set(page2) & set(page1)
    assert "Line number 10 of Guild talk" in page2[0]
    assert custom_ids(second) == ["qb:list:p:1::", "qb:list:n:3::"]
    assert all(len(cid) <= 100 for cid in custom_ids(second))

    message = await fake.original(payload)  # now page 2, with its buttons
    third = await fake.callback(await fake.send(fake.click(message, "qb:list:n:3::")))
    assert embed_of(third)["title"] == "Recent quotes — page 3 of 3"
    assert len(lines(third)) == 3 and custom_ids(third) == ["qb:list:p:2::"]


async def test_list_by_speaker_and_by_source_keep_their_filter_on_the_next_page(
        fake, bot, services):
    library = services.library
    await own_source(library, GUILD_ID, "guild-talk", "Guild talk", 14)
    by = await fake.callback(await fake.send(fake.command("list", speaker="ilya")))
    assert embed_of(by)["title"] == "Quotes by Ilya Sutskever — page 1 of 1"
    assert len(lines(by)) == 3 and all("— Ilya Sutskever," in line for line in lines(by))
    assert custom_ids(by) == []

    payload = await fake.send(fake.command("list", source="guild-talk"))
    first = await fake.callback(payload)
    assert embed_of(first)["title"] == "Quotes in Guild talk — page 1 of 2"
    talk = next(s for s in (await library.scope_of("discord", str(GUILD_ID))).sources
                if s.slug == "guild-talk")
    (next_id,) = custom_ids(first)
    assert next_id == f"qb:list:n:2::{talk.id}"
    second = await fake.callback(await fake.send(
        fake.click(await fake.original(payload), next_id)))
    assert [line.split("“")[1][:15] for line in lines(second)] == [
        f"Line number {i} " for i in range(10, 14)]


async def test_each_guild_lists_and_removes_only_its_own_sources(fake, bot, services):
    library = services.library
    await own_source(library, GUILD_ID, "guild-talk", "Guild talk", 3)
    await own_source(library, OTHER_GUILD, "other-secret", "Other secret", 3, BOB)
    secret = (await CurateStore(library.db).source("other-secret"))

    mine = await fake.callback(await fake.send(fake.command("list")))
    assert not any("Other secret" in line or "Bob" in line for line in lines(mine))
    theirs = await fake.callback(await fake.send(fake.command("list", guild_id=OTHER_GUILD)))
    assert any("Other secret" in line for line in lines(theirs))
    assert not any("Guild talk" in line for line in lines(theirs))
    named = await fake.callback(await fake.send(fake.command("list", source="other-secret")))
    assert ephemeral(named) and "No source called" in content(named)
    # A button naming the other guild's source by id is no way in either.
    message = await fake.original(await fake.send(fake.command("list")))
    forged_id = f"qb:list:n:1::{secret.id}"
    row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "Next",
                                      "custom_id": forged_id}]}
    forged = await fake.callback(await fake.send(
        fake.click({**message, "components": [row]}, forged_id)))
    assert "That source is no longer in this library." in content(forged)

    refused = await fake.callback(await fake.send(
        fake.command("sources remove", admin=True, slug="other-secret")))
    assert "There is no source “other-secret” in this library." in content(refused)
    assert await CurateStore(library.db).source("other-secret") is not None

    member = await fake.callback(await fake.send(
        fake.command("sources remove", guild_id=OTHER_GUILD, slug="other-secret")))
    assert content(member).startswith("Only admins can remove sources.")
    assert await CurateStore(library.db).source("other-secret") is not None
    removed = await fake.callback(await fake.send(
        fake.command("sources remove", admin=True, guild_id=OTHER_GUILD, slug="other-secret")))
    assert "Removed Other secret [other-secret] and its 3 quotes." in content(removed)
    assert await CurateStore(library.db).source("other-secret") is None
    assert await CurateStore(library.db).source("guild-talk") is not None


async def test_a_shared_collections_source_points_at_library_disable(fake, bot, services):
    library = services.library
    store = await library.writer(collection="bundled")
    await store.replace_source(source("bundled-talk", "Bundled talk"), [ANA],
                               [NewQuote(ANA.name, "Shared words for everyone.", 1.0, 0, 0.8)])
    await library.reload()
    body = await fake.callback(await fake.send(
        fake.command("sources remove", admin=True, slug="bundled-talk")))
    text = content(body)
    assert "belongs to the shared collection bundled" in text
    assert "/quote library disable name:bundled" in text
    assert await CurateStore(library.db).source("bundled-talk") is not None


async def test_the_servers_admin_role_makes_its_members_admins(fake, bot, services):
    library = services.library
    await own_source(library, GUILD_ID, "guild-talk", "Guild talk", 3)
    await fake.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(GUILD_ID),
                                              "role": role_json(KEEPERS, "quote keepers")})
    for _ in range(100):  # the gateway event reaches the bot's guild cache
        guild = bot.get_guild(GUILD_ID)
        if guild is not None and guild.get_role(KEEPERS) is not None:
            break
        await asyncio.sleep(0.02)

    refused = await fake.callback(await fake.send(
        fake.command("sources remove", roles=(KEEPERS,), slug="guild-talk")))
    assert content(refused).startswith("Only admins can remove sources.")
    member = await fake.callback(await fake.send(
        fake.command("settings", admin_role=RolePick(KEEPERS))))
    assert content(member) == "Only admins can change this channel's settings."

    named = await fake.callback(await fake.send(
        fake.command("settings", admin=True, admin_role=RolePick(KEEPERS))))
    assert f"Members of the role with id {KEEPERS} are now admins" in content(named)
    # The role does not let its members name another role (that takes Manage Server).
    widened = await fake.callback(await fake.send(
        fake.command("settings", roles=(KEEPERS,), admin_role=RolePick(GUILD_ID + 1))))
    assert content(widened) == "Only admins can change this channel's settings."
    # Another server's settings are its own: the role means nothing there.
    elsewhere = await fake.callback(await fake.send(
        fake.command("sources remove", guild_id=OTHER_GUILD, roles=(KEEPERS,),
                     slug="guild-talk")))
    assert content(elsewhere).startswith("Only admins can remove sources.")

    removed = await fake.callback(await fake.send(
        fake.command("sources remove", roles=(KEEPERS,), slug="guild-talk")))
    assert "Removed Guild talk [guild-talk] and its 3 quotes." in content(removed)
    (entry,) = await CurateStore(library.db).audit()
    assert (entry.action, entry.target_kind, entry.target_id) == ("remove", "source",
                                                                  "guild-talk")
    assert (entry.actor_platform, entry.actor_id) == ("discord", str(CALLER_ID))
    assert entry.before["title"] == "Guild talk" and entry.before["quotes"] == 3
    assert entry.before["slug"] == "guild-talk" and entry.at

    cleared = await fake.callback(await fake.send(
        fake.command("settings", admin=True, admin_role=RolePick(GUILD_ID, "@everyone"))))
    assert "no admin role now" in content(cleared)
    again = await fake.callback(await fake.send(
        fake.command("hide", roles=(KEEPERS,), id=1)))
    assert content(again) == "Only admins can hide quotes."


async def test_the_list_and_sources_subcommands_are_synced(fake, bot):
    (quote,) = [c for c in fake.find_calls("PUT", "/commands")[0].json if c["name"] == "quote"]
    subs = {o["name"]: o for o in quote["options"]}
    listing = {o["name"]: o for o in subs["list"]["options"]}
    assert list(listing) == ["speaker", "source", "page"]
    assert listing["page"]["type"] == 4 and listing["speaker"]["autocomplete"]
    sources = {o["name"]: o for o in subs["sources"]["options"]}
    (slug,) = sources["remove"]["options"]
    assert (slug["name"], slug["required"], slug["autocomplete"]) == ("slug", True, True)
    settings = {o["name"]: o for o in subs["settings"]["options"]}
    assert settings["admin_role"]["type"] == 8  # a role picker


async def test_sources_remove_suggests_the_servers_own_sources_only(fake, bot, services):
    await own_source(services.library, GUILD_ID, "guild-talk", "Guild talk", 2)
    await own_source(services.library, OTHER_GUILD, "other-talk", "Other talk", 2)
    body = await fake.callback(await fake.send(
        fake.autocomplete("sources remove", "slug", slug="")))
    # Not the operator's shared "Ilya Sutskever on the Dwarkesh Podcast", nor the other
    # guild's talk.
    assert body["data"]["choices"] == [{"name": "Guild talk", "value": "guild-talk"}]
