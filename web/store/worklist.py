"""The duty worker's worklist: referrals to send and call-backs to make (human in the loop).

Every decision that refers someone (route `rapid_response`, `mdt` or `voluntary_sector`, a
referral kept in `also`, or a safeguarding `referral`/`urgent`) opens or updates one referral
item for its contact; the duty worker accepts it (the referral is sent) or returns it with
a reason. Only 999 advice goes out without a person acting on it (UK GDPR Article 22).

Order: most urgent first (`rank`), then the earliest deadline, then the oldest.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import nulls_last, select
from sqlalchemy.orm import Session

from spoa.working_days import due_at

from . import audit
from .models import Contact, Review, WorklistItem

REFERRING_ROUTES = ("rapid_response", "mdt", "voluntary_sector")
REFERRING_SAFEGUARDING = ("referral", "urgent")
OPEN = "open"


class WorklistError(ValueError):
    """The item can't take that action (already resolved, or a reason is missing)."""


class ItemNotFound(LookupError):
    pass


def refers(decision: dict) -> bool:
    """Does this decision ask a person to refer someone?"""
    level = (decision.get("safeguarding") or {}).get("level")
    return (decision.get("route") in REFERRING_ROUTES or bool(decision.get("also"))
            or level in REFERRING_SAFEGUARDING)


def rank(route: str | None, safeguarding_level: str | None) -> int:
    """0 is the most urgent: urgent safeguarding, then rapid response, MDT or a
    safeguarding referral, the voluntary sector, anything else."""
    if safeguarding_level == "urgent":
        return 0
    if route == "rapid_response":
        return 1
    if route == "mdt" or safeguarding_level == "referral":
        return 2
    if route == "voluntary_sector":
        return 3
    return 4


def referral_route(decision: dict) -> str | None:
    """The route the referral goes to: the decision's own, else the first follow-up in `also`."""
    if decision.get("route") in REFERRING_ROUTES:
        return decision["route"]
    also = decision.get("also") or []
    return also[0] if also else decision.get("route")


def _open_item(session: Session, contact_id: str, kind: str) -> WorklistItem | None:
    return session.scalar(select(WorklistItem).where(
        WorklistItem.contact_id == contact_id, WorklistItem.kind == kind, WorklistItem.status == OPEN)
        .order_by(WorklistItem.id.desc()).limit(1))


def sync(session: Session, contact: Contact, decision: dict, *, decision_id: int | None, now: datetime,
         route: str | None = None, pathway: str | None = None) -> WorklistItem | None:
    """Open, update or withdraw the contact's referral item after a new decision or override.

    `route`/`pathway` given: an override (a person chose the route); else the decision's.
    """
    item = _open_item(session, contact.id, "referral")
    level = (decision.get("safeguarding") or {}).get("level")
    if route is None:
        wanted = refers(decision)
        route, pathway = referral_route(decision), decision.get("pathway")
        target = decision.get("response_target")
    else:
        wanted = route in REFERRING_ROUTES or level in REFERRING_SAFEGUARDING
        target = decision.get("response_target") if route == decision.get("route") else None
    if not wanted:
        if item is not None:
            item.status, item.updated_at = "superseded", now
        return None
    fields = dict(route=route, pathway=pathway, safeguarding_level=level, response_target=target,
                  due_at=due_at(contact.received_at, target),
                  rank=rank(route, level), decision_id=decision_id, updated_at=now)
    if item is None:
        previous = session.scalar(select(WorklistItem).where(
            WorklistItem.contact_id == contact.id, WorklistItem.kind == "referral")
            .order_by(WorklistItem.id.desc()).limit(1))
        if previous is not None and (previous.route, previous.pathway, previous.safeguarding_level) == (
                route, pathway, level):
            return previous  # already accepted or returned for this same referral
        item = WorklistItem(contact_id=contact.id, kind="referral", status=OPEN, created_at=now, **fields)
        session.add(item)
    else:
        for name, value in fields.items():
            setattr(item, name, value)
    session.flush()
    return item


def request_callback(session: Session, contact: Contact, *, now: datetime, note: str | None = None,
                     response_target: str | None = None) -> WorklistItem:
    """A resident asked to talk to a person: one open call-back item per contact."""
    item = _open_item(session, contact.id, "callback")
    if item is not None:
        return item
    item = WorklistItem(
        contact_id=contact.id, kind="callback", status=OPEN, route=contact.route, pathway=contact.pathway,
        safeguarding_level=contact.safeguarding_level, response_target=response_target,
        due_at=due_at(contact.received_at, response_target),
        rank=rank(contact.route, contact.safeguarding_level), note=(note or "").strip()[:2000] or None,
        created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    return item


def get_item(session: Session, item_id: int, *, for_update: bool = False) -> WorklistItem:
    """The item; `for_update` locks its row (PostgreSQL) so two people can't both resolve it."""
    item = session.get(WorklistItem, item_id, with_for_update=for_update)
    if item is None:
        raise ItemNotFound(f"No worklist item {item_id}.")
    return item


def _resolve(session: Session, item_id: int, *, status: str, action: str, actor: str, actor_role: str | None,
             now: datetime, reason: str | None) -> WorklistItem:
    item = get_item(session, item_id, for_update=True)
    if item.status != OPEN:
        raise WorklistError(f"Worklist item {item_id} is already {item.status}.")
    reason = (reason or "").strip() or None
    if action == "return" and not reason:
        raise WorklistError("A reason is required to return a worklist item.")
    item.status, item.resolved_by, item.resolved_at, item.resolution_reason = status, actor, now, reason
    item.updated_at = now
    session.add(Review(contact_id=item.contact_id, decision_id=item.decision_id, worklist_item_id=item.id,
                       actor=actor, actor_role=actor_role, action=action, route=item.route,
                       pathway=item.pathway, reason=reason, at=now))
    audit.append(session, actor=actor, actor_role=actor_role, action=f"worklist.{action}", target=item.contact_id,
                 details={"item": item.id, "kind": item.kind, "route": item.route}, at=now)
    session.flush()
    return item


def accept(session: Session, item_id: int, *, actor: str, actor_role: str | None, now: datetime,
           note: str | None = None) -> WorklistItem:
    """The duty worker takes the item: the referral is sent (or the call-back made)."""
    return _resolve(session, item_id, status="accepted", action="accept", actor=actor, actor_role=actor_role,
                    now=now, reason=note)


def return_item(session: Session, item_id: int, *, actor: str, actor_role: str | None, now: datetime,
                reason: str) -> WorklistItem:
    """The duty worker sends the item back, with a reason (required)."""
    return _resolve(session, item_id, status="returned", action="return", actor=actor, actor_role=actor_role,
                    now=now, reason=reason)


def list_items(session: Session, *, status: str | None = OPEN, kind: str | None = None, limit: int = 100,
               offset: int = 0) -> list[WorklistItem]:
    """Items, most urgent then the earliest deadline then the oldest first."""
    query = select(WorklistItem)
    if status:
        query = query.where(WorklistItem.status == status)
    if kind:
        query = query.where(WorklistItem.kind == kind)
    query = query.order_by(WorklistItem.rank, nulls_last(WorklistItem.due_at.asc()), WorklistItem.created_at,
                           WorklistItem.id).limit(limit).offset(offset)
    return list(session.scalars(query))


def item_dict(item: WorklistItem, now: datetime) -> dict[str, Any]:
    time_left = (item.due_at - now).total_seconds() if item.due_at is not None else None
    return {
        "id": item.id, "contact_id": item.contact_id, "kind": item.kind, "status": item.status,
        "route": item.route, "pathway": item.pathway, "safeguarding_level": item.safeguarding_level,
        "response_target": item.response_target, "rank": item.rank,
        "due_at": item.due_at.isoformat() if item.due_at else None,
        "time_left_seconds": int(time_left) if time_left is not None else None,
        "overdue": time_left is not None and time_left < 0,
        "note": item.note, "created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat(),
        "resolved_by": item.resolved_by, "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
        "resolution_reason": item.resolution_reason, "decision_id": item.decision_id,
    }
