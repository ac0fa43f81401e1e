"""Files users attach, downloaded over HTTP with a cap on their size and on the time taken."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp

from quotebot.bot.files import size_text
from quotebot.bot.models import FetchFailed

log = logging.getLogger(__name__)

DOWNLOAD_SECONDS = 60.0  # a 64 MB transcript over a slow link; the user is told it failed
CHUNK = 64 * 1024


async def download(url: str, limit: int, *, headers: Mapping[str, str] | None = None,
                   html_means: str | None = None, timeout: float = DOWNLOAD_SECONDS) -> bytes:
    """The body at `url`, read until `limit` bytes at most: a larger body is refused as
    soon as it shows (by its Content-Length, else while reading), never held whole.
    `html_means`: the error when the server answers with a web page instead of the file
    (Slack sends its sign-in page, status 200, to a token that may not read files).

    Raises:
        FetchFailed: the server refused, the body is too large, or the network failed;
            the message is for the user.
    """
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.get(url, headers=dict(headers or {})) as response:
                if response.status != 200:
                    log.warning("download of %s answered %s", _where(url), response.status)
                    raise FetchFailed(f"the file server answered {response.status}")
                if html_means and response.content_type == "text/html":
                    raise FetchFailed(html_means)
                if response.content_length is not None and response.content_length > limit:
                    raise FetchFailed(f"it is larger than {size_text(limit)}")
                data = bytearray()
                async for chunk in response.content.iter_chunked(CHUNK):
                    data += chunk
                    if len(data) > limit:
                        raise FetchFailed(f"it is larger than {size_text(limit)}")
                return bytes(data)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.warning("download of %s failed: %s", _where(url), exc)
        raise FetchFailed("the download did not complete (the network or the file server "
                          "failed)") from exc


def _where(url: str) -> str:
    """The URL without its query (signed URLs carry credentials there)."""
    return url.split("?", 1)[0]
