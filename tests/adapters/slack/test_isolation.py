"""Issue 13's isolation, through the fake Slack: what one workspace saved, uploaded or
switched on never reaches another workspace, by any command or (forged) button."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from quotebot.adapters.slack.requests import encode_button
from quotebot.bot.library import QuoteLibrary
from quotebot.bot.models import Request
from quotebot.store.quotes import SpeakerInfo
from tests.adapters.slack.conftest import CALLER, block_text, chat_message
from tests.adapters.slack.fake_slack import TEAM
from tests.conftest import add_lines

OTHER_TEAM = "T0OTHER"
# What workspace A holds, as only A's quotes, speakers and sources would show it (the
# queries below name single words, which an answer may echo: "No source called “okapi”").
MARKERS = ("nobody ships on a Friday", "described by science", "cleans its own ears",
           "tooth that keeps growing", "Pia Quillfeather", "Okonkwo Vantablack",
           "Nyx Harrow", "Okapi Notes", "Narwhal Episode")
MARKDOWN = """---
title: Okapi Notes
---
**Okonkwo Vantablack:** The okapi was described by science only in 1901, long after the giraffe.
**Okonkwo Vantablack:** An okapi cleans its own ears with a tongue about a foot long, believe me.
"""


@pytest.fixture
async def library(db) -> QuoteLibrary:
    """A shared collection `deepsea` (a narwhal episode) that no workspace has enabled."""
    lib = QuoteLibrary(db)
    nyx = SpeakerInfo("Nyx Harrow", None, ())
    await add_lines(lib, "tusks", "The Narwhal Episode", nyx,
                    ["A narwhal tusk is a tooth that keeps growing for years."],
                    collection="deepsea")
    await lib.store.refresh_terms()
    await lib.load()
    return lib


def leaked(text: str) -> list[str]:
    return [m for m in MARKERS if m.lower() in text.lower()]


async def said(slack, text: str, team: str) -> str:
    return json.dumps((await slack.command(text, team=team)).data, ensure_ascii=False)


async def pressed(slack, fake, quote_id: int, kind: dict, team: str) -> str:
    """A button forged with another workspace's quote id, clicked in `team`."""
    value = encode_button(Request("show", {"id": quote_id, **kind}))
    action_id = "quote_share" if kind else "quote_context"
    message = SimpleNamespace(data={"blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": action_id, "value": value,
         "text": {"type": "plain_text", "text": "x"}}]}]})
    path = await slack.click(message, action_id, team=team)
    await fake.wait_for(path)
    return json.dumps([r.data for r in fake.calls(path)], ensure_ascii=False)


async def test_what_one_workspace_saves_uploads_or_enables_never_reaches_another(
        slack, fake, services):
    fake.admins.add(CALLER)
    fake.names["U0ANA"] = "Pia Quillfeather"
    # Workspace A: a message saved, a transcript added, a shared collection switched on.
    reply = await slack.shortcut(chat_message("The pangolin rule: nobody ships on a Friday "
                                              "afternoon unless every test is green."))
    saved_id = int(re.search(r"#(\d+)", block_text(reply.data)).group(1))
    path = await slack.add_transcript([fake.add_file("okapi.md", MARKDOWN.encode())])
    await fake.wait_for(path)
    assert "Added" in json.dumps([r.data for r in fake.calls(path)])
    assert "deepsea is on" in await said(slack, "library enable deepsea", TEAM)
    library = services.library
    scope = await library.scope_of("slack", TEAM)
    ids = {saved_id}
    for word in ("okapi", "narwhal"):
        hits = await library.search(word, limit=10, scope=scope)
        assert hits, word  # workspace A does see each of them
        ids.update(q.id for q in hits)

    # Workspace B, by every path a member or an admin has (Slack has no autocomplete).
    fake.admins.add(CALLER)
    seen = [await said(slack, text, OTHER_TEAM) for text in (
        "pangolin", "okapi", "narwhal", "Friday afternoon", "giraffe", "tusk",
        "random by:Pia", "random in:okapi", "speakers", "sources", "list", "library",
        "list by:Okonkwo")]
    seen += [await said(slack, "random", OTHER_TEAM) for _ in range(10)]
    for quote_id in sorted(ids):
        shown = await said(slack, f"show {quote_id}", OTHER_TEAM)
        assert f"There is no quote #{quote_id}." in shown
        seen.append(shown)
        for kind in ({"context": 0, "share": True}, {}):  # Share, Context
            seen.append(await pressed(slack, fake, quote_id, kind, OTHER_TEAM))
    exported = await said(slack, "export", OTHER_TEAM)
    uploads = [r.raw.decode("utf-8", "replace") for r in fake.requests
               if r.path.startswith("/upload/")]
    assert uploads  # the export was uploaded (and holds nothing of A)
    seen += [exported, *uploads]
    assert [(leaked(text), text[:600]) for text in seen if leaked(text)] == []

    # Workspace A, by the same paths, does see them (the checks above can fail).
    assert leaked(await said(slack, "narwhal tusk", TEAM))
    assert leaked(await said(slack, "okapi giraffe", TEAM))
    assert "There is no quote" not in await said(slack, f"show {saved_id}", TEAM)
