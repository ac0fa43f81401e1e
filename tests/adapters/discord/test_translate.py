"""The translation functions on their own: custom ids, to_request, choices, render, the tree."""

from __future__ import annotations

from types import SimpleNamespace

import discord
import pytest
from discord import app_commands

from quotebot.adapters.discord import custom_ids
from quotebot.adapters.discord.interactions import Mode, to_choices, to_request, visibility
from quotebot.adapters.discord.render import (
    CONTENT_MAX,
    DESCRIPTION_MAX,
    clip,
    render,
    slash_hint,
    verbatim,
)
from quotebot.adapters.discord.tree import build_group, describe
from quotebot.bot.models import (
    CARD,
    CONTEXT,
    LISTEN,
    NEXT,
    PRIVATE,
    PUBLIC,
    REPLACE,
    SHARE,
    Action,
    ErrorReply,
    HelpEntry,
    HelpReply,
    Hint,
    ListReply,
    Quote,
    QuoteReply,
    Request,
    SearchState,
    TextReply,
    quote_request,
)
from quotebot.bot.registry import Choice, Command, Option
from tests.adapters.discord.conftest import shown

QUOTE = Quote(7, "Ideas are cheap, execution is everything.", "Ilya Sutskever",
              "Ilya on the Dwarkesh Podcast", "podcast", 85.0, 2, 0.9)
RISKY = Quote(9, "Hey @everyone, <@123> and <@&456>: **bold** _claims_", "Mallory <@123>",
              "Drill", "drill", None, 0, 0.9)


def ids(out) -> list[str]:
    return [item.custom_id for item in out.view.children] if out.view else []


# ---- custom ids ---------------------------------------------------------------------------


def next_id(state: SearchState, shown: int = 1) -> str | None:
    return custom_ids.encode(Action(NEXT, "Next match", state.next(shown)))


def quote_id(kind: str, quote: Quote) -> str | None:
    return custom_ids.encode(Action(kind, kind, quote_request(kind, quote)))


def test_next_id_round_trips_filters_and_a_query_with_colons():
    state = SearchState("ratio: 3:1 % done", "Dr. No: The Sequel", "my-source", 0, 5)
    cid = next_id(state)
    assert cid.startswith("qb:next:1:Dr. No%3A The Sequel:my-source:")
    pressed = custom_ids.decode(cid)
    assert (pressed.kind, pressed.command, pressed.answer) == ("next", "search", REPLACE)
    assert pressed.args == {"query": "ratio: 3:1 % done", "offset": 1,
                            "speaker": "Dr. No: The Sequel", "source": "my-source"}
    assert pressed.args == dict(state.next().args)  # decoded back into the core's request


def test_next_id_leaves_out_missing_filters():
    pressed = custom_ids.decode(next_id(SearchState("ideas", None, None, 1, 3)))
    assert pressed.args == {"query": "ideas", "offset": 2}


def test_no_next_button_when_the_query_does_not_fit_discords_100_characters():
    # A shortened query would be a different search, so its "next" could repeat or skip.
    long = SearchState(" ".join(["execution"] * 30), "Ilya Sutskever", "podcast", 2, 9)
    assert next_id(long) is None
    short = SearchState("execution is everything", "Ilya Sutskever", "podcast", 2, 9)
    cid = next_id(short)
    assert len(cid) <= 100
    assert custom_ids.decode(cid).args["query"] == "execution is everything"


def test_context_and_share_ids():
    quote = Quote(42, "text", "Ilya", "Podcast", "podcast", None, 0, 0.9)
    context = custom_ids.decode(quote_id(CONTEXT, quote))
    assert (context.args, context.answer) == ({"id": 42}, PRIVATE)
    share = custom_ids.decode(quote_id(SHARE, quote))
    assert (share.kind, share.command, share.args, share.answer) == (
        "share", "show", {"id": 42, "context": 0, "share": True}, PUBLIC)
    assert share.args == dict(quote_request(SHARE, quote).args)


def test_card_ids_round_trip_and_old_ids_still_decode():
    quote = Quote(42, "text", "Ilya", "Podcast", "podcast", None, 0, 0.9, highlight_id=7)
    assert quote_id(CARD, quote) == "qb:card:42h7"
    card = custom_ids.decode("qb:card:42h7")
    assert (card.kind, card.command, card.answer) == ("card", "show", PUBLIC)
    assert card.args == dict(quote_request(CARD, quote).args) == {
        "id": 42, "highlight": 7, "context": 0, "share": True, "card": True}
    # Ids on messages sent before cards existed decode as they did.
    assert custom_ids.decode("qb:share:42h7").args == {"id": 42, "highlight": 7, "context": 0,
                                                      "share": True}
    assert custom_ids.decode("qb:ctx:42").args == {"id": 42}
    assert custom_ids.decode("qb:card:") is None and custom_ids.decode("qb:card:1:2") is None


def test_buttons_of_a_highlight_name_the_highlight():
    quote = Quote(42, "text", "Ilya", "Podcast", "podcast", None, 0, 0.9, highlight_id=7)
    assert quote_id(CONTEXT, quote) == "qb:ctx:42h7"
    assert custom_ids.decode("qb:ctx:42h7").args == {"id": 42, "highlight": 7}
    share = custom_ids.decode(quote_id(SHARE, quote))
    assert share.args == {"id": 42, "highlight": 7, "context": 0, "share": True}
    assert custom_ids.decode("qb:ctx:h7") is None


def test_a_listen_action_has_no_custom_id():
    assert custom_ids.encode(Action(LISTEN, "Listen at 1:20", url="https://x.test/a")) is None


@pytest.mark.parametrize("cid", ["", "qb:", "qb:ctx:", "qb:ctx:abc", "qb:share:1:2",
                                 "qb:next:x:::q", "qb:next:1:::", "qb:zap:1", "other:ctx:1",
                                 "qb:ctx:1234567890123"])
def test_malformed_ids_decode_to_none(cid):
    assert custom_ids.decode(cid) is None


# ---- requests and choices ------------------------------------------------------------------


def interaction(**overrides):
    values = dict(
        user=SimpleNamespace(id=737, display_name="Caller", name="caller"),
        permissions=discord.Permissions(manage_guild=True),
        guild_id=515, channel_id=626,
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def test_to_request_translates_who_where_and_drops_unset_options():
    event = interaction()
    request = to_request(event, "search", {"query": "ideas", "speaker": None, "source": "pod"})
    assert request.command == "search"
    assert dict(request.args) == {"query": "ideas", "source": "pod"}
    assert (request.user.platform, request.user.id, request.user.name) == ("discord", "737",
                                                                           "Caller")
    assert request.user.is_admin
    assert (request.channel.workspace, request.channel.channel) == ("515", "626")
    assert request.raw is event


def test_to_request_in_a_dm_is_never_admin():
    request = to_request(interaction(guild_id=None, permissions=discord.Permissions.all()),
                         "random", {})
    assert request.channel.workspace == "@me" and not request.user.is_admin


def test_to_request_member_without_manage_server_is_not_admin():
    request = to_request(interaction(permissions=discord.Permissions(send_messages=True)),
                         "random", {})
    assert not request.user.is_admin


def picked(channel_id: int, **perms: bool) -> app_commands.AppCommandChannel:
    """A channel option as discord.py resolves it, with the caller's permissions there."""
    value = discord.Permissions(**perms).value
    return app_commands.AppCommandChannel(
        state=None, data={"id": str(channel_id), "name": "quotes", "type": 0,
                          "permissions": str(value)}, guild_id=515)


def test_a_picked_channel_becomes_its_id():
    request = to_request(interaction(), "daily set", {"channel": picked(999), "time": "09:00"})
    assert dict(request.args) == {"channel": "999", "time": "09:00"}
    # Autocomplete has no resolved data: discord.py gives a bare Object.
    bare = to_request(interaction(), "daily set", {"channel": discord.Object(998)})
    assert bare.args["channel"] == "998"


@pytest.mark.parametrize("typed_in, picked_perms, admin", [
    ({"manage_guild": True}, None, True),
    ({"administrator": True}, {}, True),
    ({"manage_channels": True}, None, True),  # manages the channel the command is about
    ({"manage_channels": True}, {"send_messages": True}, False),  # not the picked one
    ({"send_messages": True}, {"manage_channels": True}, True),  # manages the picked one
    ({"send_messages": True}, None, False),
])
def test_admin_is_manage_server_or_manage_the_channel_concerned(typed_in, picked_perms, admin):
    args = {} if picked_perms is None else {"channel": picked(999, **picked_perms)}
    event = interaction(permissions=discord.Permissions(**typed_in))
    assert to_request(event, "daily set", args).user.is_admin is admin


def test_to_choices_keeps_25_within_100_characters():
    many = [Choice("x" * 150 + f" {i}", "#" + "9" * 120) for i in range(40)]
    choices = to_choices(many + [Choice("", "#1"), Choice("   ", "#2")])
    assert len(choices) == 25
    assert all(1 <= len(c.name) <= 100 and 1 <= len(c.value) <= 100 for c in choices)


def test_to_choices_for_int_options_skips_non_numbers():
    choices = to_choices([Choice("one", "1"), Choice("bad", "x")], as_int=True)
    assert [(c.name, c.value) for c in choices] == [("one", 1)]


def test_visibility_rules():
    assert visibility(QuoteReply((QUOTE,)), Mode.PUBLIC)
    assert not visibility(ErrorReply("no"), Mode.PUBLIC)
    assert not visibility(QuoteReply((QUOTE,)), Mode.REPLY)
    assert visibility(TextReply("hi", public=True), Mode.REPLY)
    assert not visibility(QuoteReply((QUOTE,), public=True), Mode.PRIVATE)


# ---- render -------------------------------------------------------------------------------


def test_render_search_result_embed_and_buttons():
    reply = QuoteReply((QUOTE,), search=SearchState("ideas cheap", None, None, 0, 3))
    out = render(reply)
    assert out.ephemeral and out.content is None
    embed = out.embed.to_dict()
    assert embed["description"] == "“Ideas are cheap, execution is everything.”"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields == {"Speaker": "Ilya Sutskever", "Source": "Ilya on the Dwarkesh Podcast",
                      "At": "1:25"}
    assert embed["footer"]["text"] == "Quote #7 · match 1 of 3"
    assert ids(out) == ["qb:next:1:::ideas cheap", "qb:ctx:7", "qb:share:7", "qb:card:7"]
    assert out.send_kwargs()["allowed_mentions"].to_dict() == {"parse": []}


def test_render_last_match_has_no_next_button():
    reply = QuoteReply((QUOTE,), search=SearchState("ideas", None, None, 2, 3))
    assert ids(render(reply)) == ["qb:ctx:7", "qb:share:7", "qb:card:7"]


def test_render_public_quote_has_context_but_no_share():
    out = render(QuoteReply((QUOTE,), public=True))
    assert not out.ephemeral and ids(out) == ["qb:ctx:7"]


def test_render_context_marks_the_quote_and_offers_share_only():
    before = Quote(6, "So what about ideas?", "Dwarkesh Patel", QUOTE.source, "podcast",
                   80.0, 1, 0.5)
    out = render(QuoteReply((QUOTE,), context=(before, QUOTE)))
    embed = out.embed.to_dict()
    assert embed["title"] == "In context"
    assert embed["description"].splitlines()[0] == "Dwarkesh Patel: So what about ideas?"
    assert "▶ **Ilya Sutskever:** **Ideas are cheap" in embed["description"]
    assert ids(out) == ["qb:share:7", "qb:card:7"]


def test_render_keeps_mentions_and_markdown_verbatim_in_embeds():
    embed = render(QuoteReply((RISKY,))).embed.to_dict()
    # Markdown is escaped (invisible in Discord), mentions are left as written: they cannot
    # ping because every message goes out with allowed_mentions={"parse": []}.
    assert "@everyone, <@123> and <@&456>" in embed["description"]
    assert "\\*\\*bold\\*\\* \\_claims\\_" in embed["description"]
    assert embed["fields"][0]["value"] == "Mallory <@123>"


def test_render_clips_a_huge_quote_to_discords_limits():
    huge = Quote(1, "word_ " * 2000, None, "S" * 3000, "s", None, 0, 0.5)
    embed = render(QuoteReply((huge,))).embed.to_dict()
    assert len(embed["description"]) <= DESCRIPTION_MAX
    assert embed["description"].endswith("…") and not embed["description"].endswith("\\…")
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    assert embed["fields"][0]["value"] == "Unknown speaker"


def test_render_error_is_private_with_slash_suggestions(registry):
    reply = ErrorReply("No quote matches “zzz”.",
                       ("Try fewer words.", Hint(command="random"),
                        Hint(request=Request("search", {"query": "ideas are cheap",
                                                        "speaker": "ilya"})),
                        Hint("lists who is quoted:", request=Request("speakers"))))
    out = render(reply, public=True, registry=registry)
    assert out.ephemeral and out.embed is None and out.view is None
    assert out.content.splitlines() == [
        "No quote matches “zzz”.", "Try:", "• Try fewer words.",
        "• `/quote random [speaker:<speaker>] [source:<source>]`",
        "• `/quote search query:ideas are cheap speaker:ilya`",
        "• lists who is quoted: `/quote speakers`",
    ]


def test_slash_hint_writes_requests_and_commands_never_prose(registry):
    assert slash_hint(Hint("Ingest a transcript: quotebot ingest PATH"), registry) is None
    assert slash_hint(Hint(command="nothing", spelled="/quote nothing"), registry) == \
        "/quote nothing"
    assert slash_hint(Hint(request=Request("show", {"id": 42}), spelled="/quote show 42"),
                      None) == "/quote show 42"
    assert slash_hint(Hint(request=Request("show", {"id": 42})), registry) == \
        "/quote show id:42"


def test_render_help_uses_slash_usages(registry):
    from quotebot.bot.commands import help_reply

    embed = render(help_reply(registry), registry=registry).embed.to_dict()
    names = [shown(f["name"]) for f in embed["fields"]]
    assert "/quote search query:<query> [speaker:<speaker>] [source:<source>]" in names
    assert "/quote show id:<id> [context:<context>]" in names
    assert all("by:" not in n for n in names)


def test_render_list_text_and_limits():
    out = render(ListReply("Speakers", tuple(f"Speaker {i} " + "x" * 200 for i in range(100))))
    description = out.embed.to_dict()["description"]
    assert len(description) <= DESCRIPTION_MAX and description.endswith("more")
    text = render(TextReply("a" * 5000, public=True))
    assert not text.ephemeral and len(text.content) <= CONTENT_MAX
    help_reply = HelpReply("Help", (HelpEntry("x", "/quote x", "does x"),))
    assert render(help_reply).embed.fields[0].value == "does x"


def test_clip_and_verbatim():
    assert clip("short", 10) == "short"
    assert clip("one two three four", 10) == "one two…"
    assert verbatim("a*b", 10) == "a\\*b"
    assert len(verbatim("*" * 50, 20)) <= 20


# ---- the command tree ----------------------------------------------------------------------


async def _noop(*args):
    return []


async def _handler(request, services):
    return TextReply("ok")


def test_tree_turns_spaced_names_into_subgroups():
    from quotebot.bot.commands import QUOTE_COMMANDS
    from quotebot.bot.registry import Registry

    daily = (
        Command("daily set", "Post a quote here every day.", _handler,
                (Option("time", "When, e.g. 09:00.", required=True),
                 Option("speaker", "Only this speaker.", complete=_noop))),
        Command("daily stop", "Stop the daily quote.", _handler),
        Command("daily list", "List the daily quotes.", _handler),
        Command("daily now", "Post today's quote now.", _handler),
    )
    group = build_group(Registry([*QUOTE_COMMANDS, *daily]), _noop, _noop)
    client = discord.Client(intents=discord.Intents(guilds=True))
    payload = group.to_dict(app_commands.CommandTree(client))
    subs = {o["name"]: o for o in payload["options"]}
    assert payload["name"] == "quote"
    assert set(subs) == {"search", "random", "show", "speakers", "sources", "settings", "daily",
                         "remove", "hide", "unhide", "edit", "list"}
    assert subs["daily"]["type"] == 2
    assert [o["name"] for o in subs["daily"]["options"]] == ["set", "stop", "list", "now"]
    set_options = subs["daily"]["options"][0]["options"]
    assert [(o["name"], o["required"], o.get("autocomplete", False)) for o in set_options] == \
        [("time", True, False), ("speaker", False, True)]


def test_tree_hides_non_discord_options_and_puts_required_first():
    cmd = Command("pick", "x" * 300, _handler, (
        Option("limit", "hidden", type=int, platforms=frozenset({"text"})),
        Option("where", "optional first in the registry"),
        Option("what", "required", required=True),
        Option("n", "bounded", type=int, min_value=1, max_value=5),
    ))
    from quotebot.bot.registry import Registry

    group = build_group(Registry([cmd]), _noop, _noop)
    payload = group.to_dict(app_commands.CommandTree(discord.Client(
        intents=discord.Intents(guilds=True))))
    sub = payload["options"][0]
    assert len(sub["description"]) == 100
    assert [o["name"] for o in sub["options"]] == ["what", "where", "n"]
    assert (sub["options"][2]["min_value"], sub["options"][2]["max_value"]) == (1, 5)


def test_tree_refuses_names_nested_too_deep():
    from quotebot.bot.registry import Registry

    with pytest.raises(ValueError, match="at most"):
        build_group(Registry([Command("a b c", "too deep", _handler)]), _noop, _noop)


def test_describe_fits_discord():
    assert describe("") == "…"
    assert describe("one\ntwo") == "one two"
    assert len(describe("y" * 500)) == 100
