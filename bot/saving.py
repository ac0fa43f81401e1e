"""Saving quotes from chat: a message saved from its menu, and `/quote add` for lines said
elsewhere. Both land in the library's own collection as ordinary quotes.

Design choices (documented in README.md, "Saving quotes from chat"):

* One source per library holds the saved messages ("Saved from chat", format `chat`);
  lines added by hand go to one source per place they were said (`source:`), "Added by
  hand" without one. Sources are found by collection, format and title, so an import from
  another database (where the slug differs) keeps adding to the same source.
* The speaker of a saved message is its author's display name at the time. The author's
  platform user id is kept with the quote: when another message of theirs is saved, their
  current name becomes the speaker of all their saved quotes in that workspace (those an
  admin re-attributed with `/quote edit` stay as the admin left them).
* A saved message is its own highlight (drawn by random and daily posts) when the
  highlight judge (`bot.highlights.select`, over a one-unit source) chooses a passage of
  it; a message too short for the judge's 10-word floor is one still when it reads well
  alone by the quotability rubric (a person chose it; "lol" and "see above" stay out).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from quotebot.bot import highlights
from quotebot.bot.commands import FILTER_MAX, shorten
from quotebot.bot.highlights import Unit
from quotebot.bot.ingest.front_matter import slugify
from quotebot.bot.ingest.quotability import score as quotability_score
from quotebot.bot.library import Scope
from quotebot.bot.models import ErrorReply, Hint, Reply, Request, TextReply
from quotebot.bot.registry import Command, Option, Services
from quotebot.bot.tokens import fold, tokenize
from quotebot.store.saved import ADDED, CHAT, NewSaved, SavedFrom
from quotebot.store.schema import GOOD_QUOTABILITY

log = logging.getLogger(__name__)

SAVED_TITLE = "Saved from chat"
ADDED_TITLE = "Added by hand"
MAX_SAVED_CHARS = 4000  # the longest quote an export carries (bot.exchange.MAX_QUOTE_CHARS)
SOURCE_MAX = 100  # the longest `source:` of /quote add
SAVED_REASON = "a saved chat message that reads well alone"
SAVE_MENU = "Save as quote"


def _judged(speaker: str | None, text: str) -> tuple[float | None, tuple[str, ...], str | None]:
    """(highlight score, reasons, passage) for `text` as a one-unit source, or Nones."""
    chosen = highlights.select([Unit(speaker, text, 0)])
    if chosen:
        best = chosen[0]
        return best.score, best.reasons, best.text
    # A message is whole as its author sent it: never a piece cut from a longer turn.
    quotability = quotability_score(text, complete=True)
    if quotability >= GOOD_QUOTABILITY:
        return quotability, (SAVED_REASON,), None
    return None, (), None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _text(request: Request) -> str | ErrorReply:
    text = str(request.arg("text", "")).strip()
    if request.command == "add" and text.lower().startswith("text:"):
        text = text[len("text:"):].strip()  # typed as on Discord: /quote add text:… by:…
    if not text and request.command == "add":
        return ErrorReply("Give the words: /quote add WORDS by:NAME.", (Hint(command="add"),))
    if not text:
        return ErrorReply("There is no text to save (a message of only pictures, files or "
                          "embeds cannot be a quote).")
    if len(text) > MAX_SAVED_CHARS:
        return ErrorReply(f"That text is {len(text):,} characters long; a quote is at most "
                          f"{MAX_SAVED_CHARS:,}.")
    return text


async def _store(services: Services, scope: Scope, text: str,
                 speaker: str | None, origin: SavedFrom, *, source_format: str,
                 title: str, slug: str) -> Reply:
    score, reasons, passage = _judged(speaker, text)
    item = NewSaved(
        text=text, speaker=speaker, source_format=source_format, source_title=title,
        source_slug=slug, quotability=quotability_score(text, complete=True), origin=origin,
        highlight_score=score, highlight_reasons=reasons, highlight_text=passage,
        tokens=tuple(tokenize(text)),
    )
    result = await services.library.saved.save(scope.own, item, origin.platform)
    if not result.created:
        return TextReply(f"That message is already saved as #{result.quote_id}.")
    await services.library.reload()
    who = speaker or "Unknown speaker"
    drawn = ("it can come up in random and daily quotes" if score is not None else
             "search and /quote show find it")
    return TextReply(f"Saved as quote #{result.quote_id}: “{shorten(text, 200)}” — {who}, "
                     f"in {title}. {drawn.capitalize()}.")


async def save_message(request: Request, services: Services) -> Reply:
    """Save a chat message as a quote of this server's (or workspace's) library."""
    user, channel = request.user, request.channel
    if user is None or channel is None:
        return ErrorReply("Messages are saved from a channel of a server or workspace.")
    text = _text(request)
    if isinstance(text, ErrorReply):
        return text
    message_id = str(request.arg("message_id"))
    saved = await services.library.saved.saved_message(channel.platform, channel.workspace,
                                                       channel.channel, message_id)
    if saved is not None:
        return TextReply(f"That message is already saved as #{saved}.")
    scope = await services.library.scope(channel)
    author = " ".join(str(request.arg("author_name", "")).split())[:FILTER_MAX] or None
    origin = SavedFrom(
        platform=channel.platform, workspace=channel.workspace, channel=channel.channel,
        message_id=message_id, author_id=request.arg("author_id"), author_name=author,
        link=request.arg("link"), said_at=request.arg("said_at"), saved_by_id=user.id,
        saved_by_name=user.name, saved_at=_now())
    return await _store(services, scope, text, author, origin, source_format=CHAT,
                        title=SAVED_TITLE, slug=f"saved-{scope.own}")


async def add(request: Request, services: Services) -> Reply:
    """Add a line said elsewhere (a call, a meeting) as a quote of this library."""
    user = request.user
    text = _text(request)
    if isinstance(text, ErrorReply):
        return text
    name = " ".join(str(request.arg("speaker", "")).split())
    if not name:
        return ErrorReply("Say who said it: /quote add WORDS by:NAME.",
                          (Hint(command="add"),))
    if len(name) > FILTER_MAX:
        return ErrorReply(f"That name is {len(name):,} characters long; a name is at most "
                          f"{FILTER_MAX}.")
    where = " ".join(str(request.arg("source", "")).split())
    if len(where) > SOURCE_MAX:
        return ErrorReply(f"That source is {len(where):,} characters long; at most "
                          f"{SOURCE_MAX}.")
    scope = await services.library.scope(request.channel)
    # An exact name or alias of someone this library quotes picks them; anything else is
    # a new speaker (as `/quote edit` does: a fuzzy match could pick the wrong person).
    wanted = fold(name)
    known = [s for s in scope.speakers if any(fold(k) == wanted for k in (s.name, *s.aliases))]
    speaker = known[0].name if len(known) == 1 else name
    channel = request.channel
    origin = SavedFrom(
        platform=channel.platform if channel else (user.platform if user else "cli"),
        workspace=channel.workspace if channel else "",
        channel=channel.channel if channel else "", message_id=None, author_id=None,
        author_name=speaker, link=None, said_at=None,
        saved_by_id=user.id if user else "local", saved_by_name=user.name if user else None,
        saved_at=_now())
    title = where or ADDED_TITLE
    slug = f"added-{scope.own}-{slugify(title)[:40].strip('-') or 'lines'}"
    return await _store(services, scope, text, speaker, origin,
                        source_format=ADDED, title=title, slug=slug)


# Filled from the message by the adapter (Discord's Apps menu, Slack's message shortcut).
_MESSAGE_OPTIONS = tuple(
    Option(name, help, required=required, platforms=frozenset())
    for name, help, required in (
        ("text", "The message's words.", False),  # empty: the handler explains
        ("message_id", "The message's id on its platform.", True),
        ("author_id", "Its author's user id.", False),
        ("author_name", "Its author's display name.", False),
        ("link", "A link back to the message.", False),
        ("said_at", "When it was sent (ISO 8601).", False),
    )
)

SAVE_COMMANDS: tuple[Command, ...] = (
    Command("save", save_message.__doc__ or "", save_message, _MESSAGE_OPTIONS,
            menu=SAVE_MENU),
    Command(
        "add", add.__doc__ or "", add,
        (Option("text", "The words, exactly as said.", required=True),
         Option("speaker", "Who said it (an exact name or alias, else a new speaker).",
                required=True, keyword="by"),
         Option("source", "Where it was said (a call, a meeting).", keyword="source")),
        examples=('/quote add ideas are cheap by:Ana source:"Monday call"',),
    ),
)
