"""ISO 8601 durations as the service uses them for response targets (PT0M, PT2H, PT24H, P2D)."""
from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def duration_parts(value: str | None) -> tuple[int, timedelta] | None:
    """(days, the time part) of a response target, kept apart because the protocol's days are
    working days (`PT24H` is 24 clock hours, `P1D` one working day); None for no target."""
    if not value:
        return None
    match = _DURATION.fullmatch(value)
    if not match or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration this service uses: {value!r}")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return days, timedelta(hours=hours, minutes=minutes, seconds=seconds)


def parse_duration(value: str | None) -> timedelta | None:
    """The duration of a response target; None for no target. Raises ValueError for text that
    is not a days/hours/minutes/seconds duration."""
    parts = duration_parts(value)
    return None if parts is None else timedelta(days=parts[0]) + parts[1]
