"""`quotebot discord --health-port`: GET /healthz for supervisors and orchestrators."""

from __future__ import annotations

import asyncio
import socket

import aiohttp

from tests.adapters.discord.conftest import running


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_healthz_follows_the_gateway_and_the_database(fake, services, registry):
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    async with running(fake, services, registry, shards=2, shard_count=2,
                       health_port=port) as bot, aiohttp.ClientSession() as session:
        async def health() -> tuple[int, dict]:
            async with session.get(url) as response:
                return response.status, await response.json()

        status, body = await health()
        for _ in range(100):  # connected; ready once the shards' guilds have arrived
            if status == 200:
                break
            assert body["gateway"] == "connecting", body
            await asyncio.sleep(0.05)
            status, body = await health()
        assert (status, body) == (200, {"status": "ok", "database": "ok", "gateway": "ok"})
        await bot.shards[1].disconnect()  # one shard down: the process is not all there
        async with session.get(url) as response:
            assert response.status == 503
            assert (await response.json())["gateway"].startswith("shard(s) 1")
        await services.library.db.close()
        async with session.get(url) as response:
            assert response.status == 503
            assert (await response.json())["database"].startswith("unavailable")

