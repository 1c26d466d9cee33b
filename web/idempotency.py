"""The `Idempotency-Key` header on creates (POST /api/contacts, the console's new call).

`run_create(store, create)` runs `create(db) -> Created` in one transaction. With no key it
is a plain create. With a key, the first request's result is stored beside the contact (in
the same transaction) and every retry with that key, from the same caller to the same
endpoint, gets it back (`replayed` true) instead of a second contact. The same key with a
different body is refused (422): it is a client bug, not a retry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import request

from web.bootstrap import services
from web.errors import ApiError
from web.security import current_actor
from web.store import idempotency

HEADER = "Idempotency-Key"


@dataclass
class Created:
    contact_id: str
    status_code: int = 201
    body: dict[str, Any] | None = None   # the response to replay, or None to render it afresh
    replayed: bool = False


def idempotency_key() -> str | None:
    """The request's key: None if absent; 422 if empty, too long or not printable ASCII."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > idempotency.KEY_MAX_CHARS or not key.isascii() or not key.isprintable():
        raise ApiError(422, "invalid_idempotency_key",
                       f"{HEADER} must be 1 to {idempotency.KEY_MAX_CHARS} printable ASCII characters.",
                       field=HEADER)
    return key


def run_create(store, create: Callable[[Any], Created]) -> Created:  # noqa: ANN001
    key = idempotency_key()
    if key is None:
        return store.run(create)
    actor = current_actor()
    scope = f"{request.endpoint}:{actor.kind}:{actor.name}"[:120]
    digest = idempotency.request_hash(request.get_data(cache=True))

    def work(db):  # noqa: ANN001, ANN202
        found = idempotency.find(db, scope, key)
        if found is not None:
            if found.request_hash != digest:
                raise ApiError(422, "idempotency_key_reused",
                               f"This {HEADER} was used for a different request; use a new key.", field=HEADER)
            return Created(found.contact_id, found.status_code, found.response, replayed=True)
        created = create(db)
        idempotency.remember(db, scope=scope, key=key, request_hash=digest, contact_id=created.contact_id,
                             status_code=created.status_code, response=created.body, now=services().now())
        return created

    return store.run(work, conflict_retries=1)
