"""The duty worker's worklist: referrals to send and call-backs to make (human in the loop).

Every decision that refers someone (route `rapid_response`, `mdt` or `voluntary_sector`, a
referral kept in `also`, or a safeguarding `referral`/`urgent`) opens or updates one referral
item for its contact. Only 999 advice goes out without a person acting on it (UK GDPR
Article 22); 999 and self-care outcomes are recorded on the contact, never offered to "send".

An item's life: `open` (waiting) -> `accept` (the referral is sent and the item becomes the
duty worker's own: status `accepted`, `assigned_to`) -> `complete` with an outcome
(`completed_at`). Or `return` with a reason: status `returned`, in the supervisors' queue
until the contact is decided again, when a new item opens. `superseded`: a later decision
no longer refers. A "no" to consent to share (spoa/consent.py) means no item, and that is
recorded in the audit log.

Order: most urgent first (`rank`), then the earliest deadline, then the oldest.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, nulls_last, or_, select, true
from sqlalchemy.orm import Session

from spoa.consent import referral_withheld
from spoa.working_days import due_at

from . import audit
from .models import Contact, Decision, Review, WorklistItem

REFERRING_ROUTES = ("rapid_response", "mdt", "voluntary_sector")
REFERRING_SAFEGUARDING = ("referral", "urgent")
OPEN = "open"
# An override names a route; its deadline is that route's pathway target (config.yml
# `response_targets`, passed in as `targets`), the protocol's defaults when none is given.
DEFAULT_PATHWAYS = {"rapid_response": "ucr", "mdt": "complex_care", "voluntary_sector": "community_support"}
PROTOCOL_TARGETS = {"ucr": "PT2H", "complex_care": "P2D", "community_support": "P5D"}
VIEWS = ("waiting", "open", "mine", "returned", "completed", "all")


class WorklistError(ValueError):
    """The item can't take that action (already resolved, or a reason is missing); `status`
    is the HTTP status that says so (409 for the item's state, 403 for someone else's item)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


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


def override_target(route: str, pathway: str | None, targets: Mapping[str, str | None] | None = None) -> str | None:
    """The response target of a route a person chose: its pathway's, else the route's usual one."""
    targets = targets if targets is not None else PROTOCOL_TARGETS
    for key in (pathway, DEFAULT_PATHWAYS.get(route)):
        if key and targets.get(key):
            return targets[key]
    return PROTOCOL_TARGETS.get(DEFAULT_PATHWAYS.get(route, ""))


def _open_item(session: Session, contact_id: str, kind: str) -> WorklistItem | None:
    return session.scalar(select(WorklistItem).where(
        WorklistItem.contact_id == contact_id, WorklistItem.kind == kind, WorklistItem.status == OPEN)
        .order_by(WorklistItem.id.desc()).limit(1))


def sync(session: Session, contact: Contact, decision: dict, *, decision_id: int | None, now: datetime,
         route: str | None = None, pathway: str | None = None,
         targets: Mapping[str, str | None] | None = None) -> WorklistItem | None:
    """Open, update or withdraw the contact's referral item after a new decision or override.

    `route`/`pathway` given: an override (a person chose the route; the item gets that route's
    deadline, see `override_target`); else the decision's.
    """
    item = _open_item(session, contact.id, "referral")
    level = (decision.get("safeguarding") or {}).get("level")
    if route is None:
        wanted = refers(decision)
        route, pathway = referral_route(decision), decision.get("pathway")
        target = decision.get("response_target")
    else:
        wanted = route in REFERRING_ROUTES or level in REFERRING_SAFEGUARDING
        same = (route, pathway or decision.get("pathway")) == (decision.get("route"), decision.get("pathway"))
        target = decision.get("response_target") if same else override_target(route, pathway, targets)
    stored = session.get(Decision, decision_id) if decision_id is not None else None
    if wanted and referral_withheld(route, decision, stored.facts if stored is not None else {}):
        wanted = False
        audit.append(session, actor="service", action="referral.withheld", target=contact.id,
                     details={"route": route, "reason": "no consent to share", "decision": decision_id}, at=now)
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
                route, pathway, level) and not (previous.status == "returned" and previous.decision_id != decision_id):
            return previous  # already accepted (or returned, and not decided again since)
        item = WorklistItem(contact_id=contact.id, kind="referral", status=OPEN, created_at=now, **fields)
        session.add(item)
        if previous is not None and previous.status == "returned" and previous.completed_at is None:
            # Decided again: the returned item leaves the supervisors' queue, the new one is open.
            previous.completed_at, previous.outcome, previous.updated_at = now, "Decided again: back on the worklist", now
    else:
        for name, value in fields.items():
            setattr(item, name, value)
    session.flush()
    return item


def request_callback(session: Session, contact: Contact, *, now: datetime, note: str | None = None,
                     response_target: str | None = None, most_urgent_rank: int | None = None) -> WorklistItem:
    """A resident asked to talk to a person (or a call dropped): one open call-back item per
    contact. `most_urgent_rank` raises its place (a call that dropped before the emergency
    screen was answered is called back first: unknown never lowers urgency)."""
    item = _open_item(session, contact.id, "callback")
    if item is not None:
        # Asked again (the chat's hand-over, then the number to call): the new words are added.
        extra = (note or "").strip()
        if extra and extra not in (item.note or ""):
            item.note = " ".join(part for part in (item.note, extra) if part)[:2000]
            item.updated_at = now
        return item
    place = rank(contact.route, contact.safeguarding_level)
    item = WorklistItem(
        contact_id=contact.id, kind="callback", status=OPEN, route=contact.route, pathway=contact.pathway,
        safeguarding_level=contact.safeguarding_level, response_target=response_target,
        due_at=due_at(contact.received_at, response_target),
        rank=min(place, most_urgent_rank) if most_urgent_rank is not None else place,
        note=(note or "").strip()[:2000] or None, created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    return item


def has_open_callback(session: Session, contact_id: str) -> bool:
    """A call-back asked for and not yet resolved (the dialogue then asks only the details)."""
    return _open_item(session, contact_id, "callback") is not None


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
        raise WorklistError(f"Worklist item {item_id} is already {item.status}.", status=409)
    reason = (reason or "").strip() or None
    if action == "return" and not reason:
        raise WorklistError("A reason is required to return a worklist item.")
    item.status, item.resolved_by, item.resolved_at, item.resolution_reason = status, actor, now, reason
    item.assigned_to = actor if status == "accepted" else None
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
    """The duty worker takes the item: the referral is sent and the item becomes theirs (or
    the call-back is theirs to make). One transaction, the caller's: whatever else must happen
    when a referral is sent (an outbox message) is written in it too, or nothing is."""
    return _resolve(session, item_id, status="accepted", action="accept", actor=actor, actor_role=actor_role,
                    now=now, reason=note)


def complete(session: Session, item_id: int, *, actor: str, actor_role: str | None, now: datetime,
             outcome: str) -> WorklistItem:
    """The one who accepted the item (or a supervisor) records what came of it; it leaves the list."""
    item = get_item(session, item_id, for_update=True)
    outcome = (outcome or "").strip()
    if item.status != "accepted" or item.completed_at is not None:
        raise WorklistError(f"Worklist item {item_id} is {'completed' if item.completed_at else item.status}: "
                            "only an accepted item can be completed.", status=409)
    if item.assigned_to != actor and actor_role != "supervisor":
        raise WorklistError(f"Worklist item {item_id} is {item.assigned_to}'s; only they or a supervisor can "
                            "complete it.", status=403)
    if not outcome:
        raise WorklistError("Say what the outcome was to complete the item.")
    item.completed_at, item.outcome, item.updated_at = now, outcome[:2000], now
    audit.append(session, actor=actor, actor_role=actor_role, action="worklist.complete", target=item.contact_id,
                 details={"item": item.id, "kind": item.kind, "route": item.route}, at=now)
    session.flush()
    return item


def return_item(session: Session, item_id: int, *, actor: str, actor_role: str | None, now: datetime,
                reason: str) -> WorklistItem:
    """The duty worker sends the item back, with a reason (required)."""
    return _resolve(session, item_id, status="returned", action="return", actor=actor, actor_role=actor_role,
                    now=now, reason=reason)


@dataclass
class WorklistFilter:
    """Which items: a view (`waiting`: open or in someone's hands; `open`; `mine`; `returned`,
    the supervisors' queue; `completed`) and filters, None meaning any."""

    view: str = "waiting"
    actor: str | None = None          # whose items `mine` means
    kind: str | None = None
    route: str | None = None
    locality: str | None = None
    overdue: bool | None = None
    status: str | None = None         # a raw status instead of a view (the API's status=...)


_IN_HAND = and_(WorklistItem.status == "accepted", WorklistItem.completed_at.is_(None))


def _view_clause(view: str, actor: str | None):  # noqa: ANN202
    if view == "waiting":
        return or_(WorklistItem.status == OPEN, _IN_HAND)
    if view == "open":
        return WorklistItem.status == OPEN
    if view == "mine":
        return and_(_IN_HAND, WorklistItem.assigned_to == (actor or ""))
    if view == "returned":
        return and_(WorklistItem.status == "returned", WorklistItem.completed_at.is_(None))
    if view == "completed":
        return WorklistItem.completed_at.is_not(None)
    if view == "all":
        return true()
    raise WorklistError(f"view must be one of {', '.join(VIEWS)}")


def _filtered(query, f: WorklistFilter, now: datetime | None):  # noqa: ANN001, ANN202
    query = query.where(WorklistItem.status == f.status) if f.status else query.where(_view_clause(f.view, f.actor))
    if f.kind:
        query = query.where(WorklistItem.kind == f.kind)
    if f.route:
        query = query.where(WorklistItem.route == f.route)
    if f.locality:
        query = query.where(WorklistItem.contact_id.in_(select(Contact.id).where(Contact.locality == f.locality)))
    if f.overdue is True:
        query = query.where(WorklistItem.due_at < now)
    elif f.overdue is False:
        query = query.where(or_(WorklistItem.due_at.is_(None), WorklistItem.due_at >= now))
    return query


def find_items(session: Session, f: WorklistFilter | None = None, *, now: datetime, page: int = 1,
               per_page: int = 25) -> tuple[list[WorklistItem], int]:
    """One page of matching items, most urgent then the earliest deadline then the oldest,
    and how many match in all (the true count, not the page's)."""
    f = f or WorklistFilter()
    page, per_page = max(1, page), max(1, min(per_page, 200))
    total = session.scalar(_filtered(select(func.count()).select_from(WorklistItem), f, now)) or 0
    return _ordered(session, f, now, limit=per_page, offset=(page - 1) * per_page), total


def _ordered(session: Session, f: WorklistFilter, now: datetime | None, *, limit: int,
             offset: int) -> list[WorklistItem]:
    query = _filtered(select(WorklistItem), f, now).order_by(
        WorklistItem.rank, nulls_last(WorklistItem.due_at.asc()), WorklistItem.created_at, WorklistItem.id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def list_items(session: Session, *, status: str | None = OPEN, kind: str | None = None, limit: int = 100,
               offset: int = 0) -> list[WorklistItem]:
    """Items with a status (any if None), in worklist order."""
    return _ordered(session, WorklistFilter(view="all", status=status, kind=kind), None, limit=limit, offset=offset)


def counts(session: Session, *, now: datetime, actor: str | None) -> dict[str, int]:
    """How many items each view holds, and how many waiting items are overdue (true counts)."""
    result = {view: find_items(session, WorklistFilter(view=view, actor=actor), now=now, per_page=1)[1]
              for view in ("waiting", "open", "mine", "returned")}
    result["overdue"] = find_items(session, WorklistFilter(overdue=True), now=now, per_page=1)[1]
    return result


def item_dict(item: WorklistItem, now: datetime) -> dict[str, Any]:
    done = item.completed_at is not None or item.status in ("returned", "superseded")
    time_left = (item.due_at - now).total_seconds() if item.due_at is not None else None
    return {
        "id": item.id, "contact_id": item.contact_id, "kind": item.kind, "status": item.status,
        "route": item.route, "pathway": item.pathway, "safeguarding_level": item.safeguarding_level,
        "response_target": item.response_target, "rank": item.rank,
        "due_at": item.due_at.isoformat() if item.due_at else None,
        "time_left_seconds": int(time_left) if time_left is not None else None,
        "overdue": time_left is not None and time_left < 0 and not done,
        "note": item.note, "created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat(),
        "resolved_by": item.resolved_by, "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
        "resolution_reason": item.resolution_reason, "decision_id": item.decision_id,
        "assigned_to": item.assigned_to, "completed_at": item.completed_at.isoformat() if item.completed_at else None,
        "outcome": item.outcome,
    }
