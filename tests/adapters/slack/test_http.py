"""HTTP mode at the door: request signatures, stale timestamps, and rate-limited Web API calls."""

from __future__ import annotations

import json
import time

from tests.adapters.slack.conftest import block_text, http_settings, sign, start


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
