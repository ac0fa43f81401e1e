"""The quote buttons (Next match, Context, Share, Card) and a list's Previous and Next, as one
persistent discord.py DynamicItem."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from quotebot.adapters.discord.custom_ids import TEMPLATE, Pressed, decode
from quotebot.bot.models import CARD, CONTEXT, NEXT, NEXT_PAGE, PREVIOUS_PAGE, SHARE

log = logging.getLogger(__name__)

STYLES = {
    NEXT: discord.ButtonStyle.secondary,
    CONTEXT: discord.ButtonStyle.secondary,
    SHARE: discord.ButtonStyle.primary,
    CARD: discord.ButtonStyle.secondary,
    PREVIOUS_PAGE: discord.ButtonStyle.secondary,
    NEXT_PAGE: discord.ButtonStyle.secondary,
}
# For ids sent long ago.
LABELS = {NEXT: "Next match", CONTEXT: "Context", SHARE: "Share", CARD: "Card",
          PREVIOUS_PAGE: "Previous", NEXT_PAGE: "Next"}


class QuoteButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """A button whose custom id carries everything needed to answer it.

    discord.py rebuilds it from the custom id of any pressed button that matches the template,
    so buttons on old messages work after a restart; it is decoded once, here, and carries
    what it asks for (`pressed`). Answering is the client's job: the callback hands the
    interaction and the decoded press to `interaction.client.on_button`.
    """

    def __init__(self, pressed: Pressed, label: str | None = None) -> None:
        self.pressed = pressed
        super().__init__(
            discord.ui.Button(label=label or LABELS[pressed.kind], style=STYLES[pressed.kind],
                              custom_id=pressed.custom_id)
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> QuoteButton:
        pressed = decode(match.string)
        if pressed is None:  # the template and decode() disagree: a bug, not user input
            raise ValueError(f"button {match.string!r} matched the template but does not decode")
        return cls(pressed)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.on_button(interaction, self.pressed)  # type: ignore[attr-defined]
