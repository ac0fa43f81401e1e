"""Random draws of highlights: weighted, per-channel decks that survive restarts, fallbacks."""

from __future__ import annotations

import random

import pytest

from quotebot.bot.app import ensure_bundled
from quotebot.bot.clean import is_subsequence
from quotebot.bot.commands import deck_key
from quotebot.bot.library import EXACT, QuoteLibrary
from quotebot.bot.models import ChannelRef, QuoteReply, Request, UserRef
from quotebot.bot.registry import Services
from quotebot.store.db import Database
from tests.conftest import open_any

pytestmark = pytest.mark.both_engines

CHANNEL = ChannelRef("discord", "g1", "c1")
OTHER = ChannelRef("discord", "g1", "c2")
ADMIN = UserRef("discord", "u1", "admin", is_admin=True)


async def bundled_library(target, seed: int = 1) -> tuple[Database, QuoteLibrary]:
    db = await open_any(target)
    library = QuoteLibrary(db, rng=random.Random(seed))
    await ensure_bundled(library.store)
    await library.load()
    return db, library


@pytest.fixture
async def bundled(bundled_target):
    db, library = await bundled_library(bundled_target)
    yield library
    await db.close()


async def pool_size(library: QuoteLibrary) -> int:
    return int(await library.db.scalar("SELECT count(*) FROM highlights"))


async def test_200_draws_in_a_channel_never_repeat_before_the_pool_is_used_up(bundled_target):
    path = bundled_target
    db, library = await bundled_library(path, seed=7)
    pool = await pool_size(library)
    assert pool >= 38
    deck = deck_key(Request("random", channel=CHANNEL))
    drawn: list[int] = []
    for n in range(200):
        if n == 90:  # a restart: a new process, a new library, the same database
            await db.close()
            db, library = await bundled_library(path, seed=99)
        draw = await library.random(deck=deck)
        assert draw is not None and draw.note is None
        drawn.append(draw.quote.highlight_id)
    await db.close()
    seen: set[int] = set()
    rounds = 0
    for n, hid in enumerate(drawn):
        if hid in seen:
            # A repeat only once the round has used up the pool (all of it, less the one
            # held back so that a new round never opens on the draw that closed the last).
            assert len(seen) >= pool - 1, f"draw {n} repeats after only {len(seen)} others"
            assert hid != drawn[n - 1]
            seen, rounds = set(), rounds + 1
        seen.add(hid)
    assert len(set(drawn[:pool])) == pool and rounds >= 3


async def test_channels_have_their_own_decks(bundled):
    first = [(await bundled.random(deck="a")).quote.highlight_id for _ in range(10)]
    other = [(await bundled.random(deck="b")).quote.highlight_id for _ in range(10)]
    assert len(set(first)) == 10 and len(set(other)) == 10
    assert first != other


async def test_draws_lean_to_higher_scores(bundled):
    rows = await bundled.db.fetchall("SELECT id, score FROM highlights")
    scores = {r["id"]: r["score"] for r in rows}
    counts: dict[int, int] = {}
    for _ in range(3000):
        hid = (await bundled.random()).quote.highlight_id
        counts[hid] = counts.get(hid, 0) + 1
    ranked = sorted(scores, key=scores.get)
    low, high = ranked[: len(ranked) // 3], ranked[-(len(ranked) // 3):]
    # random keys are uniform, so the difference comes from the acceptance by score
    assert sum(counts.get(h, 0) for h in high) > sum(counts.get(h, 0) for h in low)


async def test_a_draw_is_clean_with_the_exact_words_beside_it(bundled):
    for _ in range(40):
        quote = (await bundled.random(deck="x")).quote
        assert quote.highlight_id and quote.verbatim
        assert is_subsequence(quote.text, quote.verbatim)
        assert len(quote.text) <= 280
        for noise in (" um ", " uh ", "Um,", "Uh,", "[laughs]"):
            assert noise not in f" {quote.text} "
    exact = (await bundled.random(deck="y", style=EXACT)).quote
    assert exact.text == exact.verbatim


async def test_a_speaker_without_highlights_falls_back_to_good_quotes_and_says_so(bundled):
    moderator = bundled.resolve_speaker("Moderator")
    draw = await bundled.random(speaker=moderator, deck="z")
    assert draw is not None and draw.quote.highlight_id is None
    assert draw.quote.speaker == "Moderator"
    assert "no highlights" in draw.note


async def test_filters_draw_matching_highlights(bundled):
    ilya = bundled.resolve_speaker("ilya")
    for _ in range(8):
        draw = await bundled.random(speaker=ilya, deck="f")
        assert draw.quote.speaker == "Ilya Sutskever" and draw.quote.highlight_id


async def test_highlight_ids_are_stable_across_reingest(bundled_target):
    db, library = await bundled_library(bundled_target)
    before = await db.fetchall("SELECT id, text FROM highlights ORDER BY id")
    await db.close()
    db, library = await bundled_library(bundled_target)  # unchanged files: nothing moves
    assert await db.fetchall("SELECT id, text FROM highlights ORDER BY id") == before
    from quotebot.bot.ingest.runner import ingest_paths
    from quotebot.transcripts import bundled_files

    report = await ingest_paths(library.store, bundled_files(), force=True)  # re-parsed
    assert not report.failed
    after = await db.fetchall("SELECT id, text FROM highlights ORDER BY id")
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    await db.close()


async def test_search_finds_a_quote_by_its_clean_or_exact_form(bundled):
    rows = await bundled.db.fetchall(
        "SELECT id, text FROM quotes WHERE quotability >= 0.5 ORDER BY id"
    )
    changed = [(r["id"], r["text"]) for r in rows
               if (await bundled.get(r["id"])).text != " ".join(r["text"].split())]
    sample = random.Random(3).sample(changed, 30)
    for quote_id, verbatim in sample:
        shown = (await bundled.get(quote_id)).text
        for query in (shown, verbatim):
            found = await bundled.search(query[:300], limit=3)
            assert found and found[0].id == quote_id, (query, [q.text for q in found])


async def test_settings_switch_a_channel_to_the_exact_words(bundled, registry):
    services = Services(library=bundled)
    user = UserRef("discord", "u2", "member")
    denied = await registry.dispatch(
        Request("settings", {"style": "exact"}, user=user, channel=CHANNEL), services
    )
    assert "Only admins" in denied.message
    done = await registry.dispatch(
        Request("settings", {"style": "exact"}, user=ADMIN, channel=CHANNEL), services
    )
    assert "exact words" in done.text
    reply = await registry.dispatch(Request("random", user=user, channel=CHANNEL), services)
    assert isinstance(reply, QuoteReply) and reply.quote.text == reply.quote.verbatim
    other = await registry.dispatch(Request("random", user=user, channel=OTHER), services)
    assert other.quote.text != other.quote.verbatim or other.quote.text == other.quote.verbatim
    shown = await registry.dispatch(
        Request("settings", {}, user=user, channel=OTHER), services
    )
    assert "clean" in shown.text
    bad = await registry.dispatch(
        Request("settings", {"style": "fancy"}, user=ADMIN, channel=CHANNEL), services
    )
    assert "clean or exact" in bad.message


async def test_show_why_explains_the_choice(bundled, registry):
    services = Services(library=bundled)
    draw = await bundled.random(deck="w")
    reply = await registry.dispatch(
        Request("show", {"id": draw.quote.id, "why": 1, "context": 0}), services
    )
    assert "Part of highlight" in reply.note and "score" in reply.note
    hey = await bundled.search("Hey Greg", limit=1)
    reply = await registry.dispatch(
        Request("show", {"id": hey[0].id, "why": 1, "context": 0}), services
    )
    assert "not a highlight" in reply.note


async def test_context_of_a_highlight_shows_its_exact_words_around_it(bundled, registry):
    services = Services(library=bundled)
    draw = await bundled.random(deck="v")
    reply = await registry.dispatch(
        Request("show", {"id": draw.quote.id, "highlight": draw.quote.highlight_id,
                         "context": 2}), services
    )
    focus = [q for q in reply.context if reply.is_focus(q)]
    assert focus and all(q.text == q.verbatim for q in reply.context)
    assert draw.quote.verbatim in " ".join(q.verbatim for q in focus)


async def test_passages_that_stand_alone_are_drawn_before_those_that_may_need_context(bundled):
    from quotebot.bot.highlights import STANDALONE

    standalone = int(await bundled.db.scalar(
        "SELECT count(*) FROM highlights WHERE score >= ?", (STANDALONE,)
    ))
    assert 0 < standalone < await pool_size(bundled)
    scores = [(await bundled.random(deck="tiers")).quote.quotability for _ in range(standalone + 5)]
    assert all(s >= STANDALONE for s in scores[:standalone])
    assert all(s < STANDALONE for s in scores[standalone:])


async def test_a_draw_is_one_statement_whatever_the_rejections(bundled, monkeypatch):
    """Rejection sampling tries several keys; all of them travel in one statement, so a
    draw costs one round trip to a PostgreSQL server, not one per try."""
    dwarkesh = bundled.resolve_speaker("dwarkesh")
    async with bundled.db.transaction() as conn:  # a speaker with good quotes only
        await conn.execute("DELETE FROM highlights WHERE speaker_id = ?", (dwarkesh.id,))
    statements = []
    for name in ("fetchall", "fetchone", "scalar", "transaction"):
        method = getattr(bundled.db, name)

        def counted(*args, _method=method, _name=name, **kwargs):
            statements.append(_name)
            return _method(*args, **kwargs)
        monkeypatch.setattr(bundled.db, name, counted)
    for _ in range(30):
        statements.clear()
        draw = await bundled.random()
        assert draw is not None and draw.note is None
        assert statements == ["fetchall"]
    # None of theirs: one statement for the highlights that stand alone, one for any
    # highlight, one for the quotes.
    statements.clear()
    draw = await bundled.random(speaker=dwarkesh)
    assert draw.quote.highlight_id is None and draw.quote.speaker_id == dwarkesh.id
    assert draw.note and statements == ["fetchall"] * 3
