"""The shipped app manifest agrees with the app: command, paths, scopes and events."""

from __future__ import annotations

from pathlib import Path

import yaml

from quotebot.adapters.slack.app import BOT_SCOPES, COMMAND, EVENTS_PATH, REDIRECT_PATH
from quotebot.adapters.slack.requests import shortcut_id
from quotebot.bot.all_commands import build_registry
from quotebot.bot.commands import QUOTE_COMMANDS

MANIFEST = Path(__file__).resolve().parents[3] / "adapters" / "slack" / "manifest.yaml"


def test_the_manifest_matches_the_app():
    manifest = yaml.safe_load(MANIFEST.read_text())
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["should_escape"] is False
    for verb in (c.name for c in QUOTE_COMMANDS if c.name != "search"):
        assert verb in command["usage_hint"]
    assert "by:<speaker>" in command["usage_hint"] and "in:<source>" in command["usage_hint"]
    assert "daily <HH:MM> [<timezone>]" in command["usage_hint"]
    settings = manifest["settings"]
    for url in (command["url"], settings["interactivity"]["request_url"],
                settings["event_subscriptions"]["request_url"]):
        assert url == "https://quotebot.example.com" + EVENTS_PATH
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://quotebot.example.com" + REDIRECT_PATH]
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    # Daily quotes: users.info (who is an admin) and conversations.info (can we post there).
    assert {"users:read", "channels:read", "groups:read"} <= set(BOT_SCOPES)
    assert settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_uninstalled",
                                                                  "tokens_revoked"}
    assert settings["socket_mode_enabled"] is False


def test_the_manifest_declares_each_message_shortcut_the_app_handles():
    manifest = yaml.safe_load(MANIFEST.read_text())
    shortcuts = manifest["features"]["shortcuts"]
    wanted = [(c.menu, "message", shortcut_id(c.name)) for c in build_registry().on_messages()]
    assert wanted == [("Save as quote", "message", "quote_save")]
    # The registry's message commands, and the adapter's own Add transcript (files).
    assert [(s["name"], s["type"], s["callback_id"]) for s in shortcuts] == [
        ("Add transcript", "message", "add_transcript"), *wanted]
    assert all(1 <= len(s["description"]) <= 80 for s in shortcuts)
    assert "add <words> by:<name>" in manifest["features"]["slash_commands"][0]["usage_hint"]
