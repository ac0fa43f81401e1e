"""Libraries held in memory: no database read per request, and a collection switched by
another process reaches this one at its next reload (the watcher's tick)."""

from __future__ import annotations

from quotebot.bot.library import QuoteLibrary
from quotebot.store.db import Database
from quotebot.store.quotes import NewQuote, NewSource, SpeakerInfo
from tests.conftest import copy_database

KIT = SpeakerInfo("Kit Marlowe", None, ())


async def _two_processes(empty_file, tmp_path):
    path = copy_database(empty_file, tmp_path)
    first, second = await Database.open(path), await Database.open(path)
    here, there = QuoteLibrary(first), QuoteLibrary(second)
    shared = await here.writer(collection="plays")
    await shared.replace_source(
        NewSource("faustus", "Doctor Faustus", None, None, None, None, "t", "h-f", {}), [KIT],
        [NewQuote(KIT.name, "Was this the face that launched a thousand ships?", 1.0, 0, 0.9)])
    await here.store.refresh_terms()
    for library in (here, there):
        await library.load()
    return (first, here), (second, there)


async def test_a_switch_in_another_process_arrives_at_the_next_reload(empty_file, tmp_path):
    (first, here), (second, there) = await _two_processes(empty_file, tmp_path)
    try:
        plays = (await here.libraries.collection("plays")).id
        mine = await here.scope_of("discord", "1")
        assert plays not in mine.collections
        # Another process switches `plays` on for this server.
        theirs = await there.scope_of("discord", "1")
        assert await there.set_enabled(theirs, plays, True)
        assert plays in (await there.scope_of("discord", "1")).collections  # at once there
        assert await here.reload() is True  # what the watcher does every couple of seconds
        scope = await here.scope_of("discord", "1")
        assert plays in scope.collections
        assert await here.search("thousand ships", scope=scope)
        # ... and off again.
        assert await there.set_enabled(theirs, plays, False)
        await here.reload()
        scope = await here.scope_of("discord", "1")
        assert plays not in scope.collections
        assert not await here.search("thousand ships", scope=scope)
    finally:
        await first.close()
        await second.close()


async def test_a_known_library_is_served_without_reading_the_database(empty_file, tmp_path):
    (first, here), (second, _) = await _two_processes(empty_file, tmp_path)
    try:
        await here.scope_of("slack", "T1")  # created and remembered
        reads = []
        real = here.libraries.db.fetchall

        async def counted(sql, params=()):
            reads.append(sql)
            return await real(sql, params)

        here.libraries.db.fetchall = counted
        for _ in range(3):
            await here.scope_of("slack", "T1")
        assert reads == []
    finally:
        await first.close()
        await second.close()
