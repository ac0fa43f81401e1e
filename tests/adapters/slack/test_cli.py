"""`quotebot slack`: settings from the environment, clear refusals, and a real run in HTTP mode."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from click.testing import CliRunner

from quotebot.adapters.slack.cli import slack_command
from quotebot.adapters.slack.settings import SetupError, SlackSettings
from tests.adapters.slack.conftest import SECRET, Driver, block_text, http_settings, start
from tests.adapters.slack.fake_slack import BOT_TOKEN

ROOT = Path(__file__).resolve().parents[3]
SLACK_VARS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID",
              "SLACK_CLIENT_SECRET", "SLACK_REDIRECT_URI", "SLACK_API_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in SLACK_VARS:
        monkeypatch.delenv(name, raising=False)


def run(tmp_path, **env: str):
    settings = SimpleNamespace(db=tmp_path / "q.db", bundled=False)
    return CliRunner().invoke(slack_command, [], obj=settings, env=env)


def test_no_tokens_exits_non_zero_naming_what_is_missing(tmp_path):
    result = run(tmp_path)
    assert result.exit_code != 0
    assert "SLACK_BOT_TOKEN" in result.output and "SLACK_SIGNING_SECRET" in result.output
    assert not (tmp_path / "q.db").exists()  # refused before opening anything


@pytest.mark.parametrize(("env", "named", "not_named"), [
    ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"),
    ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
    ({"SLACK_SIGNING_SECRET": "s", "SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_SECRET",
     "SLACK_BOT_TOKEN"),
])
def test_each_mode_names_its_missing_variable(tmp_path, env, named, not_named):
    result = run(tmp_path, **env)
    assert result.exit_code != 0
    assert f"missing {named}" in result.output and not_named not in result.output


def test_misplaced_tokens_are_explained(tmp_path):
    result = run(tmp_path, SLACK_APP_TOKEN="xoxb-oops", SLACK_BOT_TOKEN="xoxb-1")
    assert result.exit_code != 0 and "xapp-" in result.output
    result = run(tmp_path, SLACK_APP_TOKEN="xapp-1", SLACK_BOT_TOKEN="xoxb-1",
                 SLACK_CLIENT_ID="1", SLACK_CLIENT_SECRET="2")
    assert result.exit_code != 0 and "needs HTTP mode" in result.output


def test_settings_from_the_environment():
    settings = SlackSettings.from_env({"SLACK_BOT_TOKEN": " xoxb-1 ", "SLACK_SIGNING_SECRET": "s",
                                       "SLACK_API_URL": "http://127.0.0.1:9/api",
                                       "SLACK_APP_TOKEN": ""}, port=4000)
    assert settings.bot_token == "xoxb-1" and settings.api_url == "http://127.0.0.1:9/api/"
    assert not settings.socket_mode and not settings.oauth and settings.port == 4000
    assert settings.problem() is None
    assert SlackSettings.from_env({}).api_url == "https://slack.com/api/"


def test_the_quotebot_group_has_the_slack_command(tmp_path):
    from quotebot.adapters.cli import cli

    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "q.db"), "--no-bundled", "slack"])
    assert result.exit_code != 0 and "SLACK_BOT_TOKEN" in result.output


async def _serving_url(proc) -> str:
    """The URL from the "serving" line on stderr, whatever is logged before it."""
    seen = []
    while line := (await proc.stderr.readline()).decode():
        seen.append(line)
        if match := re.search(r"(http://\S+?)/slack/events", line):
            return match.group(1)
    raise AssertionError("quotebot slack exited: " + "".join(seen))


@pytest.mark.slow
async def test_quotebot_slack_serves_http_against_a_fake_slack(fake, library, db, tmp_path):
    """The real process: `quotebot slack` in HTTP mode, answering and posting to the fake."""
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from quotebot.adapters.cli import main; main()",
        "--db", db.path, "--no-bundled", "slack", "--host", "127.0.0.1", "--port", "0",
        env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE,
    )
    try:
        base = await asyncio.wait_for(_serving_url(proc), 30)
        async with aiohttp.ClientSession() as session:
            driver = Driver(base, fake, session)
            message = await driver.command("secret sauce")
            assert "secret sauce" in block_text(message.data)
            await driver.click(message, "quote_share")
            await fake.wait_for("chat.postMessage")
            status, _ = await driver.post(driver.command_body("help", "http://x/"), {})
            assert status == 401
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 15)
    assert proc.returncode == 0  # SIGTERM (docker stop, systemd): a clean stop


@pytest.mark.parametrize(("method", "overrides", "named"), [
    ("auth.test", {}, "SLACK_BOT_TOKEN"),
    ("apps.connections.open", {"app_token": "xapp-1", "signing_secret": None},
     "SLACK_APP_TOKEN"),
])
async def test_a_refused_token_stops_the_start(fake, services, registry, method, overrides,
                                               named):
    fake.api_answers[method] = {"ok": False, "error": "invalid_auth"}
    with pytest.raises(SetupError, match=f"Slack refused {named}: invalid_auth"):
        await start(http_settings(fake, **overrides), services, registry)


async def test_an_unreachable_api_stops_the_start(services, registry):
    with socket.socket() as closed:  # a port nobody listens on once this is closed
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = SlackSettings(bot_token="xoxb-1", signing_secret="s",
                             api_url=f"http://127.0.0.1:{port}/api/", host="127.0.0.1", port=0)
    with pytest.raises(SetupError, match="cannot reach the Slack API"):
        await start(settings, services, registry)


@pytest.mark.slow
def test_the_command_module_does_not_load_slack_bolt():
    code = ("import sys, quotebot.adapters.slack.cli; "
            "sys.exit('slack_bolt' in sys.modules or 'slack_sdk' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
