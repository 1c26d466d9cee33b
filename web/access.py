"""Who may see or change one contact: the same rules for the pages and the JSON API.

Roles (web/security.py) say what kind of work someone does; these say which contacts that
work touches:
- a supervisor: every contact (they oversee the service, take over calls, override routes);
- an admin: contact records for audit, never the person's details (they run the system);
- a duty worker: contacts with an item on the worklist (the referrals they act on);
- a call handler: the calls they hold in the console;
- the service token (the chat's action server): chat contacts only, for what the dialogue
  does (facts, a call-back, the person's details); it reads nothing back.

Each check answers True or False; the views turn False into 403.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.security import Actor
from web.store.models import ConsoleCall, WorklistItem


def _console_handler(session: Session, contact_id: str) -> str | None:
    call = session.get(ConsoleCall, contact_id)
    return call.handler if call is not None else None


def _on_worklist(session: Session, contact_id: str) -> bool:
    return session.scalar(select(WorklistItem.id).where(WorklistItem.contact_id == contact_id).limit(1)) is not None


def _works_on(session: Session, actor: Actor, contact_id: str) -> bool:
    """Staff whose own work includes this contact."""
    if actor.role == "supervisor":
        return True
    if actor.role == "duty_worker":
        return _on_worklist(session, contact_id)
    if actor.role == "call_handler":
        return _console_handler(session, contact_id) == actor.name
    return False


def may_read_contact(session: Session, actor: Actor, contact_id: str) -> bool:
    """The contact record: facts, decisions, reviews, worklist items."""
    if actor.kind != "staff":
        return False
    return actor.role == "admin" or _works_on(session, actor, contact_id)


def may_read_person(session: Session, actor: Actor, contact_id: str) -> bool:
    """The person's name, address, phones and NHS number."""
    return actor.kind == "staff" and _works_on(session, actor, contact_id)


def may_write_contact(session: Session, actor: Actor, contact_id: str) -> bool:
    """Facts, a call-back request or the person's details: the service token on a chat
    contact (never a call someone is taking in the console), staff who work on it."""
    if actor.kind == "service":
        return _console_handler(session, contact_id) is None
    return actor.kind == "staff" and _works_on(session, actor, contact_id)
