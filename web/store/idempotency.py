"""Idempotency keys: what a create made the first time a caller sent a given key.

A client that retries a create after a dropped connection sends the same `Idempotency-Key`;
the first request's contact and answer are found here, so no second contact is stored. The
(scope, key) pair is UNIQUE in the database: two racing requests with one key can't both
insert, the loser's transaction fails and, run again, finds the winner's row.
Functions take the caller's session and never commit (see web/store/__init__.py).
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import IdempotencyKey

KEY_MAX_CHARS = 200


def request_hash(body: bytes) -> str:
    """A fingerprint of the request body, to tell a retry from a different request."""
    return hashlib.sha256(body).hexdigest()


def find(session: Session, scope: str, key: str) -> IdempotencyKey | None:
    return session.scalar(select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key))


def remember(session: Session, *, scope: str, key: str, request_hash: str, contact_id: str, status_code: int,
             response: dict[str, Any] | None, now: datetime) -> None:
    """Record what this key made; flushed now so a racing duplicate fails here, not at commit."""
    session.add(IdempotencyKey(scope=scope, key=key, request_hash=request_hash, contact_id=contact_id,
                               status_code=status_code, response=response, created_at=now))
    session.flush()
