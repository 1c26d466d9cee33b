"""The tamper-evident audit log of staff (and service) actions.

Each row holds `prev_hash` (the previous row's hash) and `hash = sha256(prev_hash +
canonical JSON of its own content)`. Changing, removing or inserting a row breaks the chain
from that row on; `verify()` recomputes it and names the first broken row. Appends are
serialised through the one-row `audit_head` table: updating it first takes the write lock
(SQLite) or the row lock (PostgreSQL), so two appends can never both follow the same row.
`details` must hold no personal data: ids, routes, counts, never facts or names.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .models import GENESIS_HASH, AuditEntry, AuditHead


def _timestamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_content(*, id: int, at: datetime, actor: str, actor_role: str | None, action: str,
                      target: str | None, details: dict[str, Any]) -> str:
    """The row's content as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return json.dumps({"id": id, "at": _timestamp(at), "actor": actor, "actor_role": actor_role,
                       "action": action, "target": target, "details": details},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def entry_hash(entry: AuditEntry, prev_hash: str) -> str:
    return chain_hash(prev_hash, canonical_content(
        id=entry.id, at=entry.at, actor=entry.actor, actor_role=entry.actor_role, action=entry.action,
        target=entry.target, details=entry.details))


def append(session: Session, *, actor: str, action: str, actor_role: str | None = None,
           target: str | None = None, details: dict[str, Any] | None = None,
           at: datetime | None = None) -> AuditEntry:
    """Add one row at the end of the chain, in the caller's transaction (committed with it)."""
    at = at or datetime.now(timezone.utc)
    details = dict(details or {})
    # Take the lock first, then read the head: no other append can slip in between.
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(last_id=AuditHead.last_id + 1)
                    .execution_options(synchronize_session=False))
    last_id, prev_hash = session.execute(
        select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1)).one()
    entry = AuditEntry(id=last_id, at=at, actor=actor, actor_role=actor_role, action=action,
                       target=target, details=details, prev_hash=prev_hash)
    entry.hash = entry_hash(entry, prev_hash)
    session.add(entry)
    session.flush()
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=entry.hash)
                    .execution_options(synchronize_session=False))
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    first_broken_id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows_checked": self.rows_checked, "first_broken_id": self.first_broken_id,
                "reason": self.reason}

    def __str__(self) -> str:
        if self.ok:
            return f"audit log intact: {self.rows_checked} rows, hash chain verified"
        return f"audit log BROKEN at row {self.first_broken_id}: {self.reason} ({self.rows_checked} rows checked)"


def verify_entries(entries: Iterable[AuditEntry], head: tuple[int, str] | None = None) -> VerifyResult:
    """Recompute the chain over rows in id order; the first row that doesn't follow is named."""
    expected_prev, expected_id, checked = GENESIS_HASH, 1, 0
    for entry in entries:
        if entry.id != expected_id:
            return VerifyResult(False, checked, expected_id if entry.id > expected_id else entry.id,
                                f"row {expected_id} is missing (next row found is {entry.id})"
                                if entry.id > expected_id else "row id out of sequence")
        if entry.prev_hash != expected_prev:
            return VerifyResult(False, checked, entry.id,
                                "prev_hash does not match the previous row's hash (a row was changed, "
                                "removed or inserted before it)")
        if entry_hash(entry, entry.prev_hash) != entry.hash:
            return VerifyResult(False, checked, entry.id, "content does not match its hash (the row was changed)")
        checked += 1
        expected_prev, expected_id = entry.hash, entry.id + 1
    if head is not None:
        last_id, last_hash = head
        if last_id != expected_id - 1 or last_hash != expected_prev:
            return VerifyResult(False, checked, expected_id,
                                f"the chain ends at row {expected_id - 1} but the head records row {last_id}: "
                                "rows at the end were removed or the head was changed")
    return VerifyResult(True, checked)


def verify(session: Session) -> VerifyResult:
    """Recompute the whole chain from the database (streamed, id order)."""
    head = session.execute(select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1)).one_or_none()
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000))
    return verify_entries(rows, tuple(head) if head else None)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def recent(session: Session, *, limit: int = 50, offset: int = 0, target: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if target:
        query = query.where(AuditEntry.target == target)
    return list(session.scalars(query))


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": _timestamp(entry.at), "actor": entry.actor, "actor_role": entry.actor_role,
            "action": entry.action, "target": entry.target, "details": entry.details,
            "prev_hash": entry.prev_hash, "hash": entry.hash}
