"""Slack payloads to core Requests: slash commands through the grammar, buttons from their value."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
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
    who = body.get("user") or {}
    team = body.get("team") or {}
    where = body.get("channel") or {}
    user = UserRef(PLATFORM, str(who.get("id", "")), who.get("username") or who.get("name"))
    enterprise = body.get("enterprise") or {}
    channel = ChannelRef(PLATFORM, str(team.get("id") or who.get("team_id") or ""),
                         str(where.get("id") or ""),
                         org_of(body.get("is_enterprise_install"),
                                enterprise.get("id") if isinstance(enterprise, dict) else None))
    return Request(command, args, user, channel, raw=body)
