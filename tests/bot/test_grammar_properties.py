"""Property test: any text at all through the `/quote` grammar gives a Request, never raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotebot.bot.all_commands import build_registry
from quotebot.bot.grammar import parse
from quotebot.bot.models import ErrorReply, Request

REGISTRY = build_registry()
WORDS = st.sampled_from(["/quote", "random", "show", "search", "daily", "set", "off", "by:",
                         "in:", "by:\"", "'", "\"", "“", "”", ":", "42", "-1", "9" * 30,
                         "help", "speakers", "sources", "context", "\n", "\t", " "])
TEXT = st.text() | st.lists(WORDS | st.text(max_size=10), max_size=12).map(" ".join) \
    | st.lists(WORDS, max_size=12).map("".join)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_any_text_parses_to_a_request_of_a_known_command(text):
    result = parse(text, REGISTRY)
    assert isinstance(result, Request | ErrorReply)
    if isinstance(result, Request):
        assert REGISTRY.get(result.command) is not None
        assert all(isinstance(name, str) for name in result.args)
