"""Saving quotes from chat in the core: stored like transcript quotes, in the library's own
collection, once per message, renames followed, removable by the saver, exported."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from quotebot.adapters.audit_cli import describe
from quotebot.adapters.console import Console
from quotebot.adapters.text import render_text
from quotebot.bot.exchange import apply_import, export_document, parse_import
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef, ErrorReply, QuoteReply, Request, TextReply, UserRef
from quotebot.store.curate import CurateStore
from quotebot.store.daily import DailyStore
from quotebot.store.db import Database
from tests.conftest import copy_database, open_any

pytestmark = pytest.mark.both_engines(postgresql="slow")
HERE = ChannelRef("discord", "111", "900")
ELSEWHERE = ChannelRef("discord", "222", "901")
SAVER = UserRef("discord", "7", "Saver")
OTHER = UserRef("discord", "8", "Other")
ADMIN = UserRef("discord", "9", "Admin", is_admin=True)
LINE = "Shipping every week beats planning for a month, and the team learns twice as fast."


def message(text: str = LINE, message_id: str = "5001", author: str = "Ana",
            author_id: str = "42") -> dict:
    return {"text": text, "message_id": message_id, "author_id": author_id,
            "author_name": author, "link": f"https://discord.com/channels/111/900/{message_id}",
            "said_at": "2026-11-30T10:00:00+00:00"}


async def run(registry, services, command: str, user=SAVER, channel=HERE, **args):
    return await registry.dispatch(Request(command, args, user, channel), services)


def saved_id(reply) -> int:
    assert isinstance(reply, TextReply), reply
    return int(str(reply.text).split("#", 1)[1].split(":", 1)[0])


async def test_a_saved_message_is_searchable_random_and_shown_only_in_its_library(
        registry, services, library):
    reply = await run(registry, services, "save", **message())
    qid = saved_id(reply)
    assert "Ana" in str(reply.text)
    found = await run(registry, services, "search", query="planning for a month")
    assert isinstance(found, QuoteReply) and found.quote.id == qid
    assert found.quote.speaker == "Ana" and found.quote.source == "Saved from chat"
    assert found.quote.saved_from == "https://discord.com/channels/111/900/5001"
    await run(registry, services, "save", **message(LINE.replace("month", "year"), "5009",
                                                    author="Cy", author_id="44"))
    shown = await run(registry, services, "show", id=qid)
    assert shown.quote.to_json()["saved_from"] == "https://discord.com/channels/111/900/5001"
    assert [(a.kind, a.url) for a in shown.actions if a.url] == [
        ("original", "https://discord.com/channels/111/900/5001")]
    # Its neighbours in "Saved from chat" are other messages: no context, no Context button.
    assert shown.context == () and "context" not in [a.kind for a in shown.actions]
    by_speaker = await run(registry, services, "random", speaker="Ana")
    assert by_speaker.quote.id == qid and by_speaker.note is None  # a highlight, drawn
    # The FTS tags and the highlight are those of an ingested quote of its collection.
    scope = await library.scope(HERE)
    tags = await library.db.scalar("SELECT tags FROM quotes WHERE id = ?", (qid,))
    speaker_id = await library.db.scalar("SELECT id FROM speakers WHERE name = 'Ana'")
    assert tags.split() == [f"s{speaker_id}", tags.split()[1], f"c{scope.own}"]
    assert await library.db.scalar(
        "SELECT count(*) FROM highlights WHERE collection_id = ? AND speaker_id = ?",
        (scope.own, speaker_id)) == 1
    # Another server's library does not see it.
    other = await run(registry, services, "search", channel=ELSEWHERE,
                      query="planning for a month")
    assert not (isinstance(other, QuoteReply) and other.quote.id == qid)
    hidden = await run(registry, services, "show", channel=ELSEWHERE, id=qid)
    assert isinstance(hidden, ErrorReply) and f"no quote #{qid}" in hidden.message


async def test_a_message_is_saved_once_and_the_audit_says_who(registry, services, library):
    qid = saved_id(await run(registry, services, "save", **message()))
    again = await run(registry, services, "save", user=OTHER, **message())
    assert isinstance(again, TextReply) and str(again.text) == (
        f"That message is already saved as #{qid}.")
    (entry,) = await CurateStore(library.db).audit()
    assert (entry.action, entry.actor_id, entry.actor_name, entry.target_id) == (
        "save", "7", "Saver", str(qid))
    assert entry.after["saved_from"]["message_id"] == "5001"
    assert entry.after["text"] == LINE
    line = describe(entry)  # `quotebot audit`
    assert "save" in line and "by Saver (discord:7)" in line and "“Shipping every week" in line
    assert "(Ana) from https://discord.com/channels/111/900/5001" in line


async def test_a_rename_follows_the_author_id(registry, services, library):
    first = saved_id(await run(registry, services, "save", **message()))
    second = saved_id(await run(registry, services, "save", **message(
        "Good tests read like the way people use the thing, step by step.", "5002",
        author="Ana B.")))
    for qid in (first, second):
        assert (await library.get(qid)).speaker == "Ana B."
    # Another author's quotes keep their name.
    third = saved_id(await run(registry, services, "save", **message(
        "Nothing here.", "5003", author="Bo", author_id="43")))
    assert (await library.get(third)).speaker == "Bo"
    found = await run(registry, services, "search", query="planning", speaker="Ana B.")
    assert found.quote.id == first


async def test_only_the_saver_or_an_admin_may_remove(registry, services, library):
    qid = saved_id(await run(registry, services, "save", **message()))
    refused = await run(registry, services, "remove", user=OTHER, id=qid)
    assert isinstance(refused, ErrorReply) and "the person who saved" in refused.message
    assert await library.get(qid) is not None
    done = await run(registry, services, "remove", user=SAVER, id=qid)
    assert isinstance(done, TextReply) and f"Removed quote #{qid}" in str(done.text)
    assert await library.get(qid) is None
    # Gone with its quote: the message can be saved again, and an admin removes that.
    again = saved_id(await run(registry, services, "save", **message()))
    assert again != qid
    assert isinstance(await run(registry, services, "remove", user=ADMIN, id=again),
                      TextReply)
    # A transcript quote is still for admins only.
    ideas = (await library.search("ideas are cheap", limit=1))[0].id
    assert isinstance(await run(registry, services, "remove", id=ideas), ErrorReply)


async def test_quote_add_keeps_a_line_said_elsewhere(registry, services, library):
    reply = await run(registry, services, "add", text="text:We ship on Fridays, never Mondays.",
                      speaker="Ilya", source="Monday call")
    qid = saved_id(reply)
    quote = await library.get(qid)
    assert (quote.text, quote.speaker, quote.source) == (
        "We ship on Fridays, never Mondays.", "Ilya Sutskever", "Monday call")
    found = await run(registry, services, "search", query="fridays", source="Monday call")
    assert found.quote.id == qid
    missing = await run(registry, services, "add", text="Words without a speaker.")
    assert isinstance(missing, ErrorReply)


async def test_empty_and_huge_messages_are_refused(registry, services):
    empty = await run(registry, services, "save", **message(text="  "))
    assert isinstance(empty, ErrorReply) and "no text" in empty.message
    huge = await run(registry, services, "save", **message(text="word " * 1000))
    assert isinstance(huge, ErrorReply) and "at most 4,000" in huge.message


async def test_save_is_not_a_typed_command_nor_in_help(registry, services):
    assert "save" not in [c.name for c in registry]
    shown = await run(registry, services, "help")
    assert "save" not in [e.command for e in shown.entries]
    assert "add" in [e.command for e in shown.entries]
    typed = await run(registry, services, "search", query="save the whales")
    assert not isinstance(typed, TextReply)


async def test_export_and_import_keep_where_a_quote_was_saved_from(
        registry, services, library, empty_file, tmp_path):
    qid = saved_id(await run(registry, services, "save", **message()))
    document = await export_document(library.store)
    (row,) = [q for q in document["quotes"] if "saved_from" in q]
    assert row["saved_from"]["message_id"] == "5001"
    assert row["saved_from"]["link"] == "https://discord.com/channels/111/900/5001"
    assert row["saved_from"]["author_id"] == "42" and row["saved_from"]["saved_by_id"] == "7"

    (tmp_path / "copy").mkdir()
    fresh = await Database.open(copy_database(empty_file, tmp_path / "copy"))
    try:
        target = QuoteLibrary(fresh)
        plan = parse_import(json.dumps(document).encode(), "export.json")
        await apply_import(target.store, plan)
        new_id = await fresh.scalar(
            "SELECT q.id FROM quotes q WHERE q.text = ?", (LINE,))
        origin = await target.saved.origin(new_id)
        assert origin == await library.saved.origin(qid)
        again = await export_document(target.store)
        assert [q["saved_from"] for q in again["quotes"] if "saved_from" in q] == [
            row["saved_from"]]
    finally:
        await fresh.close()


async def test_a_saved_message_is_posted_daily_in_its_server(registry, services, library):
    qid = saved_id(await run(registry, services, "save", **message()))
    speaker = library.resolve_speaker("Ana")
    daily = DailyStore(library.db)
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    posted = {}
    for workspace in (HERE.workspace, ELSEWHERE.workspace):
        sub, _ = await daily.upsert(platform="discord", workspace=workspace, channel="c",
                                    local_time="08:00", timezone="UTC", speaker_id=speaker.id,
                                    source_id=None, created_by="7", now=now)
        claim = await daily.claim(sub.id, "2026-12-01", now=now, process_id="p",
                                  lease_until=now + timedelta(minutes=5), rand_key=12345)
        posted[workspace] = claim and claim.quote and claim.quote.id
    assert posted == {HERE.workspace: qid, ELSEWHERE.workspace: None}


async def test_the_console_adds_a_line_and_shows_where_it_came_from(registry, services):
    console = Console(registry, services)
    reply = await console.run('/quote add The demo worked on the third try. by:Greg '
                              'source:"Friday demo"')
    qid = saved_id(reply)
    shown = await console.run(f"/quote show {qid}")
    assert "The demo worked on the third try." in render_text(shown)
    assert "Greg Brockman, Friday demo" in render_text(shown)
    saved = await run(registry, services, "save", **message())
    text = render_text(await run(registry, services, "show", id=saved_id(saved)))
    assert "Saved from: https://discord.com/channels/111/900/5001" in text


async def test_a_chat_user_named_like_an_interviewee_is_never_shown_as_them(
        registry, services, library):
    """The bundled Ilya Sutskever has a role ("Chief Scientist"); a Discord user who calls
    themself that is a different person: their saved line must not carry his role, nor be
    drawn as his."""
    qid = saved_id(await run(registry, services, "save", **message(author="Ilya Sutskever")))
    shown = await run(registry, services, "show", id=qid)
    assert shown.quote.speaker == "Ilya Sutskever (Discord)"
    assert shown.quote.speaker_role is None
    podcast = await run(registry, services, "search", query="sucked out all the air")
    assert podcast.quote.speaker == "Ilya Sutskever"
    assert podcast.quote.speaker_role == "Chief Scientist"
    # The author renames: the earlier line follows, as for anyone else.
    second = saved_id(await run(registry, services, "save", **message(
        "Review the diff before lunch and the afternoon is yours to think in.", "5002",
        author="Ilya S.")))
    names = {q: (await run(registry, services, "show", id=q)).quote.speaker
             for q in (qid, second)}
    assert names == {qid: "Ilya S.", second: "Ilya S."}


async def test_a_saved_messages_daily_post_links_back_to_the_message(registry, services,
                                                                      library):
    from quotebot.bot.daily.scheduler import channel_reply

    qid = saved_id(await run(registry, services, "save", **message()))
    row = (await library.store.get_quotes([qid]))[0]
    reply = await channel_reply(library, HERE, row)
    assert reply.public and reply.quotes[0].id == qid
    assert [(a.kind, a.url) for a in reply.actions if a.url] == [
        ("original", "https://discord.com/channels/111/900/5001")]


async def test_a_link_is_asked_for_only_where_one_can_be_and_reaches_other_processes(
        registry, services, library, db_target):
    other = QuoteLibrary(await open_any(db_target))  # another process, loaded before the save
    await other.load()
    try:
        asked: list[list[int]] = []
        links = other.saved.links

        async def recording(ids):
            asked.append(list(ids))
            return await links(ids)

        other.saved.links = recording
        transcript = (await other.search("sauce"))[0]
        shown = await other.with_origins(await other._quotes([transcript.id], "clean"))
        assert shown[0].saved_from is None and asked == [[]]  # a transcript's: no round trip
        qid = saved_id(await run(registry, services, "save", **message()))
        (saved,) = await other._quotes([qid], "clean")
        link = "https://discord.com/channels/111/900/5001"
        # Its source is newer than the other process's load: asked for, and found.
        assert (await other.with_origins([saved]))[0].saved_from == link
        assert asked[-1] == [qid]
        await other.reload()  # as its watcher does on the save's notification
        assert (await other.with_origins([saved]))[0].saved_from == link
        asked.clear()
        await other.with_origins([saved, *await other._quotes([transcript.id], "clean")])
        assert asked == [[qid]]  # the source holding linked saves only
    finally:
        await other.db.close()
