"""Response targets as deadlines: the ONE place that says when a target falls due.

The protocol's day targets (`P2D` for the MDT, `P5D` for the voluntary sector) are *working
days*: Monday to Friday, less England's bank holidays (the `holidays` package, pinned, so the
calendar is data that is kept up to date, not a list typed here). Hour and minute targets
(`PT2H` urgent community response, `PT24H` mental health) run on the clock, day and night,
because those services run every day.

The worklist's deadlines, the console's read-back and the chat's "within 2 working days" all
come from here, so the three never disagree.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from spoa.durations import duration_parts

DEFAULT_ZONE = "Europe/London"


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def bank_holiday(day: date) -> bool:
    """A bank holiday in England (substitute days included: Boxing Day on a Saturday moves
    to the Monday)."""
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not bank_holiday(day)


def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (a contact on a Saturday counts from Monday)."""
    for _ in range(count):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return day


def due_at(start: datetime, target: str | None, zone: str = DEFAULT_ZONE) -> datetime | None:
    """When a contact received at `start` (aware) must have had its response.

    Days are working days at the same local clock time (a Thursday 10:00 contact with `P2D`
    before the Christmas weekend is due at 10:00 on the Wednesday after); hours and minutes
    are added on the clock. None when there is no target.
    """
    parts = duration_parts(target)
    if parts is None:
        return None
    days, clock = parts
    if days:
        tz = ZoneInfo(zone)
        local = start.astimezone(tz)
        day = add_working_days(local.date(), days)
        start = datetime.combine(day, local.timetz().replace(tzinfo=None), tz).astimezone(start.tzinfo)
    return start + clock


def target_words(target: str | None) -> str | None:
    """'P2D' -> 'within 2 working days', 'PT2H' -> 'within 2 hours', 'PT0M' -> 'now'; None
    when there is no target."""
    parts = duration_parts(target)
    if parts is None:
        return None
    days, clock = parts
    hours, minutes = int(clock.total_seconds()) // 3600, int(clock.total_seconds()) % 3600 // 60
    words = [f"{days} working day{'s' if days != 1 else ''}" if days else "",
             f"{hours} hour{'s' if hours != 1 else ''}" if hours else "",
             f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes else ""]
    said = " ".join(word for word in words if word)
    return f"within {said}" if said else "now"
