"""The bolt AsyncApp for quotebot, built from settings and services, and its two ways to run."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

from aiohttp import ClientError, web
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from quotebot.adapters.health_http import HEALTH_PATH, health_handler
from quotebot.adapters.slack.door import Door, SeenSignatures
from quotebot.adapters.slack.files import SHORTCUT, file_hosts
from quotebot.adapters.slack.install_store import DatabaseInstallationStore, DatabaseOAuthStateStore
from quotebot.adapters.slack.listeners import Listeners
from quotebot.adapters.slack.poster import SlackPoster
from quotebot.adapters.slack.render import ACTION_IDS, LINKS
from quotebot.adapters.slack.requests import PLATFORM, shortcut_id
from quotebot.adapters.slack.settings import SetupError, SlackSettings
from quotebot.bot.daily import DailyService
from quotebot.bot.health import check as check_health
from quotebot.bot.registry import Registry, Services
from quotebot.store.slack import SlackStore

log = logging.getLogger(__name__)

COMMAND = "/quote"
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "users:read", "channels:read",
              "groups:read", "files:write", "files:read", "channels:history", "groups:history")
RATE_LIMIT_RETRIES = 3
DAILY_STOP_WAIT = 10.0  # seconds a daily post in progress may take to finish at shutdown
NOT_INSTALLED = ("quotebot is not installed in this workspace, or its installation was "
                 "removed. Ask a workspace admin to install it again.")


class _TokenInClient(logging.Filter):
    """bolt warns that SLACK_BOT_TOKEN "will be unused" when given a client: ours carries it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def bolt_logger() -> logging.Logger:
    """The logger bolt is given (it copies its filters to its own loggers)."""
    logger = logging.getLogger(f"{__name__}.bolt")
    if not any(isinstance(f, _TokenInClient) for f in logger.filters):
        logger.addFilter(_TokenInClient())
    return logger


def web_client(settings: SlackSettings, token: str | None = None) -> AsyncWebClient:
    """A Web API client on `settings.api_url` that waits out rate limits (Retry-After)."""
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
        user_agent_prefix="quotebot",
    )


def installation_store(settings: SlackSettings, services: Services
                       ) -> DatabaseInstallationStore | None:
    """Where OAuth installs keep each workspace's tokens; None for a single workspace."""
    if not settings.oauth:
        return None
    return DatabaseInstallationStore(SlackStore(services.library.db), settings.client_id)


def daily_service(settings: SlackSettings, services: Services) -> DailyService:
    """Daily quotes posted with each workspace's bot token."""
    poster = SlackPoster(settings, installation_store(settings, services))
    return DailyService(services.library, posters={PLATFORM: poster})


def build_app(settings: SlackSettings, services: Services, registry: Registry) -> AsyncApp:
    """The AsyncApp answering `/quote` and its buttons; OAuth when a client id is set."""
    oauth = None
    if settings.oauth:
        store = SlackStore(services.library.db)
        oauth = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            redirect_uri=settings.redirect_uri,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=DatabaseInstallationStore(store, settings.client_id),
            state_store=DatabaseOAuthStateStore(store),
            logger=log,
        )
    app = AsyncApp(
        name="quotebot",
        logger=bolt_logger(),
        client=web_client(settings, None if oauth else settings.bot_token),
        signing_secret=settings.signing_secret or "",
        oauth_settings=oauth,
        user_facing_authorize_error_message=NOT_INSTALLED,
        # Socket Mode has no signatures to check (and bolt refuses an empty secret).
        request_verification_enabled=not settings.socket_mode,
    )
    listeners = Listeners(registry, services, file_hosts(settings.api_url))
    app.command(COMMAND)(listeners.on_command)
    app.message_shortcut(SHORTCUT)(listeners.on_add_transcript)  # … → Add transcript
    pressed = [action_id for kind, action_id in ACTION_IDS.items() if kind not in LINKS]
    app.action(re.compile("^(" + "|".join(map(re.escape, pressed)) + ")$"))(listeners.on_action)
    for kind in LINKS:
        app.action(ACTION_IDS[kind])(_acknowledge)
    for command in registry.on_messages():  # … → Save as quote on a message
        app.message_shortcut(shortcut_id(command.name))(listeners.on_shortcut(command))
    if oauth:
        app.enable_token_revocation_listeners()
    else:
        # The manifest subscribes to these for multi-workspace installs; here they need no
        # more than an acknowledgement (an unhandled event would be answered 404).
        for event in ("app_uninstalled", "tokens_revoked"):
            app.event(event)(_noted)
    return app


async def _noted(body: dict) -> None:
    log.warning("Slack event %s for team %s: quotebot's access there has ended",
                (body.get("event") or {}).get("type"), body.get("team_id"))


async def check_tokens(app: AsyncApp, settings: SlackSettings) -> None:
    """Fail early, with a message, when Slack refuses the bot token or the app-level token.

    (Left alone, bolt would answer every command with an error, and the Socket Mode client
    would retry a refused connection forever.)
    """
    name = "SLACK_BOT_TOKEN"
    try:
        if not settings.oauth:
            result = await app.client.auth_test()
            log.info("connected to Slack team %s as %s", result.get("team"), result.get("user"))
        if settings.socket_mode:
            name = "SLACK_APP_TOKEN"
            await app.client.apps_connections_open(app_token=settings.app_token)
    except SlackApiError as exc:
        raise SetupError(f"Slack refused {name}: {exc.response.get('error')}") from exc
    except (ClientError, TimeoutError) as exc:
        raise SetupError(f"cannot reach the Slack API at {app.client.base_url}: {exc}") from exc


def web_app(app: AsyncApp, signing_secret: str, services: Services) -> web.Application:
    """The app's endpoints: events behind the `Door`, install/redirect with OAuth, and
    `HEALTH_PATH` for load balancers (200 while the database answers, else 503)."""
    db = services.library.db
    door = Door(app, signing_secret, SeenSignatures(
        shared=SlackStore(db) if db.engine == "postgresql" else None))
    healthz = health_handler(lambda: check_health(services))
    routes = [web.post(EVENTS_PATH, door.handle), web.get(HEALTH_PATH, healthz)]
    if app.oauth_flow:
        server = AsyncSlackAppServer(port=0, path=EVENTS_PATH, app=app)
        routes += [web.get(app.oauth_flow.install_path, server.handle_get_requests),
                   web.get(app.oauth_flow.redirect_uri_path, server.handle_get_requests)]
    application = web.Application()
    application.add_routes(routes)
    return application


async def start_http(app: AsyncApp, host: str, port: int, signing_secret: str,
                     services: Services) -> web.AppRunner:
    """Serve the app's endpoints (see `web_app`) on host:port."""
    runner = web.AppRunner(web_app(app, signing_secret, services))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


@asynccontextmanager
async def daily_running(daily: DailyService | None) -> AsyncIterator[None]:
    """The daily scheduler in the background while inside; stopped (gently) on the way out.

    A post cut short at shutdown is safe: its claim's lease expires and it is retried.
    """
    if daily is None:
        yield
        return
    task = asyncio.create_task(daily.scheduler.run(), name="daily-scheduler")
    try:
        yield
    finally:
        await daily.scheduler.shutdown(task, DAILY_STOP_WAIT)


async def serve(
    settings: SlackSettings,
    services: Services,
    registry: Registry,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run until `stop` is set (or the task is cancelled): Socket Mode or HTTP per settings.

    The daily-quote scheduler runs alongside (built here unless `services.daily` is set).
    """
    if services.daily is None:
        services = replace(services, daily=daily_service(settings, services))
    app = build_app(settings, services, registry)
    await check_tokens(app, settings)
    stop = stop or asyncio.Event()
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(app, settings.app_token)
        await handler.connect_async()
        try:
            async with daily_running(services.daily):
                if on_ready:
                    on_ready("Socket Mode")
                await stop.wait()
        finally:
            await handler.close_async()
        return
    runner = await start_http(app, settings.host, settings.port, settings.signing_secret or "",
                              services)
    try:
        async with daily_running(services.daily):
            host, port = runner.addresses[0][:2]
            if on_ready:
                on_ready(f"http://{host}:{port}{EVENTS_PATH}")
            await stop.wait()
    finally:
        await runner.cleanup()


async def _acknowledge(ack) -> None:
    """A link button (Listen at …): Slack opens the link itself; the app only says it heard."""
    await ack()
