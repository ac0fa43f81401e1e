"""Daily quote posts: schedules, exactly-once claims, no-repeat cycles and the scheduler loop.

- `schedule`: pure maths (`next_run`, `local_day`, `run_at`) and parsing of times/zones.
- `poster`: the `Poster` protocol adapters implement, and its two errors.
- `scheduler`: the loop (`Scheduler.run`, `Scheduler.run_once`).
- `service`: `DailyService`, the facade the commands and the operator CLI use.
- `commands`: `DAILY_COMMANDS` for `build_registry(DAILY_COMMANDS)`.
"""

from bot.daily.poster import PermanentPostError, Poster, TransientPostError
from bot.daily.scheduler import Scheduler
from bot.daily.service import DailyError, DailyService

__all__ = [
    "DailyError",
    "DailyService",
    "PermanentPostError",
    "Poster",
    "Scheduler",
    "TransientPostError",
]
