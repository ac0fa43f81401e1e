"""The console adapter: text in, the same core commands, plain text out (also used by tests)."""

from __future__ import annotations

import logging

from quotebot.bot.grammar import parse
from quotebot.bot.models import ChannelRef, Reply, UserRef
from quotebot.bot.registry import Registry, Services

log = logging.getLogger(__name__)

CONSOLE_USER = UserRef("console", "console", "you", is_admin=True)
CONSOLE_CHANNEL = ChannelRef("console", "local", "console")


class Console:
    """Runs `/quote ...` lines through the registry, as a chat platform would."""

    def __init__(self, registry: Registry, services: Services) -> None:
        self.registry = registry
        self.services = services

    async def run(self, line: str) -> Reply:
        request = parse(line, self.registry, user=CONSOLE_USER, channel=CONSOLE_CHANNEL)
        return await self.registry.dispatch(request, self.services)
