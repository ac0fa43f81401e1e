"""The result buttons: Next match, Context, Share and Card, also after a restart."""

from __future__ import annotations

from quotebot.store.quotes import NewQuote
from tests.adapters.discord.conftest import (
    MALLORY,
    assert_no_pings,
    button,
    custom_ids,
    embed_of,
    ephemeral,
    running,
)
from tests.conftest import source

UNICORNS = "Unicorns 🦄 are what investors hunt for, and they are rare."


async def search(fake, query: str, **options):
    payload = await fake.send(fake.command("search", query=query, **options))
    body = await fake.callback(payload)
    return body, await fake.original(payload)


async def test_next_match_replaces_the_result(fake, bot):
    first, message = await search(fake, "cheap")
    first_id = embed_of(first)["footer"]["text"].split()[1]
    click = await fake.send(fake.click(message, button(first, "qb:next:")))
    body = await fake.callback(click)
    assert body["type"] == 7  # UPDATE_MESSAGE: the same ephemeral message, now match 2
    footer = embed_of(body)["footer"]["text"]
    assert "· match 2 of " in footer and footer.split()[1] != first_id
    assert not any(cid.startswith("qb:next:") for cid in custom_ids(body))  # that was the last
    assert body["data"]["allowed_mentions"] == {"parse": []}


async def test_match_n_of_m_counts_the_same_matches_on_every_page(fake, bot):
    first, message = await search(fake, "cheap")
    assert "· match 1 of 2" in embed_of(first)["footer"]["text"]  # not "of 10", then "of 11"
    click = await fake.send(fake.click(message, button(first, "qb:next:")))
    assert "· match 2 of 2" in embed_of(await fake.callback(click))["footer"]["text"]


def with_button(message, custom_id: str):
    """`message` as if it carried one button with `custom_id` (Discord sends only real ones)."""
    row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "Next match",
                                      "custom_id": custom_id}]}
    return {**message, "components": [row]}


async def test_next_after_the_last_match_says_so_privately(fake, bot):
    _, message = await search(fake, "cheap")
    stale = with_button(message, "qb:next:7:::cheap")
    body = await fake.callback(await fake.send(fake.click(stale, "qb:next:7:::cheap")))
    assert body["type"] == 4 and ephemeral(body)  # a new note; the result stays as it was
    assert "No more matches for “cheap”" in body["data"]["content"]


async def test_next_keeps_the_filters(fake, bot):
    first, message = await search(fake, "that", speaker="ilya", source="podcast")
    cid = button(first, "qb:next:")
    assert cid == "qb:next:1:Ilya Sutskever:podcast:that"
    body = await fake.callback(await fake.send(fake.click(message, cid)))
    assert embed_of(body)["fields"][0]["value"] == "Ilya Sutskever"
    assert "match 2 of 3" in embed_of(body)["footer"]["text"]


async def test_context_button_shows_the_neighbours_privately(fake, bot):
    first, message = await search(fake, "ideas are cheap")
    quote_id = button(first, "qb:ctx:").split(":")[2]
    body = await fake.callback(await fake.send(fake.click(message, f"qb:ctx:{quote_id}")))
    assert body["type"] == 4 and ephemeral(body)
    embed = embed_of(body)
    assert embed["title"] == "In context" and embed["footer"]["text"] == f"Quote #{quote_id}"
    assert "▶" in embed["description"] and "scaling sucked out all the air" in \
        embed["description"]
    assert custom_ids(body) == [f"qb:share:{quote_id}", f"qb:card:{quote_id}"]


async def test_share_posts_the_quote_for_everyone(fake, bot):
    first, message = await search(fake, "ideas are cheap")
    share = button(first, "qb:share:")
    body = await fake.callback(await fake.send(fake.click(message, share)))
    assert body["type"] == 4 and not ephemeral(body)  # public, in the channel
    assert embed_of(body)["description"] == embed_of(first)["description"]
    assert custom_ids(body) == [share.replace("share", "ctx")]  # no Share on a public post
    assert_no_pings(fake)


async def test_card_posts_the_picture_for_everyone_with_alt_text(fake, bot):
    first, message = await search(fake, "ideas are cheap")
    card = button(first, "qb:card:")
    assert card == button(first, "qb:share:").replace("share", "card")  # beside Share
    payload = await fake.send(fake.click(message, card))
    body = await fake.callback(payload)
    call = fake.find_calls("POST", f"/interactions/{payload['id']}/")[-1]
    assert body["type"] == 4 and not ephemeral(body)  # public, in the channel
    (upload,) = call.files  # sent as multipart: the PNG itself
    quote_id = card.split(":")[2]
    assert upload.filename == f"quote-{quote_id}.png"
    assert upload.data.startswith(b"\x89PNG\r\n\x1a\n")
    (attachment,) = body["data"]["attachments"]
    assert attachment["filename"] == upload.filename
    alt = attachment["description"]
    assert alt.startswith("“") and "ideas are cheap, execution is everything.”" in alt
    assert alt.endswith("— Ilya Sutskever, Ilya Sutskever on the Dwarkesh Podcast · 1:25")
    embed = embed_of(body)
    assert embed["image"]["url"] == f"attachment://{upload.filename}"  # the card in the embed
    assert embed["description"] == embed_of(first)["description"]
    assert custom_ids(body) == [card.replace("card", "ctx")]  # no Share/Card on a public post
    message = await fake.original(payload)
    assert message["attachments"][0]["description"] == alt
    assert_no_pings(fake)


async def test_card_of_a_quote_the_fonts_cannot_draw_posts_the_words_and_says_why(
        fake, bot, library):
    await library.store.replace_source(source("zoo", "Zoo talk"), [MALLORY],
                                       [NewQuote(MALLORY.name, UNICORNS, 1.0, 0, 0.9)])
    await library.store.refresh_terms()
    await library.load()
    payload = await fake.send(fake.command("search", query="unicorns"))
    first = await fake.callback(payload)
    click = await fake.send(fake.click(await fake.original(payload),
                                       button(first, "qb:card:")))
    body = await fake.callback(click)
    call = fake.find_calls("POST", f"/interactions/{click['id']}/")[-1]
    assert body["type"] == 4 and not ephemeral(body) and not call.files
    assert "No card for this quote: the card's fonts cannot draw 🦄" in body["data"]["content"]
    assert "🦄" in embed_of(body)["description"]  # the words, as text


async def test_share_of_a_deleted_quote_is_a_private_error(fake, bot):
    _, message = await search(fake, "ideas are cheap")
    stale = with_button(message, "qb:share:99999")
    body = await fake.callback(await fake.send(fake.click(stale, "qb:share:99999")))
    assert body["type"] == 4 and ephemeral(body)
    assert "There is no quote #99999." in body["data"]["content"]


async def test_buttons_work_after_a_restart(fake, services, registry):
    async with running(fake, services, registry):
        first, message = await search(fake, "cheap")
    # A new process: nothing in memory about that message, only its custom ids.
    async with running(fake, services, registry):
        nxt = await fake.callback(await fake.send(fake.click(message,
                                                             button(first, "qb:next:"))))
        ctx = await fake.callback(await fake.send(fake.click(message,
                                                             button(first, "qb:ctx:"))))
        share = await fake.callback(await fake.send(fake.click(message,
                                                               button(first, "qb:share:"))))
        card = await fake.callback(await fake.send(fake.click(message,
                                                              button(first, "qb:card:"))))
    assert card["type"] == 4 and embed_of(card)["image"]["url"].startswith("attachment://")
    assert nxt["type"] == 7 and "match 2" in embed_of(nxt)["footer"]["text"]
    assert ctx["type"] == 4 and embed_of(ctx)["title"] == "In context"
    assert share["type"] == 4 and not ephemeral(share)
