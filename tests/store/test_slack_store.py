"""store/slack.py on its own: one row per workspace user, bots apart, states single-use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quotebot.store.slack import SlackStore, WorkspaceKey, stamp
from tests.conftest import open_any

T0 = datetime(2030, 1, 1, tzinfo=UTC)
KEY = WorkspaceKey("app'; DROP TABLE quotes; --", "", "T1")


@pytest.fixture
def db(any_db):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


async def test_a_reinstall_replaces_the_row_and_bots_are_kept_apart(db):
    store = SlackStore(db)
    await store.save(KEY, installed_at=T0, user_id="U1", installation={"v": 1}, bot={"b": 1})
    await store.save(KEY, installed_at=T0 + timedelta(seconds=1), user_id="U1",
                     installation={"v": 2}, bot={"b": 2})
    rows = await db.fetchall("SELECT user_id FROM slack_installations ORDER BY user_id")
    assert [r[0] for r in rows] == ["", "U1"]
    assert await store.find_installation(KEY) == {"v": 2}
    assert await store.find_bot(KEY) == {"b": 2}
    assert await store.find_installation(KEY, "") is None
    assert await db.scalar("SELECT count(*) FROM quotes") == 0  # the odd client id was data


async def test_the_newest_installation_wins_and_deletes_are_scoped(db):
    store = SlackStore(db)
    other = WorkspaceKey(KEY.client_id, "", "T2")
    await store.save(KEY, installed_at=T0, user_id="U1", installation={"who": "U1"})
    await store.save(KEY, installed_at=T0 + timedelta(minutes=1), user_id="U2",
                     installation={"who": "U2"})
    await store.save(other, installed_at=T0, user_id="U9", installation={"who": "U9"},
                     bot={"b": 9})
    assert (await store.find_installation(KEY))["who"] == "U2"
    assert (await store.find_installation(KEY, "U1"))["who"] == "U1"
    assert await store.delete_installations(KEY, "U2") == 1
    assert (await store.find_installation(KEY))["who"] == "U1"
    assert await store.delete_installations(KEY) == 1
    assert await store.find_installation(KEY) is None
    assert await store.delete_bot(KEY) == 0
    assert await store.find_bot(other) == {"b": 9}  # another workspace is untouched


async def test_save_needs_a_user_for_an_installation(db):
    with pytest.raises(ValueError):
        await SlackStore(db).save(KEY, installed_at=T0, installation={"v": 1})
    with pytest.raises(ValueError):
        stamp(datetime(2030, 1, 1))


async def test_states_expire_and_are_purged(db):
    store = SlackStore(db)
    await store.add_state("old", expires_at=T0, now=T0 - timedelta(minutes=10))
    await store.add_state("new", expires_at=T0 + timedelta(minutes=10), now=T0)
    states = [r[0] for r in await db.fetchall("SELECT state FROM slack_oauth_states")]
    assert states == ["new"]  # "old" expired at T0 and was purged
    assert await store.take_state("new", now=T0 + timedelta(minutes=11)) is False
    assert await store.take_state("new", now=T0) is False  # a late try consumed it


async def test_a_signature_is_taken_once_in_its_window_by_any_process(postgres_migrated_db):
    """PostgreSQL keeps the Slack request signatures for every worker (SQLite's processes
    keep their own in memory: see adapters/slack/door.py)."""
    one, other = await open_any(postgres_migrated_db), await open_any(postgres_migrated_db)
    try:
        window = T0 + timedelta(minutes=5)
        assert await SlackStore(one).first_request("v0=a", expires_at=window, now=T0)
        assert not await SlackStore(other).first_request("v0=a", expires_at=window, now=T0)
        assert await SlackStore(other).first_request("v0=b", expires_at=window, now=T0)
        later = window + timedelta(seconds=1)
        assert await SlackStore(one).first_request(
            "v0=a", expires_at=later + timedelta(minutes=5), now=later)  # its window closed
        rows = await one.fetchall("SELECT signature FROM slack_signatures")
        assert [r[0] for r in rows] == ["v0=a"]  # and b's, closed too, dropped
    finally:
        await one.close()
        await other.close()
