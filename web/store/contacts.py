"""Contacts: store one with its first decision, add facts, review, read back, list.

Functions take the caller's session and never commit: the caller (`Store.run`) commits the
whole unit of work, so a contact and its first decision are saved together or not at all.
The engine (`triage`, see spoa/bootstrap.py) validates and decides; nothing here decides.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoa.dialogue.core import fold_events

from . import audit, worklist
from .models import FACT_SOURCES, Contact, Decision, FactEvent, Review, WorklistItem

# Crockford base32: no I, L, O or U, so a reference read out on the phone is unambiguous.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ROUTES = ("emergency", "rapid_response", "mdt", "voluntary_sector", "self_care", "out_of_scope")


class Triage(Protocol):
    def parse_contact(self, data: Any) -> dict: ...
    def parse_facts(self, facts: Any) -> dict: ...
    def decide(self, contact: dict, now: datetime) -> dict: ...


class ContactNotFound(LookupError):
    """No contact with that reference."""


class ContactClosed(ValueError):
    """The contact is closed: its facts are kept as they were when it was closed."""


class ReviewError(ValueError):
    """A review can't be recorded as asked (unknown action or route, or no reason)."""

    def __init__(self, message: str, field: str | None = None, allowed: list[str] | None = None):
        super().__init__(message)
        self.field, self.allowed = field, allowed


@dataclass
class Outcome:
    """What a store call did: the contact row, the decision, its row id, any worklist item."""

    contact: Contact
    decision: dict
    decision_id: int
    worklist_item: WorklistItem | None = None
    facts: dict = field(default_factory=dict)
    # Protocol 1.1: facts asked and not known (null), and list facts heard only in passing.
    unknown: list = field(default_factory=list)
    partial: list = field(default_factory=list)


def new_reference() -> str:
    """A reference like SPA-7K3Q-9F2M (40 random bits)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"SPA-{chars[:4]}-{chars[4:]}"


def normalise_reference(reference: str) -> str:
    """Accept a reference typed in lower case, with O for 0 or I/L for 1, or without dashes."""
    cleaned = "".join(ch for ch in reference.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) == 11 and cleaned.startswith("SPA"):
        return f"SPA-{cleaned[3:7]}-{cleaned[7:]}"
    return reference


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None


def contact_for_conversation(session: Session, conversation_id: str) -> str | None:
    """The reference of the contact bound to this conversation, if one was stored."""
    return session.scalar(select(Contact.id).where(Contact.conversation_id == conversation_id))


def engine_contact(contact: Contact, facts: dict, partial: list | None = None) -> dict:
    """The contact as the engine reads it (contact.schema.json); `facts` may hold nulls
    (asked, not known) and `partial` the list facts heard only in passing (protocol 1.1)."""
    data = {"contact_id": contact.id, "received_at": iso(contact.received_at), "facts": dict(facts)}
    if contact.channel:
        data["channel"] = contact.channel
    if partial:
        data["partial"] = list(partial)
    return data


def fact_events(session: Session, contact_id: str) -> list[tuple[str, Any, str]]:
    """Every fact event of the contact as (fact, value, source), oldest first."""
    return [tuple(row) for row in session.execute(
        select(FactEvent.fact, FactEvent.value, FactEvent.source)
        .where(FactEvent.contact_id == contact_id).order_by(FactEvent.id))]


def fact_state(session: Session, contact_id: str) -> tuple[dict, list[str]]:
    """(facts with nulls, partial list facts): the contact as a dialogue reads it
    (spoa.dialogue.core.fold_events)."""
    return fold_events(fact_events(session, contact_id))


def _check_source(source: str) -> str:
    if source not in FACT_SOURCES:
        raise ReviewError(f"source must be one of {', '.join(FACT_SOURCES)}", field="source",
                          allowed=list(FACT_SOURCES))
    return source


def _add_fact_events(session: Session, contact_id: str, facts: dict, *, source: str, actor: str,
                     at: datetime) -> None:
    """One event per fact, added through the session so each is sealed (web/store/seal.py)."""
    session.add_all([FactEvent(contact_id=contact_id, fact=name, value=value, source=source, actor=actor, at=at)
                     for name, value in facts.items()])


def _record_decision(session: Session, contact: Contact, decision: dict, facts: dict, now: datetime,
                     refer: bool = True) -> Outcome:
    row = Decision(contact_id=contact.id, decision=decision, facts=facts, route=decision["route"],
                   pathway=decision.get("pathway"), ruleset_version=str(decision.get("ruleset_version", "")),
                   decided_at=now)
    session.add(row)
    contact.route, contact.pathway = decision["route"], decision.get("pathway")
    contact.safeguarding_level = (decision.get("safeguarding") or {}).get("level")
    contact.decision_status = decision.get("status")
    contact.review_required = bool(decision.get("review_required"))
    contact.ruleset_version = row.ruleset_version
    contact.locality = facts.get("locality") if isinstance(facts.get("locality"), str) else None
    contact.updated_at = now
    session.flush()
    # `refer` False: a person confirms this decision later (a call handler at the end of the
    # call), and the referral goes to the worklist then, not while the call is going on.
    item = worklist.sync(session, contact, decision, decision_id=row.id, now=now) if refer else None
    return Outcome(contact=contact, decision=decision, decision_id=row.id, worklist_item=item, facts=facts)


def create_contact(session: Session, triage: Triage, data: Any, *, now: datetime, source: str = "api",
                   actor: str = "service", refer: bool = True, conversation_id: str | None = None,
                   heard: Any = None, locality_words: str | None = None) -> Outcome:
    """Validate, store and decide a new contact (raises spoa.contact.ContactError on bad input).
    `conversation_id` binds it to a web chat's conversation: a second contact for the same
    conversation fails the unique index (sqlalchemy IntegrityError) when flushed. `heard`:
    facts read from free text (see add_facts)."""
    _check_source(source)
    parsed = triage.parse_contact(data)
    facts = {name: value for name, value in (parsed.get("facts") or {}).items() if value is not None}
    received_at = _as_datetime(parsed.get("received_at")) or now
    contact = Contact(id=new_reference(), channel=parsed.get("channel"), received_at=received_at,
                      created_at=now, updated_at=now, status="open", conversation_id=conversation_id,
                      locality_words=_place_words(data.get("facts") if isinstance(data, dict) else None,
                                                  locality_words, triage.config.localities))
    session.add(contact)
    session.flush()
    if heard:
        _add_fact_events(session, contact.id, triage.parse_facts(heard), source="extraction", actor=actor, at=now)
    _add_fact_events(session, contact.id, facts, source=source, actor=actor, at=now)
    session.flush()
    return _decide_again(session, triage, contact, now, refer)


def _place_words(raw_facts: Any, given: str | None, localities: Any) -> str | None:
    """The place as the person gave it: from the dialogue (`given`), or the raw `locality` a
    client sent, unless it was a configured locality id already."""
    if isinstance(given, str) and given.strip():
        return " ".join(given.split())
    raw = raw_facts.get("locality") if isinstance(raw_facts, dict) else None
    if isinstance(raw, str) and raw.strip() and raw not in localities:
        return " ".join(raw.split())
    return None


def lock_contact(session: Session, contact_id: str) -> Contact:
    """The contact, its row locked until commit (PostgreSQL; SQLite writes are serialised anyway)."""
    contact = session.scalar(select(Contact).where(Contact.id == normalise_reference(contact_id))
                             .with_for_update())
    if contact is None:
        raise ContactNotFound(f"No contact {contact_id}.")
    return contact


def get_contact(session: Session, contact_id: str) -> Contact:
    contact = session.get(Contact, normalise_reference(contact_id))
    if contact is None:
        raise ContactNotFound(f"No contact {contact_id}.")
    return contact


def current_facts(session: Session, contact_id: str) -> dict:
    """The latest value of every fact (a later event corrects an earlier one; null = unknown)."""
    facts: dict[str, Any] = {}
    for name, value in session.execute(select(FactEvent.fact, FactEvent.value)
                                       .where(FactEvent.contact_id == contact_id).order_by(FactEvent.id)):
        facts[name] = value
    return {name: value for name, value in facts.items() if value is not None}


def add_facts(session: Session, triage: Triage, contact_id: str, facts: Any, *, now: datetime,
              source: str = "api", actor: str = "service", refer: bool = True, heard: Any = None,
              locality_words: str | None = None) -> Outcome:
    """Add or correct facts (null makes a fact unknown again) and decide again. `heard`: facts
    read from free text, stored with source "extraction" (a list among them is partial).
    `locality_words`: the place as the person said it, when `facts` has the locality resolved from it."""
    _check_source(source)
    contact = lock_contact(session, contact_id)  # PostgreSQL: one fact update per contact at a time
    if contact.status != "open":
        # A closed contact's decision was confirmed by a person: a later answer must not
        # silently clear a red flag under it (a new contact is made instead).
        raise ContactClosed(f"Contact {contact.id} is closed; its facts can't be changed.")
    if heard:
        _add_fact_events(session, contact.id, triage.parse_facts(heard), source="extraction", actor=actor, at=now)
    parsed = triage.parse_facts(facts)
    words = _place_words(facts, locality_words, triage.config.localities)
    if words is not None:
        contact.locality_words = words
    # parse_facts drops nulls; here a null is an answer ("not known after all") and is kept.
    cleared = {name: None for name, value in facts.items() if value is None and name not in parsed}
    _add_fact_events(session, contact.id, {**cleared, **parsed}, source=source, actor=actor, at=now)
    # Flushed before folding: on SQLite the write lock is now held, so no other write can interleave.
    session.flush()
    return _decide_again(session, triage, contact, now, refer)


def _decide_again(session: Session, triage: Triage, contact: Contact, now: datetime, refer: bool) -> Outcome:
    state, partial = fact_state(session, contact.id)
    folded = {name: value for name, value in state.items() if value is not None}
    decision = triage.decide(engine_contact(contact, state, partial), now)
    outcome = _record_decision(session, contact, decision, folded, now, refer)
    outcome.unknown = [name for name, value in state.items() if value is None]
    outcome.partial = partial
    return outcome


def latest_decision(session: Session, contact_id: str) -> Decision | None:
    return session.scalar(select(Decision).where(Decision.contact_id == contact_id)
                          .order_by(Decision.id.desc()).limit(1))


def review(session: Session, contact_id: str, *, action: str, actor: str, actor_role: str | None, now: datetime,
           route: str | None = None, pathway: str | None = None, reason: str | None = None,
           targets: dict | None = None) -> Review:
    """A person confirms the current decision, or overrides its route (a reason is required);
    an overridden referral gets the new route's deadline (`targets`: config.yml response_targets)."""
    if action not in ("confirm", "override"):
        raise ReviewError("action must be confirm or override", field="action", allowed=["confirm", "override"])
    contact = lock_contact(session, contact_id)
    decision = latest_decision(session, contact.id)
    if decision is None:
        raise ContactNotFound(f"Contact {contact_id} has no decision to review.")
    reason = (reason or "").strip() or None
    if action == "override":
        if route not in ROUTES:
            raise ReviewError(f"route must be one of {', '.join(ROUTES)}", field="route", allowed=list(ROUTES))
        if not reason:
            raise ReviewError("A reason is required to override a decision.", field="reason")
    else:
        route, pathway = contact.route, contact.pathway
    row = Review(contact_id=contact.id, decision_id=decision.id, actor=actor, actor_role=actor_role, action=action,
                 route=route, pathway=pathway, reason=reason, at=now)
    session.add(row)
    # A person has looked at this decision (agreeing or not): it no longer waits for review.
    # The next decision made on new facts sets it again if its rules ask for one.
    contact.review_required, contact.updated_at = False, now
    if action == "override":
        contact.route, contact.pathway, contact.overridden = route, pathway, True
        worklist.sync(session, contact, decision.decision, decision_id=decision.id, now=now,
                      route=route, pathway=pathway, targets=targets)
    audit.append(session, actor=actor, actor_role=actor_role, action=f"contact.{action}", target=contact.id,
                 details={"decision": decision.id, "from_route": decision.route, "to_route": route}, at=now)
    session.flush()
    return row


def redecide(session: Session, triage: Triage, contact_id: str, *, actor: str, actor_role: str | None,
             now: datetime) -> Outcome:
    """Decide the contact again on its current facts (a supervisor, after a referral was
    returned): a new decision row, and the referral comes back to the worklist if it still refers."""
    contact = lock_contact(session, contact_id)
    facts = current_facts(session, contact.id)
    decision = triage.decide(engine_contact(contact, facts), now)
    outcome = _record_decision(session, contact, decision, facts, now)
    audit.append(session, actor=actor, actor_role=actor_role, action="contact.redecide", target=contact.id,
                 details={"decision": outcome.decision_id, "route": decision["route"]}, at=now)
    return outcome


def close_contact(session: Session, contact_id: str, *, now: datetime) -> Contact:
    contact = lock_contact(session, contact_id)
    contact.status, contact.updated_at = "closed", now
    return contact


# -- reading back ----------------------------------------------------------------------------

def contact_summary(contact: Contact) -> dict[str, Any]:
    return {"id": contact.id, "channel": contact.channel, "received_at": iso(contact.received_at),
            "status": contact.status, "locality": contact.locality, "locality_words": contact.locality_words,
            "route": contact.route,
            "pathway": contact.pathway, "safeguarding_level": contact.safeguarding_level,
            "decision_status": contact.decision_status, "review_required": contact.review_required,
            "overridden": contact.overridden, "ruleset_version": contact.ruleset_version,
            "updated_at": iso(contact.updated_at)}


def contact_record(session: Session, contact_id: str, *, now: datetime) -> dict[str, Any]:
    """Everything about one contact: what was known when, each decision, each review, worklist."""
    contact = get_contact(session, contact_id)
    events = session.scalars(select(FactEvent).where(FactEvent.contact_id == contact.id).order_by(FactEvent.id))
    decisions = session.scalars(select(Decision).where(Decision.contact_id == contact.id).order_by(Decision.id))
    reviews = session.scalars(select(Review).where(Review.contact_id == contact.id).order_by(Review.id))
    items = session.scalars(select(WorklistItem).where(WorklistItem.contact_id == contact.id)
                            .order_by(WorklistItem.id))
    return {
        **contact_summary(contact),
        "facts": current_facts(session, contact.id),
        "fact_events": [{"id": e.id, "fact": e.fact, "value": e.value, "source": e.source, "actor": e.actor,
                         "at": iso(e.at)} for e in events],
        "decisions": [{"id": d.id, "decided_at": iso(d.decided_at), "ruleset_version": d.ruleset_version,
                       "route": d.route, "pathway": d.pathway, "decision": d.decision, "facts": d.facts}
                      for d in decisions],
        "reviews": [{"id": r.id, "action": r.action, "actor": r.actor, "actor_role": r.actor_role,
                     "route": r.route, "pathway": r.pathway, "reason": r.reason, "at": iso(r.at),
                     "decision_id": r.decision_id, "worklist_item_id": r.worklist_item_id} for r in reviews],
        "worklist": [worklist.item_dict(item, now) for item in items],
    }


@dataclass
class ContactFilter:
    """Filters for the supervisor's contact list; None means "any"."""

    date_from: date | None = None      # received on or after this day (UTC)
    date_to: date | None = None        # received on or before this day (UTC)
    route: str | None = None
    pathway: str | None = None
    safeguarding_level: str | None = None
    review_required: bool | None = None
    overridden: bool | None = None
    locality: str | None = None
    channel: str | None = None
    status: str | None = None


def _filtered(query, f: ContactFilter):  # noqa: ANN001, ANN202
    if f.date_from:
        query = query.where(Contact.received_at >= datetime.combine(f.date_from, time.min, timezone.utc))
    if f.date_to:
        query = query.where(Contact.received_at < datetime.combine(f.date_to + timedelta(days=1), time.min,
                                                                   timezone.utc))
    for name in ("route", "pathway", "safeguarding_level", "review_required", "overridden", "locality",
                 "channel", "status"):
        value = getattr(f, name)
        if value is not None and value != "":
            query = query.where(getattr(Contact, name) == value)
    return query


def list_contacts(session: Session, filters: ContactFilter | None = None, *, page: int = 1,
                  per_page: int = 50) -> tuple[list[Contact], int]:
    """One page of contacts (newest first) matching the filters, and the total count."""
    filters = filters or ContactFilter()
    page, per_page = max(1, page), max(1, min(per_page, 500))
    total = session.scalar(_filtered(select(func.count()).select_from(Contact), filters)) or 0
    rows = session.scalars(_filtered(select(Contact), filters)
                           .order_by(Contact.received_at.desc(), Contact.id)
                           .limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def iter_contacts(session: Session, filters: ContactFilter | None = None):  # noqa: ANN201
    """Every matching contact, oldest first, streamed (for CSV export and replay)."""
    query = _filtered(select(Contact), filters or ContactFilter()).order_by(Contact.received_at, Contact.id)
    return session.scalars(query.execution_options(yield_per=500))


def count_contacts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Contact)) or 0
