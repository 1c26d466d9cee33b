"""The tamper-evident audit log of staff (and service) actions, and the seal on the records.

Each row holds `prev_hash` (the previous row's hash) and `hash = HMAC-SHA256(key, prev_hash +
canonical JSON of its own content)`. The key is not in the database (SPOA_AUDIT_KEY, or
instance/audit_key for `make run`), so someone with database access who rewrites a row cannot
recompute a chain that verifies: `verify()` recomputes it and names the first broken row.
Rows written before the chain was keyed (`audit_head.keyed_from`) keep the unkeyed SHA-256.

Appends are serialised through the one-row `audit_head` table: updating it first takes the
write lock (SQLite) or the row lock (PostgreSQL), so two appends can never both follow the same
row. After each commit the new head (row id and hash) is also appended *outside* the database,
to the head file (AuditSettings.head_file) and to the log, so a rewritten head row or a cut tail
is caught by comparing the two.

The records of what was known, decided and done (`fact_events`, `decisions`, `reviews`) are
sealed into the same chain: web/store/seal.py adds one `record.sealed` row per record, with a
digest of the record's content, in the record's own transaction.

`details` must hold no personal data: ids, routes, counts and digests, never facts or names.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from .models import GENESIS_HASH, AuditEntry, AuditHead

log = logging.getLogger("spoa.audit")


@dataclass(frozen=True)
class AuditSettings:
    """The chain's key and its external anchor; built by the bootstrap, kept on the sessions."""

    key: bytes = b""
    head_file: Path | None = None

    @property
    def keyed(self) -> bool:
        return bool(self.key)


UNKEYED = AuditSettings()


def settings_of(session: Session) -> AuditSettings:
    return session.info.get("audit") or UNKEYED


def utc_timestamp(at: datetime) -> str:
    """UTC, microseconds, 'Z': the one text form of a time in hashed content."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_content(*, id: int, at: datetime, actor: str, actor_role: str | None, action: str,
                      target: str | None, details: dict[str, Any]) -> str:
    """The row's content as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return json.dumps({"id": id, "at": utc_timestamp(at), "actor": actor, "actor_role": actor_role,
                       "action": action, "target": target, "details": details},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, content: str) -> str:
    """The unkeyed link (rows from before the chain was keyed)."""
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def chain_mac(key: bytes, prev_hash: str, content: str) -> str:
    """The keyed link: without the key nobody can make a row that verifies."""
    return hmac.new(key, (prev_hash + content).encode("utf-8"), hashlib.sha256).hexdigest()


def _link(settings: AuditSettings, entry_id: int, keyed_from: int, prev_hash: str, content: str) -> str:
    if entry_id < keyed_from:
        return chain_hash(prev_hash, content)
    return chain_mac(settings.key, prev_hash, content)


def _content_of(entry: AuditEntry | dict[str, Any]) -> str:
    get = entry.get if isinstance(entry, dict) else (lambda name: getattr(entry, name))
    return canonical_content(id=get("id"), at=get("at"), actor=get("actor"), actor_role=get("actor_role"),
                             action=get("action"), target=get("target"), details=get("details"))


def append_many(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add rows (actor, action, actor_role, target, details, at) at the end of the chain, in the
    caller's transaction, under one head lock. Returns them with id, prev_hash and hash."""
    if not rows:
        return []
    settings = settings_of(session)
    # Take the lock first, then read the head: no other append can slip in between.
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(last_id=AuditHead.last_id + len(rows))
                    .execution_options(synchronize_session=False))
    first_hash = select(AuditEntry.hash).where(AuditEntry.id == 1).scalar_subquery()
    last_id, prev_hash, keyed_from, chain = session.execute(
        select(AuditHead.last_id, AuditHead.last_hash, AuditHead.keyed_from, first_hash)
        .where(AuditHead.id == 1)).one()
    entry_id = last_id - len(rows)
    made = []
    for row in rows:
        entry_id += 1
        entry = {"id": entry_id, "at": row.get("at") or datetime.now(timezone.utc), "actor": row["actor"],
                 "actor_role": row.get("actor_role"), "action": row["action"], "target": row.get("target"),
                 "details": dict(row.get("details") or {}), "prev_hash": prev_hash}
        entry["hash"] = _link(settings, entry_id, keyed_from, prev_hash, _content_of(entry))
        prev_hash = entry["hash"]
        made.append(entry)
    session.execute(insert(AuditEntry), made)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=prev_hash)
                    .execution_options(synchronize_session=False))
    # The chain is named by its first row's hash (anchor_head): this append's when it wrote row 1.
    chain = chain or made[0]["hash"]
    session.info["audit_new_head"] = (made[-1]["id"], prev_hash, chain)
    return made


def append(session: Session, *, actor: str, action: str, actor_role: str | None = None,
           target: str | None = None, details: dict[str, Any] | None = None,
           at: datetime | None = None) -> AuditEntry:
    """Add one row at the end of the chain, in the caller's transaction (committed with it)."""
    made = append_many(session, [{"actor": actor, "action": action, "actor_role": actor_role, "target": target,
                                  "details": details, "at": at}])[0]
    return AuditEntry(**made)


# -- the external anchor -----------------------------------------------------------------------

def anchor_head(settings: AuditSettings, head: tuple[int, str, str]) -> None:
    """After a commit: append the chain's new head to the head file and to the log.

    Each line names its chain by the hash of the chain's first row, so a head file that
    outlives its database (a development database deleted and made again) is not read
    against another chain."""
    last_id, last_hash, chain = head
    log.info("audit head %d %s", last_id, last_hash)
    if settings.head_file is None:
        return
    line = json.dumps({"chain": chain, "id": last_id, "hash": last_hash}, separators=(",", ":")) + "\n"
    settings.head_file.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: one short write per line, so lines from several processes never interleave.
    descriptor = os.open(settings.head_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(descriptor, line.encode("utf-8"))
    finally:
        os.close(descriptor)


def read_heads(head_file: Path) -> dict[str | None, dict[int, str]]:
    """The heads recorded outside the database, by chain: chain -> row id -> hash.
    A torn last line is ignored."""
    heads: dict[str | None, dict[int, str]] = {}
    if not head_file.exists():
        return heads
    for line in head_file.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            heads.setdefault(record.get("chain"), {})[int(record["id"])] = str(record["hash"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return heads


def read_anchors(head_file: Path, chain: str | None = None) -> dict[int, str]:
    """The heads recorded for one chain (every chain's when None): row id -> hash."""
    heads = read_heads(head_file)
    if chain is not None:
        return heads.get(chain, {})
    return {row: value for chain_heads in heads.values() for row, value in chain_heads.items()}


# -- verification ------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    first_broken_id: int | None = None
    reason: str | None = None
    records_checked: int = 0
    broken_record: str | None = None     # "decisions#12": a sealed record that was changed
    keyed: bool = True
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows_checked": self.rows_checked, "first_broken_id": self.first_broken_id,
                "reason": self.reason, "records_checked": self.records_checked,
                "broken_record": self.broken_record, "keyed": self.keyed, "warnings": list(self.warnings)}

    def __str__(self) -> str:
        if self.ok:
            text = (f"audit log intact: {self.rows_checked} rows, hash chain verified"
                    f"; {self.records_checked} records match their seals")
        else:
            where = f"row {self.first_broken_id}" if self.first_broken_id is not None else "a record"
            record = f", record {self.broken_record}" if self.broken_record else ""
            text = (f"audit log BROKEN at {where}{record}: {self.reason} "
                    f"({self.rows_checked} rows checked)")
        return "\n".join([text, *(f"warning: {warning}" for warning in self.warnings)])


def verify_entries(entries: Iterable[AuditEntry], head: tuple[int, str] | None = None, *,
                   settings: AuditSettings = UNKEYED, keyed_from: int = 1,
                   anchors: dict[int, str] | None = None) -> VerifyResult:
    """Recompute the chain over rows in id order; the first row that doesn't follow is named.

    `anchors` (the heads recorded outside the database) must each match the row at that id,
    and the last of them must not be beyond the database's head."""
    expected_prev, expected_id, checked = GENESIS_HASH, 1, 0
    anchors = anchors or {}
    for entry in entries:
        if entry.id != expected_id:
            return VerifyResult(False, checked, expected_id if entry.id > expected_id else entry.id,
                                f"row {expected_id} is missing (next row found is {entry.id})"
                                if entry.id > expected_id else "row id out of sequence")
        if entry.prev_hash != expected_prev:
            return VerifyResult(False, checked, entry.id,
                                "prev_hash does not match the previous row's hash (a row was changed, "
                                "removed or inserted before it)")
        if _link(settings, entry.id, keyed_from, entry.prev_hash, _content_of(entry)) != entry.hash:
            return VerifyResult(False, checked, entry.id, "content does not match its hash (the row was changed)")
        if entry.id in anchors and anchors[entry.id] != entry.hash:
            return VerifyResult(False, checked, entry.id,
                                "the row's hash differs from the one recorded outside the database "
                                "(the chain was rewritten from here)")
        checked += 1
        expected_prev, expected_id = entry.hash, entry.id + 1
    last_row = expected_id - 1
    if head is not None:
        last_id, last_hash = head
        if last_id != last_row or last_hash != expected_prev:
            return VerifyResult(False, checked, expected_id,
                                f"the chain ends at row {last_row} but the head records row {last_id}: "
                                "rows at the end were removed or the head was changed")
    if anchors and max(anchors) > last_row:
        return VerifyResult(False, checked, last_row + 1,
                            f"the head file records row {max(anchors)} but the chain ends at row {last_row}: "
                            "rows at the end were removed")
    return VerifyResult(True, checked)


def _entries(session: Session) -> Iterator[AuditEntry]:
    return iter(session.scalars(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)))


def verify(session: Session) -> VerifyResult:
    """Recompute the whole chain from the database (streamed, id order), compare its head with
    the one recorded outside the database, then check every sealed record against its seal."""
    from . import seal

    settings = settings_of(session)
    head = session.execute(select(AuditHead.last_id, AuditHead.last_hash, AuditHead.keyed_from)
                           .where(AuditHead.id == 1)).one_or_none()
    keyed_from = head.keyed_from if head is not None else 1
    first = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == 1))
    heads = read_heads(settings.head_file) if settings.head_file and first else {}
    anchors = heads.get(first, {})
    warnings = []
    if heads and not anchors:
        warnings.append("the head file holds no heads of this chain (a new database, or a chain rewritten "
                        "from its first row)")
    if not settings.keyed:
        warnings.append("no audit key is configured (SPOA_AUDIT_KEY): the chain is not keyed")
    if settings.head_file is None:
        warnings.append("no head file is configured: the head is not compared with a copy outside the database")
    result = verify_entries(_entries(session), (head.last_id, head.last_hash) if head else None,
                            settings=settings, keyed_from=keyed_from, anchors=anchors)
    if not result.ok:
        return replace(result, keyed=settings.keyed, warnings=tuple(warnings))
    problem, records = seal.check_records(session)
    if problem is not None:
        return VerifyResult(False, result.rows_checked, problem.entry_id, problem.reason, records,
                            problem.record, settings.keyed, tuple(warnings))
    return VerifyResult(True, result.rows_checked, records_checked=records, keyed=settings.keyed,
                        warnings=tuple(warnings))


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


SEAL_ACTION = "record.sealed"


def recent(session: Session, *, limit: int = 50, offset: int = 0, target: str | None = None,
           include_seals: bool = False) -> list[AuditEntry]:
    """The latest rows, newest first; the records' seals (one per fact, decision and review) are
    left out unless asked for, so people read what people did."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if not include_seals:
        query = query.where(AuditEntry.action != SEAL_ACTION)
    if target:
        query = query.where(AuditEntry.target == target)
    return list(session.scalars(query))


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": utc_timestamp(entry.at), "actor": entry.actor, "actor_role": entry.actor_role,
            "action": entry.action, "target": entry.target, "details": entry.details,
            "prev_hash": entry.prev_hash, "hash": entry.hash}
