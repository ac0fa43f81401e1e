"""The Share, Next match and Context buttons: their values carry the state, clicks replay it."""

from __future__ import annotations

import json
import re

import aiohttp

from quotebot.bot.library import QuoteLibrary
from quotebot.bot.registry import Services
from tests.adapters.slack.conftest import (
    CHANNEL,
    Driver,
    block_text,
    buttons,
    find_button,
    http_settings,
    start,
)
from tests.adapters.slack.fake_slack import BOT_TOKEN, Recorded


async def test_share_posts_the_quote_publicly_with_chat_post_message(slack, fake):
    message = await slack.command("secret sauce")
    path = await slack.click(message, "quote_share")
    posted = await fake.wait_for("chat.postMessage")
    data = posted.data
    assert posted.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert data["channel"] == CHANNEL
    assert "secret sauce" in block_text(data) and "Greg Brockman" in block_text(data)
    assert "secret sauce" in data["text"]
    assert buttons(data) == ["quote_context"]  # the core's actions on a public quote
    assert "link_names" not in data and data.get("parse") == "none"
    await fake.settle()
    assert fake.calls(path) == []  # the private reply is left as it was


async def test_card_uploads_the_picture_into_the_channel_with_alt_text(slack, fake):
    message = await slack.command("secret sauce")
    ids = buttons(message.data)
    assert ids.index("quote_card") == ids.index("quote_share") + 1  # beside Share
    path = await slack.click(message, "quote_card")
    await fake.wait_for("files.completeUploadExternal")
    ((ask, sent, done),) = fake.uploads()
    assert ask.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert re.fullmatch(r"quote-\d+\.png", ask.data["filename"])
    assert int(ask.data["length"]) == len(sent.raw) and sent.raw.startswith(b"\x89PNG\r\n")
    alt = ask.data["alt_txt"]
    assert alt.startswith("“") and "secret sauce" in alt and "” — Greg Brockman, " in alt
    assert done.data["channel_id"] == CHANNEL
    (uploaded,) = json.loads(done.data["files"])
    quote_id = ask.data["filename"].removeprefix("quote-").removesuffix(".png")
    assert uploaded["title"] == f"Quote #{quote_id} — Greg Brockman"
    await fake.settle()
    assert fake.calls("chat.postMessage") == [] and fake.calls(path) == []  # the card alone


async def test_a_card_slack_refuses_is_posted_as_words_saying_why(slack, fake):
    fake.fail_once("files.getUploadURLExternal", status=200, error="missing_scope")
    message = await slack.command("secret sauce")
    await slack.click(message, "quote_card")
    posted = (await fake.wait_for("chat.postMessage")).data
    assert posted["channel"] == CHANNEL and "secret sauce" in block_text(posted)
    assert "could not be uploaded" in block_text(posted)
    assert fake.uploads() == []


async def test_share_falls_back_to_an_in_channel_response(slack, fake):
    fake.fail_once("chat.postMessage", status=200, error="channel_not_found")
    message = await slack.command("secret sauce")
    path = await slack.click(message, "quote_share")
    data = (await fake.wait_for(path)).data
    assert data["response_type"] == "in_channel"
    assert data["replace_original"] is False
    assert "secret sauce" in block_text(data) and buttons(data) == ["quote_context"]


async def test_next_match_replaces_the_reply_with_the_following_match(slack, fake):
    first = await slack.command("was")
    assert "match 1" in block_text(first.data)
    assert "quote_next" in buttons(first.data)
    value = json.loads(find_button(first.data, "quote_next")["value"])
    assert value == {"c": "search", "a": {"query": "was", "offset": 1}}
    path = await slack.click(first, "quote_next")
    second = (await fake.wait_for(path)).data
    assert second["response_type"] == "ephemeral" and second["replace_original"] is True
    assert "match 2" in block_text(second)
    assert block_text(second).split("\n")[0] != block_text(first.data).split("\n")[0]
    assert "quote_next" not in buttons(second)  # that was the last match


async def test_match_n_of_m_counts_the_same_matches_on_every_page(slack, fake):
    first = await slack.command("was")
    assert "match 1 of 2" in block_text(first.data)
    second = (await fake.wait_for(await slack.click(first, "quote_next"))).data
    assert "match 2 of 2" in block_text(second)


async def test_next_match_keeps_the_filters(slack, fake):
    first = await slack.command("that by:ilya")
    path = await slack.click(first, "quote_next")
    second = (await fake.wait_for(path)).data
    assert "Ilya Sutskever" in block_text(second) and "match 2" in block_text(second)
    assert json.loads(find_button(first.data, "quote_next")["value"])["a"]["speaker"] == (
        "Ilya Sutskever")


async def test_context_answers_the_presser_alone_with_the_neighbours(slack, fake, library):
    message = await slack.command("secret sauce")
    path = await slack.click(message, "quote_context")
    data = (await fake.wait_for(path)).data
    # A new private message (the core's PRIVATE answer), as on Discord: on a public post
    # the quote stays where it is for everyone else.
    assert data["replace_original"] is False and data["response_type"] == "ephemeral"
    text = block_text(data)
    assert "*In context*" in text and "control your inputs" in text
    assert buttons(data) == ["quote_share", "quote_card"]


async def test_buttons_work_after_a_restart(slack, fake, db, registry):
    message = await slack.command("was")
    # A new process: fresh library over the same database, a new app and server.
    library = QuoteLibrary(db)
    await library.load()
    base, stop, task = await start(http_settings(fake), Services(library=library), registry)
    try:
        async with aiohttp.ClientSession() as session:
            restarted = Driver(base, fake, session)
            path = await restarted.click(message, "quote_next")
            assert "match 2" in block_text((await fake.wait_for(path)).data)
            await restarted.click(message, "quote_share")
            await fake.wait_for("chat.postMessage")
    finally:
        stop.set()
        await task


async def test_a_broken_button_value_is_a_private_hint(slack, fake):
    broken = {"blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "quote_next", "value": "not json",
         "text": {"type": "plain_text", "text": "Next match"}}]}]}
    message = Recorded("POST", "/x", {"Content-Type": "application/json"},
                       json.dumps(broken).encode())
    path = await slack.click(message, "quote_next")
    data = (await fake.wait_for(path)).data
    assert "no longer works" in block_text(data)
    assert data["response_type"] == "ephemeral" and data["replace_original"] is False


async def test_a_share_of_a_deleted_quote_is_a_private_error(slack, fake):
    gone = {"blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "quote_share",
         "value": json.dumps({"c": "show", "a": {"id": 424242, "context": 0}}),
         "text": {"type": "plain_text", "text": "Share"}}]}]}
    message = Recorded("POST", "/x", {"Content-Type": "application/json"},
                       json.dumps(gone).encode())
    path = await slack.click(message, "quote_share")
    data = (await fake.wait_for(path)).data
    assert "There is no quote #424242" in block_text(data)
    assert data["response_type"] == "ephemeral"
    assert fake.calls("chat.postMessage") == []
