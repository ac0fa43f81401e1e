"""Pure schedule maths: parsing, DST edges in three zones, month and year boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from quotebot.bot.daily.schedule import (
    ScheduleError,
    first_run_after_day,
    format_local,
    local_day,
    next_run,
    parse_time,
    parse_timezone,
    run_at,
    timezone_choices,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
PARIS = ZoneInfo("Europe/Paris")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("09:05", time(9, 5)), ("9:05", time(9, 5)), (" 23:59 ", time(23, 59)),
    ("00:00", time(0, 0)), ("0:00", time(0, 0)), ("12:30", time(12, 30)),
])
def test_valid_times(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", [
    "25:00", "24:00", "9", "noon", "12:60", "9:5", "09:5", "009:00", "9am", "9:00 pm", "",
    "-1:00", "12:00:00", "１２:00", "１:００",
])
def test_invalid_times_are_refused_with_a_clear_message(text):
    with pytest.raises(ScheduleError, match="HH:MM"):
        parse_time(text)


@pytest.mark.parametrize("text, expected", [
    ("Europe/Paris", "Europe/Paris"), ("europe/paris", "Europe/Paris"),
    ("America/New_York", "America/New_York"), ("new york", "America/New_York"),
    ("Paris", "Europe/Paris"), ("utc", "UTC"), ("UTC", "UTC"),
    ("Australia/Sydney", "Australia/Sydney"),
])
def test_timezones_by_name_any_case_or_city(text, expected):
    assert parse_timezone(text) == expected


def test_unknown_timezone_suggests_close_names():
    with pytest.raises(ScheduleError, match="not a timezone") as err:
        parse_timezone("Europe/Pariss")
    assert "Europe/Paris" in err.value.suggestions
    with pytest.raises(ScheduleError, match="not a timezone"):
        parse_timezone("Mars/Olympus_Mons")
    with pytest.raises(ScheduleError):
        parse_timezone("../../etc/passwd")
    with pytest.raises(ScheduleError):
        parse_timezone("localtime")


def test_ambiguous_city_asks_to_pick():
    with pytest.raises(ScheduleError, match="several") as err:
        parse_timezone("Istanbul")
    assert set(err.value.suggestions) == {"Asia/Istanbul", "Europe/Istanbul"}


def test_timezone_choices_rank_best_first():
    assert timezone_choices("paris")[0] == "Europe/Paris"
    assert timezone_choices("new y")[0] == "America/New_York"
    assert timezone_choices("America/New_York")[0] == "America/New_York"
    assert "Europe/Berlin" in timezone_choices("berln")
    assert timezone_choices("")[0] == "UTC"
    assert len(timezone_choices("a")) == 25
    # IANA area names before legacy aliases of the same tier.
    eastern = timezone_choices("eastern")
    assert eastern and all(name in eastern for name in ("US/Eastern", "Canada/Eastern"))


# ---- spring forward: the time does not exist; it runs when the clocks jump --------------


@pytest.mark.parametrize("tz, day, expected_utc", [
    (NEW_YORK, date(2024, 3, 10), utc(2024, 3, 10, 7, 0)),  # 02:00 EST -> 03:00 EDT
    (BERLIN, date(2024, 3, 31), utc(2024, 3, 31, 1, 0)),  # 02:00 CET -> 03:00 CEST
    (SYDNEY, date(2024, 10, 6), utc(2024, 10, 5, 16, 0)),  # 02:00 AEST -> 03:00 AEDT
])
def test_spring_forward_gap_runs_at_the_jump(tz, day, expected_utc):
    for minute in (0, 15, 30, 59):
        assert run_at(day, time(2, minute), tz) == expected_utc
    assert expected_utc.astimezone(tz).time() == time(3, 0)
    assert run_at(day, time(3, 0), tz) == expected_utc  # 03:00 itself, the same instant
    assert run_at(day, time(1, 59), tz) == expected_utc - timedelta(minutes=1)


def test_half_hour_gap_lord_howe():
    tz = ZoneInfo("Australia/Lord_Howe")  # 02:00 -> 02:30 on 6 Oct 2024
    assert run_at(date(2024, 10, 6), time(2, 15), tz).astimezone(tz).time() == time(2, 30)


@pytest.mark.parametrize("tz, day", [
    (NEW_YORK, date(2024, 3, 10)), (BERLIN, date(2024, 3, 31)), (SYDNEY, date(2024, 10, 6)),
    (NEW_YORK, date(2024, 11, 3)), (BERLIN, date(2024, 10, 27)), (SYDNEY, date(2024, 4, 7)),
])
@pytest.mark.parametrize("at", [time(2, 30), time(1, 30), time(3, 0), time(0, 0),
                                time(23, 59)])
def test_exactly_one_run_per_local_day_across_dst(tz, day, at):
    """Walk `now` through three days minute by minute: each local day gets one run."""
    start = datetime.combine(day - timedelta(days=1), time(0, 0), tz).astimezone(UTC)
    runs = set()
    now = start
    while now < start + timedelta(days=3):
        runs.add(next_run(now, at, tz))
        now += timedelta(minutes=5)
    by_day: dict[date, int] = {}
    for r in runs:
        by_day[local_day(r, tz)] = by_day.get(local_day(r, tz), 0) + 1
    assert all(n == 1 for n in by_day.values()), by_day
    assert day in by_day


@pytest.mark.parametrize("tz, day, at, expected_utc, offset_hours", [
    # First occurrence (fold=0), i.e. still on summer time.
    (NEW_YORK, date(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 5, 30), -4),
    (BERLIN, date(2024, 10, 27), time(2, 30), utc(2024, 10, 27, 0, 30), 2),
    (SYDNEY, date(2024, 4, 7), time(2, 30), utc(2024, 4, 6, 15, 30), 11),
])
def test_fall_back_ambiguous_time_runs_at_first_occurrence(tz, day, at, expected_utc,
                                                          offset_hours):
    run = run_at(day, at, tz)
    assert run == expected_utc
    assert run.astimezone(tz).utcoffset() == timedelta(hours=offset_hours)
    # An hour later the wall clock shows `at` again, but the day's run is behind us.
    second = expected_utc + timedelta(hours=1)
    assert second.astimezone(tz).time() == at
    assert local_day(next_run(second, at, tz), tz) == day + timedelta(days=1)


def test_run_at_is_local_time_on_ordinary_days():
    assert run_at(date(2024, 7, 1), time(9, 0), NEW_YORK) == utc(2024, 7, 1, 13, 0)
    assert run_at(date(2024, 12, 1), time(9, 0), NEW_YORK) == utc(2024, 12, 1, 14, 0)
    assert run_at(date(2024, 7, 1), time(9, 0), SYDNEY) == utc(2024, 6, 30, 23, 0)


# ---- next_run -----------------------------------------------------------------------------


def test_next_run_at_or_after_now():
    at = time(9, 0)
    assert next_run(utc(2024, 11, 24, 7, 0), at, PARIS) == utc(2024, 11, 24, 8, 0)
    assert next_run(utc(2024, 11, 24, 8, 0), at, PARIS) == utc(2024, 11, 24, 8, 0)
    assert next_run(utc(2024, 11, 24, 8, 0, 1), at, PARIS) == utc(2024, 11, 25, 8, 0)


@pytest.mark.parametrize("now, at, tz, expected", [
    # year boundary in UTC, at 00:00
    (utc(2024, 12, 31, 23, 59, 30), time(0, 0), ZoneInfo("UTC"), utc(2025, 1, 1, 0, 0)),
    # year boundary where local New Year comes first (Sydney is UTC+11)
    (utc(2024, 12, 31, 13, 30), time(0, 0), SYDNEY, utc(2025, 1, 1, 13, 0)),
    (utc(2024, 12, 31, 12, 30), time(0, 0), SYDNEY, utc(2024, 12, 31, 13, 0)),
    # 23:59 on the last day of a month, and the day after it
    (utc(2024, 1, 31, 22, 58), time(23, 59), PARIS, utc(2024, 1, 31, 22, 59)),
    (utc(2024, 1, 31, 23, 0), time(23, 59), PARIS, utc(2024, 2, 1, 22, 59)),
    # leap day, and a non-leap February
    (utc(2024, 2, 28, 23, 59, 30), time(0, 0), ZoneInfo("UTC"), utc(2024, 2, 29, 0, 0)),
    (utc(2023, 2, 28, 23, 59, 30), time(0, 0), ZoneInfo("UTC"), utc(2023, 3, 1, 0, 0)),
    # New York's 23:59 on 31 Dec is 04:59 UTC on 1 Jan
    (utc(2025, 1, 1, 4, 0), time(23, 59), NEW_YORK, utc(2025, 1, 1, 4, 59)),
])
def test_next_run_across_month_and_year_boundaries(now, at, tz, expected):
    assert next_run(now, at, tz) == expected


def test_local_day_follows_the_zone_not_utc():
    now = utc(2024, 12, 31, 14, 0)
    assert local_day(now, SYDNEY) == date(2025, 1, 1)
    assert local_day(now, NEW_YORK) == date(2024, 12, 31)
    assert local_day(utc(2025, 1, 1, 4, 59), NEW_YORK) == date(2024, 12, 31)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        next_run(datetime(2024, 1, 1, 9, 0), time(9, 0), PARIS)
    with pytest.raises(ValueError):
        local_day(datetime(2024, 1, 1, 9, 0), PARIS)


def test_a_skipped_date_has_no_run():
    apia = ZoneInfo("Pacific/Apia")  # 30 Dec 2011 never happened in Samoa
    assert run_at(date(2011, 12, 30), time(9, 0), apia) is None
    nxt = next_run(utc(2011, 12, 29, 20, 0), time(9, 0), apia)  # 29 Dec 10:00 local
    assert local_day(nxt, apia) == date(2011, 12, 31)
    assert first_run_after_day(date(2011, 12, 29), time(9, 0), apia) == nxt


def test_format_local():
    assert format_local(utc(2024, 11, 24, 8, 0), PARIS) == "Sun 24 Nov 09:00"
    assert format_local(utc(2024, 11, 24, 8, 0), PARIS, year=True) == "Sun 24 Nov 2024 09:00"
