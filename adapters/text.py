"""Replies as plain text: the console's and the CLI's output, and chat messages' fallbacks."""

from __future__ import annotations

from quotebot.bot.models import (
    ErrorReply,
    FileReply,
    HelpReply,
    Hint,
    ListReply,
    Quote,
    QuoteReply,
    Reply,
    TextReply,
)

# Click writes "Error: ..." for its own exceptions (a bad option, a missing file); every
# other error the CLI prints uses the same prefix, so people and scripts see one spelling.
ERROR_PREFIX = "Error: "


def attribution(quote: Quote) -> str:
    """`— Speaker, Show, m:ss · #id`, as people read a quote's source."""
    parts = [quote.speaker_name, quote.source_label]
    if quote.timestamp:
        parts.append(quote.timestamp)
    return f"— {', '.join(parts)} · #{quote.id}"


def render_quote(quote: Quote) -> str:
    listen = f"\n  Listen at {quote.timestamp}: {quote.moment_url}" if quote.moment_url else ""
    if quote.saved_from:
        listen += f"\n  Saved from: {quote.saved_from}"
    return f"“{quote.text}”\n  {attribution(quote)}{listen}"


def hint_text(hint: Hint) -> str:
    """A suggestion in the text grammar: its prose, then what to type."""
    return " ".join(part for part in (hint.text, hint.spelled) if part)


def render_text(reply: Reply) -> str:
    """A reply as terminal text."""
    if isinstance(reply, QuoteReply):
        note = f"\n\n{reply.note}" if reply.note else ""
        if reply.context:
            lines = []
            for q in reply.context:
                marker = "▶" if reply.is_focus(q) else " "
                who = q.speaker_name
                lines.append(f"{marker} #{q.id} {who}: {q.text}")
            return (f"{render_quote(reply.quote)}{note}\n\nIn context (exact words):\n"
                    + "\n".join(lines))
        blocks = [render_quote(q) for q in reply.quotes]
        text = "\n\n".join(blocks) + note
        if reply.search and reply.has_more:
            more = reply.search.remaining(len(reply.quotes))
            text += f"\n\n({more} more match{'es' if more != 1 else ''})"
        return text
    if isinstance(reply, ListReply):
        text = reply.title + "\n" + "\n".join(f"  {item}" for item in reply.items)
        if reply.paging is not None and reply.paging.next is not None:
            text += f"\n  (more: the same with page:{reply.paging.page + 1})"
        return text
    if isinstance(reply, HelpReply):
        width = max((len(e.usage) for e in reply.entries), default=0)
        rows = [f"  {e.usage.ljust(width)}  {e.help}" for e in reply.entries]
        return reply.title + "\n" + "\n".join(rows)
    if isinstance(reply, ErrorReply):
        lines = [str(reply.message)] + [f"  · {hint_text(h)}" for h in reply.suggestions]
        return "\n".join(lines)
    if isinstance(reply, TextReply):
        return str(reply.text)  # a channel as #id
    if isinstance(reply, FileReply):
        # A terminal shows no attachments; the CLI writes the same file where it is told.
        return (f"{reply.text}\n(The file {reply.filename}, {len(reply.data):,} bytes, is not "
                "shown here: quotebot export -o FILE writes it.)")
    raise TypeError(f"the console cannot show a {type(reply).__name__}")
