"""The seal on the records: every fact event, decision and review joins the audit chain.

When a session flushes a new `FactEvent`, `Decision` or `Review`, one `record.sealed` row is
appended to the audit chain in the same transaction, holding the record's table, id and a
SHA-256 digest of its content. The chain is keyed (web/store/audit.py), so a record changed in
the database (a route, a fact, a reason), removed, or inserted behind the service's back no
longer matches a seal, and the forger can't write a new seal that verifies.

Records must therefore be added through the session (`session.add`), never with a bulk
`insert()`, which would bypass the flush: `install` refuses such statements.
Records from before the seal (migration 0008) are listed in `audit_head.sealed_from`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from . import audit
from .models import AuditEntry, AuditHead, Decision, FactEvent, Review

SEALED = {"fact_events": FactEvent, "decisions": Decision, "reviews": Review}
_SEALED_CLASSES = tuple(SEALED.values())
SEAL_ACTION = audit.SEAL_ACTION


def _jsonable(value: Any) -> Any:
    return audit.utc_timestamp(value) if isinstance(value, datetime) else value


def record_digest(record: Any) -> str:
    """SHA-256 of the record's columns as canonical JSON (the same before and after a round trip)."""
    mapper = inspect(record).mapper
    content = {attr.key: _jsonable(getattr(record, attr.key)) for attr in mapper.column_attrs}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _collect(session: Session, _context, _instances) -> None:  # noqa: ANN001
    pending = session.info.setdefault("audit_to_seal", [])
    pending.extend(obj for obj in session.new if isinstance(obj, _SEALED_CLASSES))


def _seal(session: Session, _context) -> None:  # noqa: ANN001
    pending = session.info.pop("audit_to_seal", None)
    if not pending:
        return
    rows = []
    for record in pending:
        table = record.__tablename__
        rows.append({"actor": "service", "action": SEAL_ACTION, "target": getattr(record, "contact_id", None),
                     "details": {"table": table, "row": record.id, "digest": record_digest(record)}})
    audit.append_many(session, rows)


def _anchor(session: Session) -> None:
    head = session.info.pop("audit_new_head", None)
    if head is not None:
        audit.anchor_head(audit.settings_of(session), head)


def _forget(session: Session, *_args) -> None:
    session.info.pop("audit_new_head", None)
    session.info.pop("audit_to_seal", None)


def _refuse_bulk_insert(state) -> None:  # noqa: ANN001
    if state.is_insert:
        table = getattr(state.statement, "table", None)
        if table is not None and table.name in SEALED:
            raise RuntimeError(f"{table.name} rows must be added with session.add so they are sealed "
                               "into the audit chain (web/store/seal.py)")


def install(sessions: sessionmaker) -> None:
    """Seal new records at each flush, and anchor the chain's head after each commit."""
    event.listen(sessions, "before_flush", _collect)
    event.listen(sessions, "after_flush_postexec", _seal)
    event.listen(sessions, "after_commit", _anchor)
    event.listen(sessions, "after_rollback", _forget)
    event.listen(sessions, "do_orm_execute", _refuse_bulk_insert)


@dataclass(frozen=True)
class Problem:
    entry_id: int | None
    record: str
    reason: str


def check_records(session: Session) -> tuple[Problem | None, int]:
    """Every record has exactly one seal and matches it; returns (first problem, records checked)."""
    sealed_from = (session.scalar(select(AuditHead.sealed_from).where(AuditHead.id == 1)) or {})
    seals: dict[tuple[str, int], tuple[int, str]] = {}
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == SEAL_ACTION)
                                 .order_by(AuditEntry.id).execution_options(yield_per=1000)):
        seals[(entry.details["table"], int(entry.details["row"]))] = (entry.id, entry.details["digest"])
    checked = 0
    for table, model in SEALED.items():
        legacy_upto = int(sealed_from.get(table, 0))
        for record in session.scalars(select(model).order_by(model.id).execution_options(yield_per=1000)):
            if record.id <= legacy_upto:
                continue
            checked += 1
            seal = seals.pop((table, record.id), None)
            if seal is None:
                return Problem(None, f"{table}#{record.id}",
                               "the record has no seal (it was inserted outside the service)"), checked
            if record_digest(record) != seal[1]:
                return Problem(seal[0], f"{table}#{record.id}",
                               "the record does not match its seal (it was changed)"), checked
    if seals:
        (table, row), (entry_id, _digest) = min(seals.items(), key=lambda item: item[1][0])
        return Problem(entry_id, f"{table}#{row}", "a sealed record is missing (it was removed)"), checked
    return None, checked
