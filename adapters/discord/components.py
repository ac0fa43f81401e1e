"""The quote buttons (Next match, Context, Share) as one persistent discord.py DynamicItem."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from quotebot.adapters.discord.custom_ids import TEMPLATE, context_id, share_id
from quotebot.bot.models import Quote

log = logging.getLogger(__name__)

LABELS = {"next": "Next match", "ctx": "Context", "share": "Share"}
STYLES = {
    "next": discord.ButtonStyle.secondary,
    "ctx": discord.ButtonStyle.secondary,
    "share": discord.ButtonStyle.primary,
}


def _kind(custom_id: str) -> str:
    return custom_id.split(":", 2)[1]


class QuoteButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """A button whose custom id carries everything needed to answer it.

    discord.py rebuilds it from the custom id of any pressed button that matches the template,
    so buttons on old messages work after a restart. Answering is the client's job: the
    callback hands the interaction to `interaction.client.on_button`.
    """

    def __init__(self, custom_id: str) -> None:
        kind = _kind(custom_id)
        super().__init__(
            discord.ui.Button(label=LABELS[kind], style=STYLES[kind], custom_id=custom_id)
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> QuoteButton:
        return cls(match.string)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.on_button(interaction, self.custom_id)  # type: ignore[attr-defined]


def next_button(custom_id: str) -> QuoteButton:
    return QuoteButton(custom_id)


def context_button(quote: Quote) -> QuoteButton:
    return QuoteButton(context_id(quote))


def share_button(quote: Quote) -> QuoteButton:
    return QuoteButton(share_id(quote))
