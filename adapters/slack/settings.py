"""Slack settings, read once from the environment, and what is missing from them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_PORT = 3000


class SetupError(RuntimeError):
    """The Slack app cannot start as configured; the message says what to change."""


@dataclass(frozen=True)
class SlackSettings:
    """Tokens and endpoints. Socket Mode when `app_token` is set, else HTTP on `host:port`.

    `client_id`/`client_secret` turn on the OAuth install flow (HTTP mode only): tokens then
    come from the installation store instead of `bot_token`.
    """

    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None
    api_url: str = DEFAULT_API_URL
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, host: str = "0.0.0.0",
                 port: int = DEFAULT_PORT) -> SlackSettings:
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        api_url = get("SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            bot_token=get("SLACK_BOT_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            app_token=get("SLACK_APP_TOKEN"),
            client_id=get("SLACK_CLIENT_ID"),
            client_secret=get("SLACK_CLIENT_SECRET"),
            redirect_uri=get("SLACK_REDIRECT_URI"),
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            host=host,
            port=port,
        )

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def oauth(self) -> bool:
        return self.client_id is not None or self.client_secret is not None

    def missing(self) -> list[str]:
        """The environment variables still needed, each named as the user must set it."""
        needed = []
        if self.socket_mode:
            if not self.bot_token:
                needed.append("SLACK_BOT_TOKEN")
            return needed
        if not self.signing_secret:
            needed.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
        if self.oauth:
            needed += [name for name, value in (("SLACK_CLIENT_ID", self.client_id),
                                                ("SLACK_CLIENT_SECRET", self.client_secret))
                       if not value]
        elif not self.bot_token:
            needed.append("SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                          "for multi-workspace installs)")
        return needed

    def problem(self) -> str | None:
        """What stops the app from starting, as one message; None when it can start."""
        missing = self.missing()
        if missing:
            return ("missing " + ", ".join(missing)
                    + ": set it in the environment (see `quotebot docs slack`)")
        if self.socket_mode and not self.app_token.startswith("xapp-"):
            return "SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write"
        if self.socket_mode and self.oauth:
            return ("the OAuth install flow (SLACK_CLIENT_ID) needs HTTP mode: "
                    "unset SLACK_APP_TOKEN, or unset SLACK_CLIENT_ID/SLACK_CLIENT_SECRET")
        if self.bot_token and not self.oauth and not self.bot_token.startswith("xoxb-"):
            return "SLACK_BOT_TOKEN must be a bot token (xoxb-…)"
        if not self.api_url.startswith(("http://", "https://")):
            return f"SLACK_API_URL must be an http(s) URL, not {self.api_url!r}"
        return None
