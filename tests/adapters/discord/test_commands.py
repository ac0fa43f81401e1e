"""The bot against the fake Discord: login, command sync, /quote commands and autocomplete."""

from __future__ import annotations

import asyncio

from quotebot.adapters.discord.client import QuoteBot
from quotebot.store.quotes import NewQuote, SpeakerInfo
from tests.adapters.discord.conftest import (
    assert_no_pings,
    button,
    custom_ids,
    embed_of,
    ephemeral,
    running,
    shown,
)
from tests.adapters.discord.fake_discord import APP_ID, GUILD_ID, TOKEN
from tests.conftest import source


async def best(services, query: str):
    return (await services.library.search(query, limit=1))[0]


# ---- connecting ---------------------------------------------------------------------------


async def test_login_identify_and_command_sync(fake, bot: QuoteBot):
    me = fake.find_calls("GET", "/users/@me")[0]
    assert me.headers["Authorization"] == f"Bot {TOKEN}"
    assert fake.find_calls("GET", "/gateway/bot")

    identify = fake.shards[0].identify
    assert identify["intents"] == 1  # GUILDS only: no members, no message content
    assert identify["shard"] == [0, 1]

    puts = fake.find_calls("PUT", "/commands")
    assert [c.path for c in puts] == [f"/applications/{APP_ID}/commands"]
    (quote,) = puts[0].json
    assert (quote["name"], quote["type"]) == ("quote", 1)
    subs = {o["name"]: o for o in quote["options"]}
    assert set(subs) == {"search", "random", "show", "speakers", "sources", "help", "daily",
                         "settings", "remove", "hide", "unhide", "edit", "library"}
    assert all(o["type"] == 1 for name, o in subs.items() if name not in ("daily", "library"))
    library = {o["name"]: o for o in subs["library"]["options"]}
    assert subs["library"]["type"] == 2 and list(library) == ["show", "enable", "disable"]
    daily = {o["name"]: o for o in subs["daily"]["options"]}
    assert subs["daily"]["type"] == 2 and list(daily) == ["set", "stop", "list", "now"]
    assert all(o["type"] == 1 for o in daily.values())
    daily_set = {o["name"]: o for o in daily["set"]["options"]}
    assert list(daily_set) == ["time", "channel", "timezone", "speaker", "source"]
    assert daily_set["time"]["type"] == 3 and daily_set["time"]["required"]
    # A real channel picker, offering text and announcement channels only.
    assert daily_set["channel"] == {**daily_set["channel"], "type": 7, "required": False,
                                    "channel_types": [0, 5]}
    assert daily_set["timezone"]["autocomplete"] and not daily_set["timezone"]["required"]
    for verb in ("stop", "now"):
        assert [(o["name"], o["type"]) for o in daily[verb]["options"]] == [("channel", 7)]
    assert daily["list"]["options"] == []
    # Discord cannot restrict a subcommand: /quote stays open, daily checks at run time.
    assert quote.get("default_member_permissions") is None
    search = {o["name"]: o for o in subs["search"]["options"]}
    assert [o["name"] for o in subs["search"]["options"]] == ["query", "speaker", "source"]
    assert search["query"] == {**search["query"], "type": 3, "required": True,
                               "autocomplete": True}
    assert search["speaker"]["autocomplete"] and not search["speaker"]["required"]
    assert search["source"]["autocomplete"]
    assert {o["name"] for o in subs["random"]["options"]} == {"speaker", "source"}
    show = {o["name"]: o for o in subs["show"]["options"]}
    assert show["id"]["type"] == 4 and show["id"]["required"] and show["id"]["min_value"] == 1
    assert "offset" not in search and "limit" not in search  # not Discord options
    assert all(1 <= len(o["description"]) <= 100 for o in quote["options"])
    assert all(1 <= len(o["description"]) <= 100 for o in daily.values())

    assert bot.allowed_mentions.to_dict() == {"parse": []}
    await asyncio.wait_for(bot.wait_until_ready(), 5)


async def test_no_sync_unless_asked(fake, services, registry):
    async with running(fake, services, registry):
        pass
    assert not fake.find_calls("PUT", "/commands")


async def test_guild_sync_for_development(fake, services, registry):
    async with running(fake, services, registry, sync=True, guild_id=GUILD_ID):
        payload = fake.command("search", query="ideas are cheap")
        payload["data"]["guild_id"] = str(GUILD_ID)  # a guild command's interaction
        body = await fake.callback(await fake.send(payload))
    assert [c.path for c in fake.find_calls("PUT", "/commands")] == \
        [f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"]
    assert fake.commands[str(GUILD_ID)][0]["name"] == "quote"
    assert body["type"] == 4 and "ideas are cheap" in embed_of(body)["description"]


async def test_two_shards_each_answer(fake, services, registry):
    async with running(fake, services, registry, shards=2, shard_count=2):
        assert sorted(s.identify["shard"][0] for s in fake.shards.values()) == [0, 1]
        assert {tuple(s.identify["shard"]) for s in fake.shards.values()} == {(0, 2), (1, 2)}
        first = await fake.callback(await fake.send(fake.command("random"), shard=0))
        second = await fake.callback(await fake.send(fake.command("random"), shard=1))
    assert first["type"] == second["type"] == 4


async def test_only_the_chosen_shard_ids_connect(fake, services, registry):
    async with running(fake, services, registry, shard_count=3, shard_ids=(2,)):
        assert [tuple(s.identify["shard"]) for s in fake.shards.values()] == [(2, 3)]
        body = await fake.callback(await fake.send(fake.command("help"), shard=2))
    assert body["type"] == 4


# ---- commands -----------------------------------------------------------------------------


async def test_search_end_to_end(fake, bot, services):
    expected = await best(services, "ideas are cheap")
    payload = await fake.send(fake.command("search", query="ideas are cheap"))
    body = await fake.callback(payload)
    assert body["type"] == 4 and ephemeral(body)
    embed = embed_of(body)
    assert embed["description"] == f"“{expected.text}”"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields == {"Speaker": "Ilya Sutskever",
                      "Source": "Ilya Sutskever on the Dwarkesh Podcast", "At": "1:25"}
    assert embed["footer"]["text"].startswith(f"Quote #{expected.id} · match 1 of ")
    assert custom_ids(body) == ["qb:next:1:::ideas are cheap", f"qb:ctx:{expected.id}",
                                f"qb:share:{expected.id}", f"qb:card:{expected.id}"]
    assert body["data"]["allowed_mentions"] == {"parse": []}


async def test_search_with_filters(fake, bot):
    body = await fake.callback(await fake.send(
        fake.command("search", query="control", speaker="greg", source="stage")))
    embed = embed_of(body)
    assert "control your inputs" in embed["description"]
    assert embed["fields"][0]["value"] == "Greg Brockman"
    assert "At" not in {f["name"] for f in embed["fields"]}  # the source has no times
    for cid in custom_ids(body):
        if cid.startswith("qb:next:"):
            assert cid.startswith("qb:next:1:Greg Brockman:stage:")


async def test_no_match_is_private_friendly_and_suggests(fake, bot):
    body = await fake.callback(await fake.send(fake.command("search", query="xyzzy plugh")))
    data = body["data"]
    assert body["type"] == 4 and ephemeral(body)
    assert not data.get("embeds") and not data.get("components")
    assert data["content"].startswith("No quote matches “xyzzy plugh”.")
    assert "Try:" in data["content"] and "• " in data["content"]


async def test_unknown_speaker_suggests_names(fake, bot):
    body = await fake.callback(await fake.send(
        fake.command("search", query="ideas", speaker="Ilia Sutskiver")))
    assert ephemeral(body)
    assert "Ilya Sutskever" in body["data"]["content"]


async def test_random_with_a_speaker(fake, bot):
    body = await fake.callback(await fake.send(fake.command("random", speaker="greg")))
    embed = embed_of(body)
    assert embed["fields"][0]["value"] == "Greg Brockman"
    assert [cid.split(":")[1] for cid in custom_ids(body)] == ["ctx", "share", "card"]


async def test_show_gives_the_quote_in_context(fake, bot, services):
    quote = await best(services, "ideas are cheap")
    body = await fake.callback(await fake.send(fake.command("show", id=quote.id)))
    embed = embed_of(body)
    assert embed["title"] == "In context" and embed["footer"]["text"] == f"Quote #{quote.id}"
    lines = embed["description"].split("\n\n")
    assert len(lines) == 5 and lines[2].startswith("▶ **Ilya Sutskever:**")
    assert custom_ids(body) == [f"qb:share:{quote.id}", f"qb:card:{quote.id}"]


async def test_show_unknown_id(fake, bot):
    body = await fake.callback(await fake.send(fake.command("show", id=99999)))
    assert ephemeral(body) and "There is no quote #99999." in body["data"]["content"]


async def test_help_and_lists(fake, bot):
    help_body = await fake.callback(await fake.send(fake.command("help")))
    names = [shown(f["name"]) for f in embed_of(help_body)["fields"]]
    assert "/quote search query:<query> [speaker:<speaker>] [source:<source>]" in names
    speakers = await fake.callback(await fake.send(fake.command("speakers")))
    assert "Ilya Sutskever" in embed_of(speakers)["description"]
    sources = await fake.callback(await fake.send(fake.command("sources")))
    assert "[stage]" in shown(embed_of(sources)["description"])
    assert_no_pings(fake)


# ---- autocomplete -------------------------------------------------------------------------


async def test_query_autocomplete_then_choosing_gives_exactly_that_quote(fake, bot, services):
    body = await fake.callback(await fake.send(
        fake.autocomplete("search", "query", query="scaling sucked")))
    assert body["type"] == 8
    choices = body["data"]["choices"]
    assert 1 <= len(choices) <= 25
    first = choices[0]
    assert first["name"].endswith("— Ilya Sutskever") and first["value"].startswith("#")
    chosen = int(first["value"][1:])

    picked = await fake.callback(await fake.send(fake.command("search", query=first["value"])))
    assert embed_of(picked)["footer"]["text"].startswith(f"Quote #{chosen}")
    quote = await services.library.get(chosen)
    assert quote.text in embed_of(picked)["description"]


async def test_query_autocomplete_caps_at_25_short_choices(fake, services, registry):
    crowd = SpeakerInfo("Alpha Centauri " + "Longname " * 12, None, ())
    text = "alpha " + "remarkably verbose sentence about nothing in particular " * 6
    await services.library.store.replace_source(
        source("crowd", "Crowd"), [crowd],
        [NewQuote(crowd.name, f"{text} number {i}", None, i, 0.6) for i in range(40)],
    )
    await services.library.store.refresh_terms()
    await services.library.load()
    async with running(fake, services, registry):
        body = await fake.callback(await fake.send(
            fake.autocomplete("search", "query", query="alpha remarkably")))
    choices = body["data"]["choices"]
    assert len(choices) == 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100 and 1 <= len(choice["value"]) <= 100


async def test_speaker_and_source_autocomplete(fake, bot):
    speakers = await fake.callback(await fake.send(
        fake.autocomplete("search", "speaker", query="ideas", speaker="ily")))
    assert speakers["data"]["choices"][0] == {"name": "Ilya Sutskever",
                                              "value": "Ilya Sutskever"}
    sources = await fake.callback(await fake.send(
        fake.autocomplete("random", "source", source="dwark")))
    assert sources["data"]["choices"][0] == {"name": "Ilya Sutskever on the Dwarkesh Podcast",
                                             "value": "podcast"}


async def test_autocomplete_with_too_little_typed_is_empty(fake, bot):
    body = await fake.callback(await fake.send(fake.autocomplete("search", "query", query="i")))
    assert body == {"type": 8, "data": {"choices": []}}


async def test_query_autocomplete_respects_the_speaker_already_chosen(fake, bot):
    body = await fake.callback(await fake.send(
        fake.autocomplete("search", "query", query="the", speaker="greg")))
    names = [c["name"] for c in body["data"]["choices"]]
    assert names and all(n.endswith("— Greg Brockman") for n in names)


async def test_next_button_id_from_a_real_search(fake, bot):
    body = await fake.callback(await fake.send(fake.command("search", query="cheap")))
    assert button(body, "qb:next:") == "qb:next:1:::cheap"
