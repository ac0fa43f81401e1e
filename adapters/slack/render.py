"""Core replies to Slack messages: Block Kit blocks with a plain-text fallback, escaped and sized.

Everything the bot echoes goes through `escape`, so a quote or a query can never form a
mention (`<!channel>`, `<@U…>`) or a link; text objects are `verbatim` so Slack does not
auto-link names either, and no message sets `link_names`.
"""

from __future__ import annotations

import logging
from typing import Any

from quotebot.adapters.slack.requests import encode_button
from quotebot.adapters.text import render_text
from quotebot.bot.models import (
    CARD,
    CONTEXT,
    LISTEN,
    NEXT,
    NEXT_PAGE,
    ORIGINAL,
    PREVIOUS_PAGE,
    SHARE,
    ErrorReply,
    FileReply,
    HelpReply,
    Hint,
    ListReply,
    Quote,
    QuoteReply,
    Reply,
    Text,
    TextReply,
    render_parts,
)

log = logging.getLogger(__name__)

SECTION_MAX = 3000  # characters in a section's text
CONTEXT_MAX = 2000  # characters in one element of a context block
BLOCKS_MAX = 50  # blocks in one message
FALLBACK_MAX = 3000  # the notification / fallback `text`
NEIGHBOUR_MAX = 300  # one line of a context list
NEIGHBOURS_MAX = 21  # lines of a context list: the quote and ten on each side
ITEM_MAX = 500  # one line of a list or help

URL_MAX = 3000  # a button's url
# Each core action's Slack action_id. Listen is a link: Slack opens it, and tells the app,
# which only acknowledges.
ACTION_IDS = {NEXT: "quote_next", CONTEXT: "quote_context", SHARE: "quote_share",
              CARD: "quote_card", LISTEN: "quote_listen", ORIGINAL: "quote_original",
              PREVIOUS_PAGE: "quote_page_previous", NEXT_PAGE: "quote_page_next"}
LINKS = (LISTEN, ORIGINAL)  # buttons that open a url: Slack tells the app, which only acks
KINDS = {action_id: kind for kind, action_id in ACTION_IDS.items()}
BUTTON_STYLES = {SHARE: "primary"}

Message = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters as entities; nothing else needs escaping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`escape(text)` in at most `limit` characters, cut at a word and never inside an entity."""
    return cut_escaped(escape(text), limit)


def cut_escaped(out: str, limit: int) -> str:
    """Already-escaped mrkdwn in at most `limit` characters, never cut inside an entity."""
    if len(out) <= limit:
        return out
    cut = out[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > len(cut) * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def written(text: str | Text, limit: int) -> str:
    """The core's text escaped, each channel it names as a channel link (`<#C0123>`: a link,
    never a notification), in at most `limit` characters."""
    return cut_escaped(render_parts(text, lambda channel: f"<#{channel}>", escape), limit)


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _nonblank(text: str) -> str:
    """Slack refuses an empty text object (and a blank fallback); show a dash instead."""
    return text if text.strip() else "—"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(cut_escaped(_nonblank(text), SECTION_MAX))}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(cut_escaped(_nonblank(text), CONTEXT_MAX))]}


def quote_block(quote: Quote) -> dict[str, Any]:
    """The quote as a mrkdwn block quote (`>` on every line)."""
    body = clip(quote.text, SECTION_MAX - 200)
    lines = body.split("\n")
    quoted = "\n".join(">" + line for line in lines)
    if len(quoted) > SECTION_MAX:
        quoted = ">" + clip(" ".join(quote.text.split()), SECTION_MAX - 2)
    return {"type": "section", "text": _mrkdwn(quoted)}


def attribution(quote: Quote) -> str:
    """`*Speaker* · Source · 1:25 · #42`, escaped."""
    parts = [f"*{clip(quote.speaker_name, 200)}*", clip(quote.source_label, 300)]
    if quote.timestamp:
        parts.append(quote.timestamp)
    parts.append(f"#{quote.id}")
    return " · ".join(parts)


def fallback(reply: Reply) -> str:
    """The plain `text` shown in notifications and where blocks cannot be."""
    if isinstance(reply, QuoteReply):
        q = reply.quote
        when = f" ({q.timestamp})" if q.timestamp else ""
        # The words are cut, not who said them: the credit and the id always show.
        credit = clip(f" — {q.speaker_name}, {q.source_label}{when} · #{q.id}",
                      FALLBACK_MAX // 3)
        return f"“{clip(q.text, FALLBACK_MAX - len(credit) - 2)}”{credit}"
    if isinstance(reply, TextReply | FileReply):
        return written(reply.text, FALLBACK_MAX)
    if isinstance(reply, ErrorReply):
        return written(reply.message, FALLBACK_MAX)
    if isinstance(reply, ListReply):
        lines = [escape(reply.title), *(written(item, ITEM_MAX) for item in reply.items)]
        return cut_escaped("\n".join(lines), FALLBACK_MAX)
    return clip(render_text(reply), FALLBACK_MAX)


def render(reply: Reply) -> Message:
    """`{"text", "blocks"}` for a reply, with the buttons the core offers on it."""
    if isinstance(reply, QuoteReply):
        blocks = _quote_blocks(reply)
    elif isinstance(reply, ListReply):
        blocks = _list_blocks(f"*{clip(reply.title, 200)}*",
                              [f"• {written(item, ITEM_MAX)}"
                               for item in reply.items])
        if buttons := _buttons(reply):  # a page of /quote list: Previous, Next
            blocks = [*blocks[: BLOCKS_MAX - 1], {"type": "actions", "elements": buttons}]
    elif isinstance(reply, HelpReply):
        blocks = _list_blocks(
            f"*{clip(reply.title, 200)}*",
            [f"`{clip(e.usage, 200)}` — {clip(e.help, ITEM_MAX)}" for e in reply.entries],
        )
    elif isinstance(reply, ErrorReply):
        blocks = _list_blocks(f":warning: {written(reply.message, 1000)}",
                              [f"• {_hint(h)}" for h in reply.suggestions])
    elif isinstance(reply, TextReply | FileReply):
        # A file goes up on its own (`uploads.upload_file`); the message says what it is.
        blocks = [_section(written(reply.text, SECTION_MAX))]
    else:
        raise TypeError(f"Slack cannot show a {type(reply).__name__}")
    return {"text": _nonblank(fallback(reply)), "blocks": _within_block_limit(blocks)}


def _hint(hint: Hint) -> str:
    """A suggestion: its prose, then what to type as code."""
    typed = f"`{clip(hint.spelled, 200)}`" if hint.spelled else ""
    return " ".join(part for part in (clip(hint.text, ITEM_MAX), typed) if part)


def _within_block_limit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most `BLOCKS_MAX` blocks, the buttons (always last) kept when others are cut."""
    if len(blocks) <= BLOCKS_MAX:
        return blocks
    if blocks[-1]["type"] == "actions":
        return [*blocks[: BLOCKS_MAX - 1], blocks[-1]]
    return blocks[:BLOCKS_MAX]


def _quote_blocks(reply: QuoteReply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    reserve = 4  # blocks kept for the context list, the note and the buttons
    for i, quote in enumerate(reply.quotes):
        if len(blocks) + 2 > BLOCKS_MAX - reserve:
            break
        blocks.append(quote_block(quote))
        line = attribution(quote)
        if reply.search:
            line += f" · {reply.search.match_label(i)}"
        blocks.append(_context(line))
    if reply.context:
        blocks += _neighbour_blocks(reply, BLOCKS_MAX - len(blocks) - 2)
    if reply.note:
        blocks.append(_context(clip(reply.note, 1000)))
    if buttons := _buttons(reply):
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def _neighbour_blocks(reply: QuoteReply, room: int) -> list[dict[str, Any]]:
    """The quote among its neighbours, nearest first when there is not room for all."""
    focus = next((i for i, q in enumerate(reply.context) if reply.is_focus(q)), 0)
    by_distance = sorted(range(len(reply.context)),
                         key=lambda i: (abs(i - focus), i))[:NEIGHBOURS_MAX]
    lines: dict[int, str] = {}
    for i in by_distance:
        q = reply.context[i]
        marker = "▶" if reply.is_focus(q) else "  "
        who = clip(q.speaker_name, 100)
        lines[i] = f"{marker} `#{q.id}` *{who}*: {clip(q.text, NEIGHBOUR_MAX)}"
        blocks = _pack("*In context*", [lines[k] for k in sorted(lines)])
        if len(blocks) > room:
            del lines[i]
            break
    return _pack("*In context*", [lines[k] for k in sorted(lines)])


def _list_blocks(title: str, items: list[str]) -> list[dict[str, Any]]:
    blocks = _pack(title, items)
    if len(blocks) <= BLOCKS_MAX:
        return blocks
    shown = blocks[: BLOCKS_MAX - 1]
    count = sum(block["text"]["text"].count("\n") + 1 for block in shown) - 1
    shown.append(_context(f"…and {len(items) - count} more"))
    return shown


def _pack(title: str, lines: list[str]) -> list[dict[str, Any]]:
    """Sections of whole lines, each under the section limit, the title on the first."""
    blocks, current = [], title
    for line in lines:
        if len(current) + 1 + len(line) > SECTION_MAX:
            blocks.append(_section(current))
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        blocks.append(_section(current))
    return blocks


def _buttons(reply: QuoteReply | ListReply) -> list[dict[str, Any]]:
    """The core's actions as Block Kit buttons: a value replaying the request, or a url."""
    buttons = []
    for action in reply.actions:
        button: dict[str, Any] = {"type": "button", "action_id": ACTION_IDS[action.kind],
                                  "text": {"type": "plain_text", "text": action.label[:75]}}
        if action.url is not None:
            if len(action.url) > URL_MAX:
                continue
            button["url"] = action.url
        elif action.request is not None:
            value = encode_button(action.request)
            if value is None:
                log.info("leaving out %s: its state does not fit in a button", action.kind)
                continue
            button["value"] = value
        if style := BUTTON_STYLES.get(action.kind):
            button["style"] = style
        buttons.append(button)
    return buttons
