"""The person's details and their own words: saved, read back, erased (store side of spoa/person.py).

Who may read or write them is decided in the views (web/blueprints/api.py, `may_see_person`);
here every read and write is audit-logged by field *name* only, never a value, so neither the
audit log nor the application log ever holds a name, address or number.

Erasure (`erase`, `spoa erase CONTACT`, and `erase_expired` for the retention setting) empties
the details, the person's words and the console's caller labels and notes, and leaves a
pseudonym: the audit log's rows name only the contact's reference, so its hash chain is kept
whole, and the erasure itself is one more row in it.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from spoa import person

from . import audit, outbox
from .contacts import get_contact, iso
from .models import ConsoleCall, Contact, ContactWords, PersonDetails

WORDS_MAX = 5000


class PersonErased(ValueError):
    """The person's details were erased; nothing more is kept for this contact."""


def _row(session: Session, contact_id: str) -> PersonDetails | None:
    return session.get(PersonDetails, contact_id)


def save_details(session: Session, contact_id: str, data: Any, *, actor: str, actor_role: str | None,
                 now: datetime, today: date) -> dict[str, Any]:
    """Check (spoa.person.parse_person, every bad field at once) and merge the details given
    into what is kept; a blank or null field clears it. Returns what `read_details` returns."""
    contact = get_contact(session, contact_id)
    parsed = person.parse_person(data, today=today)
    row = session.get(PersonDetails, contact.id, with_for_update=True)
    if row is not None and row.erased_at is not None:
        raise PersonErased(f"The person's details for {contact.id} were erased; they can't be added again.")
    merged = {**(row.details if row is not None else {}), **parsed}
    merged = {name: value for name, value in merged.items() if value is not None}
    if row is None:
        row = PersonDetails(contact_id=contact.id, details=merged, updated_at=now, updated_by=actor)
        session.add(row)
    else:
        row.details, row.updated_at, row.updated_by = merged, now, actor
    audit.append(session, actor=actor, actor_role=actor_role, action="person.update", target=contact.id,
                 details={"fields": sorted(parsed)}, at=now)
    session.flush()
    return details_dict(row)


def details_dict(row: PersonDetails | None) -> dict[str, Any]:
    details = dict(row.details) if row is not None else {}
    return {"details": details, "display": person.display(details),
            "missing_for_referral": [] if row is not None and row.erased_at else person.missing_for_referral(details),
            "erased": bool(row is not None and row.erased_at), "pseudonym": row.pseudonym if row is not None else None,
            "updated_at": iso(row.updated_at) if row is not None else None,
            "updated_by": row.updated_by if row is not None else None}


def read_details(session: Session, contact_id: str, *, actor: str, actor_role: str | None,
                 now: datetime) -> dict[str, Any]:
    """The details as kept (empty if none yet); the read is audit-logged."""
    contact = get_contact(session, contact_id)
    audit.append(session, actor=actor, actor_role=actor_role, action="person.view", target=contact.id,
                 details={}, at=now)
    return details_dict(_row(session, contact.id))


def caller_phone(session: Session, contact_id: str) -> str | None:
    """The number to call back on: the caller's, else the person's (None if neither is known)."""
    row = _row(session, contact_id)
    details = row.details if row is not None else {}
    return details.get("caller_phone") or details.get("phone") or details.get("phone_other")


def record_words(session: Session, contact_id: str, text: str | None, *, source: str, now: datetime) -> None:
    """Keep a message in the person's own words (the duty worker reads them on the referral)."""
    text = (text or "").strip()
    if not text:
        return
    row = _row(session, contact_id)
    if row is not None and row.erased_at is not None:
        return
    session.add(ContactWords(contact_id=contact_id, source=source, text=text[:WORDS_MAX], at=now))


def words(session: Session, contact_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(ContactWords).where(ContactWords.contact_id == contact_id)
                           .order_by(ContactWords.id))
    return [{"source": row.source, "text": row.text, "at": iso(row.at)} for row in rows]


def erase(session: Session, contact_id: str, *, actor: str, actor_role: str | None, now: datetime) -> str:
    """Replace the person's details with a pseudonym; remove their words and the console's
    caller labels and notes. The triage facts, decisions and audit rows stay (they name no one).
    Returns the pseudonym (the same one if already erased)."""
    contact = get_contact(session, contact_id)
    row = session.get(PersonDetails, contact.id, with_for_update=True)
    if row is not None and row.erased_at is not None:
        return row.pseudonym or ""
    pseudonym = f"PERSON-{secrets.token_hex(5).upper()}"
    if row is None:
        row = PersonDetails(contact_id=contact.id, details={}, updated_at=now, updated_by=actor)
        session.add(row)
    row.details, row.erased_at, row.pseudonym, row.updated_at, row.updated_by = {}, now, pseudonym, now, actor
    session.execute(delete(ContactWords).where(ContactWords.contact_id == contact.id))
    session.execute(update(ConsoleCall).where(ConsoleCall.contact_id == contact.id)
                    .values(caller_name=None, about=None, notes=None))
    outbox.forget_person(session, contact.id, pseudonym)  # the referral messages kept for it
    audit.append(session, actor=actor, actor_role=actor_role, action="person.erase", target=contact.id,
                 details={"pseudonym": pseudonym}, at=now)
    session.flush()
    return pseudonym


def erase_expired(session: Session, *, retention: timedelta, actor: str, now: datetime) -> list[str]:
    """Erase the details of every closed contact last changed more than `retention` ago."""
    erased_ids = select(PersonDetails.contact_id).where(PersonDetails.erased_at.is_not(None))
    due = session.scalars(select(Contact.id).where(Contact.status == "closed", Contact.updated_at < now - retention,
                                                   Contact.id.not_in(erased_ids)).order_by(Contact.id))
    erased = []
    for contact_id in list(due):
        erase(session, contact_id, actor=actor, actor_role=None, now=now)
        erased.append(contact_id)
    return erased
