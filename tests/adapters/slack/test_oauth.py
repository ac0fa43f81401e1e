"""Multi-workspace installs: the OAuth flow end to end, and the SQLite-backed stores."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation

from quotebot.adapters.slack.install_store import DatabaseInstallationStore, DatabaseOAuthStateStore
from quotebot.store.slack import SlackStore
from tests.adapters.slack.conftest import Driver, block_text, http_settings, sign, start

CLIENT_ID = "111.222"

# slack_sdk's oauth.v2.access call uses aiohttp.BasicAuth, deprecated in aiohttp 3.14.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
async def oauth_app(fake, services, registry):
    settings = http_settings(fake, bot_token=None, client_id=CLIENT_ID,
                             client_secret="client-secret")
    base, stop, task = await start(settings, services, registry)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield Driver(base, fake, session)
    stop.set()
    await task


async def _install(driver: Driver, code: str = "c0de") -> tuple[int, str]:
    async with driver.session.get(driver.base + "/slack/install") as resp:
        assert resp.status == 200
        page = await resp.text()
        cookie = resp.headers["Set-Cookie"]
    state = re.search(r"slack-app-oauth-state=([^;]+)", cookie).group(1)
    assert f"state={state}" in page and f"client_id={CLIENT_ID}" in page
    assert ("scope=commands,chat:write,chat:write.public,users:read,channels:read,groups:read,"
            "files:write,files:read,channels:history,groups:history&") in page
    async with driver.session.get(
        driver.base + "/slack/oauth_redirect", params={"code": code, "state": state},
        headers={"Cookie": f"slack-app-oauth-state={state}"},
    ) as resp:
        return resp.status, await resp.text()


async def test_install_flow_stores_the_workspace_and_then_serves_it(oauth_app, fake, db):
    status, page = await _install(oauth_app)
    assert status == 200, page
    exchange = fake.calls("oauth.v2.access")
    assert len(exchange) == 1 and exchange[0].data["code"] == "c0de"

    store = DatabaseInstallationStore(SlackStore(db), CLIENT_ID)
    installation = await store.async_find_installation(enterprise_id=None, team_id="T0OAUTH")
    assert installation.bot_token == "xoxb-installed-token"
    assert installation.user_id == "U0INSTALLER"

    message = await oauth_app.command("secret sauce", team="T0OAUTH")
    assert "secret sauce" in block_text(message.data)
    await oauth_app.click(message, "quote_share", team="T0OAUTH")
    posted = await fake.wait_for("chat.postMessage")
    assert posted.headers["Authorization"] == "Bearer xoxb-installed-token"


async def test_add_transcript_downloads_with_the_workspaces_own_token(oauth_app, fake,
                                                                      services):
    assert (await _install(oauth_app))[0] == 200
    fake.admins.add("U0CALLER")
    path = await oauth_app.add_transcript(
        [fake.add_file("talk.md", b"**Ann:** A workspace token opens only its own files.\n",
                       team="T0OAUTH")], team="T0OAUTH")
    told = (await fake.wait_for(path)).data
    assert block_text(told).startswith("Added “Talk” [talk] in this library: 1 quote")
    (download,) = [r for r in fake.requests if r.path.startswith("/files-pri/")]
    assert download.headers["Authorization"] == "Bearer xoxb-installed-token"
    scope = await services.library.scope_of("slack", "T0OAUTH")
    assert [s.slug for s in scope.sources if s.collection_id == scope.own] == ["talk"]


async def test_a_workspace_that_did_not_install_is_told_to_install(oauth_app, fake):
    path, url = oauth_app.new_response_url()
    status, _ = await oauth_app.post(oauth_app.command_body("secret sauce", url, team="T0OTHER"))
    assert status == 200
    told = (await fake.wait_for(path)).data
    assert "not installed in this workspace" in told["text"]
    assert "secret sauce" not in told["text"] and "blocks" not in told
    assert fake.calls("chat.postMessage") == []


async def test_a_forged_state_is_refused(oauth_app, fake):
    async with oauth_app.session.get(
        oauth_app.base + "/slack/oauth_redirect", params={"code": "c0de", "state": "forged"},
        headers={"Cookie": "slack-app-oauth-state=forged"},
    ) as resp:
        assert resp.status == 401
    assert fake.calls("oauth.v2.access") == []


async def test_a_replayed_redirect_is_refused(oauth_app, fake):
    async with oauth_app.session.get(oauth_app.base + "/slack/install") as resp:
        state = re.search(r"slack-app-oauth-state=([^;]+)", resp.headers["Set-Cookie"]).group(1)
    for expected in (200, 401):
        async with oauth_app.session.get(
            oauth_app.base + "/slack/oauth_redirect", params={"code": "again", "state": state},
            headers={"Cookie": f"slack-app-oauth-state={state}"},
        ) as resp:
            assert resp.status == expected


# ---- the stores on their own ---------------------------------------------------------------


def _installation(team: str = "T1", user: str = "U1", token: str = "xoxb-1",
                  **extra) -> Installation:
    return Installation(app_id="A1", team_id=team, team_name="Team", bot_token=token,
                        bot_id="B1", bot_user_id="UB", bot_scopes="commands,chat:write",
                        user_id=user, user_scopes="", **extra)


async def test_installation_round_trip(db):
    store = DatabaseInstallationStore(SlackStore(db), CLIENT_ID)
    await store.async_save(_installation(custom_values={"plan": "pro"}))
    found = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert found.bot_token == "xoxb-1" and found.user_id == "U1"
    assert found.bot_scopes == ["commands", "chat:write"]
    assert found.get_custom_value("plan") == "pro"
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot.bot_token == "xoxb-1" and bot.bot_id == "B1"
    assert await store.async_find_installation(enterprise_id=None, team_id="T2") is None
    assert await DatabaseInstallationStore(SlackStore(db), "other-app").async_find_bot(
        enterprise_id=None, team_id="T1") is None

    # Another user installs later; the newest installation wins, each user keeps theirs.
    await store.async_save(_installation(user="U2", token="xoxb-2"))
    latest = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert latest.user_id == "U2" and latest.bot_token == "xoxb-2"
    mine = await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    assert mine.user_id == "U1" and mine.bot_token == "xoxb-2"  # the bot token is current

    # A rotated bot token saved on its own is what every lookup returns.
    await store.async_save_bot(Bot(team_id="T1", bot_token="xoxb-3", bot_id="B1",
                                   bot_user_id="UB", installed_at=datetime.now(UTC)))
    assert (await store.async_find_bot(enterprise_id=None, team_id="T1")).bot_token == "xoxb-3"
    assert (await store.async_find_installation(enterprise_id=None,
                                                team_id="T1")).bot_token == "xoxb-3"

    # tokens_revoked for the bot, then app_uninstalled.
    await store.async_delete_bot(enterprise_id=None, team_id="T1")
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
    revoked = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert revoked.bot_token is None
    await store.async_delete_installation(enterprise_id=None, team_id="T1", user_id="U2")
    assert (await store.async_find_installation(enterprise_id=None, team_id="T1")).user_id == "U1"
    await store.async_save(_installation())
    await store.async_delete_all(enterprise_id=None, team_id="T1")
    assert await store.async_find_installation(enterprise_id=None, team_id="T1") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None


async def test_an_org_wide_install_is_found_from_any_team(db):
    store = DatabaseInstallationStore(SlackStore(db), CLIENT_ID)
    await store.async_save(_installation(team=None, enterprise_id="E1",
                                         is_enterprise_install=True))
    found = await store.async_find_installation(enterprise_id="E1", team_id="T7",
                                                is_enterprise_install=True)
    assert found.bot_token == "xoxb-1" and found.is_enterprise_install is True
    assert await store.async_find_bot(enterprise_id="E1", team_id="T7",
                                      is_enterprise_install=False) is None


async def test_states_are_single_use_and_expire(db):
    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    states = DatabaseOAuthStateStore(SlackStore(db), expiration_seconds=600,
                                   clock=lambda: now[0])
    state = await states.async_issue()
    assert len(state) >= 32
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False  # used
    assert await states.async_consume("never-issued") is False
    assert await states.async_consume("") is False

    late = await states.async_issue()
    now[0] += timedelta(seconds=601)
    assert await states.async_consume(late) is False  # expired
    almost = await states.async_issue()
    now[0] += timedelta(seconds=599)
    assert await states.async_consume(almost) is True


async def test_an_uninstall_event_forgets_the_workspace(oauth_app, fake, db):
    assert (await _install(oauth_app))[0] == 200
    store = DatabaseInstallationStore(SlackStore(db), CLIENT_ID)
    assert await store.async_find_bot(enterprise_id=None, team_id="T0OAUTH") is not None
    body = json.dumps({"token": "legacy", "team_id": "T0OAUTH", "api_app_id": "A0TEST",
                       "type": "event_callback", "event_id": "Ev1", "event_time": 1700000000,
                       "event": {"type": "app_uninstalled"}})
    status, _ = await oauth_app.post(body, {"Content-Type": "application/json", **sign(body)})
    assert status == 200
    for _ in range(50):
        if await store.async_find_bot(enterprise_id=None, team_id="T0OAUTH") is None:
            break
        await asyncio.sleep(0.02)
    assert await store.async_find_bot(enterprise_id=None, team_id="T0OAUTH") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T0OAUTH") is None
