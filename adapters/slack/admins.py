"""Whether a Slack user is a workspace admin or owner, asked of users.info at each daily command."""

from __future__ import annotations

import logging
from dataclasses import replace

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from quotebot.bot.models import Request
from quotebot.bot.registry import Command

log = logging.getLogger(__name__)

async def is_workspace_admin(client: AsyncWebClient, user_id: str) -> bool:
    """users.info's verdict (admin, owner or primary owner); False, logged, if Slack won't say.

    Not cached: a demoted admin loses the right at once, and daily commands are rare.
    """
    try:
        response = await client.users_info(user=user_id)
    except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
        log.warning("users.info for %s failed (%s); treating them as not an admin",
                    user_id, error)
        return False
    user = response.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


async def with_admin(request: Request, command: Command | None,
                     client: AsyncWebClient) -> Request:
    """`request` with `user.is_admin` filled in for the registry's `admin` commands."""
    if request.user is None or command is None or not command.admin:
        return request
    admin = await is_workspace_admin(client, request.user.id)
    return replace(request, user=replace(request.user, is_admin=admin))
