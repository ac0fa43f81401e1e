"""The HTTP door in front of bolt: signature, replay and shape checks before anything parses.

bolt parses a request body before it checks the signature, so a malformed body (bad JSON in
`payload`, a list where an object belongs) raised out of bolt as HTTP 500 with a traceback,
and bolt never remembers a signature, so a signed request replayed within Slack's 5-minute
window ran twice. Here a request is verified first (401), refused if its signature was already
seen (401; by any worker, on PostgreSQL), then parsed and checked for the fields our
listeners read (400, one log line); only then does bolt dispatch it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from quotebot.store.db import StoreError
from quotebot.store.slack import SlackStore

log = logging.getLogger(__name__)

WINDOW = 5 * 60  # seconds: Slack's (and bolt's) tolerance for a request timestamp
SEEN_MAX = 100_000  # signatures remembered at most (some 25 MB); the oldest go first
BODY_MAX = 1_000_000  # bytes: Slack's payloads are far smaller


class Malformed(ValueError):
    """A validly signed request our listeners cannot read."""


class SeenSignatures:
    """Signatures of requests already accepted, each forgotten once its window has passed.

    In memory, and, given `shared` (on PostgreSQL), in the database too, so that every HTTP
    worker of one database refuses a request replayed to any of them. On SQLite they stay
    per process: a table write per request would wait behind every long write (an import)
    of the one file, and SQLite serves one host.

    Args:
        clock: seconds since the epoch (injected for tests).
        limit: the most signatures kept in memory; past it the oldest are dropped (logged).
        shared: the database's Slack store, when the workers share one.
    """

    def __init__(self, clock: Callable[[], float] = time.time, limit: int = SEEN_MAX,
                 shared: SlackStore | None = None) -> None:
        self.clock = clock
        self.limit = limit
        self.shared = shared
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expiry)

    async def first_time(self, signature: str, timestamp: int) -> bool:
        """Record `signature`; False if it was seen before and its window is still open."""
        now = self.clock()
        while self._expiry:  # insertion order is roughly expiry order: prune from the front
            oldest, expires = next(iter(self._expiry.items()))
            if expires > now:
                break
            del self._expiry[oldest]
        if signature in self._expiry:
            return False
        # Open until the timestamp itself leaves the window (it may be up to WINDOW ahead).
        expires = max(timestamp, now) + WINDOW
        if self.shared is not None and not await self.shared.first_request(
                signature, expires_at=datetime.fromtimestamp(expires, UTC),
                now=datetime.fromtimestamp(now, UTC)):
            return False  # taken by another worker
        if len(self._expiry) >= self.limit:
            self._expiry.popitem(last=False)
            log.warning("more than %d signed requests in %d s: forgetting the oldest",
                        self.limit, WINDOW)
        self._expiry[signature] = expires
        return True


def check_shape(body: Any) -> None:
    """Raise `Malformed` unless `body` has what our listeners and bolt's matchers read."""
    if not isinstance(body, dict):
        raise Malformed(f"the body is a {type(body).__name__}, not an object")
    if "command" in body:
        for name in ("command", "team_id", "channel_id", "user_id", "response_url"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise Malformed(f"a slash command without {name}")
        if not isinstance(body.get("text", ""), str):
            raise Malformed("a slash command whose text is not a string")
        return
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            raise Malformed("block_actions without actions")
        for action in actions:
            if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
                raise Malformed("an action without an action_id")
            if not isinstance(action.get("value", ""), str):
                raise Malformed("an action whose value is not a string")
        for name in ("user", "team", "channel"):
            if not isinstance(body.get(name, {}), dict):
                raise Malformed(f"block_actions whose {name} is not an object")
        if not isinstance((body.get("user") or {}).get("id"), str):
            raise Malformed("block_actions without a user id")
        if not isinstance(body.get("response_url"), str):
            raise Malformed("block_actions without a response_url")
    elif kind == "message_action":
        for name in ("user", "team", "channel", "message"):
            if not isinstance(body.get(name), dict):
                raise Malformed(f"a message shortcut whose {name} is not an object")
        if not isinstance(body["user"].get("id"), str):
            raise Malformed("a message shortcut without a user id")
        for name in ("callback_id", "response_url"):
            if not isinstance(body.get(name), str):
                raise Malformed(f"a message shortcut without {name}")
        if not isinstance(body["message"].get("ts"), str) or not isinstance(
                body["message"].get("text", ""), str):
            raise Malformed("a message shortcut whose message has no ts or text")
    elif kind == "event_callback" and not isinstance(body.get("event"), dict):
        raise Malformed("an event_callback without an event")


class Door:
    """The POST handler for Slack's requests in HTTP mode.

    Args:
        app: the bolt app that dispatches accepted requests.
        signing_secret: the app's signing secret.
        seen: where accepted signatures are remembered.
    """

    def __init__(self, app: AsyncApp, signing_secret: str,
                 seen: SeenSignatures | None = None) -> None:
        self.app = app
        self.seen = SeenSignatures() if seen is None else seen  # (an empty one is falsy)
        self.secret = signing_secret.encode()

    def valid(self, raw: bytes, timestamp: str, signature: str) -> bool:
        """Slack's v0 signature of the raw bytes (any bytes: a body that is not UTF-8 is
        refused later as malformed), its timestamp within the window."""
        try:
            if abs(self.seen.clock() - int(timestamp)) > WINDOW:
                return False
        except ValueError:
            return False
        signed = b"v0:" + timestamp.encode("utf-8", "replace") + b":" + raw
        digest = hmac.new(self.secret, signed, hashlib.sha256)
        expected = "v0=" + digest.hexdigest()
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if len(raw) > BODY_MAX:
            log.warning("refusing a %d-byte request", len(raw))
            return _json(413, "request too large")
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if timestamp is None or signature is None or not self.valid(raw, timestamp, signature):
            log.info("refusing a request with a missing, stale or wrong signature")
            return _json(401, "invalid request")
        try:
            first = await self.seen.first_time(signature, int(timestamp))
        except StoreError as exc:
            log.warning("cannot check a request against the ones already taken: %s", exc)
            return _json(503, "database unavailable")
        if not first:
            log.warning("refusing a replayed request (signature already seen at %s)",
                        timestamp)
            return _json(401, "invalid request")
        try:
            bolt_request = AsyncBoltRequest(body=raw.decode("utf-8"),
                                            query=request.query_string,
                                            headers=dict(request.headers))
            check_shape(bolt_request.body)
        except Exception as exc:  # any parsing failure here is the sender's fault
            log.warning("refusing a malformed signed request: %s: %s",
                        type(exc).__name__, str(exc)[:200])
            return _json(400, "malformed request")
        response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)


def _json(status: int, error: str) -> web.Response:
    return web.json_response({"error": error}, status=status)
