"""Pure schedule maths for daily posts: parse times and zones, find each local day's run instant.

Nothing here reads the clock: every function takes `now` (an aware UTC datetime) and the
schedule, so DST edges are tested with plain values.

DST rules:
    * A local time that happens twice (fall-back, e.g. 01:30 on the first Sunday of November
      in New York) runs at its FIRST occurrence (fold=0), once.
    * A local time that does not exist (spring-forward, e.g. 02:30 on the second Sunday of
      March in New York) runs at the first instant after the gap, i.e. when the clocks
      jump (03:00 local in New York, 03:00 in Berlin, 03:00 in Sydney): as soon as the time
      "has come", once.
    * A local date that does not exist at all (Pacific/Apia skipped 30 Dec 2011) has no run.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import fuzz, process

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$", re.ASCII)
# Names zoneinfo lists that are not places anyone should pick.
_HIDDEN_ZONES = frozenset({"localtime", "Factory"})
_AREAS = frozenset({"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic",
                    "Australia", "Europe", "Indian", "Pacific"})
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
    "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
)


class ScheduleError(ValueError):
    """A time or timezone the user typed that we cannot use; carries suggestions."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions


# ---- parsing ------------------------------------------------------------------------------


def parse_time(text: str) -> time:
    """A 24-hour `HH:MM` (or `H:MM`) local time: `9:05`, `09:05`, `23:59`, `00:00`.

    Raises:
        ScheduleError: for anything else (`25:00`, `9`, `noon`, `12:60`, `9:5`).
    """
    match = _TIME.match(str(text).strip())
    if not match:
        raise ScheduleError(
            f"“{text}” is not a time: use 24-hour HH:MM, from 00:00 to 23:59.",
            ("09:00", "17:30"),
        )
    return time(int(match.group(1)), int(match.group(2)))


def format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


@functools.cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones() - _HIDDEN_ZONES))


@functools.cache
def _folded_names() -> dict[str, list[str]]:
    """Lower-cased full names and city names (`new_york`) -> the zone names they denote."""
    index: dict[str, list[str]] = {}
    for name in _zone_names():
        index.setdefault(name.lower(), []).append(name)
    for name in _zone_names():
        city = name.rsplit("/", 1)[-1].lower()
        if "/" in name and city != name.lower():
            index.setdefault("city:" + city, []).append(name)
    return index


def _canonical(name: str) -> bool:
    return name == "UTC" or name.split("/", 1)[0] in _AREAS


def parse_timezone(text: str) -> str:
    """The IANA zone name the user means: exact, any case, or an unambiguous city.

    `europe/paris`, `Europe/Paris` and `paris` all give `Europe/Paris`; `new york` gives
    `America/New_York`.

    Raises:
        ScheduleError: for an unknown or ambiguous name, with the closest names.
    """
    wanted = "_".join(str(text).strip().split())
    if not wanted:
        raise ScheduleError("Name a timezone, e.g. Europe/Paris or America/New_York.",
                            COMMON_ZONES[:4])
    index = _folded_names()
    exact = index.get(wanted.lower())
    if exact:
        return exact[0]
    cities = index.get("city:" + wanted.lower(), [])
    canonical = [n for n in cities if _canonical(n)] or cities
    if len(canonical) == 1:
        return canonical[0]
    if len(canonical) > 1:
        raise ScheduleError(f"“{text}” could be several timezones: pick one.",
                            tuple(canonical[:5]))
    raise ScheduleError(f"“{text}” is not a timezone I know (use an IANA name).",
                        tuple(timezone_choices(str(text), limit=5)))


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of a name `parse_timezone` accepted (stored names are already valid)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ScheduleError(f"“{name}” is not a timezone I know.") from exc


def timezone_choices(partial: str, limit: int = 25) -> list[str]:
    """Zone names for autocomplete, best first.

    Exact name, then names or city parts starting with what was typed, then names
    containing it, then close misspellings; within a tier, the IANA area names
    (Europe/..., America/...) come before legacy aliases (US/Eastern, EST5EDT).
    """
    wanted = "_".join(partial.strip().split()).lower()
    if not wanted:
        return list(COMMON_ZONES[:limit])
    scored: dict[str, int] = {}
    for name in _zone_names():
        low = name.lower()
        parts = low.split("/")
        if low == wanted:
            tier = 0
        elif low.startswith(wanted) or any(p.startswith(wanted) for p in parts):
            tier = 1
        elif wanted in low:
            tier = 2
        else:
            continue
        scored[name] = tier
    if len(scored) < limit and len(wanted) >= 3:
        pool = {n.rsplit("/", 1)[-1].lower(): n for n in _zone_names()}
        pool.update({n.lower(): n for n in _zone_names()})
        for key, score, _ in process.extract(wanted, list(pool), scorer=fuzz.WRatio,
                                             limit=limit * 2):
            if score >= 80:
                scored.setdefault(pool[key], 3)
    ranked = sorted(scored, key=lambda n: (scored[n], not _canonical(n), n))
    return ranked[:limit]


# ---- the maths ----------------------------------------------------------------------------


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (UTC)")


def local_day(now_utc: datetime, tz: ZoneInfo) -> date:
    """The calendar date at `now_utc` in `tz`: the day a daily post belongs to."""
    _require_aware(now_utc)
    return now_utc.astimezone(tz).date()


def _wall(ts: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, UTC).astimezone(tz).replace(tzinfo=None)


def run_at(day: date, local_time: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of the post of local date `day`, or None if that date has no such time.

    Ambiguous (fall-back) times give the first occurrence; times in a spring-forward gap
    give the instant the clocks jump (the first valid local time after the gap).
    """
    naive = datetime.combine(day, local_time)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=0 reads the time with the offset before the jump (an instant after
    # the gap), fold=1 with the offset after it (an instant before the gap). The jump is
    # the first second in between whose wall time is past `naive`.
    before = int(naive.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    after = int(first.timestamp())
    if before > after:
        before, after = after, before
    while after - before > 1:
        mid = (before + after) // 2
        if _wall(mid, tz) > naive:
            after = mid
        else:
            before = mid
    jump = datetime.fromtimestamp(after, UTC)
    return jump if jump.astimezone(tz).date() == day else None


def next_run(now_utc: datetime, local_time: time, tz: ZoneInfo) -> datetime:
    """The first run instant at or after `now_utc` of a post at `local_time` in `tz` (UTC)."""
    _require_aware(now_utc)
    today = local_day(now_utc, tz)
    candidates = [
        r for offset in range(-1, 4)
        if (r := run_at(today + timedelta(days=offset), local_time, tz)) is not None
        and r >= now_utc
    ]
    return min(candidates)


def first_run_after_day(day: date, local_time: time, tz: ZoneInfo) -> datetime:
    """The run instant of the first local date after `day` that has one (UTC)."""
    for offset in range(1, 4):
        r = run_at(day + timedelta(days=offset), local_time, tz)
        if r is not None:
            return r
    raise ValueError(f"no run within three days after {day}")  # no zone skips three days


def format_local(instant: datetime, tz: ZoneInfo, *, year: bool = False) -> str:
    """`Tue 24 Nov 09:00` (with the year when asked) in `tz`."""
    local = instant.astimezone(tz)
    text = f"{local:%a} {local.day} {local:%b}"
    if year:
        text += f" {local.year}"
    return f"{text} {local:%H:%M}"
