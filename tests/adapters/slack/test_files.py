"""The "Add transcript" message shortcut and `/quote export` against the fake Slack: a file
shared in a message lands in the workspace's own library, and the library comes back as an
uploaded JSON file (files_upload_v2)."""

from __future__ import annotations

import json

import pytest
import yaml

from quotebot.adapters.slack.app import BOT_SCOPES
from quotebot.adapters.slack.files import SHORTCUT
from quotebot.bot import files
from quotebot.bot.exchange import apply_import, export_document, parse_import
from quotebot.bot.ingest.runner import MAX_FILE_BYTES
from quotebot.bot.library import QuoteLibrary
from quotebot.store.db import Database
from tests.adapters.slack.conftest import CALLER, CHANNEL, block_text
from tests.adapters.slack.fake_slack import BOT_TOKEN, TEAM
from tests.adapters.slack.test_manifest import MANIFEST
from tests.conftest import copy_database

OTHER_TEAM = "T0OTHER"
MARKDOWN = """---
title: The Orchard Interview
---

**Mara:** Every apple tree in the valley was planted by someone who never saw it fruit.

**Tobias:** So the orchard is a letter to strangers, written in wood and patience.

**Mara:** Exactly, and the strangers answer it every autumn with a harvest festival.
"""
ORCHARD = "Every apple tree in the valley"


@pytest.fixture
def admin(fake):
    fake.admins.add(CALLER)


async def answers(fake, path: str, count: int = 1) -> list[dict]:
    """The first `count` messages sent to a response URL."""
    await fake.wait_for(path, count)
    return [r.data for r in fake.calls(path)]


def said(message: dict) -> str:
    return block_text(message) or message.get("text", "")


async def add(slack, fake, name: str = "orchard.md", data: bytes = MARKDOWN.encode(),
              **kwargs) -> str:
    """Use "Add transcript" on a message with one file; the (last) answer's text."""
    path = await slack.add_transcript([fake.add_file(name, data, team=kwargs.get("team", TEAM))],
                                **kwargs)
    (answer,) = await answers(fake, path)
    assert answer["response_type"] == "ephemeral"
    return said(answer)


def downloads(fake) -> list:
    return [r for r in fake.requests if r.path.startswith("/files-pri/")]


# ---- the manifest --------------------------------------------------------------------------


def test_the_manifest_declares_the_shortcut_and_files_read():
    manifest = yaml.safe_load(MANIFEST.read_text())
    (shortcut,) = [s for s in manifest["features"]["shortcuts"]
                   if s["callback_id"] == SHORTCUT]
    assert (shortcut["name"], shortcut["type"]) == ("Add transcript", "message")
    assert len(shortcut["description"]) <= 80  # Slack's limit
    assert "files:read" in manifest["oauth_config"]["scopes"]["bot"]
    assert "files:read" in BOT_SCOPES  # asked for by OAuth installs too


# ---- Add transcript ------------------------------------------------------------------------


async def test_a_shared_transcript_joins_this_workspaces_library_only(slack, fake, admin,
                                                                      services):
    text = await add(slack, fake)
    assert text.startswith("Added “The Orchard Interview” [orchard] in this library: 3 quotes")
    (download,) = downloads(fake)
    assert download.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert fake.calls("users.info")[0].data["user"] == CALLER  # admins only, asked of Slack
    # Found here, by search and by id ...
    found = await slack.command("apple tree valley")
    assert ORCHARD in block_text(found.data)
    scope = await services.library.scope_of("slack", TEAM)
    quote = (await services.library.search("apple tree valley", limit=1, scope=scope))[0]
    assert [s.collection_id for s in scope.sources if s.slug == "orchard"] == [scope.own]
    # ... and not in another workspace, by either.
    elsewhere = await slack.command("apple tree valley", team=OTHER_TEAM)
    assert ORCHARD not in block_text(elsewhere.data)
    by_id = await slack.command(f"show {quote.id}", team=OTHER_TEAM)
    assert f"There is no quote #{quote.id}." in by_id.data["text"]


async def test_the_same_file_in_two_workspaces_stays_two_sources(slack, fake, admin, services):
    await add(slack, fake)
    text = await add(slack, fake, team=OTHER_TEAM)
    assert text.startswith("Added “The Orchard Interview” [orchard-2]")
    assert f"slack:{TEAM}" not in text
    theirs = await services.library.scope_of("slack", OTHER_TEAM)
    assert {s.slug for s in theirs.sources} & {"orchard", "orchard-2"} == {"orchard-2"}


async def test_a_long_file_gets_a_progress_message_first(slack, fake, admin, monkeypatch):
    monkeypatch.setattr(files, "PROGRESS_BYTES", 100)
    path = await slack.add_transcript([fake.add_file("orchard.md", MARKDOWN.encode())])
    first, last = await answers(fake, path, 2)
    assert first["text"].startswith("Got “orchard.md” (") and "parsing" in first["text"]
    assert first["response_type"] == "ephemeral"
    assert said(last).startswith("Added “The Orchard Interview”")


async def test_members_cannot_add_transcripts_and_nothing_is_downloaded(slack, fake):
    text = await add(slack, fake)
    assert text.startswith(":warning: Only admins can add transcripts")
    assert downloads(fake) == []


async def test_a_message_without_a_file_is_told_so(slack, fake, admin):
    path = await slack.add_transcript([])
    (answer,) = await answers(fake, path)
    assert said(answer).startswith(":warning: That message has no file.")


@pytest.mark.parametrize(("name", "data", "size", "expected"), [
    ("slides.pdf", b"%PDF-1.4", None,
     "“slides.pdf” is not a file type quotebot reads as a transcript"),
    ("orchard.md", MARKDOWN.encode(), MAX_FILE_BYTES + 1, "“orchard.md” is too large: 64.0 MB"),
])
async def test_refused_before_downloading(slack, fake, admin, name, data, size, expected):
    path = await slack.add_transcript([fake.add_file(name, data, size=size)])
    (answer,) = await answers(fake, path)
    assert said(answer).startswith(f":warning: {expected}"), said(answer)
    assert downloads(fake) == []


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 40,
     "“photo.txt” was not added: photo.txt:3: looks like a binary file, not a transcript"),
    ("empty.md", b"", "“empty.md” was not added: file is empty"),
])
async def test_not_a_transcript(slack, fake, admin, services, name, data, expected):
    text = await add(slack, fake, name, data)
    assert text.startswith(f":warning: {expected}"), text
    assert "/tmp" not in text and "quotebot-upload" not in text
    scope = await services.library.scope_of("slack", TEAM)
    assert services.library.collection_counts(scope.own) == (0, 0)


async def test_download_failures_name_the_problem(slack, fake, admin):
    # A token without files:read gets Slack's sign-in page (200, HTML), not the file.
    fake.file_tokens.clear()
    text = await add(slack, fake)
    assert text.startswith(":warning: Could not download “orchard.md”: Slack sent a sign-in "
                           "page instead of the file: the app needs the files:read permission")
    # A file the payload says lives elsewhere: the bot token is not sent there.
    file = {**fake.add_file("orchard.md", MARKDOWN.encode()),
            "url_private_download": "http://files.example.invalid/orchard.md"}
    path = await slack.add_transcript([file])
    (answer,) = await answers(fake, path)
    assert said(answer).startswith(":warning: Could not download “orchard.md”: the file is "
                                   "not on Slack's file server")
    assert len(downloads(fake)) == 1  # only the first, to the fake's own host


# ---- export --------------------------------------------------------------------------------


def _without_times(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported_at"}


async def test_export_uploads_this_workspaces_library_and_it_imports_whole(
        slack, fake, admin, services, empty_file, tmp_path):
    await add(slack, fake)
    await add(slack, fake, "other.md", MARKDOWN.replace("Orchard", "Vineyard").encode(),
              team=OTHER_TEAM)
    told = await slack.command("export")
    assert told.data["response_type"] == "ephemeral"
    assert said(told.data).startswith("This library's own transcripts: 1 source, 3 quotes and")
    assert "is in this channel" in said(told.data)
    ((ask, sent, done),) = fake.uploads()
    assert ask.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert ask.data["filename"].startswith(f"quotebot-slack-{TEAM}-")
    assert int(ask.data["length"]) == len(sent.raw)
    assert done.data["channel_id"] == CHANNEL
    document = json.loads(sent.raw)
    assert [s["slug"] for s in document["sources"]] == ["orchard"]  # nothing of T0OTHER
    assert not any("Vineyard" in json.dumps(row) for row in document["sources"])
    scope = await services.library.scope_of("slack", TEAM)
    expected = await export_document(services.library.store, (scope.own,))
    assert _without_times(document) == _without_times(expected)
    folder = tmp_path / "fresh"
    folder.mkdir()
    fresh = await Database.open(copy_database(empty_file, folder))
    try:
        library = QuoteLibrary(fresh)
        report = await apply_import(library.store, parse_import(sent.raw, ask.data["filename"]))
        assert (report.sources, report.quotes) == (1, 3)
        assert _without_times(await export_document(library.store)) == \
            _without_times(document)
    finally:
        await fresh.close()


async def test_members_cannot_export(slack, fake):
    told = await slack.command("export")
    assert said(told.data).startswith(":warning: Only admins can export this library.")
    assert fake.uploads() == []


async def test_a_refused_upload_is_explained(slack, fake, admin):
    fake.fail_once("files.completeUploadExternal", status=200, error="not_in_channel")
    told = await slack.command("export")
    text = said(told.data)
    assert text.startswith(":warning: Could not upload quotebot-slack-") and "not_in_channel" \
        in text
    assert "/invite @quotebot" in text


async def test_ingest_typed_in_slack_says_how_to_attach(slack, fake, admin):
    told = await slack.command("ingest title:Orchard")
    assert "message shortcut “Add transcript”" in said(told.data)
    assert downloads(fake) == []
