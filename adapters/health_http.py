"""`GET /healthz` over HTTP: 200 with each check's state while healthy, 503 when not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from quotebot.bot.health import Health

HEALTH_PATH = "/healthz"

Probe = Callable[[], Awaitable[Health]]


def health_handler(probe: Probe) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler answering with `probe()`'s checks as JSON."""
    async def healthz(_request: web.Request) -> web.Response:
        health = await probe()
        return web.json_response(health.as_json(), status=200 if health.healthy else 503)

    return healthz


async def start_health_server(host: str, port: int, probe: Probe) -> web.AppRunner:
    """Serve only `HEALTH_PATH` on host:port (for processes with no HTTP of their own)."""
    application = web.Application()
    application.add_routes([web.get(HEALTH_PATH, health_handler(probe))])
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
