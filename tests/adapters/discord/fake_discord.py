"""A fake Discord on 127.0.0.1: the HTTP API routes the bot uses and a JSON websocket gateway.

discord.py runs unmodified against it: tests point `discord.http.Route.BASE` at `api_base`,
and `/gateway/bot` answers with this server's websocket URL. Everything the bot sends over
HTTP is recorded as a `Call`; tests dispatch INTERACTION_CREATE events over the gateway and
wait for the calls they expect.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

TOKEN = "fake-bot-token"
APP_ID = 424242424242424242
BOT_ID = 424242424242424242
GUILD_ID = 515151515151515151
CHANNEL_ID = 626262626262626262  # #general, where the caller types
QUOTES_ID = 636363636363636363  # #quotes, where daily quotes go
BOT_ROLE_ID = 525252525252525252  # the bot's managed role
CALLER_ID = 737373737373737373
OWNER_ID = 848484848484848484
COMMAND_ID = 959595959595959595
EPHEMERAL = 64
DISCORD_EPOCH_MS = 1_420_070_400_000  # 2015-01-01, where Discord's snowflake clocks start
ADMIN_PERMISSIONS = str((1 << 41) - 1)
MEMBER_PERMISSIONS = str(0x400 | 0x800 | 0x80000000)  # view channel, send messages, use commands
MANAGE_CHANNELS = 0x10
SEND_MESSAGES = 0x800
EMBED_LINKS = 0x4000
BOT_PERMISSIONS = str(0x400 | 0x800 | 0x4000 | 0x10000)  # view, send, embed links, read history

OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_RESUME, OP_HELLO, OP_HEARTBEAT_ACK = 0, 1, 2, 6, 10, 11


def user_json(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "global_name": name, "discriminator": "0",
            "avatar": None, "bot": bot, "system": False, "public_flags": 0, "flags": 0}


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (a message with attachments)."""

    field: str
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class Call:
    """One HTTP request the bot made; `files` are the uploads of a multipart one (its
    `payload_json` part is `json`)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str] = field(repr=False, default_factory=dict)
    files: list[Upload] = field(default_factory=list)


def parse_multipart(content_type: str, body: bytes) -> tuple[Any, list[Upload]]:
    """`payload_json` and the files of a multipart/form-data body, as Discord reads them."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    payload: Any = None
    files = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "payload_json":
            payload = json.loads(data)
        else:
            files.append(Upload(name, part.get_filename() or "", part.get_content_type(), data))
    return payload, files


@dataclass(frozen=True)
class Pick:
    """A channel chosen in a CHANNEL option; `permissions` are the caller's in it (as Discord
    resolves them; None = the same as in the channel the command was typed in)."""

    id: int = QUOTES_ID
    permissions: str | None = None


@dataclass(frozen=True)
class RolePick:
    """A role chosen in a ROLE option (resolved as Discord sends it)."""

    id: int
    name: str = "quote keepers"


def role_json(role_id: int, name: str, permissions: str = MEMBER_PERMISSIONS) -> dict[str, Any]:
    return {"id": str(role_id), "name": name, "permissions": permissions, "position": 1,
            "color": 0, "hoist": False, "managed": False, "mentionable": True, "flags": 0}


@dataclass(frozen=True)
class Attached:
    """A file given to an ATTACHMENT option: the fake serves `data` at the attachment's URL
    (GET /attachments/{id}/{filename}), answering `status`; `size` is what Discord reports
    (None: the real size)."""

    filename: str
    data: bytes = field(repr=False)
    content_type: str = "text/plain; charset=utf-8"
    size: int | None = None
    status: int = 200


@dataclass
class Refusal:
    """How the fake answers POST /channels/{id}/messages while it refuses (times None = always)."""

    status: int
    code: int
    message: str
    times: int | None = None
    retry_after: float | None = None


@dataclass
class Stall:
    """Holds POST /channels/{id}/messages to a channel until `release` is set, after making
    the message first (`commit`: the send went through, only its answer is late) or not at
    all (the request is dropped). `arrived` is set when the bot's request comes in."""

    commit: bool
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    message: dict[str, Any] | None = None


@dataclass
class Shard:
    """One gateway connection after IDENTIFY."""

    ws: web.WebSocketResponse
    shard: tuple[int, int]
    identify: dict[str, Any]
    seq: int = 0


class FakeDiscord:
    """The fake API and gateway. `await start()`, then use `api_base`; `await close()`."""

    def __init__(self, *, token: str = TOKEN, shards: int = 1) -> None:
        self.token = token
        self.recommended_shards = shards
        self.calls: list[Call] = []
        self.unexpected: list[Call] = []  # requests to routes a real bot should not need
        self.shards: dict[int, Shard] = {}
        self.guild_ids: list[int] = [GUILD_ID]  # the servers the bot is in (add_guild)
        self.stalls: dict[int, Stall] = {}  # channel id -> a post held there (stall_posts)
        self.messages: dict[int, dict[str, Any]] = {}
        self.interactions: dict[str, dict[str, Any]] = {}  # by interaction token
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id -> synced
        self.channels: dict[int, dict[str, Any]] = {
            CHANNEL_ID: self.channel_json(GUILD_ID),
            QUOTES_ID: self.channel_json(GUILD_ID, QUOTES_ID, "quotes"),
        }
        self.hidden: set[int] = set()  # channels the bot cannot see (403 Missing Access)
        self.no_history: set[int] = set()  # channels whose history the bot may not read
        self.refusals: dict[int, Refusal] = {}  # channel id -> how posting there fails
        self.nonces: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, nonce) -> message
        self.oversized: list[str] = []  # messages refused for breaking Discord's limits
        self.files: dict[str, Attached] = {}  # attachment id -> the file the CDN serves
        self.downloads: list[str] = []  # attachment ids the bot downloaded
        self._ids = itertools.count(100_000_000_000_000_001)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.port = 0

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{id}/{filename}", self._attachment)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---- waiting ---------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate, timeout: float = 5.0, what: str = "condition"):
        """Wait until `predicate()` returns something truthy; return it."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                calls = "\n".join(f"  {c.method} {c.path}" for c in self.calls)
                raise AssertionError(f"timed out waiting for {what}; calls so far:\n{calls}") \
                    from None
            return predicate()

    async def wait_call(self, method: str, path_part: str, timeout: float = 5.0,
                        after: int = 0) -> Call:
        """The first call (from index `after`) with this method whose path contains `path_part`."""
        def found() -> Call | None:
            for call in self.calls[after:]:
                if call.method == method and path_part in call.path:
                    return call
            return None
        return await self.wait_until(found, timeout, f"{method} …{path_part}")

    async def wait_shards(self, count: int = 1, timeout: float = 10.0) -> None:
        await self.wait_until(lambda: len(self.shards) >= count, timeout, f"{count} shard(s)")

    def find_calls(self, method: str, path_part: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and path_part in c.path]

    # ---- gateway ---------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        await ws.send_str(json.dumps({"op": OP_HELLO, "d": {"heartbeat_interval": 41250},
                                      "s": None, "t": None}))
        shard_id = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                op = payload.get("op")
                if op == OP_HEARTBEAT:
                    await ws.send_str(json.dumps({"op": OP_HEARTBEAT_ACK, "d": None}))
                elif op == OP_IDENTIFY:
                    shard_id = await self._identify(ws, payload["d"])
        finally:
            self._sockets.discard(ws)
            if shard_id is not None and self.shards.get(shard_id, None) is not None \
                    and self.shards[shard_id].ws is ws:
                del self.shards[shard_id]
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> int:
        shard_id, count = data.get("shard", [0, 1])
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return shard_id
        shard = Shard(ws, (shard_id, count), data)
        self.shards[shard_id] = shard
        guilds = [g for g in self.guild_ids if (g >> 22) % count == shard_id]
        await self._send(shard, "READY", {
            "v": 10,
            "user": user_json(BOT_ID, "quotebot", bot=True),
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "session_id": f"session-{shard_id}",
            "resume_gateway_url": self.ws_url,
            "shard": [shard_id, count],
            "application": {"id": str(APP_ID), "flags": 0},
        })
        for g in guilds:
            await self._send(shard, "GUILD_CREATE", self.guild_json(g))
        await self._notify()
        return shard_id

    async def _send(self, shard: Shard, event: str, data: dict[str, Any]) -> None:
        shard.seq += 1
        await shard.ws.send_str(json.dumps({"op": OP_DISPATCH, "t": event, "s": shard.seq,
                                            "d": data}))

    async def dispatch(self, event: str, data: dict[str, Any], shard: int = 0) -> None:
        """Send a gateway event to the bot over shard `shard`."""
        await self._send(self.shards[shard], event, data)

    def guild_json(self, guild_id: int) -> dict[str, Any]:
        return {
            "id": str(guild_id), "name": "Quote Lovers", "icon": None, "splash": None,
            "discovery_splash": None, "owner_id": str(OWNER_ID), "afk_channel_id": None,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "premium_tier": 0,
            "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
            "public_updates_channel_id": None, "preferred_locale": "en-US", "nsfw_level": 0,
            "features": [], "emojis": [], "stickers": [], "large": False, "unavailable": False,
            "member_count": 2, "joined_at": "2024-01-01T00:00:00+00:00",
            "roles": [{"id": str(guild_id), "name": "@everyone", "permissions": MEMBER_PERMISSIONS,
                       "position": 0, "color": 0, "hoist": False, "managed": False,
                       "mentionable": False, "flags": 0},
                      {"id": str(BOT_ROLE_ID), "name": "quotebot", "permissions": BOT_PERMISSIONS,
                       "position": 1, "color": 0, "hoist": False, "managed": True,
                       "mentionable": False, "flags": 0, "tags": {"bot_id": str(BOT_ID)}}],
            "channels": [c for c in self.channels.values() if c["guild_id"] == str(guild_id)],
            # Without the members intent Discord still sends the bot's own member.
            "members": [self.bot_member_json()],
            "threads": [], "presences": [], "voice_states": [],
            "stage_instances": [], "guild_scheduled_events": [],
        }

    @staticmethod
    def channel_json(guild_id: int = GUILD_ID, channel_id: int = CHANNEL_ID,
                     name: str = "general", overwrites: list | None = None) -> dict[str, Any]:
        return {"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": name,
                "position": 0, "permission_overwrites": overwrites or [], "nsfw": False,
                "parent_id": None, "topic": None, "last_message_id": None,
                "rate_limit_per_user": 0}

    @staticmethod
    def bot_member_json() -> dict[str, Any]:
        return {"user": user_json(BOT_ID, "quotebot", bot=True), "roles": [str(BOT_ROLE_ID)],
                "nick": None, "avatar": None, "joined_at": "2024-01-01T00:00:00+00:00",
                "deaf": False, "mute": False, "flags": 0, "pending": False}

    def add_channel(self, channel_id: int, name: str, *, deny_bot: int = 0,
                    guild_id: int = GUILD_ID) -> None:
        """A text channel in the guild (another one added by `add_guild`); `deny_bot`
        permission bits are denied to the bot's role.

        Add channels before the bot connects: they arrive with the guild (GUILD_CREATE).
        """
        overwrites = [{"id": str(BOT_ROLE_ID), "type": 0, "allow": "0",
                       "deny": str(deny_bot)}] if deny_bot else []
        self.channels[channel_id] = self.channel_json(guild_id, channel_id, name, overwrites)

    def add_guild(self, guild_id: int) -> None:
        """Another server the bot is in, sent (with its channels) to the shard that serves it
        (`(guild_id >> 22) % shard_count`). Add it before the bot connects."""
        if guild_id not in self.guild_ids:
            self.guild_ids.append(guild_id)

    def stall_posts(self, channel_id: int, *, commit: bool) -> Stall:
        """Hold the next post to `channel_id` (see `Stall`) until `stall.release` is set."""
        stall = self.stalls[channel_id] = Stall(commit)
        return stall

    def refuse_posts(self, channel_id: int, status: int = 403, code: int = 50013,
                     message: str = "Missing Permissions", *, times: int | None = None,
                     retry_after: float | None = None) -> None:
        """Answer POSTs of messages to `channel_id` with an error (`times` None: until lifted)."""
        self.refusals[channel_id] = Refusal(status, code, message, times, retry_after)

    def channel_posts(self, channel_id: int | None = None) -> list[Call]:
        """POST /channels/{id}/messages calls the bot made (to one channel, or any)."""
        return [c for c in self.calls if c.method == "POST" and c.path.startswith("/channels/")
                and c.path.endswith("/messages")
                and (channel_id is None or c.path == f"/channels/{channel_id}/messages")]

    # ---- interactions -------------------------------------------------------------------------

    def interaction(self, type_: int, data: dict[str, Any] | None, *,
                    message: dict[str, Any] | None = None, admin: bool = False,
                    guild_id: int = GUILD_ID, perms: str | None = None,
                    roles: tuple[int, ...] = (), caller: int = CALLER_ID) -> dict[str, Any]:
        """An INTERACTION_CREATE payload from `caller` (default: the caller) in #general
        (None data = left out); `roles` are the ids of the caller's roles."""
        iid = next(self._ids)
        token = f"interaction-token-{iid}"
        perms = perms or (ADMIN_PERMISSIONS if admin else MEMBER_PERMISSIONS)
        payload: dict[str, Any] = {
            "id": str(iid), "application_id": str(APP_ID), "type": type_, "token": token,
            "version": 1, "guild_id": str(guild_id), "channel_id": str(CHANNEL_ID),
            "channel": {**self.channel_json(guild_id), "permissions": perms},
            "member": {"user": user_json(caller, "caller" if caller == CALLER_ID
                                         else f"user{caller}"),
                       "roles": [str(r) for r in roles], "nick": None,
                       "avatar": None, "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False,
                       "mute": False, "flags": 0, "pending": False, "permissions": perms},
            "locale": "en-US", "guild_locale": "en-US", "app_permissions": MEMBER_PERMISSIONS,
            "entitlements": [], "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0, "attachment_size_limit": 10 * 1024 * 1024,
        }
        if data is not None:
            payload["data"] = data
        if message is not None:
            payload["message"] = message
        self.interactions[token] = payload
        return payload

    def command_data(self, path: str, options: dict[str, Any] | None = None,
                     focused: str | None = None, *, perms: str = MEMBER_PERMISSIONS
                     ) -> dict[str, Any]:
        """`data` of `/quote <path> name:value…`; `focused` marks the option being typed.

        A `Pick` value is a CHANNEL option, resolved as Discord does (with the caller's
        permissions in that channel, `perms` unless the pick says otherwise).
        """
        leaf_options = []
        resolved: dict[str, Any] = {}
        for name, value in (options or {}).items():
            if isinstance(value, RolePick):
                resolved.setdefault("roles", {})[str(value.id)] = role_json(value.id, value.name)
                leaf_options.append({"type": 8, "name": name, "value": str(value.id)})
                continue
            if isinstance(value, Attached):
                file_id = str(next(self._ids))
                self.files[file_id] = value
                url = f"http://127.0.0.1:{self.port}/attachments/{file_id}/{value.filename}"
                resolved.setdefault("attachments", {})[file_id] = {
                    "id": file_id, "filename": value.filename, "url": url, "proxy_url": url,
                    "size": len(value.data) if value.size is None else value.size,
                    "content_type": value.content_type, "ephemeral": True}
                leaf_options.append({"type": 11, "name": name, "value": file_id})
                continue
            if isinstance(value, Pick):
                channel = self.channels.get(value.id) or self.channel_json(GUILD_ID, value.id, "x")
                fields = {k: channel[k] for k in ("id", "name", "type", "guild_id",
                                                  "parent_id", "nsfw", "position")}
                resolved.setdefault("channels", {})[str(value.id)] = {
                    **fields, "permissions": value.permissions or perms}
                leaf_options.append({"type": 7, "name": name, "value": str(value.id)})
                continue
            kind = 4 if isinstance(value, int) and name != focused else 3
            opt: dict[str, Any] = {"type": kind, "name": name, "value": value}
            if name == focused:
                opt["focused"] = True
            leaf_options.append(opt)
        words = path.split()
        node: dict[str, Any] = {"type": 1, "name": words[-1], "options": leaf_options}
        for word in reversed(words[:-1]):
            node = {"type": 2, "name": word, "options": [node]}
        data = {"id": str(COMMAND_ID), "name": "quote", "type": 1, "options": [node]}
        if resolved:
            data["resolved"] = resolved
        return data

    def command(self, path: str, *, admin: bool = False, perms: str | None = None,
                guild_id: int = GUILD_ID, roles: tuple[int, ...] = (),
                caller: int = CALLER_ID, **options: Any) -> dict[str, Any]:
        """`/quote <path> …` from the caller: a member, an admin, or with explicit `perms`;
        in guild `guild_id` (another guild: a server the bot is in on another shard),
        holding `roles`, by another user when `caller` is given. An `Attached` value is an
        ATTACHMENT option, served by the fake's CDN."""
        perms = perms or (ADMIN_PERMISSIONS if admin else MEMBER_PERMISSIONS)
        return self.interaction(2, self.command_data(path, options, perms=perms), perms=perms,
                                guild_id=guild_id, roles=roles, caller=caller)

    def user_message(self, content: str, *, author_id: int = OWNER_ID, author: str = "Ana",
                     guild_id: int = GUILD_ID, mentions: tuple[tuple[int, str], ...] = ()
                     ) -> dict[str, Any]:
        """A message someone (not the bot) wrote in #general, as Discord resolves it for a
        message command; `mentions` are (user id, name) of the users it mentions."""
        mid = next(self._ids)
        return {
            "id": str(mid), "channel_id": str(CHANNEL_ID), "guild_id": str(guild_id),
            "author": user_json(author_id, author), "content": content,
            "timestamp": "2026-11-30T10:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": "@everyone" in content,
            "mentions": [user_json(uid, name) for uid, name in mentions],
            "mention_roles": [], "attachments": [], "embeds": [], "components": [],
            "pinned": False, "type": 0, "flags": 0,
        }

    def message_command(self, message: dict[str, Any], name: str = "Save as quote", *,
                        guild_id: int = GUILD_ID, caller: int = CALLER_ID,
                        admin: bool = False) -> dict[str, Any]:
        """A message context-menu command (Apps → `name`) on `message`: an APPLICATION_COMMAND
        of type MESSAGE whose target is resolved, as Discord sends it."""
        data = {"id": str(COMMAND_ID + 100), "name": name, "type": 3,
                "target_id": message["id"], "resolved": {"messages": {message["id"]: message}}}
        return self.interaction(2, data, guild_id=guild_id, caller=caller, admin=admin)

    def autocomplete(self, path: str, focused: str, **options: Any) -> dict[str, Any]:
        return self.interaction(4, self.command_data(path, options, focused))

    def click(self, message: dict[str, Any], custom_id: str, *,
              guild_id: int = GUILD_ID) -> dict[str, Any]:
        return self.interaction(3, {"custom_id": custom_id, "component_type": 2},
                                message=message, guild_id=guild_id)

    async def send(self, payload: dict[str, Any], shard: int = 0) -> dict[str, Any]:
        await self.dispatch("INTERACTION_CREATE", payload, shard)
        return payload

    async def callback(self, payload: dict[str, Any], timeout: float = 5.0) -> Any:
        """The body of the bot's response to an interaction we sent."""
        call = await self.wait_call("POST", f"/interactions/{payload['id']}/", timeout)
        return call.json

    async def original(self, payload: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """The message the bot's response to `payload` created or updated, as Discord has it."""
        interaction = self.interactions[payload["token"]]
        await self.wait_until(lambda: interaction.get("_original"), timeout, "a response message")
        return self.messages[int(interaction["_original"])]

    def sent_messages(self) -> list[dict[str, Any]]:
        """Every message body the bot sent or edited, whichever way it went."""
        bodies = []
        for call in self.calls:
            body = call.json if isinstance(call.json, dict) else {}
            if call.method == "POST" and call.path.endswith("/callback"):
                if body.get("type") in (4, 7):
                    bodies.append(body.get("data") or {})
            elif call.path.startswith("/webhooks/") and call.method in ("POST", "PATCH"):
                bodies.append(body)
            elif call.path.startswith("/channels/") and call.method == "POST":
                bodies.append(body)
        return bodies

    def message_json(self, body: dict[str, Any], *, message_id: int | None = None,
                     flags: int = 0, channel_id: int = CHANNEL_ID) -> dict[str, Any]:
        mid = message_id or next(self._ids)
        message = {
            "id": str(mid), "channel_id": str(channel_id),
            "guild_id": (self.channels.get(channel_id) or {}).get("guild_id", str(GUILD_ID)),
            "author": user_json(BOT_ID, "quotebot", bot=True), "content": body.get("content") or "",
            "timestamp": "2024-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [{"id": str(next(self._ids)), "filename": a.get("filename", ""),
                             "description": a.get("description"), "size": 1,
                             "url": f"https://cdn.example/{a.get('filename', '')}",
                             "proxy_url": f"https://cdn.example/{a.get('filename', '')}"}
                            for a in body.get("attachments") or []],
            "embeds": body.get("embeds") or [], "components": body.get("components") or [],
            "pinned": False, "type": 20, "flags": body.get("flags", flags) or 0,
            "webhook_id": str(APP_ID), "application_id": str(APP_ID),
            **({"nonce": body["nonce"]} if "nonce" in body else {}),
        }
        self.messages[mid] = message
        return message

    # ---- HTTP API --------------------------------------------------------------------------

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        """The CDN: an attached file's bytes (no token: Discord signs attachment URLs)."""
        file_id = request.match_info["id"]
        self.downloads.append(file_id)
        await self._notify()
        attached = self.files.get(file_id)
        if attached is None or attached.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        if attached.status != 200:
            return web.Response(status=attached.status, text="CDN error")
        return web.Response(body=attached.data, content_type="application/octet-stream")

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await request.read()
        files: list[Upload] = []
        if request.content_type == "multipart/form-data":
            data, files = parse_multipart(request.headers["Content-Type"], body)
        else:
            try:
                data = json.loads(body) if body else None
            except ValueError:
                data = body.decode(errors="replace")
        call = Call(request.method, path, dict(request.query), data, dict(request.headers),
                    files)
        self.calls.append(call)
        try:
            return await self._route(request, call)
        finally:
            await self._notify()

    async def _route(self, request: web.Request, call: Call) -> web.StreamResponse:
        parts = call.path.strip("/").split("/")
        method = call.method
        if method in ("POST", "PATCH") and isinstance(call.json, dict):
            message = call.json.get("data") if "/callback" in call.path else call.json
            problem = message_problem(message if isinstance(message, dict) else {})
            if problem:  # as Discord answers a message beyond its limits
                self.oversized.append(problem)
                return _json({"message": "Invalid Form Body", "code": 50035,
                              "errors": {"embeds": problem}}, 400)
        if request.headers.get("Authorization") not in (f"Bot {self.token}", None):
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        if (method, parts) == ("GET", ["users", "@me"]):
            if request.headers.get("Authorization") != f"Bot {self.token}":
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
            return _json(user_json(BOT_ID, "quotebot", bot=True))
        if (method, parts) == ("GET", ["oauth2", "applications", "@me"]):
            return _json(self.application_json())
        if (method, parts) == ("GET", ["gateway", "bot"]):
            return _json({"url": self.ws_url, "shards": self.recommended_shards,
                          "session_start_limit": {"total": 1000, "remaining": 999,
                                                  "reset_after": 0, "max_concurrency": 1}})
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            scope = parts[3] if len(parts) == 5 else "global"
            # Discord answers a context-menu command (sent without one) with description "".
            synced = [{"description": "", **cmd, "id": str(COMMAND_ID + i),
                       "application_id": str(APP_ID),
                       "version": "1", **({"guild_id": scope} if scope != "global" else {})}
                      for i, cmd in enumerate(call.json or [])]
            self.commands[scope] = synced
            return _json(synced)
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return _json(self._interaction_callback(parts[1], parts[2], call.json or {}))
        if parts[0] == "webhooks" and len(parts) >= 3:
            return self._webhook(method, parts, call)
        if (method, parts[0], parts[-1]) == ("POST", "channels", "messages"):
            if int(parts[1]) in self.stalls:
                return await self._stalled(int(parts[1]), call.json or {})
            return self._channel_message(int(parts[1]), call.json or {})
        if method == "GET" and parts[0] == "channels" and len(parts) == 2:
            return self._get_channel(int(parts[1]))
        if (method, parts[0], parts[-1]) == ("GET", "channels", "messages") and len(parts) == 3:
            return self._history(int(parts[1]), call.query)
        log.warning("fake discord: unexpected %s %s", method, call.path)
        self.unexpected.append(call)
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _get_channel(self, channel_id: int) -> web.Response:
        if channel_id in self.hidden:
            return _json({"message": "Missing Access", "code": 50001}, 403)
        channel = self.channels.get(channel_id)
        if channel is None:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        return _json(channel)

    def _channel_message(self, channel_id: int, body: dict[str, Any]) -> web.Response:
        """A bot message in a channel: refused as configured, deduplicated by enforced nonce."""
        if channel_id not in self.channels:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        refusal = self.refusals.get(channel_id)
        if refusal is not None:
            if refusal.times is not None:
                refusal.times -= 1
                if refusal.times <= 0:
                    del self.refusals[channel_id]
            headers = {}
            error: dict[str, Any] = {"message": refusal.message, "code": refusal.code}
            if refusal.retry_after is not None:
                headers["Retry-After"] = str(refusal.retry_after)
                error.update(retry_after=refusal.retry_after, **{"global": False})
            return _json(error, refusal.status, headers)
        key = (str(channel_id), str(body.get("nonce")))
        if body.get("enforce_nonce") and key in self.nonces:
            return _json(self.nonces[key])  # Discord returns the message already sent
        # A bot's own channel message: type 0, no webhook, its id a snowflake of now.
        message = self.message_json(body, channel_id=channel_id, message_id=self._snowflake())
        message.pop("webhook_id")
        message["type"] = 0
        if body.get("enforce_nonce"):
            self.nonces[key] = message
        return _json(message)

    def _snowflake(self) -> int:
        """An id as Discord makes them: milliseconds since its epoch, then 22 other bits."""
        return (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22 | next(self._ids) % (1 << 22)

    def forget_nonces(self) -> None:
        """What Discord does a few minutes after a send: a retried nonce makes a new message."""
        self.nonces.clear()

    def _history(self, channel_id: int, query: dict[str, str]) -> web.Response:
        """GET /channels/{id}/messages: the newest first, as Discord keeps them (no nonce)."""
        if channel_id in self.hidden or channel_id in self.no_history:
            return _json({"message": "Missing Access", "code": 50001}, 403)
        limit = min(int(query.get("limit", 50)), 100)
        before = int(query["before"]) if "before" in query else None
        mine = sorted((m for m in self.messages.values()
                       if m["channel_id"] == str(channel_id)
                       and (before is None or int(m["id"]) < before)),
                      key=lambda m: int(m["id"]), reverse=True)
        return _json([{k: v for k, v in m.items() if k != "nonce"} for m in mine[:limit]])

    async def _stalled(self, channel_id: int, body: dict[str, Any]) -> web.Response:
        """A post held by `stall_posts`: made first (commit) or never, answered on release."""
        stall = self.stalls.pop(channel_id)
        response = self._channel_message(channel_id, body) if stall.commit else None
        if response is not None:
            stall.message = json.loads(response.body)
        stall.arrived.set()
        await self._notify()
        await stall.release.wait()
        return response or _json({"message": "Service Unavailable", "code": 0}, 503)

    def application_json(self) -> dict[str, Any]:
        return {"id": str(APP_ID), "name": "quotebot", "description": "", "icon": None,
                "bot_public": True, "bot_require_code_grant": False,
                "owner": user_json(OWNER_ID, "owner"), "verify_key": "00" * 32, "flags": 0,
                "team": None, "summary": "", "rpc_origins": [], "interactions_endpoint_url": None,
                "redirect_uris": [], "tags": []}

    def _interaction_callback(self, iid: str, token: str, body: dict[str, Any]) -> dict:
        kind = body.get("type")
        data = body.get("data") or {}
        interaction = self.interactions.get(token, {})
        result: dict[str, Any] = {"interaction": {"id": iid, "type": interaction.get("type", 2)}}
        if kind in (4, 5):  # a new message (or its "thinking" placeholder)
            message = self.message_json(data)
            result["interaction"].update(response_message_id=message["id"],
                                         response_message_loading=kind == 5,
                                         response_message_ephemeral=bool(
                                             message["flags"] & EPHEMERAL))
            interaction["_original"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        elif kind == 7:  # update the message the component is on
            old = interaction.get("message", {})
            message = self._edit(int(old.get("id", 0)) or None, data, old)
            interaction["_original"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        elif kind == 6:
            old = interaction.get("message", {})
            if old:
                interaction["_original"] = old["id"]
                self.messages.setdefault(int(old["id"]), old)
            result["resource"] = {"type": kind}
        else:
            result["resource"] = {"type": kind}
        return result

    def _edit(self, message_id: int | None, data: dict[str, Any],
              old: dict[str, Any] | None = None) -> dict[str, Any]:
        base = dict(self.messages.get(message_id or 0) or old or {})
        if not base:
            return self.message_json(data)
        for key in ("content", "embeds", "components"):
            if key in data:
                base[key] = data[key] if data[key] is not None else ([] if key != "content"
                                                                     else "")
        base["edited_timestamp"] = "2024-01-01T00:00:01+00:00"
        self.messages[int(base["id"])] = base
        return base

    def _webhook(self, method: str, parts: list[str], call: Call) -> web.StreamResponse:
        token = parts[2]
        interaction = self.interactions.get(token, {})
        if method == "POST" and len(parts) == 3:  # a follow-up
            return _json(self.message_json(call.json or {}))
        if len(parts) == 5 and parts[3] == "messages":
            original = parts[4] == "@original"
            message_id = int(interaction.get("_original", 0)) if original else int(parts[4])
            if method == "PATCH":
                return _json(self._edit(message_id, call.json or {}))
            if method == "DELETE":
                self.messages.pop(message_id, None)
                return web.Response(status=204)
            if method == "GET":
                return _json(self.messages.get(message_id, {}))
        return _json({"message": "404: Not Found", "code": 0}, 404)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only when the content type is exactly this.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def message_problem(message: dict[str, Any]) -> str | None:
    """Why Discord would refuse this message body for its size, or None.

    https://discord.com/developers/docs/resources/message#embed-object-embed-limits
    """
    if len(message.get("content") or "") > 2000:
        return "content over 2000"
    embeds = message.get("embeds") or []
    if len(embeds) > 10:
        return "more than 10 embeds"
    total = 0
    for embed in embeds:
        parts = {"title": (embed.get("title") or "", 256),
                 "description": (embed.get("description") or "", 4096),
                 "footer": ((embed.get("footer") or {}).get("text") or "", 2048),
                 "author": ((embed.get("author") or {}).get("name") or "", 256)}
        for name, (text, limit) in parts.items():
            if len(text) > limit:
                return f"{name} over {limit}"
            total += len(text)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            return "more than 25 fields"
        for item in fields:
            if not (item.get("name") or "").strip() or not (item.get("value") or "").strip():
                return "an empty field"
            if len(item["name"]) > 256 or len(item["value"]) > 1024:
                return "a field over its limit"
            total += len(item["name"]) + len(item["value"])
    if total > 6000:
        return f"embeds total {total} characters, over 6000"
    rows = message.get("components") or []
    if len(rows) > 5 or any(len(row.get("components") or []) > 5 for row in rows):
        return "more than 5 rows or 5 components in a row"
    return None
