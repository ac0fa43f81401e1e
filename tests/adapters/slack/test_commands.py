"""Every `/quote` verb through signed HTTP requests, read back from the fake response URL."""

from __future__ import annotations

from tests.adapters.slack.conftest import block_text, buttons


async def test_search_answers_privately_with_the_quote_in_blocks(slack, library):
    sent = await slack.command("execusion is everything")
    data = sent.data
    assert data["response_type"] == "ephemeral"
    quote = (await library.search("execution is everything"))[0]
    first = data["blocks"][0]
    assert first["type"] == "section" and first["text"]["text"].startswith(">")
    assert "ideas are cheap, execution is everything" in first["text"]["text"]
    context = data["blocks"][1]
    assert context["type"] == "context"
    line = context["elements"][0]["text"]
    assert "Ilya Sutskever" in line and "Dwarkesh Podcast" in line
    assert "1:25" in line and f"#{quote.id}" in line
    assert "execution is everything" in data["text"]  # the plain-text fallback
    assert "Ilya Sutskever" in data["text"]
    assert buttons(data)[:2] == ["quote_context", "quote_share"]


async def test_the_ack_is_immediate_and_empty(slack):
    _, url = slack.new_response_url()
    status, body = await slack.post(slack.command_body("secret sauce", url))
    assert status == 200 and body == ""


async def test_search_verb_and_speaker_filter(slack):
    data = (await slack.command("search compute by:ilya")).data
    assert "AlexNet was built on two GPUs" in block_text(data)


async def test_fuzzy_speaker_and_quoted_multi_word_values(slack):
    misspelt = (await slack.command("compute by:sutskevar")).data
    assert "Ilya Sutskever" in block_text(misspelt)
    quoted = (await slack.command('control by:"Greg Brockman" in:"Greg Brockman on stage"')).data
    assert "You can only control your inputs" in block_text(quoted)
    short = (await slack.command("payments in:stage")).data
    assert "secret sauce" in block_text(short)


async def test_a_filter_that_excludes_the_quote_is_a_helpful_error(slack):
    data = (await slack.command("secret sauce by:ilya")).data
    assert data["response_type"] == "ephemeral"
    text = block_text(data)
    assert "No quote matches" in text and "without the speaker or source filter" in text
    assert buttons(data) == []


async def test_unknown_speaker_lists_suggestions(slack):
    text = block_text((await slack.command("compute by:zebra")).data)
    assert "zebra" in text and ":warning:" in text


async def test_random_respects_the_speaker(slack):
    for _ in range(3):
        text = block_text((await slack.command("random by:greg")).data)
        assert "Greg Brockman" in text
        assert ">Hey." not in text


async def test_show_gives_the_quote_in_context(slack, library):
    quote = (await library.search("execution is everything"))[0]
    data = (await slack.command(f"show {quote.id}")).data
    text = block_text(data)
    assert "*In context*" in text
    assert f"▶ `#{quote.id}`" in text
    assert "sucked out all the air" in text and "AlexNet" in text  # the neighbours
    assert "quote_context" not in buttons(data)  # context is already shown


async def test_show_unknown_id(slack):
    assert "There is no quote #999999" in block_text((await slack.command("show 999999")).data)


async def test_speakers_and_sources(slack):
    speakers = block_text((await slack.command("speakers")).data)
    assert "*Speakers*" in speakers and "Ilya Sutskever" in speakers
    sources = block_text((await slack.command("sources")).data)
    assert "Greg Brockman on stage" in sources and "[podcast]" in sources


async def test_help_and_empty_command_show_the_generated_help(slack, registry):
    for text in ("help", ""):
        data = (await slack.command(text)).data
        shown = block_text(data)
        assert "quotebot" in shown
        for command in registry:
            usage = command.usage().replace("&", "&amp;").replace("<", "&lt;")
            assert usage.replace(">", "&gt;") in shown
        assert data["response_type"] == "ephemeral"


async def test_unknown_verb_shows_help(slack, registry):
    text = block_text((await slack.command("randon")).data)
    assert "Unknown command" in text and "/quote random" in text
    assert "/quote show &lt;id&gt;" in text  # the usages, escaped


async def test_quote_reference_and_slack_escaped_input(slack, library):
    quote = (await library.search("secret sauce"))[0]
    assert f"#{quote.id}" in block_text((await slack.command(f"#{quote.id}")).data)
    # Slack sends & < > as entities; the search sees the characters.
    text = block_text((await slack.command("R&amp;D &gt; sales")).data)
    assert "R&amp;D &gt; sales" in text
