"""Answering in time: deferring slow work, and autocomplete that gives up instead of timing out."""

from __future__ import annotations

import asyncio

from tests.adapters.discord.conftest import button, embed_of, ephemeral, running
from tests.adapters.discord.fake_discord import APP_ID, EPHEMERAL


async def test_slow_search_is_deferred_then_the_reply_edited_in(fake, services, registry,
                                                               monkeypatch):
    release = asyncio.Event()
    search = services.library.search_page

    async def slow_search(*args, **kwargs):
        await release.wait()  # held until the test has seen the deferral
        return await search(*args, **kwargs)

    monkeypatch.setattr(services.library, "search_page", slow_search)
    async with running(fake, services, registry, defer_after=0.05):
        payload = await fake.send(fake.command("search", query="ideas are cheap"))
        deferred = await fake.callback(payload)
        assert deferred == {"type": 5, "data": {"flags": EPHEMERAL}}  # "thinking", private
        assert not fake.find_calls("PATCH", "/messages/@original")
        release.set()
        edit = await fake.wait_call("PATCH",
                                    f"/webhooks/{APP_ID}/{payload['token']}/messages/@original")
    assert "ideas are cheap" in embed_of(edit.json)["description"]
    assert edit.json["allowed_mentions"] == {"parse": []}
    assert button({"data": edit.json}, "qb:share:")  # buttons come along with the edit


async def test_every_path_when_everything_is_deferred(fake, services, registry):
    async with running(fake, services, registry, defer_after=0):
        payload = await fake.send(fake.command("search", query="cheap"))
        assert (await fake.callback(payload))["type"] == 5
        original = f"/webhooks/{APP_ID}/{payload['token']}/messages/@original"
        first = (await fake.wait_call("PATCH", original)).json
        message = await fake.original(payload)

        # Context: acknowledged silently (6), then a private follow-up.
        ctx = await fake.send(fake.click(message, button({"data": first}, "qb:ctx:")))
        assert await fake.callback(ctx) == {"type": 6}
        follow = (await fake.wait_call("POST", f"/webhooks/{APP_ID}/{ctx['token']}")).json
        assert follow["flags"] & EPHEMERAL and embed_of(follow)["title"] == "In context"

        # Share: acknowledged silently, then a public follow-up.
        share = await fake.send(fake.click(message, button({"data": first}, "qb:share:")))
        assert await fake.callback(share) == {"type": 6}
        public = (await fake.wait_call("POST", f"/webhooks/{APP_ID}/{share['token']}")).json
        assert not (public.get("flags") or 0) & EPHEMERAL
        assert embed_of(public)["description"] == embed_of(first)["description"]

        # Next: acknowledged silently, then the message itself edited.
        nxt = await fake.send(fake.click(message, button({"data": first}, "qb:next:")))
        assert await fake.callback(nxt) == {"type": 6}
        edited = (await fake.wait_call(
            "PATCH", f"/webhooks/{APP_ID}/{nxt['token']}/messages/@original")).json
        assert "match 2" in embed_of(edited)["footer"]["text"]

        # An error after deferring still reaches the user, privately.
        miss = await fake.send(fake.command("search", query="xyzzy"))
        assert (await fake.callback(miss))["type"] == 5
        error = (await fake.wait_call(
            "PATCH", f"/webhooks/{APP_ID}/{miss['token']}/messages/@original")).json
        assert error["content"].startswith("No quote matches") and error["embeds"] == []
    for body in fake.sent_messages():
        assert body["allowed_mentions"] == {"parse": []}


async def test_fast_answers_are_not_deferred(fake, bot):
    payload = await fake.send(fake.command("random"))
    body = await fake.callback(payload)
    assert body["type"] == 4 and ephemeral(body)
    assert [c for c in fake.calls if "/webhooks/" in c.path] == []


async def test_slow_autocomplete_answers_empty_in_time(fake, services, registry, monkeypatch):
    async def stuck(*args, **kwargs):
        await asyncio.Event().wait()

    monkeypatch.setattr(services.library, "search", stuck)
    async with running(fake, services, registry, autocomplete_budget=0.1):
        payload = await fake.send(fake.autocomplete("search", "query", query="ideas"))
        body = await fake.callback(payload, timeout=2)
    assert body == {"type": 8, "data": {"choices": []}}
