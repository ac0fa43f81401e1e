"""The commands through the registry, as every adapter calls them (console as the driver)."""

from __future__ import annotations

import pytest

from quotebot.adapters.console import Console
from quotebot.adapters.text import render_text
from quotebot.bot.models import (
    ChannelRef,
    ErrorReply,
    HelpReply,
    ListReply,
    QuoteReply,
    Request,
    SearchState,
    UserRef,
)

pytestmark = pytest.mark.both_engines(postgresql="slow")

async def run(registry, services, line):
    return await Console(registry, services).run(line)


async def test_search_returns_the_quote_with_attribution(registry, services):
    reply = await run(registry, services, "/quote execusion is everything")
    assert isinstance(reply, QuoteReply)
    assert reply.quote.speaker == "Ilya Sutskever"
    assert reply.quote.start == 85.0
    text = render_text(reply)
    assert "Ilya Sutskever" in text and "1:25" in text and f"#{reply.quote.id}" in text


async def test_next_match_walks_the_results(registry, services):
    first = await registry.dispatch(Request("search", {"query": "that"}), services)
    assert isinstance(first, QuoteReply) and first.search.offset == 0
    assert first.search.total > 1
    second = await registry.dispatch(
        Request("search", {"query": "that", "offset": 1}), services)
    assert isinstance(second, QuoteReply) and second.quote.id != first.quote.id
    last = await registry.dispatch(
        Request("search", {"query": "that", "offset": first.search.total}), services)
    assert isinstance(last, ErrorReply) and "No more" in last.message


async def test_every_page_counts_the_same_total_and_the_core_decides_the_buttons(
        registry, services):
    pages = []
    offset = 0
    while True:
        reply = await registry.dispatch(Request("search", {"query": "that", "offset": offset}),
                                        services)
        if isinstance(reply, ErrorReply):
            break
        pages.append(reply)
        kinds = [a.kind for a in reply.actions]
        assert ("next" in kinds) == reply.has_more
        if reply.has_more:
            (nxt,) = [a for a in reply.actions if a.kind == "next"]
            assert nxt.answer == "replace" and nxt.request.args["offset"] == offset + 1
        offset += 1
    totals = {page.search.total for page in pages}
    assert totals == {len(pages)} and len(pages) > 1
    assert [page.search.position for page in pages] == list(range(1, len(pages) + 1))
    assert "(1 more match)" in render_text(pages[-2]) and "more match" not in render_text(
        pages[-1])


def test_search_state_labels_each_match_shown_and_counts_what_follows():
    state = SearchState("compute", None, None, offset=2, total=7)  # quotes 3.. of 7 shown
    assert [state.match_label(i) for i in range(3)] == [
        "match 3 of 7", "match 4 of 7", "match 5 of 7"]
    assert state.remaining(3) == 2 and state.has_more(3)
    assert state.remaining(5) == 0 and not state.has_more(5)
    assert state.remaining(9) == 0  # never negative when a page was cut short


async def test_share_asks_for_the_quote_in_public_without_a_share_button(registry, services):
    found = await registry.dispatch(Request("search", {"query": "secret sauce"}), services)
    (share,) = [a for a in found.actions if a.kind == "share"]
    assert share.answer == "public"
    shared = await registry.dispatch(share.request, services)
    assert shared.public and shared.quote.id == found.quote.id
    assert [a.kind for a in shared.actions] == ["context"]


async def test_card_asks_for_the_quote_in_public_as_a_picture(registry, services):
    found = await registry.dispatch(Request("search", {"query": "secret sauce"}), services)
    kinds = [a.kind for a in found.actions]
    assert kinds.index("card") == kinds.index("share") + 1  # beside Share
    (card,) = [a for a in found.actions if a.kind == "card"]
    assert card.answer == "public" and card.label == "Card"
    carded = await registry.dispatch(card.request, services)
    assert carded.public and carded.quote.id == found.quote.id and carded.note is None
    assert carded.card.png.startswith(b"\x89PNG") and carded.card.filename.endswith(".png")
    assert carded.card.alt_text.startswith(f"“{carded.quote.text}”")
    assert [a.kind for a in carded.actions] == ["context"]


async def test_card_setting_is_for_admins_and_reported(registry, services):
    channel = ChannelRef("slack", "T1", "C1")
    member = UserRef("slack", "U1", "member")
    admin = UserRef("slack", "U2", "admin", is_admin=True)

    async def settings(args, user):
        return await registry.dispatch(Request("settings", args, user, channel), services)

    assert "(card:off)" in (await settings({}, member)).text
    assert "Only admins" in (await settings({"card": "on"}, member)).message
    assert "card is on or off" in (await settings({"card": "maybe"}, admin)).message
    assert "quote card" in (await settings({"card": "ON"}, admin)).text
    assert await services.library.card_for(channel)
    assert "(card:on)" in (await settings({}, member)).text
    assert "(style:clean)" in (await settings({}, member)).text  # the style is untouched
    both = await settings({"card": "off", "style": "exact"}, admin)
    assert "exact words" in both.text and "text only" in both.text
    assert not await services.library.card_for(channel)
    assert await services.library.style_for(channel) == "exact"


async def test_quote_reference_returns_exactly_that_quote(registry, services, library):
    quote = (await library.search("secret sauce"))[0]
    reply = await registry.dispatch(Request("search", {"query": f"#{quote.id}"}), services)
    assert reply.quote.id == quote.id


async def test_unknown_speaker_suggests_near_names(registry, services):
    reply = await run(registry, services, "/quote compute by:sutskevar")
    # A close misspelling resolves; a far one is an error with suggestions.
    assert isinstance(reply, QuoteReply) and reply.quote.speaker == "Ilya Sutskever"
    reply = await run(registry, services, "/quote compute by:zebra")
    assert isinstance(reply, ErrorReply)
    assert "zebra" in reply.message


async def test_random_skips_filler_and_respects_the_speaker(registry, services):
    for _ in range(30):
        reply = await run(registry, services, "/quote random by:greg")
        assert reply.quote.speaker == "Greg Brockman"
        assert reply.quote.text != "Hey."


async def test_random_does_not_repeat_immediately(registry, services):
    seen = [(await run(registry, services, "/quote random by:ilya")).quote.id for _ in range(12)]
    assert all(a != b for a, b in zip(seen, seen[1:], strict=False))


async def test_show_with_context(registry, services, library):
    quote = (await library.search("air in the room"))[0]
    reply = await run(registry, services, f"/quote show {quote.id} 1")
    assert isinstance(reply, QuoteReply)
    assert [q.position for q in reply.context] == [0, 1, 2]


async def test_show_unknown_and_malformed_ids(registry, services):
    assert isinstance(await run(registry, services, "/quote show 99999"), ErrorReply)
    reply = await run(registry, services, "/quote show abc")
    assert isinstance(reply, ErrorReply) and "whole number" in reply.message


async def test_empty_and_overlong_queries_get_clear_errors(registry, services):
    reply = await registry.dispatch(Request("search", {"query": "   "}), services)
    assert isinstance(reply, ErrorReply)
    reply = await registry.dispatch(Request("search", {"query": "word " * 500}), services)
    assert isinstance(reply, ErrorReply) and "limit" in reply.message


async def test_help_is_generated_from_the_registry(registry, services):
    reply = await run(registry, services, "/quote help")
    assert isinstance(reply, HelpReply)
    usages = [e.usage for e in reply.entries]
    assert usages == [c.usage() for c in registry]
    assert [e.command for e in reply.entries] == [c.name for c in registry]
    assert "/quote random [by:<speaker>] [in:<source>]" in usages


async def test_lists(registry, services):
    speakers = await run(registry, services, "/quote speakers")
    assert isinstance(speakers, ListReply)
    assert any(item.startswith("Ilya Sutskever") for item in speakers.items)
    sources = await run(registry, services, "/quote sources")
    assert any("[podcast]" in item for item in sources.items)


async def test_a_failing_handler_becomes_a_friendly_error(registry, services, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services.library, "search_page", broken)
    reply = await registry.dispatch(Request("search", {"query": "ideas"}), services)
    assert isinstance(reply, ErrorReply) and "went wrong" in reply.message


async def test_huge_filter_values_are_refused_without_being_echoed(registry, services):
    from quotebot.bot.commands import FILTER_MAX

    huge = "ilya " * 200_000  # 1 MB: fuzzy-matched on the event loop it took 14 s
    for request in (Request("search", {"query": "ideas", "speaker": huge}),
                    Request("search", {"query": "ideas", "source": huge}),
                    Request("random", {"speaker": huge}),
                    Request("random", {"source": "x" * (FILTER_MAX + 1)})):
        reply = await registry.dispatch(request, services)
        assert isinstance(reply, ErrorReply), reply
        assert "characters long" in reply.message and len(reply.message) < 200
    # At the limit a name still resolves as before.
    padded = "Ilya Sutskever".ljust(FILTER_MAX)
    reply = await registry.dispatch(Request("random", {"speaker": padded.strip()}), services)
    assert isinstance(reply, QuoteReply) and reply.quote.speaker == "Ilya Sutskever"


async def test_autocomplete_ignores_a_huge_filter_instead_of_matching_it(registry, services):
    from quotebot.bot.commands import FILTER_MAX

    huge = "ilya " * 200_000
    search = registry.get("search")
    complete = {o.name: o.complete for o in search.options}
    request = Request("search", {"query": "ideas are", "speaker": huge})
    choices = await complete["query"](services, "ideas are", request)
    assert choices  # suggestions still come, unfiltered
    # Only the first FILTER_MAX characters of a typed name are matched.
    assert await complete["speaker"](services, huge, request) == \
        await complete["speaker"](services, huge[:FILTER_MAX], request)


async def test_fuzzy_name_matching_leaves_the_event_loop_free(registry, services, monkeypatch):
    """A filter is matched in a worker thread: on the event loop a slow match (a 1 MB `by:`
    took 14 s) stalled every other request of the bot."""
    import asyncio
    import threading

    loop_ran = threading.Event()
    real = {name: getattr(services.library, name)
            for name in ("resolve_speaker", "resolve_source", "speaker_choices")}

    def slow(name):
        def resolve(value, scope=None):
            # Returns once the loop has run another callback: never, if this blocks the loop.
            resolve.free = loop_ran.wait(timeout=5)
            return real[name](value, scope=scope)
        return resolve

    for name in real:
        monkeypatch.setattr(services.library, name, slow(name))
    search = {o.name: o.complete for o in registry.get("search").options}
    for call in (
        lambda: registry.dispatch(Request("random", {"speaker": "ilya"}), services),
        lambda: registry.dispatch(Request("search", {"query": "the", "source": "stage"}),
                                  services),
        lambda: search["speaker"](services, "ily", Request("search", {"query": "x"})),
    ):
        loop_ran.clear()
        asyncio.get_running_loop().call_soon(loop_ran.set)
        result = await call()
        assert not isinstance(result, ErrorReply) and result, result
    for name in real:
        assert getattr(services.library, name).free, f"{name} ran on the event loop"
