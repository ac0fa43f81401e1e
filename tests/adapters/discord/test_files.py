"""`/quote ingest file:` and `/quote export` against the fake Discord: a transcript attached
in chat lands in the server's own library, and the library comes back as a JSON file."""

from __future__ import annotations

import json

import pytest

from quotebot.bot import files
from quotebot.bot.exchange import apply_import, export_document, parse_import
from quotebot.bot.ingest.runner import MAX_FILE_BYTES
from quotebot.bot.library import QuoteLibrary
from quotebot.store.db import Database
from tests.adapters.discord.conftest import ephemeral, shown
from tests.adapters.discord.fake_discord import APP_ID, GUILD_ID, Attached
from tests.conftest import copy_database

OTHER_GUILD = 717171717171717171

SRT = """1
00:00:01,000 --> 00:00:04,500
ALICE: The lighthouse keeper counted every wave that broke against the northern rocks.

2
00:00:05,000 --> 00:00:09,000
BOB: Nobody believed him until the harbour master read the ledger aloud at dinner.

3
00:00:09,500 --> 00:00:14,000
ALICE: Patience is a kind of courage that nobody gives medals for, and I would know.
"""
LIGHTHOUSE = "lighthouse keeper counted every wave"


def srt(name: str = "harbour-talk.srt", **kwargs) -> Attached:
    return Attached(name, SRT.encode(), "application/x-subrip", **kwargs)


async def run(fake, payload) -> dict:
    """Send a slow command; return the content of its deferred answer (the edited
    original), after checking it was deferred privately first."""
    await fake.send(payload)
    deferred = await fake.callback(payload)
    assert deferred["type"] == 5 and ephemeral(deferred)  # "thinking", private
    edit = await fake.wait_call(
        "PATCH", f"/webhooks/{APP_ID}/{payload['token']}/messages/@original", timeout=15)
    return edit


async def content(fake, payload) -> str:
    """The deferred answer's text as Discord shows it (escapes dropped)."""
    return shown((await run(fake, payload)).json["content"])


async def search_text(fake, query: str, guild_id: int = GUILD_ID) -> str:
    body = await fake.callback(await fake.send(
        fake.command("search", query=query, guild_id=guild_id)))
    data = body["data"]
    return data.get("content") or "\n".join(e.get("description") or ""
                                            for e in data.get("embeds") or [])


# ---- the command's shape ------------------------------------------------------------------


async def test_ingest_takes_a_required_attachment_and_a_title(fake, bot):
    (quote,) = [c for c in fake.find_calls("PUT", "/commands")[0].json if c["name"] == "quote"]
    subs = {o["name"]: o for o in quote["options"]}
    ingest = {o["name"]: o for o in subs["ingest"]["options"]}
    assert list(ingest) == ["file", "title"]
    assert ingest["file"]["type"] == 11 and ingest["file"]["required"]  # ATTACHMENT
    assert ingest["title"]["type"] == 3 and not ingest["title"]["required"]
    assert subs["export"]["type"] == 1 and subs["export"]["options"] == []


# ---- ingest --------------------------------------------------------------------------------


async def test_an_attached_transcript_joins_this_servers_library_only(fake, bot, services):
    text = await content(fake, fake.command("ingest", admin=True, file=srt()))
    assert text.startswith("Added “Harbour Talk” [harbour-talk] in this library: 3 quotes, ")
    assert "highlight" in text
    assert len(fake.downloads) == 1
    # Found here, by search and by id ...
    assert LIGHTHOUSE in await search_text(fake, "lighthouse keeper")
    scope = await services.library.scope_of("discord", str(GUILD_ID))
    (source,) = [s for s in scope.sources if s.slug == "harbour-talk"]
    assert source.collection_id == scope.own  # the server's own collection, not `local`
    quote = (await services.library.search("lighthouse keeper", limit=1, scope=scope))[0]
    # ... and nowhere else: another server neither finds it nor shows it by its id.
    elsewhere = await search_text(fake, "lighthouse keeper", guild_id=OTHER_GUILD)
    assert LIGHTHOUSE not in elsewhere and "No quote matches" in elsewhere
    shown = await fake.callback(await fake.send(
        fake.command("show", id=quote.id, guild_id=OTHER_GUILD)))
    assert f"There is no quote #{quote.id}." in shown["data"]["content"]
    # The operator's own library (the terminal) does not hold it either.
    assert not await services.library.search("lighthouse keeper", limit=1,
                                              scope=await services.library.scope(None))


async def test_title_overrides_and_a_second_upload_changes_nothing(fake, bot, services):
    text = await content(fake, fake.command("ingest", admin=True, file=srt(),
                                            title="Notes from the *Harbour*"))
    assert "“Notes from the *Harbour*” [harbour-talk]" in text
    again = await content(fake, fake.command("ingest", admin=True, file=srt(),
                                             title="Notes from the *Harbour*"))
    assert "already in this library" in again and "nothing changed" in again
    scope = await services.library.scope_of("discord", str(GUILD_ID))
    assert [s.title for s in scope.sources if s.slug == "harbour-talk"] == [
        "Notes from the *Harbour*"]


async def test_the_same_file_in_two_servers_is_two_separate_sources(fake, bot, services):
    await content(fake, fake.command("ingest", admin=True, file=srt()))
    text = await content(fake, fake.command("ingest", admin=True, file=srt(),
                                            guild_id=OTHER_GUILD))
    # Slugs are unique in the database: the second server gets its own, and is not told
    # which other library holds the first.
    assert text.startswith("Added “Harbour Talk” [harbour-talk-2]")
    assert f"discord:{GUILD_ID}" not in text
    assert LIGHTHOUSE in await search_text(fake, "lighthouse keeper", guild_id=OTHER_GUILD)
    mine = await services.library.scope_of("discord", str(GUILD_ID))
    theirs = await services.library.scope_of("discord", str(OTHER_GUILD))
    assert {s.slug for s in mine.sources} & {"harbour-talk", "harbour-talk-2"} == \
        {"harbour-talk"}
    assert {s.slug for s in theirs.sources} & {"harbour-talk", "harbour-talk-2"} == \
        {"harbour-talk-2"}


async def test_a_long_file_gets_a_progress_follow_up_first(fake, bot, monkeypatch):
    monkeypatch.setattr(files, "PROGRESS_BYTES", 100)
    payload = fake.command("ingest", admin=True, file=srt())
    edit = await run(fake, payload)
    follow_ups = fake.find_calls("POST", f"/webhooks/{APP_ID}/{payload['token']}")
    assert len(follow_ups) == 1
    progress = follow_ups[0].json
    assert progress["content"].startswith("Got “harbour-talk.srt” (")
    assert "parsing" in progress["content"] and progress["flags"] & 64  # private
    assert fake.calls.index(follow_ups[0]) < fake.calls.index(edit)
    assert edit.json["content"].startswith("Added")


async def test_members_cannot_ingest_and_nothing_is_downloaded(fake, bot):
    text = await content(fake, fake.command("ingest", file=srt()))
    assert text.startswith("Only admins can add transcripts")
    assert fake.downloads == []


@pytest.mark.parametrize(("attached", "expected"), [
    (srt("slides.pdf"), "“slides.pdf” is not a file type quotebot reads as a transcript"),
    (srt(size=MAX_FILE_BYTES + 1), "“harbour-talk.srt” is too large: 64.0 MB"),
])
async def test_refused_before_downloading(fake, bot, attached, expected):
    text = await content(fake, fake.command("ingest", admin=True, file=attached))
    assert text.startswith(expected), text
    assert fake.downloads == []  # the reported size and name decide; nothing was fetched


@pytest.mark.parametrize(("attached", "expected"), [
    (Attached("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 40),
     "“photo.txt” was not added: photo.txt:3: looks like a binary file, not a transcript"),
    (Attached("empty.md", b""), "“empty.md” was not added: file is empty"),
    (Attached("notes.srt", b"just some words, no cues"),
     "“notes.srt” was not added: notes.srt:1: not a valid SRT cue"),
    (srt(status=403), "Could not download “harbour-talk.srt”: the file server answered 403"),
    # Discord said it was small; the bytes say otherwise: the download stops at the cap.
    (srt(size=10), None),
])
async def test_errors_name_the_problem(fake, bot, services, monkeypatch, attached, expected):
    if expected is None:
        monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
        expected = "Could not download “harbour-talk.srt”: it is larger than 100 bytes"
    text = await content(fake, fake.command("ingest", admin=True, file=attached))
    assert text.startswith(expected), text
    assert "/tmp" not in text and "quotebot-upload" not in text  # no temporary paths
    scope = await services.library.scope_of("discord", str(GUILD_ID))
    assert services.library.collection_counts(scope.own) == (0, 0)


# ---- export --------------------------------------------------------------------------------


async def _fresh(empty_file, tmp_path, name: str) -> Database:
    folder = tmp_path / name
    folder.mkdir()
    return await Database.open(copy_database(empty_file, folder))


def _without_times(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported_at"}


async def test_export_attaches_this_servers_library_and_it_imports_whole(
        fake, bot, services, empty_file, tmp_path):
    await content(fake, fake.command("ingest", admin=True, file=srt()))
    await content(fake, fake.command("ingest", admin=True, file=srt("other-server.srt"),
                                     guild_id=OTHER_GUILD))
    edit = await run(fake, fake.command("export", admin=True))
    assert edit.json["content"].startswith(
        "This library's own transcripts: 1 source, 3 quotes and ")
    (upload,) = edit.files
    assert upload.filename.startswith(f"quotebot-discord-{GUILD_ID}-")
    assert upload.filename.endswith(".json")
    document = json.loads(upload.data)
    # Only this server's own transcripts: not the other server's, not the shared ones.
    assert [s["slug"] for s in document["sources"]] == ["harbour-talk"]
    assert {q["source"] for q in document["quotes"]} == {"harbour-talk"}
    assert any(LIGHTHOUSE in q["text"] for q in document["quotes"])
    # What `quotebot --library discord:ID export` writes for this library.
    scope = await services.library.scope_of("discord", str(GUILD_ID))
    expected = await export_document(services.library.store, (scope.own,))
    assert _without_times(document) == _without_times(expected)
    # Round trip: imported into a fresh database, it exports the same again.
    fresh = await _fresh(empty_file, tmp_path, "fresh")
    try:
        library = QuoteLibrary(fresh)
        report = await apply_import(library.store, parse_import(upload.data, upload.filename))
        assert (report.sources, report.quotes) == (1, 3)
        again = await export_document(library.store)
        assert _without_times(again) == _without_times(document)
    finally:
        await fresh.close()


async def test_members_cannot_export(fake, bot):
    edit = await run(fake, fake.command("export"))
    assert edit.json["content"].startswith("Only admins can export this library.")
    assert edit.files == []


async def test_an_export_over_the_upload_limit_says_how_to_get_it(fake, bot, monkeypatch):
    payload = fake.command("export", admin=True)
    payload["attachment_size_limit"] = 100  # a few hundred bytes of JSON is over it
    edit = await run(fake, payload)
    assert edit.files == []
    assert "over the 0 MB Discord lets the bot upload here" in edit.json["content"]
    assert f"quotebot --library discord:{GUILD_ID} export" in edit.json["content"]
