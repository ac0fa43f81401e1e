"""The quote commands, each a plain async function from a Request to a Reply."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace

from quotebot.bot import cards
from quotebot.bot.library import EXACT, STYLES, LookupFailed, Scope, Source, Speaker, styled
from quotebot.bot.models import (
    ChannelRef,
    ErrorReply,
    HelpEntry,
    HelpReply,
    Hint,
    ListReply,
    Paging,
    Quote,
    QuoteReply,
    Reply,
    Request,
    SearchState,
    TextReply,
    clip_words,
)
from quotebot.bot.registry import Choice, Command, Option, Registry, RoleId, Services
from quotebot.bot.search import MAX_QUERY_CHARS
from quotebot.bot.tokens import fold
from quotebot.store.curate import Actor, Change
from quotebot.store.libraries import OPERATOR_PLATFORM

log = logging.getLogger(__name__)

CHOICE_NAME_MAX = 100  # Discord's limit for an autocomplete choice name and value
QUOTE_REF = re.compile(r"^\s*#(\d{1,12})\s*$")
# A by:/in: value longer than this is no name; fuzzy-matching it blocked the event loop
# (a 1 MB value took 14 s), so it is refused (or, while typing, ignored) unread.
FILTER_MAX = 100


# ---- completers ---------------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut + "…"


async def complete_query(services: Services, partial: str, request: Request) -> list[Choice]:
    """Matching quotes as the user types; choosing one selects exactly that quote (`#id`)."""
    if len(partial.strip()) < 2:
        return []
    scope = await services.library.scope(request.channel)
    speaker, source = await _filters_or_none(services, request, scope)
    quotes = await services.library.search(
        partial[:MAX_QUERY_CHARS], speaker=speaker, source=source, limit=25, prefix_last=True,
        scope=scope,
    )
    choices = []
    for q in quotes:
        suffix = f" — {q.speaker_name}"
        name = shorten(q.text, CHOICE_NAME_MAX - len(suffix)) + suffix
        choices.append(Choice(name=name[:CHOICE_NAME_MAX], value=f"#{q.id}"))
    return choices


async def complete_speaker(services: Services, partial: str, request: Request) -> list[Choice]:
    scope = await services.library.scope(request.channel)
    return [
        Choice(shorten(s.name, CHOICE_NAME_MAX), shorten(s.name, CHOICE_NAME_MAX))
        for s in await _off_loop(services.library.speaker_choices, partial[:FILTER_MAX], scope)
    ]


async def complete_source(services: Services, partial: str, request: Request) -> list[Choice]:
    scope = await services.library.scope(request.channel)
    return [
        Choice(shorten(s.title, CHOICE_NAME_MAX), s.slug[:CHOICE_NAME_MAX])
        for s in await _off_loop(services.library.source_choices, partial[:FILTER_MAX], scope)
    ]


async def complete_own_source(services: Services, partial: str, request: Request
                              ) -> list[Choice]:
    """The sources `/quote sources remove` can remove here, as the admin types."""
    scope = await services.library.scope(request.channel)
    allowed = _removable(scope)
    own = replace(scope, sources=tuple(s for s in scope.sources if s.collection_id in allowed))
    return [
        Choice(shorten(s.title, CHOICE_NAME_MAX), s.slug[:CHOICE_NAME_MAX])
        for s in await _off_loop(services.library.source_choices, partial[:FILTER_MAX], own)
    ]


def _removable(scope: Scope) -> tuple[int, ...]:
    """The collections whose sources `/quote sources remove` may delete: a server's own;
    at the operator's terminal, everything it sees (as `quotebot sources remove`)."""
    return scope.editable if scope.platform == OPERATOR_PLATFORM else (scope.own,)


async def _filters_or_none(services: Services, request: Request, scope: Scope
                           ) -> tuple[Speaker | None, Source | None]:
    """Filters for autocomplete, where a half-typed filter must not abort the suggestions."""
    speaker = source = None
    if _too_long(request):
        return None, None
    try:
        if request.arg("speaker"):
            speaker = await _off_loop(services.library.resolve_speaker, request.arg("speaker"),
                                      scope)
    except LookupFailed:
        pass
    try:
        if request.arg("source"):
            source = await _off_loop(services.library.resolve_source, request.arg("source"),
                                     scope)
    except LookupFailed:
        pass
    return speaker, source


async def _off_loop(resolve, name: str, scope: Scope):
    """Fuzzy name matching in a worker thread: the bot keeps answering while it runs.
    Only names of `scope`'s library are matched."""
    return await asyncio.to_thread(resolve, str(name), scope=scope)


def _too_long(request: Request) -> str | None:
    """The name of a filter whose value is longer than `FILTER_MAX`, if any."""
    return next((name for name in ("speaker", "source")
                 if len(str(request.arg(name, ""))) > FILTER_MAX), None)


async def _filters(services: Services, request: Request, scope: Scope
                   ) -> tuple[Speaker | None, Source | None]:
    speaker = source = None
    if name := _too_long(request):
        size = len(str(request.arg(name)))
        raise LookupFailed(f"That {name} is {size:,} characters long; a name is at most "
                           f"{FILTER_MAX}.")
    if request.arg("speaker"):
        speaker = await _off_loop(services.library.resolve_speaker, request.arg("speaker"),
                                  scope)
    if request.arg("source"):
        source = await _off_loop(services.library.resolve_source, request.arg("source"), scope)
    return speaker, source


async def complete_style(services: Services, partial: str, request: Request) -> list[Choice]:
    return [Choice(s, s) for s in STYLES if s.startswith(partial.strip().lower())]


# `--exact` on the CLI; chat platforms use the channel's setting.
STYLE = Option("style", "clean or exact.", platforms=frozenset())
SPEAKER = Option("speaker", "Only quotes by this person (a short name works).",
                 keyword="by", complete=complete_speaker)
SOURCE = Option("source", "Only quotes from this interview or episode.",
                keyword="in", complete=complete_source)


# ---- handlers -----------------------------------------------------------------------------


async def search(request: Request, services: Services) -> Reply:
    """Find the quote that best matches a half-remembered line."""
    query = str(request.arg("query", "")).strip()
    if not query:
        return ErrorReply("Type a few words of the quote you are looking for.",
                          (Hint(request=Request("search", {"query": "ideas are cheap"})),
                           Hint(request=Request("random"))))
    if len(query) > MAX_QUERY_CHARS:
        return ErrorReply(
            f"That search is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}. "
            "A few distinctive words find a quote best."
        )
    if ref := QUOTE_REF.match(query):
        return await show(Request("show", {"id": int(ref.group(1)), "context": 0},
                                  request.user, request.channel), services)
    scope = await services.library.scope(request.channel)
    try:
        speaker, source = await _filters(services, request, scope)
    except LookupFailed as exc:
        return ErrorReply(exc.message, exc.suggestions)
    offset = int(request.arg("offset", 0))
    limit = int(request.arg("limit", 1))
    # Ranked in the exact words; only the quotes shown are cleaned (cleaning costs).
    quotes, total = await services.library.search_page(
        query, speaker=speaker, source=source, offset=offset, limit=limit, style=EXACT,
        scope=scope)
    if not total and not scope.sources:
        if scope.platform == OPERATOR_PLATFORM:  # the terminal: the operator's own
            return ErrorReply("The library is empty: add transcripts with quotebot ingest PATH")
        return ErrorReply("This library is empty: admins can switch on a shared collection "
                          "(/quote library), and the bot's operator can add transcripts.",
                          (Hint(request=Request("library show")),))
    if not total:
        hints = [Hint("Try fewer words, or the words you are surest of.")]
        if speaker or source:
            hints.append(Hint("Try again without the speaker or source filter."))
        hints.append(Hint("lists who is quoted:", request=Request("speakers")))
        return ErrorReply(f"No quote matches “{shorten(query, 80)}”.", tuple(hints))
    if not quotes:
        return ErrorReply(f"No more matches for “{shorten(query, 80)}” — that was all of them.")
    state = SearchState(query, speaker.name if speaker else None,
                        source.slug if source else None, offset, total)
    style = await display_style(request, services)
    quotes = await services.library.with_origins([styled(q, style) for q in quotes])
    return QuoteReply(tuple(quotes), search=state)


async def display_style(request: Request, services: Services) -> str:
    """Clean or exact words: what the request asks (`--exact`), else the channel's setting."""
    asked = request.arg("style")
    if asked in STYLES:
        return str(asked)
    return await services.library.style_for(request.channel)


def deck_key(request: Request) -> str | None:
    """Whose no-repeat deck a random draw comes from: the channel's, else the user's."""
    if request.channel is not None:
        c = request.channel
        return f"{c.platform}:{c.workspace}:{c.channel}"
    if request.user is not None:
        return f"{request.user.platform}:user:{request.user.id}"
    return None


async def random_quote(request: Request, services: Services) -> Reply:
    """A random highlight worth posting, optionally by one speaker or from one source."""
    scope = await services.library.scope(request.channel)
    try:
        speaker, source = await _filters(services, request, scope)
    except LookupFailed as exc:
        return ErrorReply(exc.message, exc.suggestions)
    draw = await services.library.random(
        speaker=speaker, source=source, deck=deck_key(request),
        style=await display_style(request, services), scope=scope,
    )
    if draw is None:
        return ErrorReply("There are no quotes to choose from yet.",
                          ("Ingest a transcript: quotebot ingest PATH",))
    (quote,) = await services.library.with_origins([draw.quote])
    return QuoteReply((quote,), note=draw.note)


async def show(request: Request, services: Services) -> Reply:
    """A quote by its id, with the lines around it."""
    style = await display_style(request, services)
    scope = await services.library.scope(request.channel)
    if request.arg("highlight") is not None:
        quote = await services.library.get_highlight(int(request.arg("highlight")), style,
                                                     scope)
        if quote is None:
            return ErrorReply("That highlight is gone (its transcript was changed).",
                              (Hint(request=Request("random")),))
    else:
        try:
            quote_id = int(request.arg("id"))
        except (TypeError, ValueError):
            return ErrorReply("Give the quote's number.",
                              (Hint(request=Request("show", {"id": 42})),))
        quote = await services.library.get(quote_id, style, scope)
        if quote is None:
            return ErrorReply(f"There is no quote #{quote_id}.",
                              (Hint("Search for it instead:", command="search"),))
    (quote,) = await services.library.with_origins([quote])
    around = int(request.arg("context", 2))
    # Around a message saved from chat are other saved messages, not what was said next
    # to it: none are shown (the Original message link leads to the conversation).
    context = (await services.library.context(quote, around)
               if around and not quote.saved_from else [])
    note = None
    if request.arg("why"):
        note = "\n".join(await services.library.explain(quote))
    card = None
    if request.arg("card"):
        card, why = await cards.draw_card(quote, str(request.arg("theme", "light")))
        note = why or note
    if await services.library.curate.is_hidden(quote.id):
        note = HIDDEN_NOTE + (f"\n{note}" if note else "")
    return QuoteReply((quote,), context=tuple(context), note=note,
                      public=bool(request.arg("share")), card=card)


HIDDEN_NOTE = "(hidden from random and daily)"


async def settings(request: Request, services: Services) -> Reply:
    """This channel's settings: quotes clean (default) or exact; daily posts with a card."""
    channel = request.channel
    if channel is None:
        return ErrorReply("Settings belong to a channel; run this in one.")
    style, card = request.arg("style"), request.arg("card")
    role = request.arg("admin_role")
    if style is None and card is None and role is None:
        return await _current_settings(channel, services)
    if role is not None and not str(role).isdigit():
        return ErrorReply("admin_role is a role of this server: pick one.")
    if style is not None:
        style = str(style).strip().lower()
        if style not in STYLES:
            return ErrorReply(f"style is clean or exact, not “{shorten(str(style), 40)}”.")
    if card is not None:
        switch = str(card).strip().lower()
        if switch not in CARD_SWITCH.values():
            return ErrorReply(f"card is on or off, not “{shorten(str(card), 40)}”.")
    if not (request.user and request.user.is_admin):
        return ErrorReply("Only admins can change this channel's settings.")
    done = []
    if role is not None:
        done.append(await _set_admin_role(channel, str(role), services))
    if style is not None:
        await services.library.set_style(channel, style)
        shown = ("the exact words, as transcribed" if style == EXACT else
                 "clean: without um, uh, stutters and stage directions (Context shows the "
                 "exact words)")
        done.append(f"Quotes in this channel are now shown {shown}.")
    if card is not None:
        on = str(card).strip().lower() == CARD_SWITCH[True]
        await services.library.set_card(channel, on)
        done.append("Daily quotes in this channel now come with a quote card (a picture of "
                    "the words)." if on else
                    "Daily quotes in this channel now come as text only, without a card.")
    return TextReply(" ".join(done))


CARD_SWITCH = {True: "on", False: "off"}


async def _current_settings(channel: ChannelRef, services: Services) -> Reply:
    current = await services.library.style_for(channel)
    on = CARD_SWITCH[await services.library.card_for(channel)]
    admins = ""
    if channel.platform == "discord":  # the only platform with roles
        named = await services.library.admin_role(channel)
        admins = (" Admins are members with Manage Server"
                  + (f" and members of the admin role (id {named})." if named else
                     "; /quote settings admin_role: names a role whose members are "
                     "admins too."))
    return TextReply(f"Quotes here are shown {current} (style:{current}); daily posts "
                     f"{'carry' if on == 'on' else 'do not carry'} a quote card "
                     f"(card:{on}). Admins can change them with /quote settings "
                     f"style:clean or style:exact, card:on or card:off.{admins}")


async def _set_admin_role(channel: ChannelRef, role: str, services: Services) -> str:
    """Name the server's admin role (Discord); @everyone clears it."""
    if role == channel.workspace:
        # Discord's @everyone role has the server's id: everyone would be an admin.
        await services.library.set_admin_role(channel, None)
        return "This server has no admin role now: admins are members with Manage Server."
    await services.library.set_admin_role(channel, role)
    return (f"Members of the role with id {role} are now admins of quotebot here, as are "
            "members with Manage Server (pick @everyone to clear the role).")


# ---- curating -----------------------------------------------------------------------------
# Admins only. Each change commits with an audit row (who, when, before and after), and
# `quotebot audit` lists them. The words of a quote are never edited.


def _actor(request: Request) -> Actor:
    user = request.user
    if user is None:  # the CLI, run by whoever holds the database file
        return Actor("cli", "local")
    return Actor(user.platform, user.id, user.name)


def _is_admin(request: Request) -> bool:
    return bool(request.user and request.user.is_admin)


def _no_quote(quote_id: int) -> ErrorReply:
    return ErrorReply(f"There is no quote #{quote_id}.",
                      (Hint("Search for it instead:", command="search"),))


async def _not_changed(services: Services, scope: Scope, quote_id: int) -> ErrorReply:
    """Why a curating change found no quote: none this library sees, or one of a shared
    collection, which only the operator curates (a change would reach every library)."""
    if await services.library.get(quote_id, scope=scope) is None:
        return _no_quote(quote_id)
    return ErrorReply(f"Quote #{quote_id} comes from a shared collection, which every server "
                      "that enables it sees; only the bot's operator can change it.")


def _described(change: Change) -> str:
    q = change.before
    return f"#{q.id} ({q.speaker or 'Unknown speaker'}, in {q.source}): “{shorten(q.text, 200)}”"


async def remove(request: Request, services: Services) -> Reply:
    """Delete a quote for good, e.g. one sentence of a transcript (admins, or whoever saved
    it from chat)."""
    quote_id = int(request.arg("id"))
    if not _is_admin(request) and not await _saved_by_caller(request, services, quote_id):
        return ErrorReply("Only admins, or the person who saved the quote, can remove it.")
    scope = await services.library.scope(request.channel)
    change = await services.library.curate.remove_quote(quote_id, _actor(request),
                                                        collections=scope.editable)
    if change is None:
        return await _not_changed(services, scope, quote_id)
    await services.library.reload()
    return TextReply(f"Removed quote {_described(change)}. Highlights that included it are "
                     "gone too; if it came from a transcript file, ingesting that file again "
                     "would bring it back.")


async def _saved_by_caller(request: Request, services: Services, quote_id: int) -> bool:
    """Whether the caller saved quote `quote_id` from chat (or added it), in this same
    workspace: they may take back what they saved."""
    user, channel = request.user, request.channel
    if user is None or channel is None:
        return False
    origin = await services.library.saved.origin(quote_id)
    return (origin is not None and origin.platform == user.platform == channel.platform
            and origin.workspace == channel.workspace and origin.saved_by_id == user.id)


async def hide(request: Request, services: Services) -> Reply:
    """Keep a quote out of random draws and daily posts; search and show still find it (admins)."""
    return await _set_hidden(request, services, True)


async def unhide(request: Request, services: Services) -> Reply:
    """Let a hidden quote be drawn at random and posted daily again (admins)."""
    return await _set_hidden(request, services, False)


async def _set_hidden(request: Request, services: Services, hidden: bool) -> Reply:
    if not _is_admin(request):
        return ErrorReply(f"Only admins can {'hide' if hidden else 'unhide'} quotes.")
    quote_id = int(request.arg("id"))
    scope = await services.library.scope(request.channel)
    change = await services.library.curate.set_hidden(quote_id, hidden, _actor(request),
                                                      collections=scope.editable)
    if change is None:
        return await _not_changed(services, scope, quote_id)
    if change.before.hidden == hidden:
        return TextReply(f"Quote #{quote_id} was already "
                         f"{'hidden from' if hidden else 'in'} random draws and daily posts.")
    if hidden:
        return TextReply(f"Hid quote {_described(change)} from random draws and daily posts; "
                         f"search and show still find it (/quote unhide {quote_id} undoes "
                         "this).")
    return TextReply(f"Quote {_described(change)} can be drawn at random and posted daily "
                     "again.")


async def edit(request: Request, services: Services) -> Reply:
    """Re-attribute a quote to another speaker (admins); its words never change."""
    if not _is_admin(request):
        return ErrorReply("Only admins can edit quotes.")
    quote_id = int(request.arg("id"))
    name = " ".join(str(request.arg("speaker", "")).split())
    if not name:
        return ErrorReply("Name the speaker: /quote edit ID speaker:NAME.")
    if len(name) > FILTER_MAX:
        return ErrorReply(f"That speaker is {len(name):,} characters long; a name is at most "
                          f"{FILTER_MAX}.")
    # Only an exact name or alias picks an existing speaker: a fuzzy match could quietly
    # give the quote to the wrong person. Anything else is a new speaker, and the reply
    # says so.
    wanted = fold(name)
    known = [s for s in services.library.speakers
             if any(fold(k) == wanted for k in (s.name, *s.aliases))]
    named = [s for s in known if fold(s.name) == wanted]
    if len(named) == 1:
        known = named
    if len(known) > 1:
        return ErrorReply(f"“{name}” could be several speakers: give the full name.",
                          tuple(s.name for s in known[:5]))
    curate = services.library.curate
    scope = await services.library.scope(request.channel)
    if known:
        change = await curate.reattribute(quote_id, _actor(request), speaker_id=known[0].id,
                                          collections=scope.editable)
    else:
        change = await curate.reattribute(quote_id, _actor(request), new_speaker=name,
                                          collections=scope.editable)
    if change is None:
        return await _not_changed(services, scope, quote_id)
    after = change.after
    if after.speaker_id == change.before.speaker_id:
        return TextReply(f"Quote #{quote_id} is already attributed to {after.speaker}.")
    await services.library.reload()
    new = " (a new speaker)" if change.new_speaker else ""
    return TextReply(f"Quote #{quote_id} is now attributed to {after.speaker}{new}, not "
                     f"{change.before.speaker or 'an unknown speaker'}. Its words are "
                     "unchanged.")


async def complete_card(services: Services, partial: str, request: Request) -> list[Choice]:
    """on or off, as the user types."""
    return [Choice(s, s) for s in CARD_SWITCH.values() if s.startswith(partial.strip().lower())]


async def speakers(request: Request, services: Services) -> Reply:
    """Who is quoted, with how many quotes each."""
    scope = await services.library.scope(request.channel)
    items = tuple(
        f"{s.name}{f' ({s.role})' if s.role else ''} — {_count(s.quotes, 'quote')}"
        for s in scope.speakers if s.quotes
    )
    return ListReply("Speakers", items or ("No speakers yet.",))


async def sources(request: Request, services: Services) -> Reply:
    """The interviews and episodes in the library."""
    scope = await services.library.scope(request.channel)
    items = tuple(
        f"{s.title}{f' ({s.date})' if s.date else ''} [{s.slug}] — {_count(s.quotes, 'quote')}"
        for s in scope.sources
    )
    return ListReply("Sources", items or ("No sources yet.",))


async def sources_remove(request: Request, services: Services) -> Reply:
    """Remove a source of this server's own quotes, with all its quotes (admins)."""
    if not _is_admin(request):
        return ErrorReply("Only admins can remove sources.",
                          (Hint("Anyone can list them:", command="sources list"),))
    slug = str(request.arg("slug", "")).strip()
    scope = await services.library.scope(request.channel)
    curate = services.library.curate
    removal = await curate.remove_source(slug[:200], _actor(request),
                                         collections=_removable(scope))
    if removal is None:
        found = await curate.source(slug[:200])
        if found is not None and found.collection_id in scope.collections:
            named = await services.library.libraries.listed((found.collection_id,))
            name = next((c.name for c in named if c.id == found.collection_id), "")
            if found.collection_id in scope.shared:
                return ErrorReply(
                    f"“{found.slug}” belongs to the shared collection {name}, which other servers "
                    "see too; only the bot's operator can remove it. To stop seeing it "
                    "here, an admin can turn the whole collection off:",
                    (Hint(request=Request("library disable", {"name": name})),))
            return ErrorReply(f"“{found.slug}” belongs to the bot operator's library ({name}), "
                              "which this server sees; only the operator can remove it.")
        return ErrorReply(f"There is no source “{shorten(slug, 80)}” in this library.",
                          (Hint("lists them with their slugs:",
                                request=Request("sources list")),))
    await services.library.reload()
    gone = removal.before
    note = ""
    if removal.result.subscriptions_disabled:
        note = (f" {_count(removal.result.subscriptions_disabled, 'daily subscription')} "
                "limited to it stopped.")
    return TextReply(f"Removed {gone.title} [{gone.slug}] and its "
                     f"{_count(removal.result.quotes, 'quote')}.{note} Re-ingesting its "
                     "transcript would bring it back.")


LIST_PAGE = 10  # quotes on a page of /quote list
LIST_TEXT_MAX = 90  # a quote's words on a line of the list, cut at a word
LIST_PAGES_MAX = 10_000


async def list_quotes(request: Request, services: Services) -> Reply:
    """Recent quotes of this library, 10 a page, or a speaker's (by:) or a source's (in:)."""
    scope = await services.library.scope(request.channel)
    try:
        speaker, source = await _list_filters(services, request, scope)
    except LookupFailed as exc:
        return ErrorReply(exc.message, exc.suggestions)
    page = int(request.arg("page", 1))
    quotes, hidden, total = await services.library.list_page(
        scope, speaker=speaker, source=source, offset=(page - 1) * LIST_PAGE,
        limit=LIST_PAGE + 1)  # one more than shown: whether a next page exists
    more = len(quotes) > LIST_PAGE
    quotes = quotes[:LIST_PAGE]
    title = ("Quotes" + (f" by {speaker.name}" if speaker else "")
             + (f" in {source.title}" if source else "") if speaker or source
             else "Recent quotes")
    if not quotes:
        if page > 1:
            last = max(1, -(-total // LIST_PAGE))
            typed = {"page": last, "speaker": speaker.name if speaker else None,
                     "source": source.slug if source else None}
            return ErrorReply(f"There is no page {page}: the list has "
                              f"{_count(last, 'page')}.",
                              (Hint("the last one:", request=Request("list", typed)),))
        return ListReply(title, ("No quotes yet.",))
    # The loaded counts can lag an ingest by a moment; the pages shown never contradict
    # what was read.
    pages = max(-(-total // LIST_PAGE), page + 1 if more else page)
    paging = Paging(page, pages,
                    _list_request(page - 1, speaker, source) if page > 1 else None,
                    _list_request(page + 1, speaker, source) if more else None)
    return ListReply(f"{title} — {paging.label}",
                     tuple(_list_line(q, q.id in hidden) for q in quotes), paging=paging)


def _list_line(quote: Quote, hidden: bool) -> str:
    """`#42 “Ideas are cheap…” — Ilya Sutskever, Dwarkesh Podcast` (hidden ones marked)."""
    mark = " (hidden)" if hidden else ""
    return (f"#{quote.id}{mark} “{clip_words(quote.text, LIST_TEXT_MAX)}” — "
            f"{quote.speaker_name}, {quote.source_label}")


def _list_request(page: int, speaker: Speaker | None, source: Source | None) -> Request:
    """The request for another page of the same list: the filters by id, as resolved."""
    args: dict = {"page": page}
    if speaker is not None:
        args["speaker_id"] = speaker.id
    if source is not None:
        args["source_id"] = source.id
    return Request("list", args)


async def _list_filters(services: Services, request: Request, scope: Scope
                        ) -> tuple[Speaker | None, Source | None]:
    """The list's filters: by id (a Previous/Next button, within this library only), else
    by name as typed."""
    speaker, source = await _filters(services, request, scope)
    if request.arg("speaker_id") is not None:
        speaker = next((s for s in scope.speakers if s.id == int(request.arg("speaker_id"))),
                       None)
        if speaker is None:
            raise LookupFailed("That speaker has no quotes in this library any more.")
    if request.arg("source_id") is not None:
        source = next((s for s in scope.sources if s.id == int(request.arg("source_id"))),
                      None)
        if source is None:
            raise LookupFailed("That source is no longer in this library.")
    return speaker, source


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


QUOTE_ID = Option("id", "The quote's number.", type=int, required=True, min_value=1,
                  max_value=2**53)


def help_reply(registry: Registry) -> HelpReply:
    """Help for every command, generated from the registry."""
    return HelpReply(
        "quotebot — find and share exact quotes",
        tuple(HelpEntry(c.name, c.usage(), c.help) for c in registry),
    )


QUOTE_COMMANDS: tuple[Command, ...] = (
    Command(
        "search", search.__doc__ or "",
        search,
        (
            Option("query", "Words you remember from the quote.", required=True,
                   complete=complete_query),
            SPEAKER,
            SOURCE,
            Option("offset", "Skip this many better matches.", type=int, min_value=0,
                   max_value=1000, platforms=frozenset()),
            Option("limit", "How many matches to return.", type=int, min_value=1,
                   max_value=50, platforms=frozenset()),
        ),
        examples=("/quote ideas are cheap by:ilya",),
    ),
    Command("random", random_quote.__doc__ or "", random_quote, (SPEAKER, SOURCE, STYLE)),
    Command(
        "show", show.__doc__ or "", show,
        (
            Option("id", "The quote's number.", type=int, required=True, min_value=1,
                   max_value=2**53),
            Option("context", "How many quotes before and after to show.", type=int,
                   min_value=0, max_value=10),
            Option("highlight", "A highlight's number (buttons use it).", type=int,
                   min_value=1, max_value=2**53, platforms=frozenset()),
            Option("why", "Explain why this was or was not chosen as a highlight.",
                   type=int, min_value=0, max_value=1, platforms=frozenset()),
            Option("share", "Post it for the whole channel (the Share button).", type=bool,
                   platforms=frozenset()),
            Option("card", "Post it as a picture (the Card button).", type=bool,
                   platforms=frozenset()),
            Option("theme", "The card's theme: light or dark.", platforms=frozenset()),
            STYLE,
        ),
    ),
    Command(
        "settings", settings.__doc__ or "", settings,
        (Option("style", "clean (without um, uh and stutters) or exact (as transcribed).",
                keyword="style", complete=complete_style),
         Option("card", "on: daily posts carry the quote as a picture; off: text only.",
                keyword="card", complete=complete_card),
         Option("admin_role", "A role whose members count as admins here (@everyone: none).",
                type=RoleId, keyword="admin_role", platforms=frozenset({"discord"}))),
        admin=True,
    ),
    Command("speakers", speakers.__doc__ or "", speakers),
    Command(
        "list", list_quotes.__doc__ or "", list_quotes,
        (SPEAKER, SOURCE,
         Option("page", "Which page of 10 (1 is the newest).", type=int, keyword="page",
                min_value=1, max_value=LIST_PAGES_MAX),
         # What the Previous and Next buttons ask for: the filters as resolved, by id.
         Option("speaker_id", "A speaker by id (the buttons use it).", type=int,
                min_value=1, max_value=2**53, platforms=frozenset()),
         Option("source_id", "A source by id (the buttons use it).", type=int,
                min_value=1, max_value=2**53, platforms=frozenset())),
        examples=("/quote list by:ilya", "/quote list in:podcast page:2"),
    ),
    # A group on Discord (`/quote sources list`, `/quote sources remove`): a subcommand
    # cannot share its name with a group there. The text grammar keeps `/quote sources`.
    Command("sources list", sources.__doc__ or "", sources, aliases=("sources",)),
    Command("sources remove", sources_remove.__doc__ or "", sources_remove,
            (Option("slug", "The source's slug, as /quote sources shows it in brackets.",
                    required=True, complete=complete_own_source),),
            admin=True, examples=("/quote sources remove standup-2024-05-01",)),
    Command("remove", remove.__doc__ or "", remove, (QUOTE_ID,), admin=True),
    Command("hide", hide.__doc__ or "", hide, (QUOTE_ID,), admin=True),
    Command("unhide", unhide.__doc__ or "", unhide, (QUOTE_ID,), admin=True),
    Command(
        "edit", edit.__doc__ or "", edit,
        (QUOTE_ID,
         Option("speaker", "Who said it: an existing speaker, or a new name.", required=True,
                keyword="speaker", complete=complete_speaker)),
        admin=True, examples=('/quote edit 42 speaker:"Greg Brockman"',),
    ),
)
