"""bot/registry.py: dispatch never raises, validation, and suggestions spelled in the grammar."""

from __future__ import annotations

from quotebot.bot.grammar import parse
from quotebot.bot.models import ErrorReply, Hint, Request


def test_invocation_writes_a_request_as_the_text_grammar_asks_for_it(registry):
    search = Request("search", {"query": "ideas are cheap", "speaker": "Ilya Sutskever",
                                "source": "podcast"})
    spelled = registry.invocation(search)
    assert spelled == '/quote ideas are cheap by:"Ilya Sutskever" in:podcast'
    # The grammar reads it back as the same request.
    again = parse(spelled, registry)
    assert (again.command, dict(again.args)) == ("search", dict(search.args))
    assert registry.invocation(Request("random")) == "/quote random"
    assert registry.invocation(Request("show", {"id": 42})) == "/quote show 42"
    assert registry.invocation(Request("nothing")) == "/quote nothing"


def test_spell_fills_each_hint_and_keeps_prose(registry):
    reply = registry.spell(ErrorReply("No.", ("Plain words.", Hint(command="random"),
                                              Hint("Try:", request=Request("speakers")))))
    assert [(h.text, h.spelled) for h in reply.suggestions] == [
        ("Plain words.", ""),
        ("", "/quote random [by:<speaker>] [in:<source>]"),
        ("Try:", "/quote speakers"),
    ]


async def test_dispatch_spells_suggestions_and_refuses_bad_arguments(registry, services):
    unknown = await registry.dispatch(Request("frobnicate"), services)
    assert isinstance(unknown, ErrorReply) and "frobnicate" in unknown.message
    assert all(h.spelled.startswith("/quote ") for h in unknown.suggestions)
    bad = await registry.dispatch(Request("show", {"id": "abc"}), services)
    assert isinstance(bad, ErrorReply) and "whole number" in bad.message
    assert [h.command for h in bad.suggestions] == ["show"]
    assert bad.suggestions[0].spelled.startswith("/quote show <id>")


async def test_a_handler_that_raises_becomes_a_friendly_error(registry, services, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services.library, "random", broken)
    reply = await registry.dispatch(Request("random"), services)
    assert isinstance(reply, ErrorReply) and "went wrong" in reply.message
