"""`quotebot daily list|add|remove|run-once` through click, over a tmp_path database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

import quotebot.adapters.cli as cli_module
import quotebot.store.db as store_db
from quotebot.bot.library import QuoteLibrary
from quotebot.store.db import Database
from tests.bot.daily.conftest import fill
from tests.hardening.test_concurrency import hold_write_lock


async def make_db(path) -> None:
    db = await Database.open(path)
    try:
        await fill(QuoteLibrary(db))
    finally:
        await db.close()


@pytest.fixture
def quotebot(tmp_path):
    path = tmp_path / "cli.db"
    asyncio.run(make_db(path))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli_module.cli, ["--db", str(path), "--no-bundled", *args])

    return invoke


ADD = ("daily", "add", "--platform", "discord", "--workspace", "G1", "--channel", "C1",
       "--time", "09:00", "--timezone", "Europe/Paris", "--speaker", "bob")


def test_add_list_run_once_remove(quotebot):
    result = quotebot(*ADD)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added #1: #C1 · 09:00 Europe/Paris · by Bob Kahn · next ")

    result = quotebot("daily", "list", "--json")
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.stdout)
    assert {k: item[k] for k in ("id", "platform", "workspace", "channel", "time", "timezone",
                                 "speaker", "enabled", "last_sent_at", "created_by")} == {
        "id": 1, "platform": "discord", "workspace": "G1", "channel": "C1", "time": "09:00",
        "timezone": "Europe/Paris", "speaker": "Bob Kahn", "enabled": True,
        "last_sent_at": None, "created_by": "cli:operator"}
    assert item["next_run"]

    # Two days ahead, 12:00 UTC: today's 09:00 Paris post is due (late, same local day).
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    now = f"{day.isoformat()}T12:00:00"
    for _ in range(2):  # a dry run records nothing, so it shows the same post again
        result = quotebot("daily", "run-once", "--now", now)
        assert result.exit_code == 0, result.output
        assert f"discord G1 #C1 (qb-1-{day.isoformat()})" in result.stdout
        assert "— Bob Kahn, Alpha Talks" in result.stdout and " · #" in result.stdout
        assert "would be posted (dry run" in result.stderr

    result = quotebot("daily", "run-once", "--now", now, "--commit")
    assert result.exit_code == 0 and "1 post(s) recorded as sent" in result.stderr
    result = quotebot("daily", "run-once", "--now", now, "--commit")
    assert "Nothing is due." in result.stdout

    result = quotebot("daily", "list")
    assert result.exit_code == 0
    assert result.stdout.startswith("   1  discord G1  #C1 · 09:00 Europe/Paris")
    assert "last posted" in result.stdout

    result = quotebot("daily", "remove", "1")
    assert result.exit_code == 0 and "removed #1" in result.stdout
    result = quotebot("daily", "remove", "1")
    assert result.exit_code == 1 and "no subscription #1" in result.stderr
    assert quotebot("daily", "list").stdout.strip() == "No daily quotes."


@pytest.mark.parametrize("change, message", [
    (("--time", "25:00"), "“25:00” is not a time"),
    (("--time", "noon"), "is not a time"),
    (("--timezone", "Mars/Olympus"), "not a timezone"),
    (("--speaker", "Cy"), "good enough for a daily post"),
])
def test_add_refuses_bad_input_and_changes_nothing(quotebot, change, message):
    args = list(ADD)
    flag, value = change
    args[args.index(flag) + 1] = value
    result = quotebot(*args)
    assert result.exit_code == 1 and message in result.stderr
    assert json.loads(quotebot("daily", "list", "--json").stdout) == []


def test_usage_errors(quotebot):
    assert quotebot("daily", "run-once", "--now", "tomorrow-ish").exit_code == 2
    result = quotebot("daily", "add", "--platform", "teams", "--workspace", "W",
                      "--channel", "C", "--time", "09:00")
    assert result.exit_code == 2


@pytest.mark.parametrize("change, message", [
    (("--channel", ""), "The channel is empty"),
    (("--channel", "   "), "The channel is empty"),
    (("--channel", "<@U1>"), "is not a channel id"),
    (("--channel", "C1 C2"), "is not a channel id"),
    (("--workspace", ""), "The workspace is empty"),
    (("--timezone", ""), "The timezone is empty"),
    (("--speaker", "b" * 1_000_000), "too long (1,000,000 characters"),
])
def test_add_refuses_blank_or_malformed_ids_and_an_empty_timezone(quotebot, change, message):
    args = list(ADD)
    flag, value = change
    args[args.index(flag) + 1] = value
    result = quotebot(*args)
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert len(result.stderr) < 500  # a huge value is not echoed back
    assert json.loads(quotebot("daily", "list", "--json").stdout) == []


def test_add_takes_a_pasted_channel_mention_as_its_id(quotebot):
    args = list(ADD)
    args[args.index("--channel") + 1] = "<#C9|general>"
    result = quotebot(*args)
    assert result.exit_code == 0, result.output
    (item,) = json.loads(quotebot("daily", "list", "--json").stdout)
    assert item["channel"] == "C9"


@pytest.mark.parametrize("now", ["9999-12-31T23:59:59", "9999-12-31T23:59:59-05:00",
                                 "0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00"])
def test_run_once_refuses_a_time_at_the_ends_of_the_calendar(quotebot, now):
    assert quotebot(*ADD).exit_code == 0
    result = quotebot("daily", "run-once", "--now", now)
    assert result.exit_code == 2, result.output
    assert "out of range" in result.stderr or "not an ISO date-time" in result.stderr
    assert isinstance(result.exception, SystemExit)  # a usage error, not an OverflowError


def test_run_once_on_a_busy_database_says_so_without_a_traceback(
        quotebot, tmp_path, monkeypatch, caplog):
    """Issue 11, item 2: a due post's claim waited for another process's writer, logged a
    traceback, then printed "Nothing is due." and exited 0."""
    monkeypatch.setattr(store_db, "WRITE_WAIT_MS", 200)
    assert quotebot(*ADD).exit_code == 0
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    holder = hold_write_lock(tmp_path / "cli.db", 60)
    try:
        result = quotebot("daily", "run-once", "--now", f"{day.isoformat()}T12:00:00")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1, result.output
    assert "#1: transient: database" in result.stderr and "is busy" in result.stderr
    assert "Nothing is due." not in result.stdout
    assert "Traceback" not in result.output
    assert not [r for r in caplog.records if r.exc_info]
    assert "daily subscription 1: database" in caplog.text  # one line for the operator
