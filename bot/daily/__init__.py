"""Daily quote posts: schedules, exactly-once claims, no-repeat cycles and the scheduler loop.

- `schedule`: pure maths (`next_run`, `local_day`, `run_at`) and parsing of times/zones.
- `poster`: the `Poster` protocol adapters implement, and its two errors.
- `scheduler`: the loop (`Scheduler.run`, `Scheduler.run_once`).
- `service`: `DailyService`, the facade the commands and the operator CLI use.
- `commands`: `DAILY_COMMANDS`, which `quotebot.bot.all_commands.build_registry` includes.
"""

from quotebot.bot.daily.poster import PermanentPostError, Poster, TransientPostError
from quotebot.bot.daily.scheduler import Scheduler
from quotebot.bot.daily.service import DailyError, DailyService

__all__ = [
    "DailyError",
    "DailyService",
    "PermanentPostError",
    "Poster",
    "Scheduler",
    "TransientPostError",
]
