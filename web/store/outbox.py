"""The transactional outbox: referral messages written with the accept, delivered later.

`enqueue` runs inside the accept's transaction, so a referral is accepted and its message
stored together or not at all. A dispatcher (web/outbox_dispatcher.py) `claim`s due messages
and commits the claim before it sends, so no row lock is held over a network call; then it
`record`s the answer. Claims never overlap: on PostgreSQL the due rows are read with
SELECT ... FOR UPDATE SKIP LOCKED, and on both backends the claim itself is a conditional
UPDATE (status still due) that only one dispatcher can win. A dispatcher that dies mid-send
leaves its claim to expire; the message is sent again with the same MessageHeader id, which
the receiver de-duplicates (the idempotency key).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from spoa.delivery import DeliveryPolicy, outcome
from spoa.fhir import message_problems, without_person

from . import audit
from .models import OutboxMessage

ERROR_CHARS = 2000


class OutboxError(ValueError):
    """The message can't take that action (e.g. a retry of one that isn't dead-lettered)."""


def enqueue(session: Session, *, contact_id: str, worklist_item_id: int | None, message_id: str, reason: str,
            team_id: str, team_name: str, endpoint: str | None, auth_env: str | None, bundle: dict,
            summary: str | None, policy: DeliveryPolicy, now: datetime) -> OutboxMessage:
    """Store a message to send. A team with no endpoint gets the email summary instead; a
    message that fails our own check is dead-lettered at once, with the problems, for a
    supervisor to see (the accept itself still stands)."""
    problems = message_problems(bundle)
    status = "dead" if problems else ("email" if not endpoint else "pending")
    message = OutboxMessage(
        message_id=message_id, contact_id=contact_id, worklist_item_id=worklist_item_id, reason=reason,
        team_id=team_id, team_name=team_name, endpoint=endpoint, auth_env=auth_env, bundle=bundle,
        summary=summary, status=status, attempts=0, max_attempts=policy.max_attempts, next_attempt_at=now,
        last_error=("invalid message: " + "; ".join(problems))[:ERROR_CHARS] if problems else None,
        created_at=now, updated_at=now)
    session.add(message)
    session.flush()
    return message


def _due(now: datetime):  # noqa: ANN202
    return or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now))


def claim(session: Session, *, worker: str, now: datetime, lease: timedelta, limit: int = 10) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for `worker` (the caller commits before sending)."""
    ids = list(session.scalars(select(OutboxMessage.id).where(_due(now))
                               .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
                               .with_for_update(skip_locked=True)))
    claimed = []
    for message_id in ids:
        result = session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, _due(now))
            .values(status="sending", claimed_by=worker, claimed_until=now + lease,
                    attempts=OutboxMessage.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(message_id)
    return [session.get(OutboxMessage, message_id, populate_existing=True) for message_id in claimed]


def record(session: Session, message_id: int, *, worker: str, now: datetime, status_code: int | None,
           error: str | None, policy: DeliveryPolicy) -> OutboxMessage:
    """What happened when `worker` sent the message: delivered, to retry later, or dead."""
    message = session.get(OutboxMessage, message_id, with_for_update=True, populate_existing=True)
    verdict = outcome(status_code)
    message.last_status_code = status_code
    if verdict == "delivered":
        if message.status != "delivered":
            message.status, message.delivered_at, message.last_error = "delivered", now, None
    elif message.status == "sending" and message.claimed_by == worker:  # else another dispatcher took over
        message.last_error = (error or f"HTTP {status_code}")[:ERROR_CHARS]
        message.max_attempts = policy.max_attempts  # the running dispatcher's policy decides
        if verdict == "refused" or message.attempts >= message.max_attempts:
            message.status = "dead"
            audit.append(session, actor="outbox", action="outbox.dead_letter", target=message.contact_id,
                         details={"message": message.message_id, "team": message.team_id,
                                  "attempts": message.attempts, "status_code": status_code}, at=now)
        else:
            message.status, message.next_attempt_at = "pending", now + policy.backoff(message.attempts)
    else:
        return message
    message.claimed_by, message.claimed_until, message.updated_at = None, None, now
    session.flush()
    return message


def _act(session: Session, outbox_id: int, *, expected: str, refusal: str, action: str, actor: str,
         actor_role: str | None, now: datetime) -> OutboxMessage:
    """A person's action on a message in the `expected` state (row locked; audit-logged)."""
    message = session.get(OutboxMessage, outbox_id, with_for_update=True)
    if message is None:
        raise LookupError(f"No outbox message {outbox_id}.")
    if message.status != expected:
        raise OutboxError(f"Message {outbox_id} is {message.status}; {refusal}")
    message.updated_at = now
    audit.append(session, actor=actor, actor_role=actor_role, action=action, target=message.contact_id,
                 details={"message": message.message_id, "team": message.team_id}, at=now)
    return message


def retry(session: Session, outbox_id: int, *, actor: str, actor_role: str | None, now: datetime) -> OutboxMessage:
    """A supervisor sends a dead-lettered message again (same MessageHeader id)."""
    message = _act(session, outbox_id, expected="dead", refusal="only a dead-lettered message can be sent again.",
                   action="outbox.retry", actor=actor, actor_role=actor_role, now=now)
    message.status, message.attempts, message.next_attempt_at = "pending", 0, now
    session.flush()
    return message


def mark_emailed(session: Session, outbox_id: int, *, actor: str, actor_role: str | None, now: datetime) -> OutboxMessage:
    """The duty worker sent the email summary to a team with no endpoint: it is delivered."""
    message = _act(session, outbox_id, expected="email", refusal="only one waiting for an email can be marked sent.",
                   action="outbox.emailed", actor=actor, actor_role=actor_role, now=now)
    message.status, message.delivered_at = "delivered", now
    session.flush()
    return message


def forget_person(session: Session, contact_id: str, pseudonym: str) -> int:
    """The person's details are erased (web.store.people.erase): so are they from every message
    kept for the contact (the Patient keeps only the pseudonym; the email summary goes)."""
    messages = for_contact(session, contact_id)
    for message in messages:
        message.bundle, message.summary = without_person(message.bundle, pseudonym), None
    session.flush()
    return len(messages)


def list_messages(session: Session, *, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    query = select(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query.order_by(OutboxMessage.updated_at.desc(), OutboxMessage.id.desc()).limit(limit)))


def for_contact(session: Session, contact_id: str) -> list[OutboxMessage]:
    """The contact's messages, newest first."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.contact_id == contact_id)
                                .order_by(OutboxMessage.id.desc())))


def latest_by_item(session: Session, item_ids: Iterable[int]) -> dict[int, OutboxMessage]:
    """The newest message of each worklist item (for the worklist's delivery column)."""
    ids = list(item_ids)
    if not ids:
        return {}
    latest: dict[int, OutboxMessage] = {}
    for message in session.scalars(select(OutboxMessage).where(OutboxMessage.worklist_item_id.in_(ids))
                                   .order_by(OutboxMessage.id)):
        latest[message.worklist_item_id] = message
    return latest


STATUS_WORDS = {"pending": "Waiting to send", "sending": "Sending", "delivered": "Delivered",
                "dead": "Not delivered", "email": "Send by email"}


def message_dict(message: OutboxMessage) -> dict[str, Any]:
    """A message's delivery state (not its content) for pages and the API."""
    return {"id": message.id, "message_id": message.message_id, "contact_id": message.contact_id,
            "worklist_item_id": message.worklist_item_id, "reason": message.reason, "team": message.team_name,
            "status": message.status, "status_text": STATUS_WORDS[message.status], "attempts": message.attempts,
            "max_attempts": message.max_attempts, "last_error": message.last_error,
            "last_status_code": message.last_status_code,
            "next_attempt_at": message.next_attempt_at.isoformat() if message.status == "pending" else None,
            "delivered_at": message.delivered_at.isoformat() if message.delivered_at else None,
            "created_at": message.created_at.isoformat()}
