"""Saving quotes from chat through the fake Slack: the Save as quote message shortcut and
`/quote add`; each workspace keeps its own, nothing pings, the saver or an admin removes."""

from __future__ import annotations

import re

from quotebot.store.curate import CurateStore
from tests.adapters.slack.conftest import CALLER, CHANNEL, block_text, chat_message
from tests.adapters.slack.fake_slack import TEAM
from tests.adapters.slack.test_safety import assert_nothing_unescaped

OTHER_TEAM = "T0OTHER"
OTHER_USER = "U0OTHER"
LINE = "Planning is cheap; shipping every Friday is what teaches the team anything at all."
LINK = f"https://test.slack.com/archives/{CHANNEL}/p1700000100000200"


def saved_id(reply) -> int:
    found = re.search(r"Saved as quote #(\d+)", block_text(reply.data))
    assert found, reply.data
    return int(found.group(1))


def urls(message: dict) -> list[str]:
    return [e["url"] for b in message.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"] if e.get("url")]


async def test_a_saved_message_is_found_in_its_workspace_and_not_in_another(slack, fake,
                                                                             library):
    fake.names["U0ANA"] = "Ana"
    reply = await slack.shortcut(chat_message(LINE))
    assert reply.data["response_type"] == "ephemeral"
    assert "Ana" in block_text(reply.data)
    qid = saved_id(reply)
    assert [c.data.get("user") for c in fake.calls("users.info")] == ["U0ANA"]

    found = await slack.command("shipping every friday")
    assert "teaches the team" in block_text(found.data) and f"#{qid}" in block_text(found.data)
    assert LINK in urls(found.data)
    shown = await slack.command(f"show {qid}")
    assert "teaches the team" in block_text(shown.data) and LINK in urls(shown.data)

    elsewhere = await slack.command(f"show {qid}", team=OTHER_TEAM)
    assert f"There is no quote #{qid}." in block_text(elsewhere.data)
    missed = await slack.command("shipping every friday", team=OTHER_TEAM)
    assert "teaches the team" not in block_text(missed.data)

    theirs = await slack.shortcut(chat_message(
        "Our standups run nine minutes because the timer never lies.", "1700000200.000300"),
        team=OTHER_TEAM)
    other_id = saved_id(theirs)
    assert "timer never lies" in block_text(
        (await slack.command(f"show {other_id}", team=OTHER_TEAM)).data)
    assert f"There is no quote #{other_id}." in block_text(
        (await slack.command(f"show {other_id}")).data)

    latest, first = await CurateStore(library.db).audit()
    assert (first.action, first.actor_platform, first.actor_id, first.target_id) == (
        "save", "slack", CALLER, str(qid))
    assert first.after["saved_from"]["link"] == LINK
    assert latest.target_id == str(other_id)


async def test_saving_twice_says_already_saved(slack, fake):
    qid = saved_id(await slack.shortcut(chat_message(LINE)))
    again = await slack.shortcut(chat_message(LINE), user=OTHER_USER)
    assert f"That message is already saved as #{qid}." in block_text(again.data)


async def test_without_a_domain_the_link_is_asked_of_slack(slack, fake, library):
    qid = saved_id(await slack.shortcut(chat_message(LINE), domain=None))
    (asked,) = fake.calls("chat.getPermalink")
    assert asked.data["channel"] == CHANNEL and asked.data["message_ts"] == "1700000100.000200"
    origin = await library.saved.origin(qid)
    assert origin.link == f"https://asked.slack.invalid/archives/{CHANNEL}/p1700000100000200"
    assert (origin.platform, origin.workspace, origin.channel, origin.message_id) == (
        "slack", TEAM, CHANNEL, "1700000100.000200")


async def test_saving_and_showing_never_pings(slack, fake, library):
    fake.names.update({"U0ANA": "Ana <!channel>", "U0BOB": "Bob"})
    risky = ("Ping <!channel> and <!here>, <@U0BOB> says ideas are cheap &amp; "
             "execution &lt;wins&gt; — ask <!subteam^S1|@devs> in <#C0X|general>.")
    reply = await slack.shortcut(chat_message(risky))
    qid = saved_id(reply)
    stored = (await library.get(qid)).verbatim
    assert stored == ("Ping @channel and @here, @Bob says ideas are cheap & execution <wins> — "
                      "ask @devs in #general.")
    await slack.command(f"show {qid}")
    await slack.command("ideas are cheap execution wins")
    assert_nothing_unescaped(fake)  # no <!channel>, <@…> or raw < in anything sent


async def test_quote_add_keeps_a_line_said_on_a_call(slack, fake):
    reply = await slack.command(
        'add We ship on Fridays and never on Mondays, ever. by:Greg source:"Monday call"')
    qid = saved_id(reply)
    assert "Greg Brockman" in block_text(reply.data) and "Monday call" in block_text(reply.data)
    shown = await slack.command(f"show {qid}")
    assert "ship on Fridays" in block_text(shown.data)
    assert f"There is no quote #{qid}." in block_text(
        (await slack.command(f"show {qid}", team=OTHER_TEAM)).data)


async def test_the_saver_or_an_admin_may_remove_a_saved_quote_nobody_else(slack, fake,
                                                                           library):
    qid = saved_id(await slack.shortcut(chat_message(LINE)))  # saved by CALLER
    refused = await slack.command(f"remove {qid}", user=OTHER_USER)
    assert "the person who saved" in block_text(refused.data)
    assert await library.get(qid) is not None
    removed = await slack.command(f"remove {qid}")  # the saver, not an admin
    assert f"Removed quote #{qid}" in block_text(removed.data)
    assert await library.get(qid) is None

    again = saved_id(await slack.shortcut(chat_message(LINE)))
    fake.admins.add(OTHER_USER)
    by_admin = await slack.command(f"remove {again}", user=OTHER_USER)
    assert f"Removed quote #{again}" in block_text(by_admin.data)
    actions = [(e.action, e.actor_id) for e in await CurateStore(library.db).audit()]
    assert actions == [("remove", OTHER_USER), ("save", CALLER), ("remove", CALLER),
                       ("save", CALLER)]


def test_an_org_wide_installs_shortcuts_act_in_the_orgs_library():
    """Save as quote and Add transcript on an Enterprise Grid install reach the org's
    library, as its slash commands and buttons do (not the one workspace's)."""
    from quotebot.adapters.slack.requests import shortcut_request, transcript_request

    body = {"type": "message_action", "team": {"id": "T1"}, "channel": {"id": "C1"},
            "user": {"id": "U1", "team_id": "T1"}, "is_enterprise_install": True,
            "enterprise": {"id": "E1"},
            "message": {"ts": "1700000100.000200", "user": "U2", "text": "words"}}
    for request in (shortcut_request(body, "save", names={}, link=None),
                    transcript_request(body)):
        assert (request.channel.workspace, request.channel.org) == ("T1", "E1")
    body["is_enterprise_install"] = False
    assert shortcut_request(body, "save", names={}, link=None).channel.org == ""
