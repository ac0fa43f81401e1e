"""Quote cards into Slack with files_upload_v2 (get an upload URL, upload, complete)."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from quotebot.bot.models import Card, Quote

log = logging.getLogger(__name__)

ALT_TEXT_MAX = 1000  # Slack's limit on an image's alt text
# What a failed upload raises: Slack's refusal, the upload URL's, or the network's.
UPLOAD_FAILURES = (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError, OSError)


async def upload_card(client: AsyncWebClient, channel: str, card: Card, quote: Quote) -> None:
    """Share `card` in `channel` as an image with alt text, titled with the quote's id and
    speaker. Raises what the client raises (SlackApiError, connection errors)."""
    await client.files_upload_v2(
        channel=channel, file=card.png, filename=card.filename,
        title=f"Quote #{quote.id} — {quote.speaker_name}", alt_txt=card.alt_text[:ALT_TEXT_MAX],
        request_file_info=False,  # files.info would only tell us what we just sent
    )
