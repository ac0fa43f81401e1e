"""Core replies as Discord messages: embeds, content and quote buttons, within Discord limits."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import discord

from adapters.discord.components import context_button, next_button, share_button
from adapters.discord.custom_ids import next_id
from bot.grammar import parse
from bot.models import (
    ErrorReply,
    HelpReply,
    ListReply,
    Quote,
    QuoteReply,
    Reply,
    Request,
    TextReply,
)
from bot.registry import Command, Registry

log = logging.getLogger(__name__)

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
CONTEXT_LINE_MAX = 600
COLOUR = discord.Colour(0x5865F2)
PREFIX = "/quote"

NO_MENTIONS = discord.AllowedMentions.none()


@dataclass
class Outgoing:
    """One Discord message: what to send and whether only the requester sees it."""

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    ephemeral: bool = True

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `send_message` / `followup.send` (unset parts left out)."""
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content is not None:
            kwargs["content"] = self.content
        if self.embed is not None:
            kwargs["embed"] = self.embed
        if self.view is not None:
            kwargs["view"] = self.view
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for editing a message into this one (None clears a part)."""
        return {"content": self.content, "embed": self.embed, "view": self.view,
                "allowed_mentions": NO_MENTIONS}


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut + "…"


def verbatim(text: str, limit: int) -> str:
    """Quote text shown exactly as stored: markdown escaped (invisible), then clipped."""
    escaped = discord.utils.escape_markdown(text)
    if len(escaped) <= limit:
        return escaped
    cut = clip(escaped, limit)[:-1]
    # Never leave a dangling escape that would swallow the ellipsis.
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + "…"


# ---- quotes -------------------------------------------------------------------------------


def quote_embed(quote: Quote, reply: QuoteReply | None = None) -> discord.Embed:
    """The quote, who said it, where and when, and its id."""
    embed = discord.Embed(description=verbatim(f"“{quote.text}”", DESCRIPTION_MAX),
                          colour=COLOUR)
    embed.add_field(name="Speaker", value=verbatim(quote.speaker_name, FIELD_VALUE_MAX))
    embed.add_field(name="Source", value=verbatim(quote.source_label, FIELD_VALUE_MAX))
    if quote.timestamp:
        embed.add_field(name="At", value=quote.timestamp)
    footer = f"Quote #{quote.id}"
    if reply is not None and reply.search is not None:
        footer += f" · match {reply.search.offset + 1} of {reply.search.total}"
    if quote.speaker_role:
        footer += f" · {quote.speaker_name}: {quote.speaker_role}"
    if quote.source_label != quote.source:
        footer += f" · {quote.source}"
    embed.set_footer(text=clip(footer, FOOTER_MAX))
    return embed


def context_embed(reply: QuoteReply) -> discord.Embed:
    """The quote among its neighbours, the quote itself marked."""
    focus = reply.quote
    lines = []
    at = len(reply.context) // 2
    for i, q in enumerate(reply.context):
        text = verbatim(q.text, CONTEXT_LINE_MAX)
        who = verbatim(q.speaker_name, 100)
        if reply.is_focus(q):
            at = i
            lines.append(f"▶ **{who}:** **{text}**")
        else:
            lines.append(f"{who}: {text}")
    body = "\n\n".join(_fit_around(lines, at, DESCRIPTION_MAX))
    embed = discord.Embed(title="In context", description=clip(body, DESCRIPTION_MAX),
                          colour=COLOUR)
    embed.add_field(name="Source", value=verbatim(focus.source, FIELD_VALUE_MAX))
    if focus.timestamp:
        embed.add_field(name="At", value=focus.timestamp)
    embed.set_footer(text=f"Quote #{focus.id}")
    return embed


def _fit_around(lines: list[str], at: int, limit: int) -> list[str]:
    """The lines nearest to `lines[at]` that fit in `limit` characters joined by blank lines."""
    lo, hi = 0, len(lines)
    while hi - lo > 1 and len("\n\n".join(lines[lo:hi])) > limit:
        if at - lo > hi - 1 - at:
            lo += 1
        else:
            hi -= 1
    return lines[lo:hi]


def quote_view(reply: QuoteReply, *, public: bool) -> discord.ui.View | None:
    """Next match (search results with more), Context (unless shown) and Share (if private)."""
    view = discord.ui.View(timeout=None)
    state = reply.search
    if state is not None and state.total > state.offset + len(reply.quotes):
        custom_id = next_id(state, state.offset + len(reply.quotes))
        if custom_id:
            view.add_item(next_button(custom_id))
    if not reply.context:
        view.add_item(context_button(reply.quote))
    if not public:
        view.add_item(share_button(reply.quote))
    return view if view.children else None


# ---- help and suggestions ------------------------------------------------------------------


def slash_usage(command: Command) -> str:
    """The Discord usage of a command: `/quote search query:<query> [speaker:<speaker>]`."""
    parts = [PREFIX, command.name]
    for opt in command.options:
        if "discord" not in opt.platforms:
            continue
        token = f"{opt.name}:<{opt.name}>"
        parts.append(token if opt.required else f"[{token}]")
    return " ".join(parts)


def slash_invocation(request: Request, command: Command | None = None) -> str:
    """A request written as the slash command that makes it: `/quote search query:…`."""
    order = [o.name for o in sorted(command.options, key=lambda o: not o.required)] \
        if command else []
    names = sorted(request.args, key=lambda n: order.index(n) if n in order else len(order))
    parts = [PREFIX, request.command]
    parts += [f"{n}:{request.args[n]}" for n in names if request.args[n] not in (None, "")]
    return " ".join(parts)


def _slash_parts(text: str, registry: Registry | None) -> tuple[str | None, str]:
    """(slash command, trailing prose) for a text-grammar usage or example, else (None, text).

    `/quote random [by:<speaker>]` → `/quote random [speaker:<speaker>]`;
    `/quote ideas are cheap by:ilya` → `/quote search query:ideas are cheap speaker:ilya`;
    `/quote speakers lists who is quoted.` → (`/quote speakers`, `lists who is quoted.`).
    """
    if registry is None or not text.startswith(PREFIX + " "):
        return None, text
    for command in registry:
        if text == command.usage(PREFIX):
            return slash_usage(command), ""
    if "<" in text:
        return None, text
    request = parse(text, registry)
    if not isinstance(request, Request):
        return None, text
    command = registry.get(request.command)
    tail = ""
    head = f"{PREFIX} {request.command}"
    if command is not None and not any("text" in o.platforms for o in command.options) \
            and text.lower().startswith(head):
        tail = text[len(head):].strip()  # a command without arguments: the rest is prose
    return slash_invocation(request, command), tail


def slash_hint(text: str, registry: Registry | None) -> str:
    """A text-grammar usage or example rewritten as its Discord slash command."""
    code, tail = _slash_parts(text, registry)
    return text if code is None else f"{code} {tail}".strip()


def help_embed(reply: HelpReply, registry: Registry | None) -> discord.Embed:
    embed = discord.Embed(title=clip(reply.title, TITLE_MAX), colour=COLOUR)
    entries = list(reply.entries)
    for usage, description in entries[:FIELDS_MAX]:
        embed.add_field(name=clip(slash_hint(usage, registry), FIELD_NAME_MAX),
                        value=clip(description or "—", FIELD_VALUE_MAX), inline=False)
    if len(entries) > FIELDS_MAX:
        rest = "\n".join(f"`{slash_hint(u, registry)}` — {d}" for u, d in entries[FIELDS_MAX:])
        embed.description = clip(rest, DESCRIPTION_MAX)
    return embed


def list_embed(reply: ListReply) -> discord.Embed:
    lines: list[str] = []
    used = 0
    for i, item in enumerate(reply.items):
        line = "• " + clip(item, 300)
        more = f"… and {len(reply.items) - i} more"
        if used + len(line) + 1 > DESCRIPTION_MAX - len(more) - 1:
            lines.append(more)
            break
        lines.append(line)
        used += len(line) + 1
    return discord.Embed(title=clip(reply.title, TITLE_MAX), description="\n".join(lines),
                         colour=COLOUR)


def error_content(reply: ErrorReply, registry: Registry | None) -> str:
    lines = [reply.message]
    if reply.suggestions:
        lines.append("Try:")
        for hint in reply.suggestions:
            code, tail = _slash_parts(hint, registry)
            lines.append(f"• `{code}` {tail}".rstrip() if code else f"• {hint}")
    return clip("\n".join(lines), CONTENT_MAX)


# ---- entry point ---------------------------------------------------------------------------


def render(reply: Reply, *, public: bool | None = None,
           registry: Registry | None = None) -> Outgoing:
    """A core reply as a Discord message.

    Args:
        reply: what the core answered.
        public: post for everyone (True) or only for the requester (False); None follows
            `reply.public`. Errors are always private.
        registry: used to write help and suggestions as slash commands.

    Returns:
        The message; sent with no mentions allowed, whatever it contains.
    """
    if isinstance(reply, ErrorReply):
        return Outgoing(content=error_content(reply, registry), ephemeral=True)
    visible = reply.public if public is None else public
    if isinstance(reply, QuoteReply):
        embed = context_embed(reply) if reply.context else quote_embed(reply.quote, reply)
        content = clip(reply.note, CONTENT_MAX) if reply.note else None
        return Outgoing(content=content, embed=embed,
                        view=quote_view(reply, public=visible), ephemeral=not visible)
    if isinstance(reply, ListReply):
        return Outgoing(embed=list_embed(reply), ephemeral=not visible)
    if isinstance(reply, HelpReply):
        return Outgoing(embed=help_embed(reply, registry), ephemeral=not visible)
    if isinstance(reply, TextReply):
        return Outgoing(content=clip(reply.text, CONTENT_MAX), ephemeral=not visible)
    raise TypeError(f"Discord cannot show a {type(reply).__name__}")
