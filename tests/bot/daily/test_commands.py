"""The daily commands through the registry and the text grammar, as the adapters call them."""

from __future__ import annotations

import pytest

from quotebot.bot.all_commands import build_registry
from quotebot.bot.daily.commands import complete_timezone, target_channel
from quotebot.bot.daily.poster import PermanentPostError, TransientPostError
from quotebot.bot.grammar import parse
from quotebot.bot.models import (
    ChannelRef,
    ErrorReply,
    ListReply,
    Mention,
    QuoteReply,
    Request,
    Text,
    TextReply,
    UserRef,
)
from quotebot.bot.registry import Services
from tests.bot.daily.conftest import ADMIN, GUILD, MEMBER, chan, utc

pytestmark = pytest.mark.both_engines

HERE = ChannelRef("discord", GUILD, "C9")  # where the commands are typed


@pytest.fixture
def registry():
    return build_registry()


@pytest.fixture
def services(lib, service) -> Services:
    return Services(library=lib, daily=service)


def run(registry, services, name, user=ADMIN, where=HERE, **args):
    return registry.dispatch(Request(name, args, user, where), services)


async def test_set_confirms_with_the_next_local_post(registry, services, service):
    reply = await run(registry, services, "daily set", channel="C1", time="9:00",
                      timezone="europe/paris")
    # The clock says Wed 20 Nov 12:00 UTC (13:00 in Paris).
    assert reply == TextReply(Text.of(  # the channel is a part adapters link, not text
        "Daily quote for ", Mention("C1"), " at 09:00 Europe/Paris, next on Thu 21 Nov 09:00."))
    (sub,) = await service.list()
    assert (sub.channel, sub.created_by) == ("C1", "discord:100")
    reply = await run(registry, services, "daily set", channel="<#C1>", time="18:30",
                      speaker="ada", source="beta")
    assert str(reply.text) == ("Daily quote changed: for #C1 at 18:30 Europe/Paris (by Ada "
                          "Lovelace from Beta Interviews), next on Wed 20 Nov 18:30.")
    assert len(await service.list()) == 1


async def test_without_a_channel_argument_the_current_channel_is_used(registry, services,
                                                                     service):
    slack = ChannelRef("slack", "T1", "CSLACK")
    admin = UserRef("slack", "U1", is_admin=True)
    reply = await run(registry, services, "daily set", user=admin, where=slack,
                      time="08:00")
    assert isinstance(reply, TextReply) and "#CSLACK at 08:00 UTC" in str(reply.text)
    assert (await service.find(slack)).created_by == "slack:U1"


@pytest.mark.parametrize("args, message", [
    ({"time": "25:00"}, "is not a time"),
    ({"time": "9"}, "is not a time"),
    ({"time": "noon"}, "is not a time"),
    ({"time": "12:60"}, "is not a time"),
    ({"time": "09:00", "timezone": "Mars/Olympus"}, "not a timezone"),
    ({"time": "09:00", "speaker": "zed nobody"}, "No speaker called"),
    ({"time": "09:00", "speaker": "Cy"}, "good enough for a daily post"),
    ({"time": "09:00", "source": "nowhere at all"}, "No source called"),
    ({}, "needs time"),
])
async def test_bad_input_is_a_private_error_and_changes_nothing(registry, services, service,
                                                                args, message):
    await run(registry, services, "daily set", channel="C1", time="07:00")
    reply = await run(registry, services, "daily set", channel="C1", **args)
    assert isinstance(reply, ErrorReply) and not reply.public
    assert message in str(reply.message)
    (sub,) = await service.list()
    assert (sub.local_time, sub.timezone, sub.speaker) == ("07:00", "UTC", None)


async def test_a_channel_the_bot_cannot_post_in_is_refused(registry, services, service,
                                                         poster):
    poster.check_error = PermanentPostError("I need the Send Messages permission there")
    reply = await run(registry, services, "daily set", channel="C1", time="09:00")
    assert isinstance(reply, ErrorReply)
    assert str(reply.message) == ("I can't post in #C1: I need the Send Messages permission "
                             "there")
    poster.check_error = TransientPostError("HTTP 503")
    reply = await run(registry, services, "daily set", channel="C1", time="09:00")
    assert isinstance(reply, ErrorReply) and "try again" in str(reply.message)
    assert await service.list() == []


async def test_only_admins_create_and_only_admins_or_the_creator_change(registry, services,
                                                                       service):
    reply = await run(registry, services, "daily set", user=MEMBER, channel="C1",
                      time="09:00")
    assert isinstance(reply, ErrorReply) and "admins" in str(reply.message)
    assert await service.list() == []
    # An admin sets it up; later they are no longer an admin but still its creator.
    await run(registry, services, "daily set", channel="C1", time="09:00")
    creator = UserRef("discord", ADMIN.id, "admin", is_admin=False)
    other = UserRef("discord", "300", "someone")
    for name, args in (("daily set", {"time": "10:00"}), ("daily now", {}),
                       ("daily stop", {})):
        reply = await run(registry, services, name, user=other, channel="C1", **args)
        assert isinstance(reply, ErrorReply) and "whoever set it up" in str(reply.message)
    reply = await run(registry, services, "daily set", user=creator, channel="C1",
                      time="10:00")
    assert isinstance(reply, TextReply)
    reply = await run(registry, services, "daily stop", user=creator, channel="C1")
    assert reply == TextReply(Text.of("Stopped the daily quote in ", Mention("C1"), "."))
    assert await service.list() == []
    reply = await run(registry, services, "daily stop", channel="C1")
    assert isinstance(reply, ErrorReply) and "no daily quote in #C1" in str(reply.message)


async def test_same_user_id_on_another_platform_is_not_the_creator(registry, services):
    await run(registry, services, "daily set", channel="C1", time="09:00")
    impostor = UserRef("slack", ADMIN.id)
    reply = await run(registry, services, "daily stop", user=impostor, channel="C1")
    assert isinstance(reply, ErrorReply)


async def test_list_shows_next_last_post_and_last_error(registry, services, service, clock,
                                                        poster):
    await run(registry, services, "daily set", channel="C1", time="10:00",
              timezone="Europe/Paris", speaker="bob")
    await run(registry, services, "daily set", channel="C2", time="09:00")
    await service.set(ChannelRef("discord", "OTHER", "C3"), time="09:00", actor=ADMIN)
    clock.set(utc(2024, 11, 21, 9, 0))
    poster.fail_next["C2"] = TransientPostError("HTTP 502 from Discord")
    await service.scheduler.run_once()
    reply = await run(registry, services, "daily list")
    assert isinstance(reply, ListReply) and reply.title == "Daily quotes"
    assert tuple(map(str, reply.items)) == (
        "#C1 · 10:00 Europe/Paris · by Bob Kahn · next Fri 22 Nov 10:00 · "
        "last posted Thu 21 Nov 10:00",
        "#C2 · 09:00 UTC · retrying Thu 21 Nov 09:00 · not posted yet · "
        "last error: HTTP 502 from Discord",
    )
    assert [item.parts[0] for item in reply.items] == [Mention("C1"), Mention("C2")]
    assert not reply.public
    # `/quote daily` (Slack's status) is the same command.
    assert registry.get("daily").name == "daily list"


async def test_list_when_empty(registry, services):
    reply = await run(registry, services, "daily list")
    assert reply.items == ("No daily quotes yet. Set one with /quote daily set",)


async def test_now_posts_publicly_through_the_poster(registry, services, poster):
    await run(registry, services, "daily set", channel="C1", time="09:00", speaker="Bob")
    reply = await run(registry, services, "daily now", channel="C1")
    assert len(poster.sent) == 1 and poster.sent[0].channel == chan("C1")
    assert reply == TextReply(Text.of(f"Posted quote #{poster.sent[0].quote_id} in ",
                                      Mention("C1"), "."))
    reply = await run(registry, services, "daily now", channel="C2")
    assert isinstance(reply, ErrorReply) and "no daily quote" in str(reply.message)
    poster.failing = PermanentPostError("the bot was removed from the channel")
    reply = await run(registry, services, "daily now", channel="C1")
    assert isinstance(reply, ErrorReply) and "removed" in str(reply.message)


async def test_now_without_a_poster_returns_the_quote(registry, lib, service):
    service.posters.clear()
    services = Services(library=lib, daily=service)
    await run(registry, services, "daily set", channel="C1", time="09:00")
    reply = await run(registry, services, "daily now", channel="C1")
    assert isinstance(reply, QuoteReply) and reply.public


async def test_without_the_daily_service_the_commands_say_so(registry, lib):
    services = Services(library=lib)
    for name in ("daily set", "daily stop", "daily list", "daily now"):
        reply = await run(registry, services, name, time="09:00")
        assert isinstance(reply, ErrorReply) and "not available" in str(reply.message)


async def test_outside_a_channel_the_changes_are_refused(registry, services):
    reply = await run(registry, services, "daily set", user=None, where=None, time="09:00")
    assert isinstance(reply, ErrorReply)


async def test_timezone_autocomplete(services):
    choices = await complete_timezone(services, "paris", Request("daily set"))
    assert choices[0].name == choices[0].value == "Europe/Paris"
    assert len(await complete_timezone(services, "", Request("daily set"))) > 5


def test_channel_mentions_are_accepted():
    for text in ("C7", "<#C7>", "<#C7|general>", " <#C7> "):
        request = Request("daily stop", {"channel": text}, ADMIN, HERE)
        assert target_channel(request) == ChannelRef("discord", GUILD, "C7")
    assert target_channel(Request("daily stop", {}, ADMIN, HERE)) == HERE


# ---- the text grammar (console and Slack) -------------------------------------------------


@pytest.mark.parametrize("line, name, args", [
    ("/quote daily", "daily list", {}),
    ("/quote daily list", "daily list", {}),
    ("/quote daily off", "daily stop", {}),
    ("/quote daily stop", "daily stop", {}),
    ("/quote daily now", "daily now", {}),
    ("/quote daily set 09:00 Europe/Paris by:ada in:beta", "daily set",
     {"time": "09:00", "timezone": "Europe/Paris", "speaker": "ada", "source": "beta"}),
])
def test_text_grammar(registry, line, name, args):
    request = parse(line, registry, user=ADMIN, channel=HERE)
    assert (request.command, dict(request.args)) == (name, args)


def test_text_grammar_group_verb_with_arguments_sets(registry):
    """Slack's `/quote daily 09:00 [tz] [by:] [in:]` must run `daily set`."""
    request = parse("/quote daily 09:00 Europe/Paris by:ada", registry, user=ADMIN,
                    channel=HERE)
    assert (request.command, dict(request.args)) == (
        "daily set", {"time": "09:00", "timezone": "Europe/Paris", "speaker": "ada"})


@pytest.mark.parametrize("channel, message", [
    ("   ", "The channel is empty"),
    ("<#>", "is not a channel id"),
    ("<@U1>", "is not a channel id"),
    ("@everyone", "is not a channel id"),
])
async def test_a_blank_or_malformed_channel_is_refused(registry, services, service, channel,
                                                       message):
    for name, args in (("daily set", {"time": "09:00"}), ("daily stop", {}),
                       ("daily now", {})):
        reply = await run(registry, services, name, channel=channel, **args)
        assert isinstance(reply, ErrorReply) and message in str(reply.message), (name, reply)
    assert await service.list() == []


async def test_a_pasted_channel_mention_is_stored_as_its_id(registry, services, service):
    reply = await run(registry, services, "daily set", channel="<#C7|general>", time="09:00")
    assert isinstance(reply, TextReply), reply
    (sub,) = await service.list()
    assert sub.channel == "C7"


async def test_an_empty_timezone_given_to_the_service_is_refused(service):
    from quotebot.bot.daily.service import DailyError

    with pytest.raises(DailyError, match="The timezone is empty"):
        await service.set(chan("C1"), time="09:00", timezone=" ", actor=ADMIN)
    assert await service.list() == []


async def test_a_huge_filter_value_is_refused_without_echoing_it(registry, services, service):
    for option in ("speaker", "source"):
        reply = await run(registry, services, "daily set", channel="C1", time="09:00",
                          **{option: "x" * 1_000_000})
        assert isinstance(reply, ErrorReply) and "too long" in str(reply.message)
        assert len(str(reply.message)) < 200
    assert await service.list() == []


async def test_a_dm_is_refused_by_the_poster_not_as_a_malformed_id(registry, services,
                                                                   poster):
    poster.check_error = PermanentPostError("daily quotes are for server channels, not DMs")
    dm = ChannelRef("discord", "@me", "D1")
    reply = await run(registry, services, "daily set", where=dm, time="09:00")
    assert isinstance(reply, ErrorReply) and "not DMs" in str(reply.message)
