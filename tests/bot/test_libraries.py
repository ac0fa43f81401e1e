"""Libraries: each server and workspace sees its own quotes and the collections it enabled,
by every path (search, autocomplete, random, show, context, Share, Card, speakers, sources,
daily, export, curating), and nothing of any other library."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quotebot.bot.all_commands import build_registry
from quotebot.bot.exchange import export_document
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ChannelRef, ErrorReply, ListReply, QuoteReply, Request, UserRef
from quotebot.bot.registry import Services
from quotebot.store.daily import DailyStore
from quotebot.store.db import Database
from quotebot.store.quotes import RAND_KEY_MAX, NewHighlight, NewQuote, NewSource, SpeakerInfo
from tests.conftest import build_database, copy_database, open_any

pytestmark = pytest.mark.both_engines(postgresql="slow")

GUILD_A = ChannelRef("discord", "111", "c-a")
GUILD_B = ChannelRef("discord", "222", "c-b")
TEAM_1 = ChannelRef("slack", "T1", "C1")
TEAM_2 = ChannelRef("slack", "T2", "C2")
CHATS = (GUILD_A, GUILD_B, TEAM_1, TEAM_2)


def lines(word: str, who: str, count: int) -> list[str]:
    said = [f"The {word} plan was the first thing {who} built with the whole team.",
            f"Nobody expected the {word} idea to change how the company ran every day.",
            f"After the {word} launch the numbers doubled within a single quarter.",
            f"Every {word} meeting ended with a decision written on the board.",
            f"The {word} customers asked for one thing, and it was speed."]
    return said[:count]


# (slug, a word only its quotes hold, speaker, where it lives); each has its own number of
# quotes (SIZES), so `/quote library`'s counts say whose they are.
SIZES = {"alpha": 3, "beta": 4, "gamma": 5}
ITEMS = {
    "alpha": ("zebra", SpeakerInfo("Zed Alphason", None, ()), GUILD_A),
    "beta": ("quokka", SpeakerInfo("Quinn Betaworth", None, ()), TEAM_1),
    "gamma": ("narwhal", SpeakerInfo("Nora Gammage", None, ()), "podcasts"),  # shared
}
# The shared collection `podcasts` is enabled in guild B only.
OWNERS = {"alpha": (GUILD_A,), "beta": (TEAM_1,), "gamma": (GUILD_B,)}
ADMIN = {p: UserRef(p, "u1", "Admin", is_admin=True) for p in ("discord", "slack")}


async def _fill(db: Database) -> None:
    library = QuoteLibrary(db)
    for slug, (word, speaker, where) in ITEMS.items():
        if isinstance(where, str):
            store = await library.writer(collection=where)
        else:
            store = await library.writer(library=(where.platform, where.workspace))
        texts = lines(word, speaker.name, SIZES[slug])
        await store.replace_source(
            NewSource(slug, f"The {word.title()} Talk", None, None, None, None, "test",
                      f"hash-{slug}", {}),
            [speaker], [NewQuote(speaker.name, t, float(i), i, 0.9) for i, t in enumerate(texts)],
            [NewHighlight(speaker.name, 0, 1, " ".join(texts[:2]), 0.0, 0.9)],
        )
    podcasts = await library.libraries.collection("podcasts")
    await library.libraries.library("discord", "222")
    await library.libraries.set_enabled("discord", "222", podcasts.id, True)
    await library.store.refresh_terms()


@pytest.fixture(scope="session")
def tenants_file(tmp_path_factory) -> Path:
    return build_database(tmp_path_factory.mktemp("tenants") / "tenants.db", _fill)


@pytest.fixture
async def tenants(engine, request, tenants_file, tmp_path):
    if engine == "sqlite":
        target = copy_database(tenants_file, tmp_path)
    else:
        target = request.getfixturevalue("postgres_filled")("tenants", _fill)
    db = await open_any(target)
    library = QuoteLibrary(db, rng=random.Random(5))
    await library.load()
    yield Services(library=library)
    await db.close()


async def ids_of(services: Services, slug: str) -> list[int]:
    rows = await services.library.db.fetchall(
        "SELECT q.id FROM quotes q JOIN sources s ON s.id = q.source_id WHERE s.slug = ? "
        "ORDER BY q.position", (slug,))
    return [r[0] for r in rows]


async def highlight_of(services: Services, slug: str) -> int:
    return await services.library.db.scalar(
        "SELECT h.id FROM highlights h JOIN sources s ON s.id = h.source_id WHERE s.slug = ?",
        (slug,))


def text_of(reply) -> str:
    """Everything a reply shows, as one string."""
    if isinstance(reply, QuoteReply):
        quotes = (*reply.quotes, *reply.context)
        return " ".join(f"{q.text} {q.speaker} {q.source} {q.source_slug}" for q in quotes)
    if isinstance(reply, ListReply):
        return " ".join(map(str, reply.items))
    if isinstance(reply, ErrorReply):  # its message echoes what was typed: only the hints
        return " ".join(f"{h.text} {h.spelled}" for h in reply.suggestions)
    return str(reply)


async def run(services: Services, command: str, channel: ChannelRef, **args):
    user = ADMIN[channel.platform]
    return await build_registry().dispatch(Request(command, args, user, channel), services)


# Each path: what a library sees of `slug` by it (a string to look for in, or None when the
# path found nothing at all).
async def by_search(services, slug, channel):
    return text_of(await run(services, "search", channel, query=ITEMS[slug][0]))


async def by_autocomplete(services, slug, channel):
    search = build_registry().get("search")
    complete = {o.name: o.complete for o in search.options}
    request = Request("search", {}, ADMIN[channel.platform], channel)
    found = await complete["query"](services, f"{ITEMS[slug][0][:4]}", request)
    found += await complete["speaker"](services, ITEMS[slug][1].name[:4], request)
    found += await complete["source"](services, ITEMS[slug][0].title()[:4], request)
    texts = []
    for choice in found:
        texts.append(choice.name)
        if choice.value.startswith("#"):  # choosing a quote shows it
            texts.append(text_of(await run(services, "search", channel, query=choice.value)))
    return " ".join(texts)


async def by_random(services, slug, channel):
    drawn = [text_of(await run(services, "random", channel)) for _ in range(12)]
    return " ".join(drawn)


async def by_random_speaker(services, slug, channel):
    return text_of(await run(services, "random", channel, speaker=ITEMS[slug][1].name))


async def by_random_source(services, slug, channel):
    return text_of(await run(services, "random", channel, source=slug))


async def by_show(services, slug, channel):
    return " ".join([text_of(await run(services, "show", channel, id=qid, context=0))
                     for qid in await ids_of(services, slug)])


async def by_context(services, slug, channel):
    first = (await ids_of(services, slug))[0]
    return text_of(await run(services, "show", channel, id=first, context=2))


async def by_share(services, slug, channel):
    first = (await ids_of(services, slug))[0]
    return text_of(await run(services, "show", channel, id=first, context=0, share=True))


async def by_highlight(services, slug, channel):
    """The Share and Card buttons of a random draw replay `show highlight:`."""
    first = (await ids_of(services, slug))[0]
    return text_of(await run(services, "show", channel, id=first, context=0,
                             highlight=await highlight_of(services, slug), share=True))


async def by_card(services, slug, channel):
    first = (await ids_of(services, slug))[0]
    reply = await run(services, "show", channel, id=first, context=0, card=True)
    alt = reply.card.alt_text if isinstance(reply, QuoteReply) and reply.card else ""
    return text_of(reply) + " " + alt


async def by_speakers(services, slug, channel):
    return text_of(await run(services, "speakers", channel))


async def by_sources(services, slug, channel):
    return text_of(await run(services, "sources", channel))


async def by_library(services, slug, channel):
    """`/quote library` counts what the library holds (a shared collection that is off is
    listed, as one to enable, but not counted in)."""
    reply = await run(services, "library show", channel)
    counted = [str(i) for i in reply.items
               if str(i).startswith("Own quotes") or " — on — " in str(i)]
    return f"[{slug}]" if any(f"— {SIZES[slug]} quotes" in i for i in counted) else ""


async def by_daily(services, slug, channel):
    store = DailyStore(services.library.db)
    now = datetime(2025, 3, 1, 9, tzinfo=UTC)
    sub, _ = await store.upsert(platform=channel.platform, workspace=channel.workspace,
                                channel="daily", local_time="09:00", timezone="UTC",
                                speaker_id=None, source_id=None, created_by="u1", now=now)
    rng = random.Random(1)
    shown = []
    for n in range(10):
        day = now + timedelta(days=n)
        claim = await store.claim(sub.id, day.date().isoformat(), now=day,
                                  lease_until=day + timedelta(minutes=5), process_id="p",
                                  rand_key=rng.randint(0, RAND_KEY_MAX))
        if claim is not None:
            shown.append(f"{claim.quote.text} {claim.quote.source_slug}")
            await store.mark_sent(claim, now=day, message_ref="m")
    return " ".join(shown)


async def by_export(services, slug, channel):
    scope = await services.library.scope(channel)
    document = await export_document(services.library.store, (scope.own,))
    return " ".join(f"{q['text']} {q['source']} {q['speaker']}" for q in document["quotes"])


async def by_curating(services, slug, channel):
    """An admin's hide of another library's quote: "no such quote", nothing changed."""
    qid = (await ids_of(services, slug))[0]
    reply = await run(services, "hide", channel, id=qid)
    hidden = await services.library.curate.is_hidden(qid)
    not_found = isinstance(reply, ErrorReply) and reply.message == f"There is no quote #{qid}."
    return ("" if not_found and not hidden
            else f"hid {ITEMS[slug][0]}")


PATHS = [by_search, by_autocomplete, by_random, by_random_speaker, by_random_source, by_show,
         by_context, by_share, by_highlight, by_card, by_speakers, by_sources, by_library,
         by_daily, by_export, by_curating]
# Export is of a library's own collection (a shared collection is the operator's), and
# curating a shared collection is the operator's too: the owner check skips them there.
OWNER_ONLY_OWN = {by_export, by_curating}


def seen(found: str, slug: str) -> bool:
    word, speaker, _ = ITEMS[slug]
    return word in found.lower() or speaker.name in found or f"[{slug}]" in found


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("slug", list(ITEMS))
async def test_no_other_library_sees_a_source_by_any_path(tenants, path, slug):
    for channel in CHATS:
        if channel in OWNERS[slug]:
            continue
        found = await path(tenants, slug, channel)
        assert not seen(found, slug), (channel, found)


@pytest.mark.parametrize(("slug", "path"), [
    (slug, path) for slug in ITEMS for path in PATHS
    if not (path in OWNER_ONLY_OWN and slug == "gamma")
], ids=lambda v: getattr(v, "__name__", v))
async def test_the_library_that_owns_or_enabled_it_does_see_it(tenants, path, slug):
    (owner,) = OWNERS[slug]
    assert seen(await path(tenants, slug, owner), slug)


async def test_an_id_of_another_library_is_not_found_never_shown(tenants):
    qid = (await ids_of(tenants, "alpha"))[0]
    reply = await run(tenants, "show", GUILD_B, id=qid)
    assert isinstance(reply, ErrorReply) and reply.message == f"There is no quote #{qid}."
    assert isinstance(await run(tenants, "show", GUILD_A, id=qid), QuoteReply)


async def test_enable_and_disable_switch_a_shared_collection_for_one_library(tenants):
    assert not seen(await by_search(tenants, "gamma", TEAM_2), "gamma")
    on = await run(tenants, "library enable", TEAM_2, name="podcasts")
    assert "podcasts is on" in on.text
    assert seen(await by_search(tenants, "gamma", TEAM_2), "gamma")
    assert seen(await by_speakers(tenants, "gamma", TEAM_2), "gamma")
    assert not seen(await by_search(tenants, "gamma", TEAM_1), "gamma")  # the others: no
    off = await run(tenants, "library disable", TEAM_2, name="podcasts")
    assert "podcasts is off" in off.text
    assert not seen(await by_search(tenants, "gamma", TEAM_2), "gamma")
    assert seen(await by_search(tenants, "gamma", GUILD_B), "gamma")


async def test_only_admins_switch_collections_and_the_list_shows_on_and_off(tenants):
    member = UserRef("slack", "u2", "Member")
    registry = build_registry()
    for verb in ("enable", "disable"):
        reply = await registry.dispatch(
            Request(f"library {verb}", {"name": "podcasts"}, member, TEAM_2), tenants)
        assert isinstance(reply, ErrorReply)
        assert reply.message == f"Only admins can {verb} collections in this library."
    assert not seen(await by_search(tenants, "gamma", TEAM_2), "gamma")
    shown = await registry.dispatch(Request("library", {}, member, TEAM_2), tenants)
    items = [str(i) for i in shown.items]
    assert items[0].startswith("Own quotes (slack:T2) — 0 quotes")
    assert any(i.startswith("podcasts — off — 5 quotes") for i in items)
    assert any(i.startswith("bundled — on") for i in items)


async def test_a_library_own_collection_cannot_be_enabled_from_chat(tenants):
    reply = await run(tenants, "library enable", GUILD_B, name="discord:111")
    assert isinstance(reply, ErrorReply) and "no shared collection" in reply.message
    assert not seen(await by_search(tenants, "alpha", GUILD_B), "alpha")
    reply = await run(tenants, "library disable", GUILD_B, name="discord:222")
    assert isinstance(reply, ErrorReply) and "always in it" in reply.message


async def test_a_shared_collection_is_read_only_to_a_server(tenants):
    qid = (await ids_of(tenants, "gamma"))[0]
    reply = await run(tenants, "hide", GUILD_B, id=qid)
    assert isinstance(reply, ErrorReply) and "shared collection" in reply.message
    assert not await tenants.library.curate.is_hidden(qid)


async def test_a_new_library_starts_with_the_operator_default_collections(tenants):
    libraries = tenants.library.libraries
    assert await libraries.default_collections() == ["bundled"]
    await libraries.set_default_collections(["bundled", "podcasts"])
    fresh = ChannelRef("discord", "333", "c")
    assert seen(await by_search(tenants, "gamma", fresh), "gamma")
    assert not seen(await by_search(tenants, "alpha", fresh), "alpha")
    # Libraries that existed keep what they had.
    assert not seen(await by_search(tenants, "gamma", GUILD_A), "gamma")


async def test_an_ingest_into_a_library_refuses_a_slug_another_collection_holds(tenants):
    from quotebot.bot.ingest.runner import store_prepared

    store = await tenants.library.writer(library=("slack", "T2"))
    assert await store.slug_owner("alpha") == "discord:111"
    assert await store.slug_owner("nothing-like-it") is None
    assert store_prepared  # the runner reports it per file (see test_cli_libraries)


async def test_an_org_wide_subscription_posts_from_the_org_library(tenants):
    """A daily quote set in an org-wide install's channel draws from the org's library,
    not from the workspace's it was typed in."""
    store = DailyStore(tenants.library.db)
    now = datetime(2025, 3, 1, 9, tzinfo=UTC)
    # T1 as a workspace of the org-wide install of E1: E1's library, not T1's quokkas.
    await tenants.library.libraries.library("slack", "E1")
    sub, _ = await store.upsert(platform="slack", workspace="T1", channel="D", org="E1",
                                local_time="09:00", timezone="UTC", speaker_id=None,
                                source_id=None, created_by="u", now=now)
    claim = await store.claim(sub.id, "2025-03-01", now=now,
                              lease_until=now + timedelta(minutes=5), process_id="p",
                              rand_key=0)
    assert claim is None  # E1 sees `bundled` only, empty here: nothing of T1's quokkas
    sub, _ = await store.upsert(platform="slack", workspace="T1", channel="D", org="",
                                local_time="09:00", timezone="UTC", speaker_id=None,
                                source_id=None, created_by="u", now=now)
    claim = await store.claim(sub.id, "2025-03-02", now=now + timedelta(days=1),
                              lease_until=now + timedelta(days=1, minutes=5), process_id="p",
                              rand_key=0)
    assert claim is not None and "quokka" in claim.quote.text
