"""slack_sdk's async installation and OAuth state stores, kept in the quotebot database."""

from __future__ import annotations

import inspect
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from quotebot.store.slack import SlackStore, WorkspaceKey

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
BOT_FIELDS = ("bot_token", "bot_id", "bot_user_id", "bot_scopes", "bot_refresh_token",
              "bot_token_expires_at")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _build(cls: type, data: dict[str, Any]) -> Any:
    """`cls(**data)`, ignoring fields this slack_sdk does not know (stored by a newer one)."""
    known = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in data.items() if k in known})


class DatabaseInstallationStore(AsyncInstallationStore):
    """Installations per workspace for one Slack app (`client_id`).

    The workspace's bot row is the source of truth for bot credentials: an installation is
    returned with the newest bot token (rotated or re-installed), or none once it is revoked.
    """

    def __init__(self, store: SlackStore, client_id: str) -> None:
        self.store = store
        self.client_id = client_id

    @property
    def logger(self) -> logging.Logger:
        return log

    def _key(self, enterprise_id: str | None, team_id: str | None,
             is_enterprise_install: bool | None) -> WorkspaceKey:
        # An org-wide install belongs to the enterprise, whichever team a request comes from.
        team = "" if is_enterprise_install else (team_id or "")
        return WorkspaceKey(self.client_id, enterprise_id or "", team)

    async def async_save(self, installation: Installation) -> None:
        bot = installation.to_bot() if installation.bot_token else None
        await self.store.save(
            self._key(installation.enterprise_id, installation.team_id,
                      installation.is_enterprise_install),
            installed_at=datetime.fromtimestamp(installation.installed_at, UTC),
            is_enterprise_install=installation.is_enterprise_install,
            user_id=installation.user_id or "",
            installation=dict(vars(installation)) if installation.user_id else None,
            bot=dict(vars(bot)) if bot else None,
        )

    async def async_save_bot(self, bot: Bot) -> None:
        await self.store.save(
            self._key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install),
            installed_at=datetime.fromtimestamp(bot.installed_at, UTC),
            is_enterprise_install=bot.is_enterprise_install,
            bot=dict(vars(bot)),
        )

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        data = await self.store.find_bot(self._key(enterprise_id, team_id, is_enterprise_install))
        return None if data is None else _build(Bot, data)

    async def async_find_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = self._key(enterprise_id, team_id, is_enterprise_install)
        data = await self.store.find_installation(key, user_id)
        if data is None:
            return None
        installation: Installation = _build(Installation, data)
        bot = await self.store.find_bot(key)
        for field in BOT_FIELDS:
            setattr(installation, field, bot.get(field) if bot else None)
        if installation.bot_scopes is None:
            installation.bot_scopes = []
        return installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        # Like slack_sdk's stores: an org-wide install is found with team_id None.
        await self.store.delete_bot(self._key(enterprise_id, team_id, False))

    async def async_delete_installation(self, *, enterprise_id: str | None,
                                        team_id: str | None, user_id: str | None = None) -> None:
        await self.store.delete_installations(self._key(enterprise_id, team_id, False), user_id)


class DatabaseOAuthStateStore(AsyncOAuthStateStore):
    """OAuth `state` values: issued with an expiry, consumable once."""

    def __init__(self, store: SlackStore, expiration_seconds: int = 600,
                 clock: Clock = _utcnow) -> None:
        self.store = store
        self.expiration = timedelta(seconds=expiration_seconds)
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args, **kwargs) -> str:
        state = secrets.token_urlsafe(24)
        now = self.clock()
        await self.store.add_state(state, expires_at=now + self.expiration, now=now)
        return state

    async def async_consume(self, state: str) -> bool:
        if not state:
            return False
        return await self.store.take_state(state, now=self.clock())
