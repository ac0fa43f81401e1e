"""Never ping anyone, and never fall over on a malformed or unknown interaction."""

from __future__ import annotations

import logging

from tests.adapters.discord.conftest import (
    RISKY,
    assert_no_pings,
    button,
    embed_of,
    ephemeral,
)
from tests.adapters.discord.fake_discord import CHANNEL_ID

PINGS = "@everyone @here <@123> <@&456> <@!789>"


# ---- mentions -----------------------------------------------------------------------------


async def test_a_quote_full_of_mentions_pings_nobody(fake, bot):
    payload = await fake.send(fake.command("search", query="claims are cheap everyone"))
    body = await fake.callback(payload)
    embed = embed_of(body)
    # Shown as written (mentions intact, markdown escaped so it renders literally) ...
    assert "Hey @everyone and @here, ask <@123> and the <@&456> role" in embed["description"]
    assert "\\*\\*bold\\*\\*" in embed["description"]
    assert embed["fields"][0]["value"] == "Mallory <@123>"
    assert embed["fields"][1]["value"] == "Mention drill <@&456>"
    # ... and sent with every kind of mention disabled.
    assert body["data"]["allowed_mentions"] == {"parse": []}

    # Shared publicly, it still pings nobody.
    message = await fake.original(payload)
    shared = await fake.callback(await fake.send(fake.click(message,
                                                            button(body, "qb:share:"))))
    assert not ephemeral(shared) and RISKY.split(":")[0] in embed_of(shared)["description"]
    assert shared["data"]["allowed_mentions"] == {"parse": []}
    assert_no_pings(fake)


async def test_a_query_full_of_mentions_is_echoed_without_pinging(fake, bot):
    body = await fake.callback(await fake.send(fake.command("search", query=f"{PINGS} xyzzy",
                                                            source="stage")))
    assert ephemeral(body)
    assert PINGS in body["data"]["content"]
    assert body["data"]["allowed_mentions"] == {"parse": []}


async def test_mentions_in_filters_and_autocomplete(fake, bot):
    body = await fake.callback(await fake.send(
        fake.command("random", speaker="<@123>", source="@everyone")))
    assert body["data"]["allowed_mentions"] == {"parse": []}
    choices = await fake.callback(await fake.send(
        fake.autocomplete("search", "speaker", query="x", speaker="<@12")))
    assert choices["type"] == 8
    assert_no_pings(fake)


# ---- malformed and unknown interactions ---------------------------------------------------


async def still_answers(fake) -> None:
    body = await fake.callback(await fake.send(fake.command("search", query="ideas cheap")))
    assert body["type"] == 4 and "ideas are cheap" in embed_of(body)["description"]


async def test_command_without_data_is_refused_politely(fake, bot, caplog):
    caplog.set_level(logging.WARNING)
    body = await fake.callback(await fake.send(fake.interaction(2, None)))
    assert body["type"] == 4 and ephemeral(body)
    assert "not available" in body["data"]["content"]
    assert "malformed command interaction" in caplog.text
    await still_answers(fake)


async def test_unknown_subcommand_and_command(fake, bot, caplog):
    caplog.set_level(logging.WARNING)
    for payload in (fake.command("frobnicate", level=3),
                    fake.interaction(2, {"id": "1", "name": "nope", "type": 1, "options": []}),
                    fake.command("weekly set", time="09:00"),  # an unknown group
                    fake.command("daily frobnicate", time="09:00")):  # a known group
        body = await fake.callback(await fake.send(payload))
        assert body["type"] == 4 and ephemeral(body)
        assert "/quote help" in body["data"]["content"]
    assert "a command we do not have" in caplog.text
    await still_answers(fake)


async def test_autocomplete_for_an_unknown_command_gets_no_choices(fake, bot):
    body = await fake.callback(await fake.send(
        fake.autocomplete("frobnicate", "thing", thing="ab")))
    assert body == {"type": 8, "data": {"choices": []}}


async def test_unknown_and_malformed_buttons_are_answered(fake, bot, caplog):
    caplog.set_level(logging.WARNING)
    first = await fake.send(fake.command("search", query="ideas are cheap"))
    message = await fake.original(first)
    for custom_id in ("poll:vote:3", "qb:ctx:not-a-number", "qb:frob:1"):
        stale = {**message, "components": [{"type": 1, "components": [
            {"type": 2, "style": 2, "label": "?", "custom_id": custom_id}]}]}
        body = await fake.callback(await fake.send(fake.click(stale, custom_id)))
        assert body["type"] == 4 and ephemeral(body)
        assert "no longer works" in body["data"]["content"]
        assert f"unknown button '{custom_id}'" in caplog.text
    await still_answers(fake)


async def test_unparseable_events_are_logged_and_survived(fake, bot, caplog):
    caplog.set_level(logging.WARNING)
    broken = fake.interaction(3, None)  # a component interaction without data
    await fake.send(broken)
    no_token = fake.command("random")
    del no_token["token"]
    await fake.send(no_token)
    await fake.dispatch("INTERACTION_CREATE", {"type": 2, "channel_id": str(CHANNEL_ID)})
    await still_answers(fake)  # the same connection, still serving
    assert caplog.text.count("ignoring a malformed interaction") == 3
    assert not fake.find_calls("POST", f"/interactions/{broken['id']}/")
    assert len(fake.shards) == 1 and not bot.is_closed()
