"""Curating: remove, hide, unhide and re-attribute quotes (admins only), each change audited."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from quotebot.bot.commands import HIDDEN_NOTE
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import ErrorReply, QuoteReply, Request, TextReply, UserRef
from quotebot.bot.registry import Services
from quotebot.store.curate import CurateStore
from quotebot.store.daily import DailyStore
from quotebot.store.quotes import RAND_KEY_MAX, NewHighlight, NewQuote, SpeakerInfo
from tests.conftest import source

pytestmark = pytest.mark.both_engines(postgresql="slow")

ADMIN = UserRef("discord", "100", "Ada", is_admin=True)
MEMBER = UserRef("discord", "200", "Bob", is_admin=False)
SAM = SpeakerInfo("Sam Altman", "CEO", ("Sam",))
# A source with highlights: each line its own passage, so random and daily draw highlights.
TALK = [
    "Compute is the currency of the future, and everyone will want more of it.",
    "The best way to predict the future is to build the thing you want to see.",
    "Most people overestimate what they can do in one year and underestimate ten.",
    "You should be the kind of person who ships every single week without fail.",
]


async def run(registry, services, command: str, user: UserRef | None = ADMIN, **args):
    return await registry.dispatch(Request(command, args, user), services)


async def quote_id(db, text_start: str) -> int:
    return await db.scalar("SELECT id FROM quotes WHERE text LIKE ?", (text_start + "%",))


async def add_talk(library: QuoteLibrary) -> list[int]:
    """The TALK source with a highlight per line; its quote ids in order."""
    await library.store.replace_source(
        source("talk", "Sam Altman at a conference"), [SAM],
        [NewQuote(SAM.name, text, float(i), i, 0.9) for i, text in enumerate(TALK)],
        [NewHighlight(SAM.name, i, i, text, float(i), 0.9) for i, text in enumerate(TALK)],
    )
    await library.reload()
    rows = await library.db.fetchall(
        "SELECT q.id FROM quotes q JOIN sources so ON so.id = q.source_id "
        "WHERE so.slug = 'talk' ORDER BY q.position")
    return [r[0] for r in rows]


# ---- permissions and errors -----------------------------------------------------------------


@pytest.mark.parametrize("command,args,verb", [
    ("remove", {}, "remove"), ("hide", {}, "hide"), ("unhide", {}, "unhide"),
    ("edit", {"speaker": "Greg Brockman"}, "edit"),
])
async def test_members_are_refused_and_nothing_changes(registry, services, library, command,
                                                       args, verb):
    qid = await quote_id(library.db, "Actually, on that")
    before = await CurateStore(library.db).quote(qid)
    reply = await run(registry, services, command, MEMBER, id=qid, **args)
    assert isinstance(reply, ErrorReply)
    assert reply.message == (  # a quote saved from chat may be removed by its saver too
        "Only admins, or the person who saved the quote, can remove it." if verb == "remove"
        else f"Only admins can {verb} quotes.")
    assert await CurateStore(library.db).quote(qid) == before
    assert await CurateStore(library.db).audit() == []
    # No user at all (a platform that could not say who asked) is no admin either.
    assert isinstance(await run(registry, services, command, None, id=qid, **args), ErrorReply)


@pytest.mark.parametrize("command,args", [
    ("remove", {}), ("hide", {}), ("unhide", {}), ("edit", {"speaker": "Greg"}),
])
async def test_an_unknown_id_is_a_clear_error(registry, services, command, args):
    reply = await run(registry, services, command, id=999_999, **args)
    assert isinstance(reply, ErrorReply) and reply.message == "There is no quote #999999."


async def test_an_id_that_is_no_number_is_refused_by_the_registry(registry, services):
    reply = await run(registry, services, "hide", id="abc")
    assert isinstance(reply, ErrorReply) and "whole number" in reply.message


# ---- hide and unhide ------------------------------------------------------------------------


async def test_hide_and_unhide_write_audit_rows_with_before_and_after(registry, services,
                                                                      library):
    qid = await quote_id(library.db, "Actually, on that")
    reply = await run(registry, services, "hide", id=qid)
    assert isinstance(reply, TextReply) and f"#{qid}" in reply.text
    assert "Ilya Sutskever" in reply.text and f"/quote unhide {qid}" in reply.text
    again = await run(registry, services, "hide", id=qid)
    assert "already hidden" in again.text
    reply = await run(registry, services, "unhide", id=qid)
    assert "again" in reply.text

    unhid, hid = await CurateStore(library.db).audit()  # newest first; "again" wrote none
    assert (hid.action, unhid.action) == ("hide", "unhide")
    assert (hid.actor_platform, hid.actor_id, hid.actor_name) == ("discord", "100", "Ada")
    assert (hid.target_kind, hid.target_id) == ("quote", str(qid))
    assert hid.before["hidden"] is False and hid.after["hidden"] is True
    assert unhid.before["hidden"] is True and unhid.after["hidden"] is False
    assert hid.before["text"].startswith("Actually, on that")
    assert datetime.fromisoformat(hid.at) > datetime.now(UTC) - timedelta(minutes=5)
    assert hid.id < unhid.id


async def test_a_hidden_quote_is_never_drawn_at_random(registry, db, library):
    # No highlights in this library: random draws quotes worth reading.
    qid = await quote_id(db, "Actually, on that")
    # Ingest keys quotes at random; evenly spaced keys give every quote the same chance.
    async with db.transaction() as conn:
        await conn.execute("UPDATE quotes SET rand_key = id * ?", (RAND_KEY_MAX // 10,))
    seeded = QuoteLibrary(db, rng=random.Random(13))
    await seeded.load()
    drawn = [(await seeded.random()).quote.id for _ in range(200)]
    assert qid in drawn  # drawable before
    await run(registry, Services(seeded), "hide", id=qid)
    drawn = [(await seeded.random()).quote.id for _ in range(200)]
    assert qid not in drawn
    assert len(set(drawn)) >= 4  # the others still are


async def test_highlights_spanning_a_hidden_quote_are_never_drawn(registry, db, library):
    ids = await add_talk(library)
    seeded = QuoteLibrary(db, rng=random.Random(5))
    await seeded.load()
    sam = seeded.resolve_speaker("Sam Altman")
    await run(registry, Services(seeded), "hide", id=ids[1])
    drawn = set()
    for n in range(200):
        draw = await seeded.random(speaker=sam, deck=f"chan{n % 3}")
        assert draw.quote.highlight_id is not None  # still highlights, not the fallback
        drawn.add(draw.quote.id)
    assert drawn == {ids[0], ids[2], ids[3]}


async def test_hiding_every_highlight_falls_back_to_visible_quotes_or_none(registry, db,
                                                                           library):
    ids = await add_talk(library)
    for qid in ids:
        await run(registry, Services(library), "hide", id=qid)
    sam = library.resolve_speaker("Sam")
    assert await library.random(speaker=sam, deck="c") is None
    assert await library.random(speaker=sam) is None


async def test_a_daily_claim_never_picks_a_hidden_quote_or_highlight(registry, db, library):
    ids = await add_talk(library)
    greg_good = await quote_id(db, "You can only control")
    await run(registry, Services(library), "hide", id=ids[2])
    await run(registry, Services(library), "hide", id=greg_good)
    daily = DailyStore(db)
    greg = library.resolve_speaker("Greg")
    sam = library.resolve_speaker("Sam")
    now = datetime(2024, 11, 20, 8, tzinfo=UTC)
    picked: dict[str, set[int]] = {"greg": set(), "sam": set()}
    for channel, speaker in (("greg", greg), ("sam", sam)):
        sub, _ = await daily.upsert(platform="discord", workspace="G", channel=channel,
                                    local_time="08:00", timezone="UTC", speaker_id=speaker.id,
                                    source_id=None, created_by="100", now=now)
        rng = random.Random(3)
        for n in range(40):
            day = now + timedelta(days=n)
            claim = await daily.claim(sub.id, day.date().isoformat(), now=day,
                                      lease_until=day + timedelta(minutes=5), process_id="p",
                                      rand_key=rng.randint(0, RAND_KEY_MAX))
            assert claim is not None
            assert await daily.mark_sent(claim, now=day, message_ref=f"m{n}")
            picked[channel].add(claim.quote.id)
    assert picked["sam"] == {ids[0], ids[1], ids[3]}  # highlights, every cycle, none hidden
    assert greg_good not in picked["greg"] and picked["greg"]


async def test_search_and_show_still_find_a_hidden_quote(registry, services, library):
    qid = await quote_id(library.db, "Actually, on that")
    await run(registry, services, "hide", id=qid)
    found = await run(registry, services, "search", query="ideas are cheap")
    assert isinstance(found, QuoteReply) and found.quote.id == qid
    shown = await run(registry, services, "show", MEMBER, id=qid)
    assert isinstance(shown, QuoteReply) and shown.quote.id == qid
    assert shown.note == HIDDEN_NOTE
    await run(registry, services, "unhide", id=qid)
    shown = await run(registry, services, "show", MEMBER, id=qid)
    assert shown.note is None


# ---- remove ---------------------------------------------------------------------------------


async def test_remove_deletes_one_sentence_unit_and_says_what(registry, services, library):
    ids = await add_talk(library)
    reply = await run(registry, services, "remove", id=ids[1])
    assert isinstance(reply, TextReply)
    assert f"#{ids[1]}" in reply.text and "Sam Altman" in reply.text and "talk" in reply.text
    assert "predict the future" in reply.text
    assert isinstance(await run(registry, services, "show", id=ids[1]), ErrorReply)
    # The rest of the transcript is untouched; the highlight holding it is gone.
    for other in (ids[0], ids[2], ids[3]):
        assert isinstance(await run(registry, services, "show", id=other), QuoteReply)
    texts = [r[0] for r in await library.db.fetchall("SELECT text FROM highlights")]
    assert TALK[1] not in texts and TALK[0] in texts
    found = await run(registry, services, "search", query="predict the future build")
    assert not (isinstance(found, QuoteReply) and found.quote.id == ids[1])
    (entry,) = await CurateStore(library.db).audit()
    assert entry.action == "remove" and entry.target_id == str(ids[1])
    assert entry.before["text"] == TALK[1] and entry.before["speaker"] == "Sam Altman"
    assert entry.after is None
    assert next(s for s in library.speakers if s.name == "Sam Altman").quotes == 3


# ---- edit -----------------------------------------------------------------------------------


async def test_edit_reattributes_to_an_existing_speaker_and_keeps_the_words(registry,
                                                                            services, library):
    qid = await quote_id(library.db, "Actually, on that")
    before = await CurateStore(library.db).quote(qid)
    reply = await run(registry, services, "edit", id=qid, speaker="greg")  # an alias
    assert isinstance(reply, TextReply)
    assert "Greg Brockman" in reply.text and "Ilya Sutskever" in reply.text
    assert "new speaker" not in reply.text
    after = await CurateStore(library.db).quote(qid)
    assert after.text == before.text and after.speaker == "Greg Brockman"
    # The speaker filter (FTS tags) and the speaker counts follow.
    found = await run(registry, services, "search", query="ideas are cheap", speaker="Greg")
    assert isinstance(found, QuoteReply) and found.quote.id == qid
    assert found.quote.speaker == "Greg Brockman"
    counts = {s.name: s.quotes for s in library.speakers}
    assert counts["Greg Brockman"] == 4 and counts["Ilya Sutskever"] == 2
    (entry,) = await CurateStore(library.db).audit()
    assert entry.action == "edit"
    assert entry.before["speaker"] == "Ilya Sutskever"
    assert entry.after["speaker"] == "Greg Brockman"
    assert entry.before["text"] == entry.after["text"]


async def test_edit_to_a_new_speaker_creates_them(registry, services, library):
    qid = await quote_id(library.db, "Yeah.")
    reply = await run(registry, services, "edit", id=qid, speaker="  Jane   Doe ")
    assert "Jane Doe (a new speaker)" in reply.text
    assert (await CurateStore(library.db).quote(qid)).speaker == "Jane Doe"
    assert any(s.name == "Jane Doe" and s.quotes == 1 for s in library.speakers)
    same = await run(registry, services, "edit", id=qid, speaker="jane doe")
    assert "already attributed to Jane Doe" in same.text
    assert len(await CurateStore(library.db).audit()) == 1


async def test_edit_moves_a_highlight_only_when_its_whole_span_follows(registry, services,
                                                                       library):
    ids = await add_talk(library)
    await run(registry, services, "edit", id=ids[0], speaker="Greg Brockman")
    row = await library.db.fetchone(
        "SELECT sp.name FROM highlights h JOIN speakers sp ON sp.id = h.speaker_id "
        "WHERE h.text = ?", (TALK[0],))
    assert row[0] == "Greg Brockman"
    greg = library.resolve_speaker("Greg")
    assert await library.store.has_highlights(greg.id, None)


async def test_edit_needs_a_speaker(registry, services, library):
    qid = await quote_id(library.db, "Yeah.")
    reply = await run(registry, services, "edit", id=qid)
    assert isinstance(reply, ErrorReply) and "speaker" in reply.message
    long = await run(registry, services, "edit", id=qid, speaker="x" * 500)
    assert isinstance(long, ErrorReply) and "at most 100" in long.message


async def test_the_text_grammar_reaches_every_curating_command(registry, services, library):
    from quotebot.adapters.console import Console

    qid = await quote_id(library.db, "Yeah.")
    console = Console(registry, services)  # the console user is an admin
    assert "Hid quote" in (await console.run(f"/quote hide {qid}")).text
    assert "again" in (await console.run(f"/quote unhide {qid}")).text
    edited = await console.run(f'/quote edit {qid} speaker:"Greg Brockman"')
    assert "now attributed to Greg Brockman" in edited.text
    assert "Removed quote" in (await console.run(f"/quote remove {qid}")).text
    actions = [e.action for e in await CurateStore(library.db).audit()]
    assert actions == ["remove", "edit", "unhide", "hide"]
    assert {e.actor_platform for e in await CurateStore(library.db).audit()} == {"console"}


async def test_a_claim_taken_over_after_its_quote_was_hidden_picks_another(registry, db,
                                                                           library):
    ids = await add_talk(library)
    daily = DailyStore(db)
    sam = library.resolve_speaker("Sam")
    now = datetime(2024, 11, 20, 8, tzinfo=UTC)
    sub, _ = await daily.upsert(platform="discord", workspace="G", channel="c",
                                local_time="08:00", timezone="UTC", speaker_id=sam.id,
                                source_id=None, created_by="100", now=now)
    first = await daily.claim(sub.id, "2024-11-20", now=now, lease_until=now + timedelta(
        minutes=5), process_id="a", rand_key=0)
    assert first.quote.id in ids
    await run(registry, Services(library), "hide", id=first.quote.id)
    later = now + timedelta(minutes=10)  # the first claim's lease ran out unsent
    taken = await daily.claim(sub.id, "2024-11-20", now=later,
                              lease_until=later + timedelta(minutes=5), process_id="b",
                              rand_key=0)
    assert taken.taken_over and taken.quote.id != first.quote.id
    assert taken.quote.id in ids
