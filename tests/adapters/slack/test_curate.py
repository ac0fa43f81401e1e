"""Curating through the fake Slack: workspace admins and owners hide, edit and remove; members
may not (users.info is asked, as for `/quote daily`)."""

from __future__ import annotations

from quotebot.store.curate import CurateStore
from tests.adapters.slack.conftest import CALLER, block_text


async def ideas_id(library) -> int:
    return (await library.search("ideas are cheap", limit=1))[0].id


async def test_hide_is_refused_to_a_member_and_done_for_a_workspace_admin(slack, fake,
                                                                          library):
    qid = await ideas_id(library)
    curate = CurateStore(library.db)

    refused = await slack.command(f"hide {qid}")
    assert refused.data["response_type"] == "ephemeral"
    assert "Only admins can hide quotes." in block_text(refused.data)
    assert not await curate.is_hidden(qid) and await curate.audit() == []
    assert [c.data.get("user") for c in fake.calls("users.info")] == [CALLER]

    fake.admins.add(CALLER)
    done = await slack.command(f"hide {qid}")
    assert f"Hid quote #{qid}" in block_text(done.data)
    assert await curate.is_hidden(qid)
    (entry,) = await curate.audit()
    assert (entry.action, entry.actor_platform, entry.actor_id) == ("hide", "slack", CALLER)

    shown = await slack.command(f"show {qid}")
    assert "(hidden from random and daily)" in block_text(shown.data)


async def test_edit_with_a_quoted_name_and_remove_as_an_admin(slack, fake, library):
    qid = await ideas_id(library)
    curate = CurateStore(library.db)
    refused = await slack.command(f'edit {qid} speaker:"Greg Brockman"')
    assert "Only admins can edit quotes." in block_text(refused.data)
    fake.admins.add(CALLER)
    edited = await slack.command(f'edit {qid} speaker:"Greg Brockman"')
    assert "now attributed to Greg Brockman" in block_text(edited.data)
    assert (await curate.quote(qid)).speaker == "Greg Brockman"
    removed = await slack.command(f"remove {qid}")
    assert f"Removed quote #{qid}" in block_text(removed.data)
    unknown = await slack.command(f"remove {qid}")
    assert f"There is no quote #{qid}." in block_text(unknown.data)
    assert [e.action for e in await curate.audit()] == ["remove", "edit"]
