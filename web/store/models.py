"""The tables (SQLAlchemy 2 declarative models).

What was known, decided and done is kept as append-only rows: `fact_events`, `decisions`,
`reviews` and `audit_log` are never updated or deleted (database triggers forbid it, see the
initial migration). `contacts` and `worklist_items` hold the *current* state derived from
those rows, so lists can be filtered and ordered cheaply.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, MetaData,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

ROLES = ("call_handler", "duty_worker", "supervisor", "admin")
FACT_SOURCES = ("chat", "console", "extraction", "api")
REVIEW_ACTIONS = ("confirm", "override", "accept", "return")
CONTACT_STATUSES = ("open", "closed")
WORKLIST_KINDS = ("referral", "callback")
WORKLIST_STATUSES = ("open", "accepted", "returned", "superseded")
OUTBOX_STATUSES = ("pending", "sending", "delivered", "dead", "email")
GENESIS_HASH = "0" * 64


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware (UTC) datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class User(Base):
    """A member of staff who can log in."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contact(Base):
    """One contact with the service; its reference is the id people read out (SPA-7K3Q-9F2M)."""

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(_in("status", CONTACT_STATUSES), name="status"),
        Index("ix_contacts_received_at", "received_at"),
        Index("ix_contacts_route", "route"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="open")
    # A configured locality id, or a place recognised as outside the area (SCOPE-2, 1.1); Text,
    # as is the person's own words for it (the place as given), shown to staff. SQLite ignores
    # VARCHAR lengths, so there the column keeps its first declaration (migration 0003).
    locality: Mapped[str | None] = mapped_column(Text().with_variant(String(64), "sqlite"))
    locality_words: Mapped[str | None] = mapped_column(Text)
    # The current decision, summarised (the full decision is in `decisions`).
    route: Mapped[str | None] = mapped_column(String(20))
    pathway: Mapped[str | None] = mapped_column(String(32))
    safeguarding_level: Mapped[str | None] = mapped_column(String(10))
    decision_status: Mapped[str | None] = mapped_column(String(12))
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    ruleset_version: Mapped[str | None] = mapped_column(String(80))
    # The web chat's conversation this contact belongs to: at most one contact per
    # conversation, enforced by a unique index (migration 0004_serving).
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)


class FactEvent(Base):
    """One fact answer (append-only): the latest event per fact is the current value."""

    __tablename__ = "fact_events"
    __table_args__ = (CheckConstraint(_in("source", FACT_SOURCES), name="source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    fact: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Decision(Base):
    """One decision made for a contact (append-only), with the facts it was made on."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    decision: Mapped[dict[str, Any]]
    facts: Mapped[dict[str, Any]]
    route: Mapped[str] = mapped_column(String(20))
    pathway: Mapped[str | None] = mapped_column(String(32))
    ruleset_version: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Base):
    """A person's action on a decision (append-only): confirm, override, accept or return."""

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint(_in("action", REVIEW_ACTIONS), name="action"),
        # An override or a return without a reason is refused by the database itself.
        CheckConstraint("action NOT IN ('override', 'return') OR length(trim(coalesce(reason, ''))) > 0",
                        name="reason_required"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    worklist_item_id: Mapped[int | None] = mapped_column(ForeignKey("worklist_items.id"))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(10))
    route: Mapped[str | None] = mapped_column(String(20))
    pathway: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class WorklistItem(Base):
    """Something a duty worker must pick up: a referral to send, or a call-back to make."""

    __tablename__ = "worklist_items"
    __table_args__ = (
        CheckConstraint(_in("kind", WORKLIST_KINDS), name="kind"),
        CheckConstraint(_in("status", WORKLIST_STATUSES), name="status"),
        Index("ix_worklist_items_status_rank", "status", "rank", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default="open")
    route: Mapped[str | None] = mapped_column(String(20))
    pathway: Mapped[str | None] = mapped_column(String(32))
    safeguarding_level: Mapped[str | None] = mapped_column(String(10))
    response_target: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    rank: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None]
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    # Accepting makes the item the duty worker's own; completing it records the outcome (0005).
    assigned_to: Mapped[str | None] = mapped_column(String(64), index=True)
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class ConsoleCall(Base):
    """A call taken in the call-handler console: which handler holds it, who is calling and
    about whom (as the handler typed them, to tell open calls apart), and the free-text notes."""

    __tablename__ = "console_calls"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    handler: Mapped[str] = mapped_column(String(64), index=True)
    caller_name: Mapped[str | None] = mapped_column(String(80))
    about: Mapped[str | None] = mapped_column(String(80))
    notes: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # "ended_early": the call dropped before triage finished (closed with what was known).
    close_reason: Mapped[str | None] = mapped_column(String(40))


class PersonDetails(Base):
    """The person a contact is about and how to reach them (spoa/person.py checks each field).

    Kept apart from the triage facts: the engine never reads them, only the roles that act on
    a referral see them, and `spoa erase` (or the retention setting) replaces them with a
    pseudonym (`erased_at` set, `details` emptied)."""

    __tablename__ = "person_details"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    details: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime | None]
    pseudonym: Mapped[str | None] = mapped_column(String(40))


class ContactWords(Base):
    """What the person said in their own words (a chat message), for the duty worker."""

    __tablename__ = "contact_words"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class OutboxMessage(Base):
    """A referral message to a receiving team, written in the same transaction as the accept
    (transactional outbox) and delivered by `spoa outbox run`.

    `message_id` is the MessageHeader id: the idempotency key, so a retry is never a second
    referral. Status: pending (due at next_attempt_at) -> sending (claimed by one dispatcher
    until claimed_until) -> delivered, or back to pending with a backoff, or dead after the last
    attempt (a supervisor can retry it). `email`: the team has no endpoint; the duty worker
    sends `summary` by email.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    worklist_item_id: Mapped[int | None] = mapped_column(ForeignKey("worklist_items.id"))
    reason: Mapped[str] = mapped_column(String(8))
    team_id: Mapped[str] = mapped_column(String(120))
    team_name: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str | None] = mapped_column(String(500))
    auth_env: Mapped[str | None] = mapped_column(String(80))
    bundle: Mapped[dict[str, Any]]
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class AuditEntry(Base):
    """A staff (or service) action, hash-chained: hash = HMAC-SHA256(key, prev_hash + canonical
    content); `record.sealed` rows seal the fact events, decisions and reviews (web/store/seal.py)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The one row that serialises appends and remembers the chain's end (catches a cut tail)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    # Rows before these were written before the chain was keyed / the records sealed (0008).
    keyed_from: Mapped[int] = mapped_column(Integer, default=1)
    sealed_from: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)


class IdempotencyKey(Base):
    """An `Idempotency-Key` a caller sent with a create, and what it created (a retried
    request gets the first answer back instead of a second contact)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(120))      # the endpoint and the caller
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime]


APPEND_ONLY_TABLES = ("fact_events", "decisions", "reviews", "audit_log")
