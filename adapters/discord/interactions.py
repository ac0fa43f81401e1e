"""Discord interactions in and out: `to_request`, autocomplete choices, and answering in time."""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import re
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any

import discord
from discord import app_commands

from quotebot.adapters.discord.files import to_attachment, within_filesize
from quotebot.adapters.discord.render import NO_MENTIONS, Outgoing, render
from quotebot.bot.models import ChannelRef, ErrorReply, Reply, Request, UserRef
from quotebot.bot.registry import Choice, Registry

log = logging.getLogger(__name__)

PLATFORM = "discord"
CHOICES_MAX = 25
CHOICE_MAX = 100  # Discord's limit on an autocomplete choice's name and (string) value


class Mode(enum.Enum):
    """How an interaction is answered."""

    REPLY = "reply"  # a slash command: a new message, private unless the reply is public
    UPDATE = "update"  # Next match: replace the message the button is on
    PRIVATE = "private"  # Context: a new message only the presser sees
    PUBLIC = "public"  # Share: a new message everyone in the channel sees


def user_ref(interaction: discord.Interaction,
             channel_permissions: discord.Permissions | None = None,
             admin_role: str | None = None) -> UserRef:
    """Who sent it. Admin means Manage Server (or Administrator) in a guild, Manage Channels
    in the channel the command is about (`channel_permissions`: the caller's permissions in
    a picked channel, as Discord resolved them; else the channel it was typed in), or
    membership of the role the server named (`admin_role`, a role id; never @everyone)."""
    user = interaction.user
    perms = interaction.permissions
    where = channel_permissions if channel_permissions is not None else perms
    is_admin = bool(interaction.guild_id) and bool(
        perms.manage_guild or perms.administrator or where.manage_channels
        or has_role(interaction, admin_role))
    name = getattr(user, "display_name", None) or getattr(user, "name", None)
    return UserRef(PLATFORM, str(user.id), name, is_admin)


def has_role(interaction: discord.Interaction, role_id: str | None) -> bool:
    """Whether the member who sent `interaction` has the role `role_id` (their roles as
    the guild cache knows them; @everyone, which has the guild's id, never counts)."""
    if not role_id or not interaction.guild_id or role_id == str(interaction.guild_id):
        return False
    roles = getattr(interaction.user, "roles", None) or ()
    return any(str(role.id) == role_id for role in roles)


def channel_ref(interaction: discord.Interaction) -> ChannelRef:
    """Where it came from: the guild (or `@me` for DMs) and the channel."""
    workspace = str(interaction.guild_id) if interaction.guild_id else "@me"
    channel = interaction.channel_id
    return ChannelRef(PLATFORM, workspace, str(channel) if channel else "unknown")


def plain(value: Any) -> Any:
    """An option value as the core takes it: a picked channel (or a bare id object) is its id."""
    if isinstance(value, str | int | float | bool):
        return value
    ident = getattr(value, "id", None)
    return str(ident) if ident is not None else value


def to_request(interaction: discord.Interaction, command: str,
               args: Mapping[str, Any], admin_role: str | None = None) -> Request:
    """A neutral Request for `command` with the options discord.py parsed (None = not given);
    `admin_role` is the role the server counts as admins, if any (`user_ref`)."""
    given: dict[str, Any] = {}
    picked: discord.Permissions | None = None
    for name, value in args.items():
        if value is None:
            continue
        if isinstance(value, app_commands.AppCommandChannel | app_commands.AppCommandThread):
            picked = value.permissions
        if isinstance(value, discord.Attachment):
            given[name] = to_attachment(interaction, value)
            continue
        given[name] = plain(value)
    return Request(command, given, user_ref(interaction, picked, admin_role),
                   channel_ref(interaction), raw=interaction)


DISCORD_URL = "https://discord.com"
_USER_MENTION = re.compile(r"<@!?(\d{1,20})>")


def readable(message: discord.Message) -> str:
    """The message's words as people read them: a user mention becomes `@their name`
    (the names Discord sent with the message); other markup stays as typed, and is made
    harmless wherever the quote is shown (no mentions are allowed in any reply)."""
    names = {str(u.id): getattr(u, "display_name", None) or u.name for u in message.mentions}
    return _USER_MENTION.sub(
        lambda m: f"@{names[m.group(1)]}" if m.group(1) in names else m.group(0),
        message.content or "")


def message_request(interaction: discord.Interaction, command: str,
                    message: discord.Message) -> Request:
    """A Request for a command run on `message` (a message context menu): its words, id,
    author, a jump link back to it and when it was sent."""
    author = message.author
    channel = channel_ref(interaction)
    args = {
        "text": readable(message), "message_id": str(message.id),
        "author_id": str(author.id),
        "author_name": getattr(author, "display_name", None) or author.name,
        "link": f"{DISCORD_URL}/channels/{channel.workspace}/{message.channel.id}/{message.id}",
        "said_at": message.created_at.isoformat(timespec="seconds"),
    }
    return Request(command, args, user_ref(interaction), channel, raw=interaction)


def to_choices(choices: Iterable[Choice], *, as_int: bool = False) -> list[app_commands.Choice]:
    """Core choices as Discord autocomplete choices: at most 25, names and values within 100."""
    result: list[app_commands.Choice] = []
    for choice in choices:
        name = " ".join(choice.name.split())[:CHOICE_MAX]
        value: str | int = choice.value[:CHOICE_MAX]
        if not name or not value:
            continue
        if as_int:
            try:
                value = int(value)
            except ValueError:
                continue
        result.append(app_commands.Choice(name=name, value=value))
        if len(result) == CHOICES_MAX:
            break
    return result


def visibility(reply: Reply, mode: Mode) -> bool:
    """Whether the answer is public: errors never are; Share always is; else the reply says."""
    if isinstance(reply, ErrorReply):
        return False
    if mode is Mode.PUBLIC:
        return True
    if mode in (Mode.PRIVATE, Mode.UPDATE):
        return False
    return reply.public


async def answer(
    interaction: discord.Interaction,
    work: Awaitable[Reply],
    *,
    mode: Mode,
    defer_after: float,
    registry: Registry | None = None,
) -> Reply:
    """Answer `interaction` with the reply `work` produces, within Discord's 3-second deadline.

    If the reply is not ready after `defer_after` seconds the interaction is deferred first
    (a private "thinking" state for commands; a silent acknowledgement for buttons) and the
    reply is delivered by editing the response or as a follow-up. With `defer_after` 0
    (slow commands) it is deferred before the work starts, so the work may send follow-ups.
    """
    if defer_after <= 0:
        try:
            await _defer(interaction, mode)
        except BaseException:
            if inspect.iscoroutine(work):
                work.close()  # never started: no "was never awaited" warning
            raise
        reply = await work
        await _deliver_deferred(interaction, reply, _out(interaction, reply, mode, registry),
                                mode)
        return reply
    task = asyncio.ensure_future(work)
    try:
        reply = await asyncio.wait_for(asyncio.shield(task), defer_after)
    except TimeoutError:
        try:
            await _defer(interaction, mode)
        except BaseException:
            task.cancel()
            raise
        reply = await task
        out = _out(interaction, reply, mode, registry)
        await _deliver_deferred(interaction, reply, out, mode)
    else:
        out = _out(interaction, reply, mode, registry)
        await _deliver(interaction, reply, out, mode)
    return reply


def _out(interaction: discord.Interaction, reply: Reply, mode: Mode,
         registry: Registry | None) -> Outgoing:
    out = render(reply, public=visibility(reply, mode), registry=registry)
    return within_filesize(out, interaction.filesize_limit, channel_ref(interaction))


async def _defer(interaction: discord.Interaction, mode: Mode) -> None:
    log.debug("deferring interaction %s (%s)", interaction.id, mode.value)
    if mode is Mode.REPLY:
        # Visibility is fixed when deferring; command replies are private today.
        await interaction.response.defer(ephemeral=True, thinking=True)
    else:
        await interaction.response.defer()  # buttons: acknowledge without changing anything


async def _deliver(interaction: discord.Interaction, reply: Reply, out: Outgoing,
                   mode: Mode) -> None:
    if mode is Mode.UPDATE and not isinstance(reply, ErrorReply):
        await interaction.response.edit_message(**out.edit_kwargs())
    else:
        await interaction.response.send_message(**out.send_kwargs(), ephemeral=out.ephemeral)


async def _deliver_deferred(interaction: discord.Interaction, reply: Reply, out: Outgoing,
                            mode: Mode) -> None:
    if mode is Mode.REPLY:
        if not out.ephemeral:
            log.info("reply to %s became private: it was deferred privately", interaction.id)
        await interaction.edit_original_response(**out.edit_kwargs())
    elif mode is Mode.UPDATE and not isinstance(reply, ErrorReply):
        await interaction.edit_original_response(**out.edit_kwargs())
    else:
        await interaction.followup.send(**out.send_kwargs(), ephemeral=out.ephemeral)


async def apologise(interaction: discord.Interaction, text: str) -> None:
    """Tell the user something went wrong, privately, however far the interaction got."""
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            if not interaction.response.is_done():
                await interaction.response.autocomplete([])
        elif interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s", interaction.id, exc)
