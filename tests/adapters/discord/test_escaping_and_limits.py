"""Every masked link and markdown construct inert, and every message within Discord's limits."""

from __future__ import annotations

from quotebot.adapters.discord.poster import DiscordPoster
from quotebot.adapters.discord.render import (
    DESCRIPTION_KEEP,
    EMBED_TOTAL_MAX,
    FIELD_KEEP,
    escape,
    render,
)
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import (
    ChannelRef,
    ErrorReply,
    HelpEntry,
    HelpReply,
    Hint,
    ListReply,
    Quote,
    QuoteReply,
    Request,
    TextReply,
)
from quotebot.store.quotes import NewQuote, SpeakerInfo
from tests.adapters.discord.conftest import (
    assert_no_pings,
    button,
    embed_of,
    live_links,
    message_texts,
    running,
    shown,
)
from tests.adapters.discord.fake_discord import GUILD_ID, QUOTES_ID
from tests.conftest import source

EVIL = "[https://discord.com](https://evil.example)"
# escape_markdown's greedy `\[.+\]\(.+\)` swallows the first link and leaves the second live.
TWO_LINKS = f"Read [the docs](https://docs.example) first, then {EVIL} for the prize."
PHISHER = SpeakerInfo(f"Support {EVIL}", None, ("Support",))


def _quote(text: str = TWO_LINKS, speaker: str | None = PHISHER.name,
           source_title: str = f"Giveaway {EVIL}") -> Quote:
    return Quote(11, text, speaker, source_title, "giveaway", 12.0, 0, 0.9)


def _texts(out) -> list[str]:
    return message_texts({"content": out.content,
                          "embeds": [out.embed.to_dict()] if out.embed else []})


# ---- escaping --------------------------------------------------------------------------------


def test_escape_neutralises_every_construct_and_shows_the_text_unchanged():
    text = (f"{TWO_LINKS} *a* **b** _c_ __d__ ~~e~~ ||f|| `g` ```h``` \\[i](j)\n"
            "> quote\n>>> all\n# head\n-# small\n- item\n+ item\n1. first\n"
            "</quote help:1> <@123> @everyone")
    escaped = escape(text)
    assert shown(escaped) == text  # Discord drops each escaping backslash
    assert live_links(escaped) == []
    for line in escaped.splitlines():
        assert not line.startswith((">", "#", "-", "+", "1.")), line
    assert "<@123> @everyone" in escaped  # mentions stay as written; nothing may ping
    assert "\\</quote" in escaped


def test_a_later_masked_link_in_a_quote_is_not_live():
    for reply in (QuoteReply((_quote(),)), QuoteReply((_quote(),), context=(_quote(),))):
        texts = _texts(render(reply))
        assert not any(live_links(t) for t in texts), texts
        assert any(TWO_LINKS in shown(t) for t in texts)


def test_lists_help_errors_titles_and_notes_are_escaped(registry):
    replies = [
        ListReply(f"Speakers {EVIL}", (f"Support {EVIL}", f"**x** {EVIL}")),
        HelpReply(f"Help {EVIL}", (HelpEntry(f"x {EVIL}", f"/quote x {EVIL}", f"does {EVIL}"),)
                  * 30),
        ErrorReply(f"No speaker called “{EVIL}”.",
                   (f"Try {EVIL}", Hint(request=Request("search", {"query": "x",
                                                                   "speaker": EVIL})))),
        TextReply(f"Done {EVIL}"),
        QuoteReply((_quote(),), note=f"Showing {EVIL}"),
    ]
    for reply in replies:
        out = render(reply, registry=registry)
        texts = _texts(out)
        assert not any(live_links(t) for t in texts), (reply, texts)
        assert out.send_kwargs()["allowed_mentions"].to_dict() == {"parse": []}


async def _add_phisher(library: QuoteLibrary) -> None:
    await library.store.replace_source(
        source("giveaway", f"Giveaway {EVIL}"), [PHISHER],
        [NewQuote(PHISHER.name, TWO_LINKS, 12.0, 0, 0.9)])
    await library.store.refresh_terms()
    await library.load()


async def test_share_lists_and_daily_posts_show_no_live_link(fake, services, registry):
    await _add_phisher(services.library)
    async with running(fake, services, registry) as bot:
        found = await fake.callback(await fake.send(fake.command("search", query="prize")))
        message = await fake.original(await fake.send(fake.command("search", query="prize")))
        shared = await fake.callback(await fake.send(
            fake.click(message, button(found, "qb:share:"))))
        speakers = await fake.callback(await fake.send(fake.command("speakers")))
        sources = await fake.callback(await fake.send(fake.command("sources list")))
        assert f"Support {EVIL}" in shown(embed_of(speakers)["description"])
        assert f"Giveaway {EVIL}" in shown(embed_of(sources)["description"])
        shared_quote = int(embed_of(shared)["footer"]["text"].split("#")[1])
        reply = QuoteReply((await services.library.get(shared_quote),), public=True)
        await DiscordPoster(bot).post(ChannelRef("discord", str(GUILD_ID), str(QUOTES_ID)),
                                      reply, idempotency_key="qb-1-2024-10-25")
    assert TWO_LINKS in shown(embed_of(shared)["description"])
    bodies = fake.sent_messages()
    assert len(fake.channel_posts(QUOTES_ID)) == 1
    for body in bodies:
        for text in message_texts(body):
            assert not live_links(text), text
    assert_no_pings(fake)


# ---- limits of the message as a whole --------------------------------------------------------


def test_a_long_quote_with_long_names_fits_the_embed_total():
    big = _quote("word " * 1000 + "end", "S" * 1500 + " speaker", "T" * 1500 + " source")
    embed = render(QuoteReply((big,))).embed
    assert len(embed) <= EMBED_TOTAL_MAX
    description, speaker, source_field = (embed.description, embed.fields[0].value,
                                          embed.fields[1].value)
    assert len(description) >= DESCRIPTION_KEEP and description.endswith("…")
    assert speaker.startswith("SSSS") and len(speaker) >= FIELD_KEEP  # readable
    # the source as an attribution names it: its label, clipped at a word
    assert source_field.startswith("TTTT") and len(source_field) >= len(big.source_label) - 5
    assert embed.footer.text == "Quote #11"


def test_help_with_many_long_entries_fits():
    reply = HelpReply("H" * 300, tuple(HelpEntry(f"cmd{i}", f"/quote cmd{i} " + "u" * 300,
                                                 "d" * 2000) for i in range(40)))
    embed = render(reply).embed
    assert len(embed) <= EMBED_TOTAL_MAX and len(embed.fields) <= 25
    assert len(embed.title) <= 256


async def test_a_daily_post_of_a_huge_quote_is_sent(fake, services, registry):
    speaker = SpeakerInfo("Professor " + "Longname " * 120, None, ("Professor",))
    await services.library.store.replace_source(
        source("lecture", "A lecture " + "with a very long title " * 50), [speaker],
        [NewQuote(speaker.name, "It goes on " + "and on " * 700, 1.0, 0, 0.9)])
    await services.library.load()
    quote = next(q for q in [await services.library.get(i) for i in range(1, 200)]
                 if q is not None and q.text.startswith("It goes on"))
    async with running(fake, services, registry) as bot:
        await DiscordPoster(bot).post(ChannelRef("discord", str(GUILD_ID), str(QUOTES_ID)),
                                      QuoteReply((quote,), public=True),
                                      idempotency_key="qb-7-2024-10-25")
    assert fake.oversized == []
    (post,) = fake.channel_posts(QUOTES_ID)
    embed = embed_of(post.json)
    assert "Professor Longname" in embed["fields"][0]["value"]
    assert "A lecture with a very long title" in embed["fields"][1]["value"]


def test_a_message_cut_inside_a_code_span_leaves_no_live_link(registry):
    # Suggestions are shown as code spans, whose contents are raw: cut inside one, the rest
    # would render as markdown.
    hint = Hint(request=Request("search", {"query": f"{'padding ' * 20}{EVIL}",
                                           "speaker": "ilya"}))
    for size in range(1500, 2100, 7):
        reply = ErrorReply("x" * size, (hint,) * 3)
        content = render(reply, registry=registry).content
        assert len(content) <= 2000 and not live_links(content), content[-300:]
