"""Curating through the fake Discord: admins (Manage Server) hide, edit, remove; members not."""

from __future__ import annotations

from quotebot.store.curate import CurateStore
from tests.adapters.discord.conftest import ephemeral
from tests.adapters.discord.fake_discord import CALLER_ID


def content(body: dict) -> str:
    return body["data"].get("content") or ""


async def ideas_id(services) -> int:
    return (await services.library.search("ideas are cheap", limit=1))[0].id


async def test_hide_is_refused_to_a_member_and_done_for_an_admin(fake, bot, services):
    qid = await ideas_id(services)
    curate = CurateStore(services.library.db)

    refused = await fake.callback(await fake.send(fake.command("hide", id=qid)))
    assert ephemeral(refused) and content(refused) == "Only admins can hide quotes."
    assert not await curate.is_hidden(qid) and await curate.audit() == []

    done = await fake.callback(await fake.send(fake.command("hide", admin=True, id=qid)))
    assert f"Hid quote #{qid}" in content(done)
    assert await curate.is_hidden(qid)
    (entry,) = await curate.audit()
    assert (entry.action, entry.actor_platform, entry.actor_id) == ("hide", "discord",
                                                                    str(CALLER_ID))
    assert entry.actor_name

    shown = await fake.callback(await fake.send(fake.command("show", id=qid)))
    assert "(hidden from random and daily)" in str(shown["data"])


async def test_edit_and_remove_as_an_admin_unknown_ids_are_clear(fake, bot, services):
    qid = await ideas_id(services)
    curate = CurateStore(services.library.db)
    refused = await fake.callback(await fake.send(
        fake.command("edit", id=qid, speaker="Greg Brockman")))
    assert content(refused) == "Only admins can edit quotes."
    edited = await fake.callback(await fake.send(
        fake.command("edit", admin=True, id=qid, speaker="Greg Brockman")))
    assert "now attributed to Greg Brockman" in content(edited)
    assert (await curate.quote(qid)).speaker == "Greg Brockman"
    removed = await fake.callback(await fake.send(fake.command("remove", admin=True, id=qid)))
    assert f"Removed quote #{qid}" in content(removed)
    assert await curate.quote(qid) is None
    gone = await fake.callback(await fake.send(fake.command("unhide", admin=True, id=qid)))
    assert ephemeral(gone) and f"There is no quote #{qid}." in content(gone)
    assert [e.action for e in await curate.audit()] == ["remove", "edit"]


async def test_the_curating_subcommands_are_synced_with_their_options(fake, bot):
    (quote,) = [c for c in fake.find_calls("PUT", "/commands")[0].json if c["name"] == "quote"]
    subs = {o["name"]: o for o in quote["options"]}
    for verb in ("remove", "hide", "unhide"):
        (option,) = subs[verb]["options"]
        assert (option["name"], option["type"], option["required"]) == ("id", 4, True)
    edit = {o["name"]: o for o in subs["edit"]["options"]}
    assert list(edit) == ["id", "speaker"]
    assert edit["speaker"]["required"] and edit["speaker"]["autocomplete"]
