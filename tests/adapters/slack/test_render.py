"""Rendering on its own: Block Kit limits for long lists and contexts, clipping, escaping."""

from __future__ import annotations

import json

import pytest

from quotebot.adapters.slack.render import (
    BLOCKS_MAX,
    FALLBACK_MAX,
    SECTION_MAX,
    clip,
    escape,
    render,
)
from quotebot.adapters.slack.requests import BUTTON_VALUE_MAX, action_request, encode_button
from quotebot.bot.models import (
    ErrorReply,
    HelpEntry,
    HelpReply,
    Hint,
    ListReply,
    Mention,
    Quote,
    QuoteReply,
    Request,
    SearchState,
    Text,
    TextReply,
)


def quote(i: int, text: str = "Words & more <words>", speaker: str | None = "Ada") -> Quote:
    return Quote(id=i, text=text, speaker=speaker, source="Talk", source_slug="talk",
                 start=float(i), position=i, quotability=0.9)


def sections(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def test_escape_and_clip():
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert clip("x" * 10, 10) == "x" * 10
    cut = clip("word " * 10 + "&&&&&&&&&&", 57)
    assert len(cut) <= 57 and cut.endswith("…") and "&amp…" not in cut
    for limit in range(40, 70):
        assert not clip("ab & " * 30, limit).rstrip("…").endswith(("&", "&a", "&am", "&amp"))


def test_a_long_list_stays_within_block_kit_limits():
    items = tuple(f"Speaker {i} <x> — {i} quotes" for i in range(5000))
    message = render(ListReply("Speakers", items))
    assert len(message["blocks"]) <= BLOCKS_MAX
    assert all(len(text) <= SECTION_MAX for text in sections(message))
    shown = sum(text.count("• ") for text in sections(message))
    more = message["blocks"][-1]["elements"][0]["text"]
    assert more == f"…and {5000 - shown} more"
    assert len(message["text"]) <= 3000


def test_a_huge_context_keeps_the_nearest_neighbours():
    around = tuple(quote(i, "long line " * 200) for i in range(1, 200))
    focus = around[100]
    message = render(QuoteReply((focus,), context=around))
    assert len(message["blocks"]) <= BLOCKS_MAX
    texts = sections(message)
    assert all(len(text) <= SECTION_MAX for text in texts)
    listing = "\n".join(texts[1:])
    assert f"▶ `#{focus.id}`" in listing
    assert f"`#{focus.id - 1}`" in listing and f"`#{focus.id + 1}`" in listing
    assert "`#1`" not in listing  # the farthest are left out


def test_a_quote_with_many_lines_fits_its_section():
    message = render(QuoteReply((quote(1, "line\n" * 2000),)))
    assert all(len(text) <= SECTION_MAX for text in sections(message))


def test_a_long_quotes_notification_text_keeps_who_said_it_and_its_id():
    message = render(QuoteReply((quote(10, "Longwinded word & more " * 400),)))
    assert len(message["text"]) <= FALLBACK_MAX
    assert message["text"].endswith("” — Ada, Talk (0:10) · #10"), message["text"][-80:]


def test_next_button_carries_the_search_state():
    state = SearchState("ideas & <cheap>", "Ada", "talk", offset=2, total=10)
    message = render(QuoteReply((quote(3),), search=state))
    actions = [b for b in message["blocks"] if b["type"] == "actions"][0]["elements"]
    nxt = next(e for e in actions if e["action_id"] == "quote_next")
    assert json.loads(nxt["value"]) == {
        "c": "search",
        "a": {"query": "ideas & <cheap>", "speaker": "Ada", "source": "talk", "offset": 3},
    }
    request = action_request({"user": {"id": "U1"}, "team": {"id": "T1"},
                              "channel": {"id": "C1"}}, nxt)
    assert request.command == "search" and request.arg("offset") == 3
    assert request.user.id == "U1" and request.channel.channel == "C1"
    assert "match 3" in message["blocks"][1]["elements"][0]["text"]


def action_ids(message) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


def test_no_next_button_on_the_last_match_and_no_share_on_a_public_quote():
    last = QuoteReply((quote(3),), search=SearchState("q", None, None, offset=9, total=10))
    assert action_ids(render(last)) == ["quote_context", "quote_share", "quote_card"]
    assert action_ids(render(QuoteReply((quote(3),), public=True))) == ["quote_context"]


def test_a_button_whose_state_does_not_fit_is_left_out():
    assert encode_button(Request("search", {"query": "x" * BUTTON_VALUE_MAX})) is None
    assert encode_button(Request("show", {"id": 1, "context": None})) == '{"c":"show","a":{"id":1}}'


def test_help_error_and_text_replies():
    helped = render(HelpReply("quotebot",
                              (HelpEntry("show", "/quote show <id>", "A quote by id."),)))
    assert "`/quote show &lt;id&gt;` — A quote by id." in sections(helped)[0]
    error = render(ErrorReply("No <match>", ("Try fewer words.",)))
    assert sections(error) == [":warning: No &lt;match&gt;\n• Try fewer words."]
    hinted = render(ErrorReply("None", (Hint("Try:", spelled="/quote <x>"),)))
    assert sections(hinted) == [":warning: None\n• Try: `/quote &lt;x&gt;`"]
    assert render(TextReply("Done & dusted"))["blocks"][0]["text"]["text"] == "Done &amp; dusted"
    noted = render(QuoteReply((quote(1, speaker=None),), note="From <the> archive"))
    assert "*Unknown speaker*" in noted["blocks"][1]["elements"][0]["text"]
    assert any("From &lt;the&gt; archive" in json.dumps(b) for b in noted["blocks"])


def test_an_unknown_reply_kind_is_a_clear_error():
    with pytest.raises(TypeError, match="Slack cannot show"):
        render(object())  # type: ignore[arg-type]


def test_malformed_button_values_become_a_hint():
    for value in ("", "[]", '{"c": 1}', '{"a": {}}', '{"c": "show", "a": []}'):
        reply = action_request({}, {"action_id": "quote_next", "value": value})
        assert isinstance(reply, ErrorReply) and "no longer works" in reply.message


def test_channels_the_core_names_are_links_and_every_written_link_stays_literal():
    stopped = Text.of("Stopped the daily quote in ", Mention("C0GENERAL"), ".")
    text = render(TextReply(stopped))
    assert sections(text) == ["Stopped the daily quote in <#C0GENERAL>."]
    assert text["text"] == "Stopped the daily quote in <#C0GENERAL>."
    listed = render(ListReply("Daily quotes",
                              (Text.of(Mention("C0GENERAL"), " · 09:00 UTC <!channel>"),)))
    assert "• <#C0GENERAL> · 09:00 UTC &lt;!channel&gt;" in sections(listed)[0]
    assert "<#C0GENERAL>" in listed["text"] and "<!channel>" not in listed["text"]
    error = render(ErrorReply(Text.of("I can't post in ", Mention("G0PRIVATE"),
                                      ": <@U1> is not <#C0OTHER>.")))
    assert "I can't post in <#G0PRIVATE>: &lt;@U1&gt; is not &lt;#C0OTHER&gt;." in \
        sections(error)[0]
    # A link written inside text (the core's or a quote's) is never turned back into one.
    assert "&lt;#C0GENERAL&gt;" in sections(render(TextReply("in <#C0GENERAL>")))[0]
    quoted = render(QuoteReply((quote(1, "See <#C0GENERAL> and <!here>"),)))
    assert "&lt;#C0GENERAL&gt;" in sections(quoted)[0]  # a quote is shown as written
    assert "<#" not in json.dumps(quoted)


def test_empty_texts_and_empty_help_still_make_a_valid_message():
    for reply in (TextReply(""), TextReply("   "), HelpReply("", ()), ErrorReply(""),
                  ListReply("", ())):
        message = render(reply)
        assert message["text"].strip()  # Slack refuses a blank fallback
        for block in message["blocks"]:
            assert block["text"]["text"].strip()  # and empty text objects


def test_blocks_beyond_the_limit_never_cut_off_the_buttons():
    from quotebot.adapters.slack.render import _within_block_limit

    blocks = [{"type": "section"}] * 60 + [{"type": "actions"}]
    kept = _within_block_limit(blocks)
    assert len(kept) == BLOCKS_MAX and kept[-1]["type"] == "actions"
