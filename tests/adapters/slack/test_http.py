"""HTTP mode at the door: request signatures, stale timestamps, and rate-limited Web API calls."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from types import SimpleNamespace
from urllib.parse import urlencode

import aiohttp
import pytest

from quotebot.adapters.slack.door import SeenSignatures
from quotebot.bot.models import ErrorReply, Request
from tests.adapters.slack.conftest import (
    SECRET,
    Driver,
    block_text,
    http_settings,
    sign,
    start,
)


async def _refused(slack, fake, headers_for) -> None:
    path, url = slack.new_response_url()
    body = slack.command_body("secret sauce", url)
    status, _ = await slack.post(body, headers_for(body))
    assert status == 401
    await fake.settle()
    assert fake.calls(path) == []


async def test_a_bad_signature_is_refused(slack, fake):
    await _refused(slack, fake, lambda body: sign(body, secret="not-the-secret"))


async def test_an_unsigned_request_is_refused(slack, fake):
    await _refused(slack, fake, lambda body: {})


async def test_a_body_changed_after_signing_is_refused(slack, fake):
    path, url = slack.new_response_url()
    signed = sign(slack.command_body("secret sauce", url))
    status, _ = await slack.post(slack.command_body("random", url), signed)
    assert status == 401
    await fake.settle()
    assert fake.calls(path) == []


async def test_a_stale_or_replayed_request_is_refused(slack, fake):
    six_minutes_ago = int(time.time()) - 6 * 60
    await _refused(slack, fake, lambda body: sign(body, timestamp=six_minutes_ago))
    in_the_future = int(time.time()) + 6 * 60
    await _refused(slack, fake, lambda body: sign(body, timestamp=in_the_future))


async def test_a_fresh_correct_signature_is_accepted(slack, fake):
    path, url = slack.new_response_url()
    body = slack.command_body("secret sauce", url)
    status, _ = await slack.post(body, sign(body, timestamp=int(time.time()) - 60))
    assert status == 200
    await fake.wait_for(path)


async def test_a_rate_limited_share_is_retried_after_retry_after(slack, fake):
    message = await slack.command("secret sauce")
    fake.fail_once("chat.postMessage", status=429, retry_after=1)
    path = await slack.click(message, "quote_share")
    first = await fake.wait_for("chat.postMessage", 1)
    second = await fake.wait_for("chat.postMessage", 2)
    assert first.text == second.text  # the same post, sent again
    assert second.at - first.at >= 0.9  # after Retry-After: 1
    assert "secret sauce" in second.data["text"]
    await fake.settle()
    assert len(fake.calls("chat.postMessage")) == 2
    assert fake.calls(path) == []  # no fallback was needed



async def test_events_url_verification_and_uninstall_are_answered(slack):
    challenge = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"})
    status, body = await slack.post(challenge, {"Content-Type": "application/json",
                                                **sign(challenge)})
    assert status == 200 and json.loads(body)["challenge"] == "c-123"
    event = json.dumps({"token": "legacy", "team_id": "T0TEST", "api_app_id": "A0TEST",
                        "type": "event_callback", "event_id": "Ev2", "event_time": 1700000000,
                        "event": {"type": "app_uninstalled"}})
    status, _ = await slack.post(event, {"Content-Type": "application/json", **sign(event)})
    assert status == 200


async def test_socket_mode_answers_over_the_websocket(fake, services, registry):
    settings = http_settings(fake, signing_secret=None, app_token="xapp-test-token")
    _, stop, task = await start(settings, services, registry)
    try:
        opened = fake.calls("apps.connections.open")
        assert opened and opened[0].headers["Authorization"] == "Bearer xapp-test-token"
        await fake.socket_connected()
        payload = {"team_id": "T0TEST", "channel_id": "C0GENERAL", "user_id": "U0CALLER",
                   "command": "/quote", "text": "secret sauce", "api_app_id": "A0TEST",
                   "response_url": fake.response_url("socket"), "trigger_id": "1.2.3"}
        await fake.send_envelope("slash_commands", payload, "env-1")
        reply = (await fake.wait_for("/response/socket")).data
        assert "secret sauce" in block_text(reply) and reply["response_type"] == "ephemeral"
        ack = json.loads((await fake.wait_for("/socket")).raw)
        assert ack["envelope_id"] == "env-1"
    finally:
        stop.set()
        await task


# ---- malformed signed bodies, replays and hostile button values -----------------------------

MALFORMED = {
    "payload is not JSON": urlencode({"payload": "{not json"}),
    "payload is a list": urlencode({"payload": "[1, 2]"}),
    "payload is a string": urlencode({"payload": '"x"'}),
    "actions is not a list": urlencode({"payload": json.dumps(
        {"type": "block_actions", "actions": "x", "user": {"id": "U1"}})}),
    "an action is not an object": urlencode({"payload": json.dumps(
        {"type": "block_actions", "actions": ["x"], "user": {"id": "U1"}})}),
    "an action without response_url": urlencode({"payload": json.dumps(
        {"type": "block_actions", "user": {"id": "U1"},
         "actions": [{"action_id": "quote_share", "value": "{}"}]})}),
    "bad percent-encoding": "payload=%ZZ%%&&==",
    "not UTF-8": "text=\udcff",
    "a command without response_url": urlencode({"command": "/quote", "team_id": "T0TEST",
                                                 "channel_id": "C1", "user_id": "U1"}),
    "a message shortcut without its message": urlencode({"payload": json.dumps(
        {"type": "message_action", "callback_id": "quote_save", "user": {"id": "U1"},
         "team": {"id": "T0TEST"}, "channel": {"id": "C1"}, "response_url": "https://x"})}),
    "a message shortcut whose text is a list": urlencode({"payload": json.dumps(
        {"type": "message_action", "callback_id": "quote_save", "user": {"id": "U1"},
         "team": {"id": "T0TEST"}, "channel": {"id": "C1"}, "response_url": "https://x",
         "message": {"ts": "1.2", "text": ["x"]}})}),
}


async def test_malformed_signed_bodies_get_400_and_one_log_line(slack, fake, caplog):
    caplog.set_level(logging.INFO)
    for name, body in MALFORMED.items():
        caplog.clear()
        raw = body.encode("utf-8", "surrogateescape")
        ts = str(int(time.time()))
        digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest.hexdigest()}"}
        async with slack.session.post(slack.base + "/slack/events", data=raw,
                                      headers=headers) as resp:
            status = resp.status
        assert status == 400, name
        refusals = [r for r in caplog.records if "malformed signed request" in r.message]
        assert len(refusals) == 1, name
        assert not any(r.exc_info for r in caplog.records), name  # no traceback
    for body in ('{"broken', "[1]"):
        status, _ = await slack.post(body, {"Content-Type": "application/json", **sign(body)})
        assert status == 400
    message = await slack.command("secret sauce")  # still serving
    assert "secret sauce" in block_text(message.data)


async def test_a_garbled_timestamp_header_is_refused_not_crashed(slack):
    body = "text=x"
    status, _ = await slack.post(body, {"X-Slack-Request-Timestamp": "soon",
                                        "X-Slack-Signature": "v0=00"})
    assert status == 401


async def test_a_validly_signed_request_replayed_in_the_window_runs_once(slack, fake, caplog):
    path, url = slack.new_response_url()
    body = slack.command_body("secret sauce", url)
    headers = sign(body)
    status, _ = await slack.post(body, headers)
    assert status == 200
    await fake.wait_for(path)
    caplog.set_level(logging.WARNING)
    status, _ = await slack.post(body, headers)
    assert status == 401
    assert "replayed request" in caplog.text
    await fake.settle()
    assert len(fake.calls(path)) == 1


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_a_request_replayed_to_another_worker_is_refused_too(slack, fake, services,
                                                                  registry, caplog):
    """Two HTTP workers of one PostgreSQL database (behind a load balancer): a signed
    request taken by one and replayed to the other runs once."""
    assert services.library.db.engine == "postgresql"
    base, stop, task = await start(http_settings(fake), services, registry)
    try:
        async with aiohttp.ClientSession() as session:
            other = Driver(base, fake, session)
            path, url = slack.new_response_url()
            body = slack.command_body("secret sauce", url)
            headers = sign(body)
            assert (await slack.post(body, headers))[0] == 200
            await fake.wait_for(path)
            caplog.set_level(logging.WARNING)
            assert (await other.post(body, headers))[0] == 401
            assert "replayed request" in caplog.text
            await fake.settle()
            assert len(fake.calls(path)) == 1
            path, url = slack.new_response_url()
            again = slack.command_body("secret sauce", url)  # a new request: taken
            assert (await other.post(again, sign(again)))[0] == 200
            await fake.wait_for(path)
    finally:
        stop.set()
        await task


async def test_seen_signatures_expire_and_stay_bounded():
    now = [1_000_000.0]
    seen = SeenSignatures(clock=lambda: now[0], limit=3)
    assert await seen.first_time("v0=a", 1_000_000)
    assert not await seen.first_time("v0=a", 1_000_000)
    now[0] += 5 * 60 + 1
    assert await seen.first_time("v0=a", 1_000_000)  # its window has passed: forgotten
    for name in "bcde":
        assert await seen.first_time(f"v0={name}", int(now[0]))
    assert len(seen) == 3
    ahead = SeenSignatures(clock=lambda: now[0])
    stamp = int(now[0]) + 100  # a request stamped 100 s ahead of our clock
    assert await ahead.first_time("v0=z", stamp)
    now[0] += 5 * 60 + 50  # past the window counted from our clock, not from its stamp
    assert not await ahead.first_time("v0=z", stamp)


async def test_a_signed_button_with_infinity_or_huge_numbers_gets_a_clean_error(slack, fake):
    message = await slack.command("was")
    for value in ('{"c":"search","a":{"query":"was","offset":Infinity}}',
                  '{"c":"search","a":{"query":"was","offset":NaN}}',
                  '{"c":"search","a":{"query":"was","offset":1e999}}',
                  '{"c":"show","a":{"id":' + "9" * 40 + "}}",
                  '{"c":"show","a":{"id":{"nested":1}}}'):
        data = json.loads(json.dumps(message.data))
        for block in data["blocks"]:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                element["value"] = value
        path = await slack.click(SimpleNamespace(data=data), "quote_next")
        reply = (await fake.wait_for(path)).data
        assert "no longer works" in block_text(reply), value
        assert reply["response_type"] == "ephemeral"


async def test_dispatch_turns_an_infinite_number_into_an_error_reply(services, registry):
    reply = await registry.dispatch(Request("show", {"id": float("inf")}), services)
    assert isinstance(reply, ErrorReply) and "whole number" in reply.message


async def test_healthz_says_ok_while_the_database_answers_and_503_once_it_does_not(
        slack, services):
    async with slack.session.get(slack.base + "/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok"}
    await services.library.db.close()  # what a lost database looks like from here
    async with slack.session.get(slack.base + "/healthz") as response:
        assert response.status == 503  # the load balancer sends requests elsewhere
        body = await response.json()
    assert body["status"] == "unavailable" and body["database"].startswith("unavailable")
