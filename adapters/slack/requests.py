"""Slack payloads to core Requests: slash commands through the grammar, buttons from their value."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from quotebot.bot.grammar import parse
from quotebot.bot.models import ChannelRef, ErrorReply, Request, UserRef
from quotebot.bot.registry import Registry

log = logging.getLogger(__name__)

PLATFORM = "slack"
BUTTON_VALUE_MAX = 2000  # Block Kit's limit for a button's value
NUMBER_MAX = 2**53  # the largest integer a button value may hold (JSON's safe integers)
EXPIRED = ErrorReply("That button no longer works. Run the command again: /quote help")


def org_of(is_enterprise_install: Any, enterprise_id: Any) -> str:
    """The org a payload's library belongs to: its Enterprise Grid's id for an org-wide
    install (one library for all its workspaces), else "" (the workspace's own)."""
    org_wide = is_enterprise_install in (True, "true", "True", "1")
    return str(enterprise_id) if org_wide and enterprise_id else ""


def unescape(text: str) -> str:
    """Slack sends `&`, `<` and `>` as entities; the grammar wants the characters."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def command_request(body: Mapping[str, Any], registry: Registry) -> Request:
    """A slash-command payload as a Request."""
    user = UserRef(PLATFORM, str(body.get("user_id", "")), body.get("user_name"))
    channel = ChannelRef(PLATFORM, str(body.get("team_id") or ""),
                         str(body.get("channel_id") or ""),
                         org_of(body.get("is_enterprise_install"), body.get("enterprise_id")))
    return parse(unescape(str(body.get("text") or "")), registry, user=user, channel=channel,
                 raw=body)


def encode_button(request: Request) -> str | None:
    """The button value that replays `request`; None if it would not fit in a value."""
    args = {k: v for k, v in request.args.items() if v is not None and v != ""}
    value = json.dumps({"c": request.command, "a": args}, ensure_ascii=False,
                       separators=(",", ":"))
    return value if len(value) <= BUTTON_VALUE_MAX else None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} in a button value")


def _bounded_int(text: str) -> int:
    number = int(text)
    if abs(number) > NUMBER_MAX:
        raise ValueError("a number out of range in a button value")
    return number


def _no_float(text: str) -> Any:
    raise ValueError("a fractional number in a button value")


def decode_button(value: Any) -> tuple[str, dict[str, Any]]:
    """(command, args) from a button value, or ValueError/TypeError/KeyError if malformed.

    Our values hold strings, whole numbers and flags only (see `encode_button`); a value with
    `Infinity`, `NaN`, a fraction, a huge number or a nested object is refused here, since
    the core's int checks would raise on them.
    """
    data = json.loads(value or "", parse_constant=_no_constant, parse_int=_bounded_int,
                      parse_float=_no_float)
    command, args = data["c"], data.get("a", {})
    if not isinstance(command, str) or not isinstance(args, dict):
        raise TypeError("malformed button value")
    for name, arg in args.items():
        if not isinstance(arg, str | int | bool):
            raise TypeError(f"button argument {name!r} is a {type(arg).__name__}")
    return command, args


def action_request(body: Mapping[str, Any], action: Mapping[str, Any]) -> Request | ErrorReply:
    """A button click as the Request its value carries, from the user who clicked."""
    try:
        command, args = decode_button(action.get("value"))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("ignoring button %r: %s", action.get("action_id"), exc)
        return EXPIRED
    user, channel = interaction_refs(body)
    return Request(command, args, user, channel, raw=body)


def interaction_refs(body: Mapping[str, Any]) -> tuple[UserRef, ChannelRef]:
    """Who acted and where, from an interaction payload (a button, a message shortcut):
    the library is the org's for an org-wide install, as for slash commands."""
    who = body.get("user") or {}
    team = body.get("team") or {}
    where = body.get("channel") or {}
    user = UserRef(PLATFORM, str(who.get("id", "")), who.get("username") or who.get("name"))
    enterprise = body.get("enterprise") or {}
    channel = ChannelRef(PLATFORM, str(team.get("id") or who.get("team_id") or ""),
                         str(where.get("id") or ""),
                         org_of(body.get("is_enterprise_install"),
                                enterprise.get("id") if isinstance(enterprise, dict) else None))
    return user, channel


def transcript_request(body: Mapping[str, Any]) -> Request:
    """The "Add transcript" message shortcut as an `ingest` Request, from the user who
    used it, in the message's channel; the adapter adds each file as the `file` argument."""
    user, channel = interaction_refs(body)
    return Request("ingest", {}, user, channel, raw=body)


# Slack's markup in message text: <@U1|name>, <!channel>, <#C1|general>, <https://x|label>.
_MARKUP = re.compile(r"<([^<>]*)>")
# Shortcut callback ids name the registry command they run: "quote_save" runs `save`.
SHORTCUT_PREFIX = "quote_"


def shortcut_id(command: str) -> str:
    """The callback id of the message shortcut running registry command `command`."""
    return SHORTCUT_PREFIX + command.replace(" ", "_")


def readable(text: str, names: Mapping[str, str]) -> str:
    """A message's text as people read it in Slack: a user mention becomes `@name`
    (`names`: user id -> display name; else the name in the markup, else the id), `<!here>`
    `@here`, a channel `#name`, a link its label (or the address), entities characters.
    What it reads like is kept; nothing of it can ping once shown again (every reply is
    escaped, see render.py)."""
    def plain(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (names.get(target[1:]) or label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!subteam^"):
            return label if label.startswith("@") else "@" + (label or "group")
        if target.startswith("!date^"):
            return label
        if target.startswith("!"):
            return "@" + target[1:]
        return label or target.removeprefix("mailto:")

    return unescape(_MARKUP.sub(plain, text))


def mentioned_users(text: str) -> list[str]:
    """The user ids a message's text mentions (`<@U1>`), in order, once each."""
    return list(dict.fromkeys(m.group(1).partition("|")[0][1:] for m in _MARKUP.finditer(text)
                              if m.group(1).startswith("@")))


def permalink(body: Mapping[str, Any]) -> str | None:
    """The message's permalink built from the workspace's domain (Slack's own form:
    https://DOMAIN.slack.com/archives/CHANNEL/pTS, with the thread for a reply); None
    without a domain (then ask chat.getPermalink)."""
    domain = (body.get("team") or {}).get("domain")
    channel = (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    ts = str(message.get("ts") or body.get("message_ts") or "")
    if not domain or not channel or not re.fullmatch(r"[a-z0-9-]+", str(domain)) \
            or not re.fullmatch(r"\d+\.\d+", ts):
        return None
    link = f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    thread = str(message.get("thread_ts") or "")
    if thread and thread != ts:
        link += f"?thread_ts={thread}&cid={channel}"
    return link


def shortcut_request(body: Mapping[str, Any], command: str, *, names: Mapping[str, str],
                     link: str | None) -> Request:
    """A message shortcut on a message as the Request for `command`: the message's words
    (made `readable` with `names`), its ts as its id, its author and `link` back to it."""
    message = body.get("message") or {}
    ts = str(message.get("ts") or body.get("message_ts") or "")
    author = str(message.get("user") or message.get("bot_id") or "")
    said_at = None
    try:
        said_at = datetime.fromtimestamp(float(ts), UTC).isoformat(timespec="seconds")
    except ValueError:
        pass
    args = {"text": readable(str(message.get("text") or ""), names), "message_id": ts,
            "author_id": author or None,
            "author_name": names.get(author) or message.get("username") or author or None,
            "link": link, "said_at": said_at}
    user, channel = interaction_refs(body)
    return Request(command, args, user, channel, raw=body)
