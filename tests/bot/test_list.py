"""`/quote list` and `/quote sources remove` through the registry: pages, hidden quotes,
libraries kept apart, and a removal that takes highlights and decks with it, audited."""

from __future__ import annotations

import pytest

from quotebot.adapters.console import Console
from quotebot.adapters.text import render_text
from quotebot.bot.models import ChannelRef, ErrorReply, ListReply, Request, UserRef
from quotebot.store.curate import CurateStore
from quotebot.store.quotes import NewHighlight, NewQuote, SpeakerInfo
from tests.conftest import source

pytestmark = pytest.mark.both_engines(postgresql="slow")
ANA = SpeakerInfo("Ana Lovelace", None, ("Ana",))
GUILD = ChannelRef("discord", "G1", "C1")
OTHER = ChannelRef("discord", "G2", "C2")
ADMIN = UserRef("discord", "U1", "admin", is_admin=True)
MEMBER = UserRef("discord", "U2", "member")


async def run(registry, services, line):
    return await Console(registry, services).run(line)


async def own_source(library, where: ChannelRef | None, slug: str, count: int) -> None:
    """`count` quotes in the own collection of `where`'s library (None: the operator's)."""
    store = await library.writer(library=None if where is None else
                                 (where.platform, where.workspace))
    lines = [f"Line {i} of {slug}: a sentence worth keeping for later." for i in range(count)]
    await store.replace_source(
        source(slug, slug.title()), [ANA],
        [NewQuote(ANA.name, text, None, i, 0.9) for i, text in enumerate(lines)],
        [NewHighlight(ANA.name, i, i, text, None, 0.9) for i, text in enumerate(lines)])
    await library.store.refresh_terms()
    await library.reload()


async def test_pages_of_ten_with_the_page_option_and_past_the_end(registry, services,
                                                                   library):
    await own_source(library, None, "talk", 13)
    first = await run(registry, services, "/quote list")
    assert isinstance(first, ListReply) and first.title == "Recent quotes — page 1 of 3"
    assert len(first.items) == 10 and first.paging.previous is None
    assert first.paging.next == Request("list", {"page": 2})
    assert "(more: the same with page:2)" in render_text(first)
    second = await run(registry, services, "/quote list page:2")
    assert second.title == "Recent quotes — page 2 of 3"
    assert [i.split("“")[1][:7] for i in second.items[:2]] == ["Line 10", "Line 11"]
    assert not set(second.items) & set(first.items)
    last = await run(registry, services, "/quote list in:talk page:9")
    assert isinstance(last, ErrorReply)
    assert last.message == "There is no page 9: the list has 2 pages."
    assert last.suggestions[0].spelled == "/quote list in:talk page:2"


async def test_a_line_is_id_clipped_clean_words_speaker_and_source(registry, services,
                                                                  library):
    reply = await run(registry, services, "/quote list in:podcast")
    ids = [q.id for q in await library.search("silicon valley ideas cheap", limit=1)]
    line = next(i for i in reply.items if i.startswith(f"#{ids[0]} "))
    # Clean (no "So,"), cut at a word with an ellipsis, then who and where.
    assert line == (f"#{ids[0]} “Actually, on that, there is the Silicon Valley saying that "
                    "says that ideas are cheap…” — Ilya Sutskever, Ilya Sutskever on the "
                    "Dwarkesh Podcast")
    scaling = next(i for i in reply.items if "scaling sucked" in i)
    assert "“One consequence" in scaling  # the clean form: "So," dropped


async def test_hidden_quotes_are_listed_and_marked(registry, services, library):
    qid = (await library.search("ideas are cheap", limit=1))[0].id
    await run(registry, services, f"/quote hide {qid}")
    reply = await run(registry, services, "/quote list by:ilya")
    assert len(reply.items) == 3
    (marked,) = [i for i in reply.items if "(hidden)" in i]
    assert marked.startswith(f"#{qid} (hidden) “")


async def test_a_library_lists_its_own_and_enabled_collections_only(registry, services,
                                                                   library):
    await own_source(library, GUILD, "mine", 2)
    await own_source(library, OTHER, "theirs", 2)
    mine = await registry.dispatch(Request("list", {}, MEMBER, GUILD), services)
    assert any("mine" in i for i in mine.items) and not any("theirs" in i for i in mine.items)
    theirs = await registry.dispatch(Request("list", {}, MEMBER, OTHER), services)
    assert any("theirs" in i for i in theirs.items)
    secret = await CurateStore(library.db).source("theirs")
    forged = await registry.dispatch(
        Request("list", {"source_id": secret.id}, MEMBER, GUILD), services)
    assert isinstance(forged, ErrorReply)


async def test_sources_remove_takes_highlights_and_decks_and_is_audited(registry, services,
                                                                       library, db):
    await own_source(library, GUILD, "mine", 4)
    found = await CurateStore(db).source("mine")
    assert await db.scalar("SELECT count(*) FROM highlights WHERE source_id = ?",
                           (found.id,)) > 0
    drawn = await registry.dispatch(Request("random", {"source": "mine"}, MEMBER, GUILD),
                                    services)
    assert drawn.quote.source_slug == "mine"
    assert await db.scalar("SELECT count(*) FROM decks") == 1

    refused = await registry.dispatch(
        Request("sources remove", {"slug": "mine"}, MEMBER, GUILD), services)
    assert refused.message == "Only admins can remove sources."
    elsewhere = await registry.dispatch(
        Request("sources remove", {"slug": "mine"}, ADMIN, OTHER), services)
    assert elsewhere.message == "There is no source “mine” in this library."
    assert await CurateStore(db).audit() == []

    done = await registry.dispatch(
        Request("sources remove", {"slug": "mine"}, ADMIN, GUILD), services)
    assert done.text.startswith("Removed Mine [mine] and its 4 quotes.")
    for table in ("quotes", "highlights"):
        assert await db.scalar(f"SELECT count(*) FROM {table} WHERE source_id = ?",
                               (found.id,)) == 0
    assert await db.scalar("SELECT count(*) FROM decks") == 0
    assert not any(s.slug == "mine" for s in (await library.scope(GUILD)).sources)
    (entry,) = await CurateStore(db).audit()
    assert (entry.action, entry.target_kind, entry.actor_id) == ("remove", "source", "U1")
    assert entry.before == {"id": found.id, "slug": "mine", "title": "Mine", "quotes": 4}
    gone = await CurateStore(db).audit(collection_id=(await library.scope(GUILD)).own)
    assert gone == [entry]


async def test_a_shared_or_operator_source_is_not_a_servers_to_remove(registry, services,
                                                                     library):
    # The operator's library (`local`, shared with servers in these tests) and `bundled`.
    store = await library.writer(collection="bundled")
    await store.replace_source(source("kit", "Kit"), [ANA],
                               [NewQuote(ANA.name, "Shipped with the bot.", None, 0, 0.9)])
    await library.reload()
    shared = await registry.dispatch(
        Request("sources remove", {"slug": "kit"}, ADMIN, GUILD), services)
    assert "belongs to the shared collection bundled" in shared.message
    assert shared.suggestions[0].spelled == "/quote library disable bundled"
    operator = await registry.dispatch(
        Request("sources remove", {"slug": "podcast"}, ADMIN, GUILD), services)
    assert "bot operator's library (local)" in operator.message
    # The operator's own terminal removes what it sees, as `quotebot sources remove` does.
    done = await run(registry, services, "/quote sources remove podcast")
    assert done.text.startswith("Removed Ilya Sutskever on the Dwarkesh Podcast [podcast]")


async def test_a_removal_by_the_cli_is_seen_by_a_running_bot(library):
    """The shared delete bumps the quotes generation: a bot's reload drops the source
    (`quotebot sources remove` used to leave it listed until the next ingest)."""
    [found] = await library.store.sources_by_slug(["stage"])
    await library.store.remove_sources([found.id])
    assert await library.reload()
    assert not any(s.slug == "stage" for s in library.sources)
    assert not await library.store.terms_stale()  # the snapshot rebuilt with it is current
