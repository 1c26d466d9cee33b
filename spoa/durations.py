"""ISO 8601 durations as the service uses them for response targets (PT0M, PT2H, PT24H, P2D)."""
from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def parse_duration(value: str | None) -> timedelta | None:
    """The duration of a response target; None for no target. Raises ValueError for text that
    is not a days/hours/minutes/seconds duration."""
    if not value:
        return None
    match = _DURATION.fullmatch(value)
    if not match or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration this service uses: {value!r}")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
