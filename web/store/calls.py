"""No call is lost: open console calls seen by supervisors, taken over, or closed as dropped.

A referral made on the phone reaches the worklist when the call handler closes the call
(web/console_service.close_call). A call left open (a browser closed, a shift ended) would
never get there, so:
- every open call is listed for supervisors (`open_calls`), and one decided to a referral
  but untouched for longer than the setting (config.yml `referrals.open_call_alert_minutes`,
  default 15) is flagged `needs_attention`, with what was decided;
- a supervisor can take over any open call (`take_over`: it becomes theirs in the console);
- a call that dropped can be closed as "call ended before triage finished" (`close_dropped`)
  with what is known: it goes to the call-back queue, called back first when the emergency
  screen was not finished (unknown never lowers urgency).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoa.vocabulary import EMERGENCY_SCREEN

from . import audit, contacts, people, worklist
from .models import ConsoleCall, Contact, WorklistItem

DEFAULT_ALERT_MINUTES = 15
DROPPED = "ended_early"
DROPPED_WORDS = "Call ended before triage finished"
SUPERVISING_ROLES = ("supervisor",)


class CallError(ValueError):
    """The call can't take that action (closed already, or not yours)."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def open_calls(session: Session, *, now: datetime, alert_after: timedelta = timedelta(minutes=DEFAULT_ALERT_MINUTES)
               ) -> list[dict[str, Any]]:
    """Every open console call, those needing a supervisor first, then the oldest."""
    rows = session.execute(select(ConsoleCall, Contact).join(Contact, Contact.id == ConsoleCall.contact_id)
                           .where(Contact.status == "open").order_by(ConsoleCall.started_at, Contact.id)).all()
    calls = []
    for call, contact in rows:
        decided = contacts.latest_decision(session, contact.id)
        refers = decided is not None and worklist.refers(decided.decision)
        idle = now - call.updated_at
        calls.append({
            "contact_id": contact.id, "handler": call.handler, "started_at": contacts.iso(call.started_at),
            "last_activity_at": contacts.iso(call.updated_at), "idle_minutes": int(idle.total_seconds() // 60),
            "route": contact.route, "pathway": contact.pathway, "safeguarding_level": contact.safeguarding_level,
            "decision_status": contact.decision_status,
            "response_target": decided.decision.get("response_target") if decided is not None else None,
            "refers": refers, "needs_attention": refers and idle > alert_after,
        })
    calls.sort(key=lambda c: (not c["needs_attention"], c["started_at"]))
    return calls


def _open_call(session: Session, contact_id: str) -> tuple[Contact, ConsoleCall]:
    contact = contacts.lock_contact(session, contact_id)
    call = session.get(ConsoleCall, contact.id)
    if call is None:
        raise CallError(f"{contact.id} is not a console call.", status=404)
    if contact.status != "open":
        raise CallError(f"Call {contact.id} is closed already.")
    return contact, call


def take_over(session: Session, contact_id: str, *, actor: str, actor_role: str | None, now: datetime) -> ConsoleCall:
    """A supervisor takes an open call: it becomes theirs to finish in the console."""
    contact, call = _open_call(session, contact_id)
    previous, call.handler, call.updated_at = call.handler, actor, now
    audit.append(session, actor=actor, actor_role=actor_role, action="console.take_over", target=contact.id,
                 details={"from": previous}, at=now)
    session.flush()
    return call


def close_dropped(session: Session, contact_id: str, *, actor: str, actor_role: str | None, now: datetime,
                  note: str | None = None) -> WorklistItem:
    """Close a call that ended before triage finished, with what is known (the facts and the
    decision so far stay): a call-back goes on the worklist, with the number to ring where
    one was taken. Only the call's handler or a supervisor may do this."""
    contact, call = _open_call(session, contact_id)
    if call.handler != actor and actor_role not in SUPERVISING_ROLES:
        raise CallError(f"Call {contact.id} is {call.handler}'s; only they or a supervisor can close it.", status=403)
    facts = contacts.current_facts(session, contact.id)
    screen_done = contact.route == "emergency" or all(fact in facts for fact in EMERGENCY_SCREEN)
    number = people.caller_phone(session, contact.id)
    lines = [f"{DROPPED_WORDS}."]
    if not screen_done:
        lines.append("The emergency questions were not all answered: call back now.")
    lines.append("Ring the number in the person's details." if number else
                 "No phone number was taken: check the notes and the details.")
    if note and note.strip():
        lines.append(note.strip())
    decided = contacts.latest_decision(session, contact.id)
    target = "PT0M" if not screen_done else (decided.decision.get("response_target") if decided else None)
    item = worklist.request_callback(session, contact, now=now, note=" ".join(lines), response_target=target,
                                     most_urgent_rank=0 if not screen_done else None)
    call.close_reason, call.updated_at = DROPPED, now
    contacts.close_contact(session, contact.id, now=now)
    audit.append(session, actor=actor, actor_role=actor_role, action="console.dropped", target=contact.id,
                 details={"route": contact.route, "item": item.id, "emergency_screen_done": screen_done}, at=now)
    session.flush()
    return item
