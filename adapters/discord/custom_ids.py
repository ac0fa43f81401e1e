"""Button custom ids that carry their own state, so buttons keep working after a restart.

`qb:next:<offset>:<speaker>:<source>:<query…>`, `qb:ctx:<ref>` and `qb:share:<ref>`, where a ref
is a quote id (`42`), or for a highlight its first quote's id and its own (`42h7`); speaker and
source are %-escaped (they sit between colons), the query is the unescaped tail. Discord caps a
custom id at 100 characters, so a long query is cut to fit. Pure functions: no discord import.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from quotebot.bot.models import Quote, SearchState

log = logging.getLogger(__name__)

CUSTOM_ID_MAX = 100
PREFIX = "qb"
# One pattern for every quotebot button; discord.py's DynamicItem matches it with fullmatch.
TEMPLATE = (
    r"(?s)qb:(?:"
    r"next:(?P<offset>\d{1,4}):(?P<speaker>[^:]*):(?P<source>[^:]*):(?P<query>.+)"
    r"|ctx:(?P<ctx>\d{1,12}(?:h\d{1,12})?)"
    r"|share:(?P<share>\d{1,12}(?:h\d{1,12})?)"
    r")"
)
_PATTERN = re.compile(TEMPLATE)


@dataclass(frozen=True)
class ButtonAction:
    """What a pressed button asks for: its kind and the core command and args it stands for."""

    kind: str  # "next", "ctx" or "share"
    command: str
    args: dict[str, Any] = field(default_factory=dict)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace(":", "%3A")


def next_id(state: SearchState, offset: int) -> str | None:
    """The id of a "Next match" button asking for the match at `offset`, or None if none fits.

    The query is cut (at a word boundary when possible) to keep the id within 100 characters.
    """
    head = f"{PREFIX}:next:{offset}:{_escape(state.speaker or '')}:{_escape(state.source or '')}:"
    room = CUSTOM_ID_MAX - len(head)
    query = " ".join(state.query.split())
    if len(query) > room:
        # A shortened query is a different search: its "next" could repeat or skip a
        # match. No button is better than a wrong one.
        log.debug("no next-match button: the query does not fit in a custom id")
        return None
    if not query or offset > 9999:
        return None
    return head + query


def quote_ref(quote: Quote) -> str:
    """What a button names: the quote (`42`), and the highlight shown if any (`42h7`)."""
    return f"{quote.id}h{quote.highlight_id}" if quote.highlight_id else str(quote.id)


def context_id(quote: Quote) -> str:
    return f"{PREFIX}:ctx:{quote_ref(quote)}"


def share_id(quote: Quote) -> str:
    return f"{PREFIX}:share:{quote_ref(quote)}"


def _ref_args(ref: str) -> dict[str, Any]:
    quote_id, _, highlight_id = ref.partition("h")
    args: dict[str, Any] = {"id": int(quote_id)}
    if highlight_id:
        args["highlight"] = int(highlight_id)
    return args


def decode(custom_id: str) -> ButtonAction | None:
    """The action a custom id stands for, or None when it is not one of ours or is malformed."""
    match = _PATTERN.fullmatch(custom_id or "")
    if match is None:
        return None
    if match["ctx"] is not None:
        return ButtonAction("ctx", "show", _ref_args(match["ctx"]))
    if match["share"] is not None:
        return ButtonAction("share", "show", {**_ref_args(match["share"]), "context": 0})
    args: dict[str, Any] = {"query": match["query"], "offset": int(match["offset"])}
    if match["speaker"]:
        args["speaker"] = unquote(match["speaker"])
    if match["source"]:
        args["source"] = unquote(match["source"])
    return ButtonAction("next", "search", args)
