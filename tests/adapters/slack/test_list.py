"""`/quote list` with Previous/Next buttons and `/quote sources remove` through slack-bolt and
the fake Slack: each workspace sees and removes its own sources only; members may not remove."""

from __future__ import annotations

import json

from quotebot.store.curate import CurateStore
from quotebot.store.quotes import NewQuote, SpeakerInfo
from tests.adapters.slack.conftest import CALLER, block_text, buttons, find_button
from tests.adapters.slack.fake_slack import TEAM
from tests.conftest import source

OTHER_TEAM = "T0OTHER"
ANA = SpeakerInfo("Ana Lovelace", None, ("Ana",))


async def own_source(library, team: str, slug: str, title: str, count: int) -> None:
    store = await library.writer(library=("slack", team))
    await store.replace_source(source(slug, title), [ANA], [
        NewQuote(ANA.name, f"Line number {i} of {title} is worth keeping.", float(i), i, 0.8)
        for i in range(count)])
    await library.store.refresh_terms()
    await library.reload()


def items(message: dict) -> list[str]:
    return [line for line in block_text(message).split("\n") if line.startswith("• ")]


async def test_next_replaces_the_list_with_page_two_and_previous_goes_back(slack, fake,
                                                                         library):
    await own_source(library, TEAM, "team-talk", "Team talk", 14)
    first = await slack.command("list in:team-talk")
    assert first.data["response_type"] == "ephemeral"
    assert "*Quotes in Team talk — page 1 of 2*" in block_text(first.data)
    assert len(items(first.data)) == 10 and buttons(first.data) == ["quote_page_next"]
    talk = await CurateStore(library.db).source("team-talk")
    assert json.loads(find_button(first.data, "quote_page_next")["value"]) == {
        "c": "list", "a": {"page": 2, "source_id": talk.id}}

    second = await fake.wait_for(await slack.click(first, "quote_page_next"))
    assert second.data["replace_original"] is True  # the list shown becomes page 2
    assert "page 2 of 2" in block_text(second.data)
    assert [i.split("“")[1][:15] for i in items(second.data)] == [
        f"Line number {n} " for n in range(10, 14)]
    assert buttons(second.data) == ["quote_page_previous"]

    back = await fake.wait_for(await slack.click(second, "quote_page_previous"))
    assert items(back.data) == items(first.data)

    by = await slack.command("list by:ilya")
    assert "Quotes by Ilya Sutskever — page 1 of 1" in block_text(by.data)
    assert items(by.data) and all("— Ilya Sutskever," in i for i in items(by.data))
    assert buttons(by.data) == []


async def test_each_workspace_lists_and_removes_only_its_own_sources(slack, fake, library):
    await own_source(library, TEAM, "team-talk", "Team talk", 2)
    await own_source(library, OTHER_TEAM, "other-secret", "Other secret", 2)
    curate = CurateStore(library.db)

    mine = await slack.command("list")
    assert any("Team talk" in i for i in items(mine.data))
    assert not any("Other secret" in i for i in items(mine.data))
    theirs = await slack.command("list", team=OTHER_TEAM)
    assert any("Other secret" in i for i in items(theirs.data))
    assert not any("Team talk" in i for i in items(theirs.data))

    fake.admins.add(CALLER)
    refused = await slack.command("sources remove other-secret")
    assert "There is no source “other-secret” in this library." in block_text(refused.data)
    assert await curate.source("other-secret") is not None
    removed = await slack.command("sources remove other-secret", team=OTHER_TEAM)
    assert "Removed Other secret [other-secret] and its 2 quotes." in block_text(removed.data)
    assert await curate.source("other-secret") is None
    assert await curate.source("team-talk") is not None
    (entry,) = await curate.audit()
    assert (entry.target_kind, entry.target_id, entry.actor_platform, entry.actor_id) == (
        "source", "other-secret", "slack", CALLER)
    assert entry.before == {"id": entry.before["id"], "slug": "other-secret",
                            "title": "Other secret", "quotes": 2}


async def test_a_member_may_not_remove_a_source(slack, fake, library):
    await own_source(library, TEAM, "team-talk", "Team talk", 2)
    refused = await slack.command("sources remove team-talk")
    assert "Only admins can remove sources." in block_text(refused.data)
    assert [c.data.get("user") for c in fake.calls("users.info")] == [CALLER]
    assert await CurateStore(library.db).source("team-talk") is not None
    listed = await slack.command("sources")  # the text grammar keeps `/quote sources`
    assert "[team-talk]" in block_text(listed.data)
