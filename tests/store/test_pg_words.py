"""PostgreSQL indexes the words SQLite's FTS5 does: the app's tokens (bot/tokens.py), not
what its text parser makes of numbers, paths, addresses and accents (PostgreSQL migration
6). Its parser alone kept "2-3" as '2' and '-3', "GPT-4" as 'gpt' and '-4', "24/7" and
"2.5" whole, and "café" with its accent: a search for any of those words missed."""

from __future__ import annotations

import pytest

from quotebot.bot.tokens import tokenize
from tests.conftest import open_any

TRICKY = [
    "It took 2-3 years, 24/7, about 2.5x or 3.5 percent of GPT-4's budget.",
    "E-mail me at ada@example.com, or see openai.com/blog/scaling_laws?page=2 for more.",
    "Café naïve Ærø façade: the résumé of a 1-on-1 with Zoë, don’t you think? ÉCOLE",
    "We went 3-0-3-0-2-1 at The International; v1.2.3 shipped on 2019-07-30 at 10:45pm.",
    "sca\u00adling with zero\u200bwidth joins; snake_case, C++, #hashtags & ½ x² — ok… $5",
    "“Quoted,” (parenthesised) [bracketed] {braced} <angled> 'single' \"double\" -dash",
]


@pytest.mark.parametrize("text", TRICKY)
async def test_the_index_holds_the_apps_tokens_in_their_order(postgres_migrated_db, text):
    db = await open_any(postgres_migrated_db)
    try:
        rows = await db.fetchall(
            "SELECT lexeme, positions FROM unnest(quotebot_words(?))", (text,))
    finally:
        await db.close()
    indexed = [lexeme for _, lexeme in sorted(
        (position, lexeme) for lexeme, positions in rows for position in positions)]
    assert indexed == tokenize(text)  # the same words, one after another (phrases hold)
