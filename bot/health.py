"""Whether this process can serve, for load balancers and process supervisors (/healthz)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from quotebot.bot.registry import Services

# A database slower than this to answer `SELECT 1` counts as down: a probe must not hang.
DATABASE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Health:
    """Each check's state ("ok" or what is wrong); healthy when every one is "ok"."""

    checks: Mapping[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return all(state == "ok" for state in self.checks.values())

    def as_json(self) -> dict:
        return {"status": "ok" if self.healthy else "unavailable", **self.checks}


async def check(services: Services, **platform: str) -> Health:
    """The database's state, with the adapter's own checks (`platform`, e.g.
    gateway="ok" or gateway="connecting")."""
    try:
        await asyncio.wait_for(services.library.db.ping(), DATABASE_TIMEOUT)
        database = "ok"
    except TimeoutError:
        database = f"no answer within {DATABASE_TIMEOUT:g} s"
    except Exception as exc:  # whatever the engine raises, the probe reports it
        database = f"unavailable: {type(exc).__name__}: {exc}"[:300]
    return Health({"database": database, **platform})
