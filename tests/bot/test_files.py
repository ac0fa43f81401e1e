"""`/quote ingest` and `/quote export` in the core: names, limits, slugs and what each
platform without files is told (the Discord and Slack paths: tests/adapters/*/test_files.py)."""

from __future__ import annotations

import pytest

from quotebot.adapters.console import Console
from quotebot.adapters.text import render_text
from quotebot.bot import files
from quotebot.bot.files import upload_name
from quotebot.bot.models import (
    Attachment,
    ChannelRef,
    ErrorReply,
    FetchFailed,
    FileReply,
    Request,
    TextReply,
    UserRef,
)
from quotebot.bot.registry import Services

pytestmark = pytest.mark.both_engines(postgresql="slow")

GUILD = ChannelRef("discord", "G1", "C1")
ADMIN = UserRef("discord", "U1", "ada", is_admin=True)
TALK = b"**Ann:** The tide tables were printed wrong for a whole summer, and nobody sailed.\n"


def attached(data: bytes = TALK, name: str = "tide.md", size: int | None = None,
             fail: str | None = None) -> Attachment:
    async def fetch(limit: int) -> bytes:
        if fail:
            raise FetchFailed(fail)
        return data[: limit + 1]  # as a capped download: one byte over says "too large"

    return Attachment(name, len(data) if size is None else size, fetch)


async def ingest(registry, services, file: Attachment | None, channel: ChannelRef = GUILD,
                 **args):
    given = {"file": file, **args} if file else args
    return await registry.dispatch(Request("ingest", given, ADMIN, channel), services)


@pytest.mark.parametrize(("given", "expected"), [
    ("../../etc/passwd.srt", "passwd.srt"),
    ("C:\\Users\\me\\talk.vtt", "talk.vtt"),
    ("..hidden.md", "hidden.md"),
    ("bad\x00name\n.txt", "badname.txt"),
    ("", "transcript.txt"),
    ("...", "transcript.txt"),
    ("x" * 300 + ".srt", "x" * 116 + ".srt"),
])
def test_upload_names_are_plain_file_names(given, expected):
    assert upload_name(given) == expected


async def test_a_file_larger_than_reported_is_refused(registry, services, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 20)
    reply = await ingest(registry, services, attached(size=10))
    assert isinstance(reply, ErrorReply)
    assert reply.message == "“tide.md” is too large: over 20 bytes."


async def test_a_failed_download_adds_nothing(registry, services):
    reply = await ingest(registry, services, attached(fail="the file server answered 500"))
    assert reply.message.startswith("Could not download “tide.md”: the file server answered "
                                    "500. Nothing was added")


async def test_a_title_longer_than_a_title_is_refused(registry, services):
    reply = await ingest(registry, services, attached(), title="t" * 301)
    assert reply.message == "That title is 301 characters long; the limit is 300."


async def test_a_slug_held_by_a_shared_collection_is_not_taken_over(registry, services):
    shared = await services.library.writer(collection="podcasts")
    await shared.replace_source(
        *_source("tide", "The Shared Tide"))
    reply = await ingest(registry, services, attached())
    assert isinstance(reply, TextReply), reply
    assert str(reply.text).startswith("Added “Tide” [tide-2] in this library: 1 quote")
    podcasts = await services.library.libraries.collection("podcasts")
    assert [s.title for s in services.library.sources if s.slug == "tide"] == \
        ["The Shared Tide"]
    assert [s.collection_id for s in services.library.sources if s.slug == "tide"] == \
        [podcasts.id]


def _source(slug: str, title: str):
    from quotebot.store.quotes import NewQuote, NewSource, SpeakerInfo
    ann = SpeakerInfo("Ann", None, ())
    return (NewSource(slug, title, None, None, None, None, "t", f"h-{slug}", {}), [ann],
            [NewQuote("Ann", "Shared words about the tide and the moon.", None, 0, 0.9)])


async def test_without_an_attachment_the_user_is_told_how(registry, services):
    # Slack and the console have no file option: the registry lets the request through
    # (the option is Discord's to require) and the handler says how to send one.
    reply = await ingest(registry, services, None, ChannelRef("slack", "T1", "C1"))
    assert "message shortcut “Add transcript”" in reply.message


async def test_the_console_names_an_export_it_cannot_show(registry, services: Services):
    reply = await Console(registry, services).run("export")
    assert isinstance(reply, FileReply) and reply.filename.startswith("quotebot-local-")
    text = render_text(reply)
    assert text.startswith("This library's own transcripts: ")
    assert f"(The file {reply.filename}, {len(reply.data):,} bytes, is not shown here" in text


async def test_a_slug_with_no_free_variant_is_refused_without_naming_the_holder(
        registry, services, monkeypatch):
    monkeypatch.setattr(files, "SLUG_TRIES", 1)  # no tide-2, tide-3 … to fall back on
    other = await services.library.writer(library=("discord", "G2"))
    await other.replace_source(*_source("tide", "Another server's tide"))
    reply = await ingest(registry, services, attached())
    assert isinstance(reply, ErrorReply)
    assert reply.message.startswith("“tide.md” was not added: source 'tide' is taken in this "
                                    "bot; give the file another name")
    assert "G2" not in reply.message
