"""`quotebot audit`: curating changes listed newest first, as lines or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from quotebot.adapters.cli import cli
from quotebot.bot.library import QuoteLibrary
from quotebot.store.curate import Actor, CurateStore
from tests.conftest import build_database, fill

ADA = Actor("discord", "100", "Ada")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def curated(db) -> None:
    await fill(QuoteLibrary(db))
    curate = CurateStore(db)
    ideas = await db.scalar("SELECT id FROM quotes WHERE text LIKE 'Actually, on that%'")
    yeah = await db.scalar("SELECT id FROM quotes WHERE text = 'Yeah.'")
    greg = await db.scalar("SELECT id FROM speakers WHERE name = 'Greg Brockman'")
    await curate.set_hidden(ideas, True, ADA, now=T0)
    await curate.reattribute(ideas, Actor("slack", "U1"), speaker_id=greg,
                             now=T0 + timedelta(minutes=1))
    await curate.remove_quote(yeah, ADA, now=T0 + timedelta(minutes=2))


def run(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), "audit", *args], catch_exceptions=False)


def test_audit_lists_changes_newest_first(tmp_path):
    db = build_database(tmp_path / "a.db", curated)
    result = run(db)
    assert result.exit_code == 0, result.output
    removed, edited, hid = result.output.splitlines()
    assert removed.startswith("2026-03-01T09:02:00+00:00  remove")
    assert "by Ada (discord:100)" in removed and "was “Yeah.” (Dwarkesh Patel, podcast)" in removed
    assert edited.split()[1] == "edit" and "by slack:U1" in edited
    assert 'speaker: "Ilya Sutskever" -> "Greg Brockman"' in edited
    assert hid.split()[1] == "hide" and "hidden: false -> true" in hid

    (only,) = run(db, "--limit", "1").output.splitlines()
    assert only == removed
    entries = json.loads(run(db, "--json").output)
    assert [e["action"] for e in entries] == ["remove", "edit", "hide"]
    assert entries[0]["after"] is None and entries[0]["before"]["text"] == "Yeah."
    assert entries[1]["before"]["text"] == entries[1]["after"]["text"]


def test_audit_of_a_library_never_curated(tmp_path):
    async def nothing(db):
        pass

    db = build_database(tmp_path / "e.db", nothing)
    assert run(db).output == "No changes recorded yet.\n"
    assert run(db, "--limit", "0").exit_code == 2  # click's own refusal
