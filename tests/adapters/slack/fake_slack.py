"""A fake Slack on 127.0.0.1: the Web API and response URLs, recording every request."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_TOKEN = "xoxb-test-token"
TEAM = "T0TEST"
BOT_USER = "UBOT"


@dataclass
class Recorded:
    """One request as it went over the wire."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    at: float = field(default_factory=time.monotonic)
    query: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.raw.decode()

    @property
    def data(self) -> dict[str, Any]:
        """The body as a dict: JSON, or form fields with `blocks` decoded (GET: the query)."""
        if not self.raw:
            return dict(self.query)
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(self.raw)
        fields = dict(parse_qsl(self.text, keep_blank_values=True))
        if "blocks" in fields:
            fields["blocks"] = json.loads(fields["blocks"])
        return fields


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Stall:
    """Holds the next chat.postMessage to a channel until `release` is set, after posting the
    message first (`commit`: the post went through, only its answer is late) or not at all
    (the request is dropped). `arrived` is set when the app's request comes in."""

    commit: bool
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    message: dict[str, Any] | None = None


@dataclass
class FakeSlack:
    """`api_url` for the Web API client, `response_url(name)` for payloads."""

    requests: list[Recorded] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    api_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    admins: set[str] = field(default_factory=set)  # users.info says is_admin for these
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # conversations.info
    files: dict[str, bytes] = field(default_factory=dict)  # /files-pri/... path -> bytes
    # Bot tokens that may read files (files:read): the single workspace's, the OAuth one's.
    file_tokens: set[str] = field(default_factory=lambda: {BOT_TOKEN, "xoxb-installed-token"})
    names: dict[str, str] = field(default_factory=dict)  # users.info display names
    # Messages chat.postMessage made (channel, ts, text, blocks, metadata, the bot token
    # that posted it), in order; each
    # gets its own ts when `unique_ts` is set (else every answer carries the same ts).
    posted: list[dict[str, Any]] = field(default_factory=list)
    unique_ts: bool = False
    stalls: dict[str, Stall] = field(default_factory=dict)  # channel -> post held (stall_posts)

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        app = web.Application()
        app.router.add_get("/socket", self._socket)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self.api_answers.setdefault("apps.connections.open", {
            "ok": True, "url": f"ws://{host}:{port}/socket"})
        self.api_answers.setdefault("users.info", self._users_info)
        self.api_answers.setdefault("conversations.info", self._conversations_info)
        self.api_answers.setdefault("files.getUploadURLExternal", self._upload_url)
        self.api_answers.setdefault("files.completeUploadExternal", self._complete_upload)
        self.api_answers.setdefault("conversations.history", self._history)

    def _upload_url(self, recorded: Recorded) -> dict[str, Any]:
        """files.getUploadURLExternal: a file id and where to POST its bytes (here)."""
        file_id = f"F{len(self.calls('files.getUploadURLExternal')):07d}"
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}

    def _complete_upload(self, recorded: Recorded) -> dict[str, Any]:
        files = json.loads(recorded.data.get("files") or "[]")
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def uploads(self) -> list[tuple[Recorded, Recorded, Recorded]]:
        """Each files_upload_v2 as its three requests: the URL asked for (filename, length,
        alt text), the bytes posted to it, and the completion (title, channel)."""
        asked = self.calls("files.getUploadURLExternal")
        done = self.calls("files.completeUploadExternal")
        by_id = {json.loads(c.data["files"])[0]["id"]: c for c in done}
        result = []
        for number, ask in enumerate(asked, 1):
            file_id = f"F{number:07d}"
            sent = self.calls(f"/upload/{file_id}")
            if sent and file_id in by_id:
                result.append((ask, sent[0], by_id[file_id]))
        return result

    def add_file(self, name: str, data: bytes, *, team: str = TEAM, size: int | None = None
                 ) -> dict[str, Any]:
        """A file shared in a message, served (to a bot token that may read files) at its
        `url_private_download`; returns the file object a message payload carries."""
        file_id = f"F0FILE{len(self.files):04d}"
        path = f"/files-pri/{team}-{file_id}/download/{name}"
        self.files[path] = data
        return {"id": file_id, "created": 1700000000, "name": name, "title": name,
                "mimetype": "text/plain", "filetype": "text", "pretty_type": "Plain Text",
                "user": "U0POSTER", "mode": "hosted", "is_external": False,
                "size": len(data) if size is None else size,
                "url_private": f"{self.url}/files-pri/{team}-{file_id}/{name}",
                "url_private_download": f"{self.url}{path}"}

    def _file(self, request: web.Request) -> web.Response:
        """A file's bytes for a bot token with files:read; anyone else gets Slack's sign-in
        page (status 200, HTML), as Slack answers."""
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.file_tokens:
            return web.Response(text="<html><body>Sign in to Slack</body></html>",
                                content_type="text/html")
        data = self.files.get(request.path)
        if data is None:
            return web.Response(status=404, text="file_not_found")
        return web.Response(body=data, content_type="application/octet-stream")

    def _users_info(self, recorded: Recorded) -> dict[str, Any]:
        user = recorded.data.get("user", "")
        return {"ok": True, "user": {"id": user, "name": user.lower(), "deleted": False,
                                     "is_admin": user in self.admins, "is_owner": False,
                                     "is_primary_owner": False, "is_bot": False,
                                     "profile": {"display_name": self.names.get(user, ""),
                                                 "real_name": ""}}}

    def _conversations_info(self, recorded: Recorded) -> dict[str, Any]:
        """A public channel the bot is in, unless `channels` says otherwise."""
        channel = recorded.data.get("channel", "")
        info = {"id": channel, "name": "general", "is_channel": True, "is_private": False,
                "is_archived": False, "is_member": True, "is_im": False, "is_mpim": False}
        override = self.channels.get(channel, {})
        if "error" in override:
            return {"ok": False, "error": override["error"]}
        return {"ok": True, "channel": {**info, **override}}

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        await self._runner.cleanup()

    async def socket_connected(self, timeout: float = 10) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._sockets)), timeout)

    async def send_envelope(self, kind: str, payload: dict[str, Any], envelope_id: str) -> None:
        """Push a Socket Mode envelope to the connected app; its ack comes back on /socket."""
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
                    "retry_reason": ""}
        await self._sockets[-1].send_json(envelope)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async with self._changed:
            self._sockets.append(ws)
            self._changed.notify_all()
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A0TEST"}})
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                async with self._changed:
                    self.requests.append(Recorded("WS", "/socket", {}, message.data.encode()))
                    self._changed.notify_all()
        return ws

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    def stall_posts(self, channel: str, *, commit: bool) -> Stall:
        """Hold the next chat.postMessage to `channel` (see `Stall`) until it is released."""
        stall = self.stalls[channel] = Stall(commit)
        return stall

    async def _post_message(self, recorded: Recorded) -> web.Response:
        """chat.postMessage: the message recorded in `posted` (unless a stall drops it)."""
        data = recorded.data
        stall = self.stalls.pop(str(data.get("channel")), None)
        answer = None
        if stall is None or stall.commit:
            answer = _post_message(recorded)
            if self.unique_ts:
                answer["ts"] = f"1700000000.{len(self.posted) + 100:06d}"
            metadata = data.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            token = recorded.headers.get("Authorization", "").removeprefix("Bearer ")
            message = {"channel": data.get("channel"), "ts": answer["ts"],
                       "text": data.get("text"), "blocks": data.get("blocks"),
                       "metadata": metadata, "token": token}
            self.posted.append(message)
            if stall is not None:
                stall.message = message
        if stall is not None:
            async with self._changed:
                stall.arrived.set()
                self._changed.notify_all()
            await stall.release.wait()
        return web.json_response(answer or {"ok": False, "error": "fatal_error"})

    def _history(self, recorded: Recorded) -> dict[str, Any]:
        """conversations.history: what chat.postMessage made in the channel, newest first,
        with metadata only when asked for (include_all_metadata)."""
        data = recorded.data
        with_metadata = str(data.get("include_all_metadata")).lower() in ("1", "true")
        limit = int(data.get("limit") or 100)
        messages = [{"type": "message", "user": BOT_USER, "bot_id": "B0TEST", "ts": m["ts"],
                     "text": m["text"] or "",
                     **({"metadata": m["metadata"]} if with_metadata and m["metadata"] else {})}
                    for m in reversed(self.posted) if m["channel"] == data.get("channel")]
        return {"ok": True, "messages": messages[:limit], "has_more": len(messages) > limit}

    def fail_once(self, method: str, status: int = 429, retry_after: int = 1,
                  error: str = "ratelimited") -> None:
        """The next call of Web API `method` is answered with `status` (429: Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        self.failures.setdefault(f"/api/{method}", []).append(
            Failure(status, headers, {"ok": False, "error": error}))

    def calls(self, path: str) -> list[Recorded]:
        """Requests to `path` (an API method like "chat.postMessage", or a full path)."""
        full = path if path.startswith("/") else f"/api/{path}"
        return [r for r in self.requests if r.path == full]

    async def wait_for(self, path: str, count: int = 1, timeout: float = 10) -> Recorded:
        """The `count`-th request to `path`, waiting for it to arrive."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(
                lambda: len(self.calls(path)) >= count), timeout)
        return self.calls(path)[count - 1]

    async def settle(self, seconds: float = 0.2) -> None:
        """Give background listeners a moment (to assert that nothing more was sent)."""
        await asyncio.sleep(seconds)

    async def _handle(self, request: web.Request) -> web.Response:
        recorded = Recorded(request.method, request.path, dict(request.headers),
                            await request.read(), query=dict(request.query))
        async with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()
        queue = self.failures.get(request.path)
        if queue:
            failure = queue.pop(0)
            return web.json_response(failure.body, status=failure.status,
                                     headers=failure.headers)
        if request.path.startswith("/response/"):
            return web.json_response({"ok": True})
        if request.path.startswith("/files-pri/"):
            return self._file(request)
        method = request.path.removeprefix("/api/")
        if method == "chat.postMessage" and method not in self.api_answers:
            return await self._post_message(recorded)
        answer = self.api_answers.get(method) or _ANSWERS.get(method, _default)
        return web.json_response(answer(recorded) if callable(answer) else answer)


def _default(recorded: Recorded) -> dict[str, Any]:
    return {"ok": True}


def _post_message(recorded: Recorded) -> dict[str, Any]:
    return {"ok": True, "channel": recorded.data.get("channel"), "ts": "1700000000.000100"}


def _auth_test(recorded: Recorded) -> dict[str, Any]:
    token = recorded.headers.get("Authorization", "").removeprefix("Bearer ")
    return {"ok": True, "url": "https://test.slack.invalid/", "team": "Test team",
            "user": "quotebot", "team_id": TEAM if token == BOT_TOKEN else "T0OAUTH",
            "user_id": BOT_USER, "bot_id": "B0TEST", "is_enterprise_install": False}


def _oauth_access(recorded: Recorded) -> dict[str, Any]:
    return {
        "ok": True, "app_id": "A0TEST", "authed_user": {"id": "U0INSTALLER"},
        "scope": "commands,chat:write,chat:write.public", "token_type": "bot",
        "access_token": "xoxb-installed-token", "bot_user_id": BOT_USER,
        "team": {"id": "T0OAUTH", "name": "OAuth team"}, "enterprise": None,
        "is_enterprise_install": False,
    }


def _permalink(recorded: Recorded) -> dict[str, Any]:
    data = recorded.data
    return {"ok": True, "channel": data.get("channel"),
            "permalink": f"https://asked.slack.invalid/archives/{data.get('channel')}/"
                         f"p{str(data.get('message_ts', '')).replace('.', '')}"}


_ANSWERS: dict[str, Callable[[Recorded], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "chat.getPermalink": _permalink,
    "chat.postMessage": _post_message,
    "oauth.v2.access": _oauth_access,
}
