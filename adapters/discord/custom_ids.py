"""Button custom ids that carry their own state, so buttons keep working after a restart.

`qb:next:<offset>:<speaker>:<source>:<query…>`, `qb:ctx:<ref>`, `qb:share:<ref>`,
`qb:card:<ref>` and `qb:list:<p|n>:<page>:<speaker id>:<source id>` (a page of
`/quote list`, Previous or Next; the filters as ids, empty when unset), where a ref
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

from quotebot.bot.models import (
    ANSWERS,
    CARD,
    CONTEXT,
    NEXT,
    NEXT_PAGE,
    PREVIOUS_PAGE,
    SHARE,
    Action,
)

log = logging.getLogger(__name__)

CUSTOM_ID_MAX = 100
PREFIX = "qb"
# One pattern for every quotebot button; discord.py's DynamicItem matches it with fullmatch.
TEMPLATE = (
    r"(?s)qb:(?:"
    r"next:(?P<offset>\d{1,4}):(?P<speaker>[^:]*):(?P<source>[^:]*):(?P<query>.+)"
    r"|ctx:(?P<ctx>\d{1,12}(?:h\d{1,12})?)"
    r"|share:(?P<share>\d{1,12}(?:h\d{1,12})?)"
    r"|card:(?P<card>\d{1,12}(?:h\d{1,12})?)"
    r"|list:(?P<way>[pn]):(?P<page>\d{1,5}):(?P<speaker_id>\d{0,16}):(?P<source_id>\d{0,16})"
    r")"
)
_PATTERN = re.compile(TEMPLATE)


@dataclass(frozen=True)
class Pressed:
    """A quote button decoded from its custom id: the core action's kind and request args."""

    kind: str  # NEXT, CONTEXT, SHARE or CARD (bot.models)
    command: str
    args: dict[str, Any] = field(default_factory=dict)
    custom_id: str = ""

    @property
    def answer(self) -> str:
        """How the answer is shown (bot.models.ANSWERS): the core's rule, not ours."""
        return ANSWERS[self.kind]


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace(":", "%3A")


def encode(action: Action) -> str | None:
    """The custom id of a core action's button, or None when it cannot have one (a link,
    or a Next whose query does not fit in 100 characters)."""
    request = action.request
    if request is None:
        return None
    if action.kind == NEXT:
        return _next_id(request.args)
    if action.kind in _WAYS:
        return _list_id(action.kind, request.args)
    wire = _WIRE.get(action.kind)
    return None if wire is None else f"{PREFIX}:{wire}:{_ref(request.args)}"


# Ids on messages already sent use these words.
_WIRE = {CONTEXT: "ctx", SHARE: "share", CARD: "card"}


_WAYS = {PREVIOUS_PAGE: "p", NEXT_PAGE: "n"}
_KINDS = {way: kind for kind, way in _WAYS.items()}


def _list_id(kind: str, args: Any) -> str | None:
    """`qb:list:n:2:12:` — the way, the page, and the filters by id (at most 48 characters)."""
    numbers = [args.get("page"), args.get("speaker_id"), args.get("source_id")]
    if any(n is not None and (not isinstance(n, int) or n < 0 or len(str(n)) > 16)
           for n in numbers) or not numbers[0] or numbers[0] > 99999:
        return None
    page, speaker, source = ("" if n is None else str(n) for n in numbers)
    return f"{PREFIX}:list:{_WAYS[kind]}:{page}:{speaker}:{source}"


def _next_id(args: Any) -> str | None:
    offset = int(args["offset"])
    head = (f"{PREFIX}:next:{offset}:{_escape(args.get('speaker') or '')}:"
            f"{_escape(args.get('source') or '')}:")
    room = CUSTOM_ID_MAX - len(head)
    query = " ".join(str(args["query"]).split())
    if len(query) > room:
        # A shortened query is a different search: its "next" could repeat or skip a
        # match. No button is better than a wrong one.
        log.debug("no next-match button: the query does not fit in a custom id")
        return None
    if not query or offset > 9999:
        return None
    return head + query


def _ref(args: Any) -> str:
    """What a button names: the quote (`42`), and the highlight shown if any (`42h7`)."""
    highlight = args.get("highlight")
    return f"{args['id']}h{highlight}" if highlight else str(args["id"])


def _ref_args(ref: str) -> dict[str, Any]:
    quote_id, _, highlight_id = ref.partition("h")
    args: dict[str, Any] = {"id": int(quote_id)}
    if highlight_id:
        args["highlight"] = int(highlight_id)
    return args


def decode(custom_id: str) -> Pressed | None:
    """The action a custom id stands for, or None when it is not one of ours or is malformed."""
    match = _PATTERN.fullmatch(custom_id or "")
    if match is None:
        return None
    if match["ctx"] is not None:
        return Pressed(CONTEXT, "show", _ref_args(match["ctx"]), custom_id)
    if match["share"] is not None:
        args = {**_ref_args(match["share"]), "context": 0, "share": True}
        return Pressed(SHARE, "show", args, custom_id)
    if match["card"] is not None:
        args = {**_ref_args(match["card"]), "context": 0, "share": True, "card": True}
        return Pressed(CARD, "show", args, custom_id)
    if match["way"] is not None:
        page: dict[str, Any] = {"page": int(match["page"])}
        for name in ("speaker_id", "source_id"):
            if match[name]:
                page[name] = int(match[name])
        return Pressed(_KINDS[match["way"]], "list", page, custom_id)
    args: dict[str, Any] = {"query": match["query"], "offset": int(match["offset"])}
    if match["speaker"]:
        args["speaker"] = unquote(match["speaker"])
    if match["source"]:
        args["source"] = unquote(match["source"])
    return Pressed(NEXT, "search", args, custom_id)
