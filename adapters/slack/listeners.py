"""The bolt listeners: acknowledge, translate to a Request, dispatch, send the rendered reply."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from quotebot.adapters.slack.admins import with_admin
from quotebot.adapters.slack.files import (
    FILES_MAX,
    message_files,
    to_attachment,
    upload_file,
)
from quotebot.adapters.slack.render import KINDS, escape, render
from quotebot.adapters.slack.requests import (
    action_request,
    command_request,
    mentioned_users,
    permalink,
    shortcut_request,
    transcript_request,
)
from quotebot.adapters.slack.uploads import UPLOAD_FAILURES, upload_card
from quotebot.bot.models import (
    ANSWERS,
    PUBLIC,
    REPLACE,
    ErrorReply,
    FileReply,
    QuoteReply,
    Reply,
    Request,
    TextReply,
)
from quotebot.bot.registry import Command, Registry, Services

log = logging.getLogger(__name__)

FAILED = ErrorReply("Something went wrong on our side; it has been logged. Try again.")
CARD_FAILED = "The card (a picture of the quote) could not be uploaded here; here are the words."
SHARE_FAILED = ErrorReply("Could not post the quote in this channel.",
                          ("Invite the app to the channel (/invite @quotebot) and try again.",))
NO_FILE = ErrorReply("That message has no file. Use “Add transcript” on a message with a "
                     "transcript file (txt, md, srt, vtt or json) attached.")


class Listeners:
    """`/quote`, its buttons and the "Add transcript" shortcut over one registry and one
    set of services; files are downloaded from `file_hosts` only (`files.file_hosts`)."""

    def __init__(self, registry: Registry, services: Services,
                 file_hosts: frozenset[str] = frozenset()) -> None:
        self.registry = registry
        self.services = services
        self.file_hosts = file_hosts

    async def _run(self, request: Request | ErrorReply,
                   client: AsyncWebClient | None = None) -> Reply:
        if isinstance(request, ErrorReply):
            return request
        if client is not None:
            request = await with_admin(request, self.registry.get(request.command), client)
        return await self.registry.dispatch(request, self.services)

    async def on_command(self, ack, body: Mapping[str, Any], respond,
                         client: AsyncWebClient) -> None:
        """`/quote ...`: the reply goes to the caller only, unless the core asks otherwise.

        For daily commands the caller's admin status is asked of Slack first.
        """
        await ack()
        try:
            reply = await self._run(command_request(body, self.registry), client)
            if isinstance(reply, FileReply):
                reply = await _upload(reply, str(body.get("channel_id") or ""), client)
            message = render(reply)
        except Exception:
            log.exception("/quote %r failed", body.get("text"))
            reply, message = FAILED, render(FAILED)
        await _respond(respond, message, public=reply.public, replace=False)

    async def on_add_transcript(self, ack, body: Mapping[str, Any], respond,
                          client: AsyncWebClient) -> None:
        """"Add transcript" on a message: each of its files (up to `FILES_MAX`) goes through
        `/quote ingest` as an attachment; progress and results reach the user alone."""
        await ack()

        async def progress(text: str) -> None:
            await _respond(respond, {"text": escape(text)}, public=False, replace=False)

        files = message_files(body)
        if not files:
            await _respond(respond, render(NO_FILE), public=False, replace=False)
            return
        try:
            # Asked of Slack once for all the files (users.info).
            template = await with_admin(transcript_request(body), self.registry.get("ingest"),
                                        client)
        except Exception:
            log.exception("the Add transcript shortcut failed")
            await _respond(respond, render(FAILED), public=False, replace=False)
            return
        for file in files[:FILES_MAX]:
            attachment = to_attachment(file, client, self.file_hosts, progress)
            request = replace(template, args={"file": attachment})
            try:
                reply = await self.registry.dispatch(request, self.services)
                message = render(reply)
            except Exception:
                log.exception("Add transcript of %r failed", file.get("name"))
                reply, message = FAILED, render(FAILED)
            await _respond(respond, message, public=False, replace=False)
            if not (request.user and request.user.is_admin):
                return  # refused once is enough
        if len(files) > FILES_MAX:
            skipped = TextReply(f"Only the first {FILES_MAX} files of a message are added; "
                                f"use “Add transcript” on a message with the other "
                                f"{len(files) - FILES_MAX}.")
            await _respond(respond, render(skipped), public=False, replace=False)

    async def on_action(self, ack, body: Mapping[str, Any], action: Mapping[str, Any],
                        respond, client: AsyncWebClient) -> None:
        """A button, answered as the core says (`ANSWERS`): Share posts for everyone, Next
        replaces the message it is on, Context answers the presser alone."""
        await ack()
        answer = ANSWERS.get(KINDS.get(str(action.get("action_id")), ""), REPLACE)
        share = answer == PUBLIC
        try:
            reply = await self._run(action_request(body, action))
            if share and not isinstance(reply, ErrorReply):
                reply = await self._share(reply, body, client, respond)
                if reply is None:
                    return
            message = render(reply)
        except Exception:
            log.exception("button %r failed", action.get("action_id"))
            reply, message = FAILED, render(FAILED)
        errored = isinstance(reply, ErrorReply)
        await _respond(respond, message, public=reply.public and not errored,
                       replace=not errored and answer == REPLACE)

    def on_shortcut(self, command: Command):
        """The listener of `command`'s message shortcut (… → Save as quote): the command
        runs on the message, and the answer goes to the one who used it."""

        async def listener(ack, body: Mapping[str, Any], respond,
                           client: AsyncWebClient) -> None:
            await ack()
            try:
                message = body.get("message") or {}
                wanted = [str(message.get("user") or ""), *mentioned_users(
                    str(message.get("text") or ""))]
                names = await _display_names(client, [u for u in wanted if u])
                link = permalink(body) or await _asked_permalink(client, body)
                request = shortcut_request(body, command.name, names=names, link=link)
                reply = await self._run(request, client)
                rendered = render(reply)
            except Exception:
                log.exception("message shortcut %s failed", command.name)
                reply, rendered = FAILED, render(FAILED)
            await _respond(respond, rendered, public=False, replace=False)

        return listener

    async def _share(self, reply: Reply, body: Mapping[str, Any], client: AsyncWebClient,
                     respond) -> Reply | None:
        """Post `reply` for everyone: its card as an image upload (files_upload_v2) if it has
        one, else chat.postMessage, else the response URL. None = done."""
        channel = (body.get("channel") or {}).get("id")
        if channel and isinstance(reply, QuoteReply) and reply.card is not None:
            try:
                await upload_card(client, channel, reply.card, reply.quote)
                return None
            except UPLOAD_FAILURES as exc:  # no files:write, a private channel, Slack down
                error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
                log.info("card upload to %s failed (%s); posting the words", channel, error)
                reply = replace(reply, card=None, note=CARD_FAILED)
        message = render(reply)
        if channel:
            try:
                await client.chat_postMessage(channel=channel, unfurl_links=False,
                                              unfurl_media=False, parse="none", **message)
                return None
            except SlackApiError as exc:
                # Not a member of a private channel or a DM: the response URL still works there.
                log.info("chat.postMessage to %s failed (%s); using the response URL",
                         channel, exc.response.get("error"))
        if await _respond(respond, message, public=True, replace=False):
            return None
        return SHARE_FAILED


async def _upload(reply: FileReply, channel: str, client: AsyncWebClient) -> Reply:
    """Upload the reply's file to `channel`; the reply's words then say where it is, or
    an error why it is not there."""
    try:
        await upload_file(client, channel, reply)
    except UPLOAD_FAILURES as exc:  # not in a private channel, no files:write, Slack down
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
        log.info("upload of %s to %s failed (%s)", reply.filename, channel, error)
        return ErrorReply(f"Could not upload {reply.filename} to this channel ({error}).",
                          ("Invite the app to the channel (/invite @quotebot) and try again.",))
    return TextReply(f"{reply.text} The file, {reply.filename}, is in this channel.")


async def _respond(respond, message: dict[str, Any], *, public: bool, replace: bool) -> bool:
    """Send through the response URL; False (and a log line) when Slack refuses it."""
    try:
        result = await respond(response_type="in_channel" if public else "ephemeral",
                               replace_original=replace, **message)
    except Exception:
        log.exception("could not send a reply to the response URL")
        return False
    if result.status_code != 200:
        log.warning("response URL answered %s: %s", result.status_code, result.body)
        return False
    return True


NAMES_ASKED_MAX = 10  # users.info calls for one saved message: its author and mentions
_ASKING_FAILED = (SlackApiError, aiohttp.ClientError, TimeoutError, OSError)


async def _display_names(client: AsyncWebClient, users: list[str]) -> dict[str, str]:
    """user id -> the name Slack shows for them now (display name, else real name, else
    handle); users Slack will not describe are left out (logged)."""
    names: dict[str, str] = {}
    for user in list(dict.fromkeys(users))[:NAMES_ASKED_MAX]:
        try:
            found = (await client.users_info(user=user)).get("user") or {}
        except _ASKING_FAILED as exc:
            log.info("users.info for %s failed (%s)", user, exc)
            continue
        profile = found.get("profile") or {}
        name = (profile.get("display_name") or profile.get("real_name")
                or found.get("real_name") or found.get("name"))
        if name:
            names[user] = str(name)
    return names


async def _asked_permalink(client: AsyncWebClient, body: Mapping[str, Any]) -> str | None:
    """chat.getPermalink for the shortcut's message (when the payload has no domain)."""
    channel = (body.get("channel") or {}).get("id")
    ts = (body.get("message") or {}).get("ts") or body.get("message_ts")
    if not channel or not ts:
        return None
    try:
        link = (await client.chat_getPermalink(channel=channel, message_ts=ts)).get("permalink")
    except _ASKING_FAILED as exc:
        log.info("chat.getPermalink for %s/%s failed (%s)", channel, ts, exc)
        return None
    return str(link) if link else None
