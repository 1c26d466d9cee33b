"""When to try a referral message again, and what a receiver's answer means (pure).

A message is retried with exponential backoff (first_retry_seconds, doubling, capped at
max_backoff_seconds) until max_attempts, then dead-lettered for a supervisor. A 4xx answer
means the receiver refused this message as it is (invalid, unauthorised): trying it again
unchanged can't help, so it is dead-lettered at once. 408 and 429 (the receiver is busy),
5xx, a timeout or no connection are worth retrying.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Mapping


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 6
    first_retry_seconds: float = 30
    max_backoff_seconds: float = 3600
    timeout_seconds: float = 10

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> "DeliveryPolicy":
        raw = (data.get("referrals") or {}).get("delivery") or {}
        policy = cls(**{key: raw[key] for key in ("max_attempts", "first_retry_seconds", "max_backoff_seconds",
                                                  "timeout_seconds") if key in raw})
        if policy.max_attempts < 1 or policy.first_retry_seconds < 0 or policy.timeout_seconds <= 0:
            raise ValueError("referrals.delivery: max_attempts >= 1, first_retry_seconds >= 0, timeout_seconds > 0")
        return policy

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1 -> first_retry_seconds, then doubling)."""
        return timedelta(seconds=min(self.first_retry_seconds * 2 ** max(attempts - 1, 0), self.max_backoff_seconds))


RETRYABLE_CLIENT_ERRORS = (408, 425, 429)


def outcome(status_code: int | None) -> str:
    """'delivered', 'retry' or 'refused' for an HTTP status (None: no answer at all)."""
    if status_code is None:
        return "retry"
    if 200 <= status_code < 300:
        return "delivered"
    if 400 <= status_code < 500 and status_code not in RETRYABLE_CLIENT_ERRORS:
        return "refused"
    return "retry"
