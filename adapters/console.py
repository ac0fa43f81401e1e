"""The console adapter: text in, the same core commands, plain text out (also used by tests)."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from pathlib import Path

from quotebot.bot.grammar import parse
from quotebot.bot.models import ChannelRef, Reply, UserRef
from quotebot.bot.registry import Registry, Services

log = logging.getLogger(__name__)

CONSOLE_USER = UserRef("console", "console", "you", is_admin=True)
CONSOLE_CHANNEL = ChannelRef("console", "local", "console")


class Console:
    """Runs `/quote ...` lines through the registry, as a chat platform would."""

    def __init__(self, registry: Registry, services: Services,
                 channel: ChannelRef = CONSOLE_CHANNEL) -> None:
        self.registry = registry
        self.services = services
        self.channel = channel  # the operator's library, unless `quotebot --library`

    async def run(self, line: str) -> Reply:
        request = parse(line, self.registry, user=CONSOLE_USER, channel=self.channel)
        return await self.registry.dispatch(request, self.services)


class LineReader:
    """Lines typed at the console, each read on a daemon thread so that Ctrl-C leaves at
    once (a worker thread blocked in `input()` would hold the process until Enter).

    At a terminal, `readline` gives line editing and a history kept in `history`.
    """

    def __init__(self, interactive: bool, history: Path | None = None) -> None:
        self.interactive = interactive
        self.history = history
        self._readline = None
        if interactive:
            try:
                import readline  # line editing and history for input(); not on Windows
            except ImportError:
                return
            self._readline = readline
            if history is not None and history.exists():
                try:
                    readline.read_history_file(history)
                except OSError as exc:
                    log.debug("chat history not read: %s", exc)

    async def read(self) -> str | None:
        """The next line, or None at the end of input."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def settle(outcome: str | None | BaseException) -> None:
            if not future.done():
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

        def work() -> None:
            try:
                outcome: str | None | BaseException = self._line()
            except EOFError:
                outcome = None
            except Exception as exc:  # handed to the awaiting task
                outcome = exc
            try:
                loop.call_soon_threadsafe(settle, outcome)
            except RuntimeError:  # the loop has closed: the chat is over
                pass

        threading.Thread(target=work, name="chat-input", daemon=True).start()
        return await future

    def _line(self) -> str:
        if self.interactive:
            return input("> ")
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line

    def close(self) -> None:
        """Keep the history for the next chat."""
        if self._readline is not None and self.history is not None:
            try:
                self.history.parent.mkdir(parents=True, exist_ok=True)
                self._readline.set_history_length(1000)
                self._readline.write_history_file(self.history)
            except OSError as exc:
                log.debug("chat history not written: %s", exc)
