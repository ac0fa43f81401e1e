"""Core replies as Discord messages: embeds, content and quote buttons, within Discord limits."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from typing import Any

import discord

from quotebot.adapters.discord.components import QuoteButton
from quotebot.adapters.discord.custom_ids import Pressed, encode
from quotebot.bot.models import (
    Card,
    ErrorReply,
    FileReply,
    HelpEntry,
    HelpReply,
    Hint,
    ListReply,
    Quote,
    QuoteReply,
    Reply,
    Request,
    Text,
    TextReply,
    render_parts,
)
from quotebot.bot.registry import Command, Registry

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
LINK_URL_MAX = 512  # a link button's url
EMBED_TOTAL_MAX = 6000  # title + description + field names and values + footer + author
EMBEDS_MAX = 10
BUTTONS_MAX = 25  # 5 action rows of 5 buttons
CUSTOM_ID_MAX = 100
LABEL_MAX = 80
ALT_TEXT_MAX = 1024  # an attachment's description
DESCRIPTION_KEEP = 500  # a quote clipped for the embed total keeps at least this much
FIELD_KEEP = 100  # likewise each field value (speaker, source) before the last resort
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
    card: Card | None = None  # attached as a file, shown as the embed's image
    document: FileReply | None = None  # a file the reply carries (an export), attached

    def file(self) -> discord.File | None:
        """The card (alt text as its description) or the document as an attachment (a new
        File each call: sending one consumes it)."""
        if self.document is not None:
            return discord.File(io.BytesIO(self.document.data),
                                filename=self.document.filename)
        if self.card is None:
            return None
        return discord.File(io.BytesIO(self.card.png), filename=self.card.filename,
                            description=self.card.alt_text[:ALT_TEXT_MAX])

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `send_message` / `followup.send` (unset parts left out)."""
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content is not None:
            kwargs["content"] = self.content
        if self.embed is not None:
            kwargs["embed"] = self.embed
        if self.view is not None:
            kwargs["view"] = self.view
        if (file := self.file()) is not None:
            kwargs["file"] = file
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for editing a message into this one (None clears a part)."""
        kwargs = {"content": self.content, "embed": self.embed, "view": self.view,
                  "allowed_mentions": NO_MENTIONS}
        if (file := self.file()) is not None:
            kwargs["attachments"] = [file]
        return kwargs


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut + "…"


# Markdown that means something anywhere in a line: emphasis, spoilers, code, masked links
# (`[text](url)` — every bracket, not only the first of a line as escape_markdown does) and
# the backslash itself. Mentions are left as written: nothing is sent with mentions allowed.
_INLINE = re.compile(r"([\\*_~|`\[\]])")
# Markdown that means something at the start of a line: quotes, headings, subtext, lists.
_LINE_START = re.compile(r"^(\s*)([>#+-]|\d+(?=[.)]))", re.MULTILINE)
# A command mention (`</quote help:1>`) renders as a clickable command.
_COMMAND_MENTION = re.compile(r"<(?=/)")


def escape(text: str) -> str:
    """`text` shown literally by Discord: every markdown construct and masked link inert.

    Discord drops a backslash before any punctuation, so the escapes are invisible.
    Numbered lists (`1. `) are neutralised by escaping the `.` or `)` after the number.
    """
    out = _INLINE.sub(r"\\\1", text)
    out = _LINE_START.sub(_escape_line_start, out)
    return _COMMAND_MENTION.sub(r"\\<", out)


def _escape_line_start(match: re.Match[str]) -> str:
    space, mark = match.groups()
    if mark[0].isdigit():
        return space + mark + "\\"  # before the `.`/`)` that follows
    return space + "\\" + mark


def code(text: str) -> str:
    """`text` as an inline code span: backticks inside are replaced, nothing else renders."""
    text = text.replace("`", "ˋ") or " "
    # A space keeps a trailing backslash from looking like an escaped closing backtick.
    return f"`{text} `" if text.endswith("\\") else f"`{text}`"


def _open_code_span(text: str) -> int | None:
    """Where an inline code span that `text` leaves unclosed opens, or None.

    Outside code a backslash escapes the next character; inside, it is literal.
    """
    opened, i = None, 0
    while i < len(text):
        char = text[i]
        if opened is None and char == "\\":
            i += 2
            continue
        if char == "`":
            opened = i if opened is None else None
        i += 1
    return opened


def cut_escaped(escaped: str, limit: int) -> str:
    """Already-escaped text clipped to `limit` without leaving a dangling backslash or an
    unclosed code span (whose raw content would then render as markdown)."""
    if len(escaped) <= limit:
        return escaped
    cut = clip(escaped, limit)[:-1]
    if (opened := _open_code_span(cut)) is not None:
        cut = cut[:opened]
    # Never leave a dangling escape that would swallow the ellipsis.
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + "…"


def verbatim(text: str, limit: int) -> str:
    """Quote text shown exactly as stored: markdown escaped (invisible), then clipped."""
    return cut_escaped(escape(text), limit)


def written(text: str | Text, limit: int) -> str:
    """The core's text shown literally, each channel it names as a channel link (a link,
    never a notification), clipped."""
    return cut_escaped(render_parts(text, lambda channel: f"<#{channel}>", escape), limit)


def field_value(text: str, limit: int = FIELD_VALUE_MAX) -> str:
    """`verbatim` for a field value, which Discord refuses empty or blank."""
    return verbatim(text, limit) if text.strip() else "—"


# ---- quotes -------------------------------------------------------------------------------


def quote_embed(quote: Quote, reply: QuoteReply | None = None) -> discord.Embed:
    """The quote, who said it, where and when, and its id."""
    embed = discord.Embed(description=verbatim(f"“{quote.text}”", DESCRIPTION_MAX),
                          colour=COLOUR)
    embed.add_field(name="Speaker", value=field_value(quote.speaker_name))
    embed.add_field(name="Source", value=field_value(quote.source_label))
    if quote.timestamp:
        embed.add_field(name="At", value=quote.timestamp)
    footer = f"Quote #{quote.id}"
    if reply is not None and reply.search is not None:
        footer += f" · {reply.search.match_label()}"
    if quote.speaker_role:
        footer += f" · {verbatim(quote.speaker_name, 100)}: {verbatim(quote.speaker_role, 300)}"
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
    embed = discord.Embed(title="In context", description=cut_escaped(body, DESCRIPTION_MAX),
                          colour=COLOUR)
    embed.add_field(name="Source", value=field_value(focus.source))
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


def quote_view(reply: QuoteReply | ListReply) -> discord.ui.View | None:
    """The reply's actions, as the core decided them: quote buttons, a list's Previous and
    Next, and Listen as a link."""
    view = discord.ui.View(timeout=None)
    for action in reply.actions:
        if action.url is not None:
            if len(action.url) <= LINK_URL_MAX:
                view.add_item(discord.ui.Button(style=discord.ButtonStyle.link, url=action.url,
                                                label=clip(action.label, LABEL_MAX)))
            continue
        custom_id = encode(action)
        if custom_id is not None and action.request is not None:
            pressed = Pressed(action.kind, action.request.command, dict(action.request.args),
                              custom_id)
            view.add_item(QuoteButton(pressed, clip(action.label, LABEL_MAX)))
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


def slash_hint(hint: Hint, registry: Registry | None) -> str | None:
    """What a suggestion asks to try, as the Discord slash command: an example request as
    its invocation, a command as its usage (the text grammar's spelling without a registry)."""
    if registry is not None:
        if hint.request is not None:
            return slash_invocation(hint.request, registry.get(hint.request.command))
        if hint.command is not None and (command := registry.get(hint.command)):
            return slash_usage(command)
    return hint.spelled or None


def help_embed(reply: HelpReply, registry: Registry | None) -> discord.Embed:
    embed = discord.Embed(title=verbatim(reply.title, TITLE_MAX), colour=COLOUR)
    entries = [(_usage(e, registry), e.help) for e in reply.entries]
    for usage, description in entries[:FIELDS_MAX]:
        embed.add_field(name=field_value(usage, FIELD_NAME_MAX),
                        value=field_value(description), inline=False)
    if len(entries) > FIELDS_MAX:
        rest = "\n".join(f"{code(clip(u, 200))} — {escape(d)}" for u, d in entries[FIELDS_MAX:])
        embed.description = cut_escaped(rest, DESCRIPTION_MAX)
    return embed


def _usage(entry: HelpEntry, registry: Registry | None) -> str:
    command = registry.get(entry.command) if registry is not None else None
    return slash_usage(command) if command is not None else entry.usage


def list_embed(reply: ListReply) -> discord.Embed:
    lines: list[str] = []
    used = 0
    for i, item in enumerate(reply.items):
        line = "• " + written(item, 300)
        more = f"… and {len(reply.items) - i} more"
        if used + len(line) + 1 > DESCRIPTION_MAX - len(more) - 1:
            lines.append(more)
            break
        lines.append(line)
        used += len(line) + 1
    return discord.Embed(title=verbatim(reply.title, TITLE_MAX), description="\n".join(lines),
                         colour=COLOUR)


def error_content(reply: ErrorReply, registry: Registry | None) -> str:
    lines = [written(reply.message, CONTENT_MAX)]
    if reply.suggestions:
        lines.append("Try:")
        for hint in reply.suggestions:
            typed = slash_hint(hint, registry)
            parts = [escape(hint.text)] if hint.text else []
            if typed:
                parts.append(code(clip(typed, 300)))
            lines.append("• " + " ".join(parts))
    return cut_escaped("\n".join(lines), CONTENT_MAX)


# ---- limits of the message as a whole ------------------------------------------------------


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """`embed` within Discord's 6,000-character total, each part already within its own limit.

    The description (the quote) gives way first, down to `DESCRIPTION_KEEP`; then the longest
    field values, down to `FIELD_KEEP` each, so speaker and source stay readable; then
    trailing fields (help) go; then the description, footer and title give what is left.
    """
    while len(embed.fields) > FIELDS_MAX:
        embed.remove_field(-1)
    excess = len(embed) - EMBED_TOTAL_MAX
    if excess <= 0:
        return embed
    excess = _shrink_description(embed, excess, DESCRIPTION_KEEP)
    while excess > 0:
        longest = max(range(len(embed.fields)), default=None,
                      key=lambda i: len(embed.fields[i].value or ""))
        if longest is None:
            break
        field = embed.fields[longest]
        value = field.value or ""
        if len(value) <= FIELD_KEEP:
            break
        keep = max(FIELD_KEEP, len(value) - excess)
        embed.set_field_at(longest, name=field.name or "—", value=cut_escaped(value, keep),
                           inline=bool(field.inline))
        excess = len(embed) - EMBED_TOTAL_MAX
    while excess > 0 and len(embed.fields) > 1:
        embed.remove_field(-1)
        excess = len(embed) - EMBED_TOTAL_MAX
    excess = _shrink_description(embed, excess, 1)
    if excess > 0 and embed.footer.text:
        embed.set_footer(text=cut_escaped(embed.footer.text, max(len(embed.footer.text)
                                                                 - excess, 1)))
        excess = len(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.title:
        embed.title = cut_escaped(embed.title, max(len(embed.title) - excess, 1))
    return embed


def _shrink_description(embed: discord.Embed, excess: int, keep: int) -> int:
    """Clip the description by up to `excess` characters, not below `keep`; the new excess."""
    description = embed.description or ""
    if excess > 0 and len(description) > keep:
        embed.description = cut_escaped(description, max(keep, len(description) - excess))
    return len(embed) - EMBED_TOTAL_MAX


def within_limits(out: Outgoing) -> Outgoing:
    """`out` checked against Discord's limits for a whole message; a violation is our bug."""
    if out.content is not None and len(out.content) > CONTENT_MAX:
        raise ValueError(f"content of {len(out.content)} characters")
    if out.embed is None and not (out.content or "").strip():
        out.content = "—"  # Discord refuses an empty message
    if out.embed is not None:
        fit_embed(out.embed)
    if out.view is not None:
        # A DynamicItem (our quote buttons) wraps the button it shows.
        buttons = [getattr(b, "item", b) for b in out.view.children]
        if len(buttons) > BUTTONS_MAX or any(
                len(getattr(b, "custom_id", "") or "") > CUSTOM_ID_MAX
                or len(getattr(b, "label", "") or "") > LABEL_MAX for b in buttons):
            raise ValueError("buttons beyond Discord's component limits")
    return out


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
    return within_limits(_render(reply, public=public, registry=registry))


def _render(reply: Reply, *, public: bool | None, registry: Registry | None) -> Outgoing:
    if isinstance(reply, ErrorReply):
        return Outgoing(content=error_content(reply, registry), ephemeral=True)
    visible = reply.public if public is None else public
    if isinstance(reply, QuoteReply):
        embed = context_embed(reply) if reply.context else quote_embed(reply.quote, reply)
        if reply.card is not None:
            embed.set_image(url=f"attachment://{reply.card.filename}")
        content = verbatim(reply.note, CONTENT_MAX) if reply.note else None
        return Outgoing(content=content, embed=embed, view=quote_view(reply),
                        ephemeral=not visible, card=reply.card)
    if isinstance(reply, ListReply):
        return Outgoing(embed=list_embed(reply), view=quote_view(reply), ephemeral=not visible)
    if isinstance(reply, HelpReply):
        return Outgoing(embed=help_embed(reply, registry), ephemeral=not visible)
    if isinstance(reply, TextReply):
        return Outgoing(content=written(reply.text, CONTENT_MAX), ephemeral=not visible)
    if isinstance(reply, FileReply):
        return Outgoing(content=written(reply.text, CONTENT_MAX), ephemeral=not visible,
                        document=reply)
    raise TypeError(f"Discord cannot show a {type(reply).__name__}")
