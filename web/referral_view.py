"""What the duty worker sees: the worklist's rows and one referral in full.

Reads only (the views record who read what). One referral shows the person and how to reach
them, the words they used, every fact with who gave it and when, the decision with its
reasons and sources, what is still `missing` (to ask when they call), safeguarding, consent,
the matched services, and what has happened to the item so far.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoa.consent import needs_consent
from web import access, audit_queries as q
from web.security import Actor
from web.store import contacts, people, worklist
from web.store.models import ConsoleCall, Decision, FactEvent, Review, WorklistItem

SOURCE_WORDS = {"chat": "the person, in the web chat", "console": "the caller, to the call handler",
                "extraction": "the caller's words (read from the notes, confirmed)", "api": "a connected system"}


def time_left_words(seconds: int | None) -> str:
    if seconds is None:
        return "no target"
    return f"overdue by {q.duration_words(seconds)}" if seconds < 0 else f"{q.duration_words(seconds)} left"


def _decision_of(session: Session, item: WorklistItem) -> dict:
    stored = session.get(Decision, item.decision_id) if item.decision_id is not None else None
    return stored.decision if stored is not None else {}


def row(session: Session, item: WorklistItem, now: datetime) -> dict[str, Any]:
    """One worklist row: the item, time left in words, and why it is here (the rule that
    decided the route, or the reason a person chose it)."""
    data = worklist.item_dict(item, now)
    decided = _decision_of(session, item)
    if item.route in (decided.get("route"), *(decided.get("also") or [])):
        leading = next((line for line in q.trace_lines(decided.get("fired") or []) if line.leads), None)
        data.update(why=leading, review_reasons=list(decided.get("review_reasons") or []), override=None)
    else:  # a person chose this route: their reason is the why
        override = session.scalar(select(Review).where(
            Review.contact_id == item.contact_id, Review.action == "override").order_by(Review.id.desc()))
        data.update(why=None, review_reasons=[],
                    override={"actor": override.actor, "reason": override.reason} if override else None)
    data["time_left_words"] = time_left_words(data["time_left_seconds"])
    data["target_words"] = q.target_words(data["response_target"])
    data["locality"] = contacts.get_contact(session, item.contact_id).locality
    return data


def _facts_with_sources(session: Session, contact_id: str) -> list[dict[str, Any]]:
    """Each fact's current value, who gave it and when (the latest answer wins)."""
    latest: dict[str, FactEvent] = {}
    for event in session.scalars(select(FactEvent).where(FactEvent.contact_id == contact_id).order_by(FactEvent.id)):
        latest[event.fact] = event
    return [{"fact": fact, "words": q.words(fact), "value": event.value, "value_words": q.value_words(event.value),
             "source": event.source, "given_by": SOURCE_WORDS.get(event.source, event.source),
             "recorded_by": event.actor, "at": contacts.iso(event.at)}
            for fact, event in latest.items()]


def _consent(item: WorklistItem, decision: dict, facts: dict) -> dict[str, Any]:
    needed = needs_consent(item.route, decision, facts)
    given = facts.get("consent_to_share")
    words = ("not needed for this referral" if not needed else "given" if given is True else
             "refused" if given is False else "not known: ask before sharing the person's details")
    return {"needed": needed, "given": given, "words": words}


def read_referral(session: Session, item_id: int, *, actor: Actor, now: datetime) -> dict[str, Any]:
    """The referral as this reader may see it: with the person's details only for the roles
    that act on it (web/access.py), and that read audit-logged."""
    contact_id = worklist.get_item(session, item_id).contact_id
    with_person = access.may_read_person(session, actor, contact_id)
    if with_person:
        people.read_details(session, contact_id, actor=actor.name, actor_role=actor.role, now=now)
    return referral(session, item_id, now=now, with_person=with_person)


def referral(session: Session, item_id: int, *, now: datetime, with_person: bool) -> dict[str, Any]:
    """Everything the duty worker needs to act on one item (the person's details only when
    `with_person`: the caller has checked the reader may see them)."""
    item = worklist.get_item(session, item_id)
    contact = contacts.get_contact(session, item.contact_id)
    decision = _decision_of(session, item)
    facts = contacts.current_facts(session, contact.id)
    call = session.get(ConsoleCall, contact.id)
    history = session.scalars(select(Review).where(Review.contact_id == contact.id).order_by(Review.id))
    return {
        "item": row(session, item, now),
        "contact": contacts.contact_summary(contact),
        "person": people.details_dict(session.get(people.PersonDetails, contact.id)) if with_person else None,
        # Free text can name people: shown only to those who may see the person's details.
        "words": people.words(session, contact.id) if with_person else [],
        "notes": call.notes if call is not None and with_person else None,
        "call_ended_early": call is not None and call.close_reason == "ended_early",
        "facts": _facts_with_sources(session, contact.id),
        "decision": {
            "route": decision.get("route"), "route_label": q.route_label(decision.get("route")),
            "pathway": decision.get("pathway"), "pathway_label": q.pathway_label(decision.get("pathway")),
            "status": decision.get("status"), "response_target": decision.get("response_target"),
            "target_words": q.target_words(decision.get("response_target")),
            "reasons": [{"rule": line.rule, "title": line.title, "version": line.version, "source": line.source,
                         "explanation": line.explanation, "leads": line.leads}
                        for line in q.trace_lines(decision.get("fired") or [])],
            "review_reasons": list(decision.get("review_reasons") or []),
            "also": [q.route_label(route) for route in decision.get("also") or []],
            "advice": list(decision.get("advice") or []),
        },
        "missing": [{"fact": fact, "words": q.words(fact)} for fact in decision.get("missing") or []],
        "safeguarding": decision.get("safeguarding") or {"level": contact.safeguarding_level},
        "services": list(decision.get("services") or []),
        "consent": _consent(item, decision, facts),
        "history": [{"action": r.action, "actor": r.actor, "reason": r.reason, "route": r.route, "at": contacts.iso(r.at)}
                    for r in history],
    }
