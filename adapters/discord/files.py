"""Files in and out of Discord: an attachment option as the core's Attachment, and a reply's
file checked against what the server lets the bot upload."""

from __future__ import annotations

import logging

import discord

from quotebot.adapters.discord.render import NO_MENTIONS, Outgoing, escape
from quotebot.adapters.downloads import download
from quotebot.bot.models import Attachment, ChannelRef

log = logging.getLogger(__name__)


def to_attachment(interaction: discord.Interaction, value: discord.Attachment) -> Attachment:
    """The attached file as the core takes it: its name and size as Discord resolved them,
    a capped download of its CDN URL (no token: Discord's attachment URLs are signed), and
    progress as private follow-ups (slow commands are deferred before they run)."""
    url = value.url

    async def fetch(limit: int) -> bytes:
        return await download(url, limit)

    async def progress(text: str) -> None:
        try:
            await interaction.followup.send(content=escape(text), ephemeral=True,
                                            allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:  # progress is a courtesy: the work goes on
            log.warning("could not send progress for interaction %s: %s", interaction.id, exc)

    return Attachment(value.filename, int(value.size or 0), fetch, progress)


def within_filesize(out: Outgoing, limit: int, channel: ChannelRef) -> Outgoing:
    """`out`, or (when its file is over the `limit` bytes Discord lets the bot upload here)
    a message saying so and how the operator can write the file instead."""
    document = out.document
    if document is None or len(document.data) <= limit:
        return out
    size, most = len(document.data) / 2**20, limit / 2**20
    log.info("%s of %.1f MB is over the %.0f MB upload limit in %s", document.filename, size,
             most, channel.workspace)
    return Outgoing(
        content=(f"The file is {size:.1f} MB, over the {most:.0f} MB Discord lets the bot "
                 "upload here. The bot's operator can write it: "
                 f"`quotebot --library discord:{channel.workspace} export -o FILE`"),
        ephemeral=True)
