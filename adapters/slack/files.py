"""Files in and out of Slack: a message's files as the core's Attachments (downloaded with
the bot token, from Slack's file host only), and a reply's file uploaded to the channel."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from quotebot.adapters.downloads import download
from quotebot.bot.models import Attachment, FetchFailed, FileReply

log = logging.getLogger(__name__)

SHORTCUT = "add_transcript"  # the message shortcut's callback_id (manifest.yaml)
FILES_HOST = "files.slack.com"
FILES_MAX = 3  # files one shortcut adds; each answer uses one of a response URL's five
NO_FILES_READ = ("Slack sent a sign-in page instead of the file: the app needs the "
                 "files:read permission (reinstall it from the current manifest)")


def file_hosts(api_url: str) -> frozenset[str]:
    """Where the bot token may be sent to download a file: Slack's file host, and the host
    of the Web API quotebot talks to (a proxy in front of Slack, a test server)."""
    host = urlsplit(api_url).hostname
    return frozenset({FILES_HOST, *((host,) if host else ())})


def message_files(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The files of the message a shortcut was used on (none for a message without)."""
    files = (body.get("message") or {}).get("files") or []
    return [f for f in files if isinstance(f, Mapping)]


def to_attachment(file: Mapping[str, Any], client: AsyncWebClient, hosts: frozenset[str],
                  progress: Callable[[str], Awaitable[None]] | None) -> Attachment:
    """A Slack file as the core takes it: its name and size as the payload gives them, and a
    capped download of `url_private_download` with the bot token (Authorization: Bearer),
    sent to `hosts` only."""

    async def fetch(limit: int) -> bytes:
        url = file.get("url_private_download") or file.get("url_private")
        if not url:  # "file_access": "check_file_info" (Slack Connect): ask where it is
            try:
                info = (await client.files_info(file=str(file.get("id") or ""))).get("file")
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
                raise FetchFailed(f"Slack would not say where the file is ({error})") from exc
            url = (info or {}).get("url_private_download") or (info or {}).get("url_private")
        if not url or urlsplit(str(url)).hostname not in hosts:
            log.warning("not downloading a file from %s", urlsplit(str(url or "")).hostname)
            raise FetchFailed("the file is not on Slack's file server")
        return await download(str(url), limit, headers={"Authorization": f"Bearer {client.token}"},
                              html_means=NO_FILES_READ)

    name = str(file.get("name") or file.get("title") or "")
    return Attachment(name, int(file.get("size") or 0), fetch, progress)


async def upload_file(client: AsyncWebClient, channel: str, reply: FileReply) -> None:
    """Share the reply's file in `channel` (files_upload_v2: get an upload URL, post the
    bytes, complete). Raises what the client raises (`uploads.UPLOAD_FAILURES`)."""
    await client.files_upload_v2(channel=channel, file=reply.data, filename=reply.filename,
                                 title=reply.filename, request_file_info=False)
