"""The chat text grammar: verbs, default search, key:value filters, quoting, near-miss verbs."""

from __future__ import annotations

import pytest

from quotebot.bot.grammar import parse
from quotebot.bot.models import ErrorReply, QuoteReply, Request


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("/quote ideas are cheap", "search", {"query": "ideas are cheap"}),
        ("/quote ideas are cheap by:ilya", "search", {"query": "ideas are cheap",
                                                       "speaker": "ilya"}),
        ('/quote search compute by:"Greg Brockman" in:stage', "search",
         {"query": "compute", "speaker": "Greg Brockman", "source": "stage"}),
        ("/quote random by:greg", "random", {"speaker": "greg"}),
        ("/quote random", "random", {}),
        ("/quote show 123", "show", {"id": "123"}),
        ("/quote show 123 4", "show", {"id": "123", "context": "4"}),
        ("/quote speakers", "speakers", {}),
        ("/quote help", "help", {}),
        ("/quote", "help", {}),
        ("", "help", {}),
        ("ideas are cheap", "search", {"query": "ideas are cheap"}),
        ('/quote "unbalanced quote', "search", {"query": '"unbalanced quote'}),
        ("/quote time: is money", "search", {"query": "time: is money"}),
        ("/quote RANDOM by:ilya", "random", {"speaker": "ilya"}),
        ("/quote #42", "search", {"query": "#42"}),
    ],
)
def test_parse(registry, text, command, args):
    request = parse(text, registry)
    assert isinstance(request, Request)
    assert request.command == command
    assert dict(request.args) == args


async def test_near_miss_verb_suggests_the_command_when_nothing_matches(registry, services):
    request = parse("/quote randon", registry)
    assert request.command == "search" and request.args["query"] == "randon"
    reply = await registry.dispatch(request, services)
    assert isinstance(reply, ErrorReply)
    assert "Unknown command “randon”." == reply.message
    first = reply.suggestions[0]
    assert (first.text, first.command, first.spelled) == (
        "Did you mean", "random", "/quote random [by:<speaker>] [in:<source>]")
    assert any(h.spelled.startswith("/quote search") for h in reply.suggestions)


async def test_a_word_one_typo_from_a_verb_is_still_searched(registry, services):
    # "research" is one letter from "search" and is in a quote: search it, do not refuse.
    reply = await registry.dispatch(parse("/quote research", registry), services)
    assert isinstance(reply, QuoteReply) and "research" in reply.quote.text


@pytest.mark.parametrize("line", ["/quote ideas by:" + "x" * 1_000_000,
                                  '/quote ideas by:"' + "ilya " * 200_000 + '"',
                                  "/quote " + "[" * 1_000_000])
async def test_a_megabyte_line_is_refused_at_once_not_after_the_grammar(registry, services, line):
    """Issue 11: a 1 MB `by:` took 13.8 s on the event loop. Capping the value was not
    enough: splitting the line (shlex, a character at a time) took 18-27 s before it."""
    import time

    from quotebot.adapters.console import Console

    started = time.perf_counter()
    reply = await Console(registry, services).run(line)
    took = time.perf_counter() - started
    assert isinstance(reply, ErrorReply) and "characters long" in reply.message
    assert len(reply.message) < 200
    assert took < 3, f"{took:.1f} s"  # ~0.05 s; splitting with shlex took 18-27 s
