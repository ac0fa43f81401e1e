"""Libraries through the fake Slack: two workspaces, each seeing its own quotes only;
`/quote library enable` is for workspace admins (users.info is asked, as for curating)."""

from __future__ import annotations

import pytest

from quotebot.bot.library import QuoteLibrary
from quotebot.store.quotes import NewQuote, NewSource, SpeakerInfo
from tests.adapters.slack.conftest import CALLER, block_text
from tests.adapters.slack.fake_slack import TEAM
from tests.conftest import add_lines

OTHER_TEAM = "T0OTHER"
ZED = SpeakerInfo("Zed Alphason", None, ())
LINES = ["The zebra plan was the first thing we built with the whole team.",
         "Nobody expected the zebra idea to change how the company ran."]


@pytest.fixture
async def library(db) -> QuoteLibrary:
    """A podcast in this workspace's library, and a shared collection `podcasts` (a
    narwhal episode) that no workspace has enabled yet."""
    lib = QuoteLibrary(db)
    await add_lines(lib, "alpha", "The Zebra Talk", ZED, LINES, owner=("slack", TEAM))
    await add_lines(lib, "gamma", "The Narwhal Episode", ZED,
                    ["A narwhal tusk is a tooth that grows for years."], collection="podcasts")
    await lib.store.refresh_terms()
    await lib.load()
    return lib


async def test_search_and_show_by_id_stay_in_their_workspace(slack, library):
    mine = await slack.command("zebra plan")
    assert "The zebra plan was the first thing" in block_text(mine.data)
    qid = (await library.search("zebra plan", scope=await library.scope_of("slack", TEAM)))[0].id

    other = await slack.command("zebra plan", team=OTHER_TEAM)
    assert "This library is empty" in block_text(other.data)
    assert "zebra plan was" not in block_text(other.data)
    shown = await slack.command(f"show {qid}", team=OTHER_TEAM)
    assert f"There is no quote #{qid}." in block_text(shown.data)
    assert "Zed" not in block_text((await slack.command("speakers", team=OTHER_TEAM)).data)


async def test_only_a_workspace_admin_enables_a_shared_collection(slack, fake):
    before = await slack.command("narwhal tusk")
    assert "No quote matches" in block_text(before.data)
    listed = await slack.command("library")
    assert "podcasts — off — 1 quote" in block_text(listed.data)

    refused = await slack.command("library enable podcasts")
    assert refused.data["response_type"] == "ephemeral"
    assert "Only admins can enable collections in this library." in block_text(refused.data)
    assert [c.data.get("user") for c in fake.calls("users.info")] == [CALLER]
    assert "No quote matches" in block_text((await slack.command("narwhal tusk")).data)

    fake.admins.add(CALLER)
    done = await slack.command("library enable podcasts")
    assert "podcasts is on" in block_text(done.data)
    assert "narwhal tusk is a tooth" in block_text((await slack.command("narwhal tusk")).data)
    # Only here: the other workspace still does not see it.
    other = await slack.command("narwhal tusk", team=OTHER_TEAM)
    assert "This library is empty" in block_text(other.data)
    off = await slack.command("library disable podcasts")
    assert "podcasts is off" in block_text(off.data)
    assert "No quote matches" in block_text((await slack.command("narwhal tusk")).data)


async def test_an_org_wide_install_serves_one_library_to_all_its_workspaces(slack, library):
    """Enterprise Grid: with `is_enterprise_install`, the library is the org's (by its
    enterprise id), whichever of its workspaces a command comes from."""
    org = await library.writer(library=("slack", "E0ORG"))
    await org.replace_source(
        NewSource("org-talk", "The Org Talk", None, None, None, None, "t", "h-o", {}), [ZED],
        [NewQuote(ZED.name, "The okapi program united every team in the org.", 0.0, 0, 0.9)])
    await library.store.refresh_terms()
    await library.load()

    def grid(team: str, org_wide: bool) -> dict:
        return {"team": team, "enterprise_id": "E0ORG",
                "is_enterprise_install": "true" if org_wide else "false"}

    for team in ("T0EAST", "T0WEST"):
        reply = await slack.command("okapi program", **grid(team, True))
        assert "okapi program united" in block_text(reply.data), team
    # Installed per workspace inside the same org: each workspace is its own library.
    reply = await slack.command("okapi program", **grid("T0EAST", False))
    assert "okapi program united" not in block_text(reply.data)
