"""`/quote library`: what a server's (or workspace's) library holds, and its admins'
switches for the shared collections it sees."""

from __future__ import annotations

import logging

from quotebot.bot.library import Scope
from quotebot.bot.models import ErrorReply, Hint, ListReply, Reply, Request, TextReply
from quotebot.bot.registry import Choice, Command, Option, Services
from quotebot.store.libraries import SHARED, CollectionRow

log = logging.getLogger(__name__)

def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


def _what(services: Services, collection_id: int) -> str:
    sources, quotes = services.library.collection_counts(collection_id)
    return f"{_count(quotes, 'quote')} in {_count(sources, 'source')}"


async def _listed(services: Services, scope: Scope) -> list[CollectionRow]:
    """The collections `/quote library` shows: every shared one, and any other the
    library sees (the operator's own, shared with it by the operator)."""
    return [c for c in await services.library.libraries.listed(scope.collections)
            if c.id != scope.own]


async def library_show(request: Request, services: Services) -> Reply:
    """This server's library: its own quotes and the shared collections, on or off."""
    scope = await services.library.scope(request.channel)
    items = [f"Own quotes ({scope.name}) — {_what(services, scope.own)}"]
    for c in await _listed(services, scope):
        state = "on" if c.id in scope.collections else "off"
        kind = "" if c.kind == SHARED else " (the bot operator's library)"
        items.append(f"{c.name}{kind} — {state} — {_what(services, c.id)}")
    items.append("Admins switch a collection with /quote library enable NAME or "
                 "/quote library disable NAME.")
    return ListReply("Library", tuple(items))


async def library_enable(request: Request, services: Services) -> Reply:
    """Let this server's searches and draws include a shared collection (admins)."""
    return await _switch(request, services, True)


async def library_disable(request: Request, services: Services) -> Reply:
    """Leave a collection out of this server's searches and draws (admins)."""
    return await _switch(request, services, False)


async def _switch(request: Request, services: Services, on: bool) -> Reply:
    verb = "enable" if on else "disable"
    if not (request.user and request.user.is_admin):
        return ErrorReply(f"Only admins can {verb} collections in this library.",
                          (Hint("Anyone can see what it holds:", command="library show"),))
    name = str(request.arg("name", "")).strip()
    scope = await services.library.scope(request.channel)
    found = await services.library.libraries.collection(name) \
        if len(name) <= 200 else None
    if found is not None and found.id == scope.own:
        return ErrorReply("A library's own quotes are always in it; only shared collections "
                          "can be switched.")
    # A library's own collection (another server's) is never named to a server: "no
    # such collection", as for one that does not exist; only the operator shares one.
    if found is None or (found.kind != SHARED and found.id not in scope.collections):
        names = tuple(c.name for c in await _listed(services, scope))
        return ErrorReply(f"There is no shared collection called “{name[:80]}”.",
                          tuple(Hint(f"{n}") for n in names[:5])
                          or (Hint("No shared collections exist yet."),))
    if on and found.kind != SHARED:
        return ErrorReply(f"“{found.name}” is not a shared collection; only the bot's "
                          "operator can share it.")
    changed = await services.library.set_enabled(scope, found.id, on)
    if not changed:
        return TextReply(f"{found.name} is already {'on' if on else 'off'} in this library.")
    log.info("library %s: %s %sd by %s", scope.name, found.name, verb,
             request.user.id if request.user else "?")
    if on:
        return TextReply(f"{found.name} is on: searches, random quotes and daily posts here "
                         f"now include its {_what(services, found.id)}.")
    return TextReply(f"{found.name} is off: searches, random quotes and daily posts here no "
                     "longer include it.")


async def complete_collection(services: Services, partial: str, request: Request
                              ) -> list[Choice]:
    """Shared collections (and any other this library sees) as the admin types."""
    scope = await services.library.scope(request.channel)
    wanted = partial.strip().lower()
    return [Choice(c.name, c.name) for c in await _listed(services, scope)
            if wanted in c.name][:25]


COLLECTION = Option("name", "The collection's name (see /quote library).", required=True,
                    complete=complete_collection)

LIBRARY_COMMANDS: tuple[Command, ...] = (
    Command("library show", library_show.__doc__ or "", library_show, aliases=("library",)),
    Command("library enable", library_enable.__doc__ or "", library_enable, (COLLECTION,),
            admin=True, examples=("/quote library enable bundled",)),
    Command("library disable", library_disable.__doc__ or "", library_disable, (COLLECTION,),
            admin=True),
)
