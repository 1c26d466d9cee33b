"""The call-handler console's service functions: start a call, answer, change, close.

Built on the store's repository functions (web.store.contacts, worklist, audit); the views in
web/blueprints/console.py only parse requests and call these. Every answer is saved as it is
given (a fact event with source "console", or "extraction" for a proposal the handler
confirmed), and the engine decides again after each one.

What the contract has no place for lives in one small table of the console's own,
`console_calls` (web.store.models.ConsoleCall, migration 0002): which handler holds the call,
who is calling and about whom, and the free-text notes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoa.dialogue import core
from spoa.dialogue.answers import AnswerError, answer_to_facts, denies_presumed, parse_answer
from spoa.dialogue.place import reask_after
from spoa.dialogue.questions import UNKNOWN, Flows, build_question
from spoa import consent
from spoa.dialogue.wording import readback_lines, readback_no_target, target_words
from spoa.durations import parse_duration
from spoa.working_days import due_at
from web.labels import PATHWAY_LABELS, ROUTE_LABELS
from web.store import audit, contacts, worklist
from web.store.models import ConsoleCall, Contact, FactEvent, WorklistItem


CHANNELS = ("phone", "professional_referral")
CALLERS = ("self", "family_friend", "unpaid_carer", "professional")
EMERGENCY_SCREEN = ("unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs", "severe_bleeding",
                    "seizure_ongoing", "severe_allergic_reaction", "serious_injury", "overdose_or_self_harm",
                    "immediate_danger")
LABEL_MAX = 80
NOTES_MAX = 5000

EMERGENCY_SCRIPT = [
    "Tell the caller: call 999 now, or transfer the call to 999. Do not hang up.",
    "Stay on the line until the ambulance or police are with the person.",
    "If it is safe, stay with the person; do not give them anything to eat or drink.",
    "If they stop breathing or become unresponsive, tell 999 at once: they will guide CPR.",
]
POLICE_SCRIPT = [
    "Tell the caller: call 999 now and ask for the police. If they cannot speak, dial 999 and press 55.",
    "Stay on the line; if the caller is in danger, they should get somewhere safe first.",
]

console_calls = ConsoleCall.__table__


class ConsoleError(ValueError):
    """Bad input to the console: answered as 422 with the field named."""

    def __init__(self, message: str, field: str | None = None, allowed: list | None = None, status: int = 422):
        super().__init__(message)
        self.field, self.allowed, self.status = field, allowed, status


# -- plain words ---------------------------------------------------------------------------

def fact_question(flows: Flows, fact: str) -> str:
    spec = flows.by_fact.get(fact)
    if spec is None:
        return fact.replace("_", " ")
    if spec.kind == "checklist":
        for option in spec.options:
            if option.value == fact:
                return option.call_handler or option.label
    return spec.call_handler


def value_words(flows: Flows, fact: str, value: Any, config: Any = None) -> str:
    """An answer as the handler reads it: Yes/No/Unknown, an option's label, a number, a
    locality's name."""
    if fact == "locality" and config is not None and value in getattr(config, "localities", {}):
        return config.localities[value].get("name", value)
    if value is None:
        return "Unknown"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    spec = flows.by_fact.get(fact)
    labels = {repr(o.value): (o.call_handler or o.label) for o in (spec.options if spec else ())}
    if isinstance(value, list):
        return ", ".join(labels.get(repr(v), str(v)) for v in value) if value else "None"
    if repr(value) in labels:
        return labels[repr(value)]
    unit = f" {spec.unit}" if spec is not None and spec.unit and isinstance(value, int) else ""
    return f"{value}{unit}"


def fact_words(flows: Flows, fact: str, value: Any, config: Any = None) -> str:
    return f"{fact_question(flows, fact)} {value_words(flows, fact, value, config)}"


def duration_words(target: str | None) -> str:
    """The response target as the chat and the worklist say it ("Within 2 working days")."""
    return target_words(target)


def local_time_words(moment: datetime | None, zone: str) -> str | None:
    if moment is None:
        return None
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%H:%M on %A %d %B %Y").replace(" 0", " ")


# -- reading a call ---------------------------------------------------------------------------

def _call_row(session: Session, contact_id: str) -> dict | None:
    row = session.execute(select(console_calls).where(console_calls.c.contact_id == contact_id)).mappings().first()
    return dict(row) if row else None


def _events(session: Session, contact_id: str) -> list[FactEvent]:
    return list(session.scalars(select(FactEvent).where(FactEvent.contact_id == contact_id).order_by(FactEvent.id)))


def _place_again(flows: Flows, triage, contact: Contact, events: list[FactEvent], latest: dict,  # noqa: ANN001
                 decision: dict) -> dict | None:
    """The place question once more with the localities as choices, when the caller's one
    answer to it could not be placed (SCOPE-2 1.1; the chat asks the same way)."""
    if decision.get("route") == "emergency":
        return None
    answers = [event.value for event in events if event.fact == "locality"]
    return reask_after(flows, triage.config, contact.locality_words, answers, latest, "call_handler")


def _latest_values(events: list[FactEvent]) -> dict[str, Any]:
    """Every fact ever answered, with its latest value (None: answered "unknown")."""
    latest: dict[str, Any] = {}
    for event in events:
        latest[event.fact] = event.value
    return latest


def _answers(flows: Flows, events: list[FactEvent], config: Any = None) -> list[dict]:
    """The answers so far, one per question, in the order the questions were first answered."""
    latest = _latest_values(events)
    order: list[str] = []
    for event in events:
        spec = flows.by_fact.get(event.fact)
        qid = spec.id if spec else event.fact
        if qid not in order:
            order.append(qid)
    answers = []
    for qid in order:
        spec = flows.by_id.get(qid)
        facts = [f for f in (spec.facts if spec else (qid,)) if f in latest]
        if spec is not None and spec.kind == "checklist":
            ticked = [f for f in facts if latest[f] is True]
            unknown = [f for f in facts if latest[f] is None]
            shown = ", ".join(fact_question(flows, f) for f in ticked) if ticked else (
                "Unknown" if unknown and len(unknown) == len(facts) else "None of these")
        else:
            shown = "; ".join(value_words(flows, f, latest[f], config) for f in facts)
        answers.append({"question": qid, "text": spec.call_handler if spec else qid,
                        "facts": {f: latest[f] for f in facts}, "answer": shown,
                        # The whole question, for changing this answer.
                        "ask": build_question(spec, "call_handler").to_dict() if spec else None})
    return answers


def _why(flows: Flows, decision: dict, config: Any = None) -> list[dict]:
    """Each fired rule in plain words, the ones that decided first."""
    rules = []
    for fired in decision.get("fired") or []:
        matched = fired.get("matched") or {}
        rules.append({
            "rule": fired.get("rule"), "version": fired.get("version"), "title": fired.get("title"),
            "source": fired.get("source"), "role": fired.get("role"),
            "decided": fired.get("role") not in ("outranked",) and not str(fired.get("role", "")).startswith("derived"),
            "because": [fact_words(flows, f, v, config) for f, v in matched.items()],
            "unknown": [fact_question(flows, f) for f in fired.get("unknown") or []],
        })
    rules.sort(key=lambda r: (not r["decided"], str(r["role"]).startswith("outranked")))
    return rules


def _emergency(decision: dict, facts: dict, flows: Flows) -> dict:
    ticked = [f for f in EMERGENCY_SCREEN if facts.get(f) is True]
    active = decision.get("route") == "emergency" or bool(ticked)
    script = POLICE_SCRIPT if decision.get("pathway") == "police" or facts.get("immediate_danger") else EMERGENCY_SCRIPT
    return {"active": active, "flags": ticked, "flag_words": [fact_question(flows, f) for f in ticked],
            "script": script if active else [], "pathway": decision.get("pathway") if active else None}


def _view(flows: Flows, contact: Contact, decision: dict, facts: dict, now: datetime, zone: str,
          config: Any = None) -> dict:
    target = decision.get("response_target")
    delta = parse_duration(target)
    due = due_at(contact.received_at, target, zone)
    safeguarding = decision.get("safeguarding") or {}
    return {
        "route": decision.get("route"), "route_label": ROUTE_LABELS.get(decision.get("route"), decision.get("route")),
        "pathway": decision.get("pathway"),
        "pathway_label": PATHWAY_LABELS.get(decision.get("pathway"), decision.get("pathway") or ""),
        "response_target": target, "target_words": duration_words(target),
        # A zero target (999) is "now", not a deadline that has passed.
        "due_at": contacts.iso(due) if delta else None, "due_words": local_time_words(due, zone) if delta else None,
        "time_left_seconds": int((due - now).total_seconds()) if delta else None,
        "safeguarding": {**safeguarding, "level_label": (safeguarding.get("level") or "none").capitalize()},
        "also": [{"route": r, "label": ROUTE_LABELS.get(r, r)} for r in decision.get("also") or []],
        "services": decision.get("services") or [],
        "advice": decision.get("advice") or [],
        "status": decision.get("status"),
        "review_required": bool(decision.get("review_required")),
        "review_reasons": decision.get("review_reasons") or [],
        "missing": [{"fact": f, "text": fact_question(flows, f)} for f in decision.get("missing") or []],
        "why": _why(flows, decision, config),
        "ruleset_version": decision.get("ruleset_version"),
        "emergency": _emergency(decision, facts, flows),
    }


def _close_blockers(decision: dict, facts: dict) -> list[str]:
    """Why the call can't be closed as decided yet (FAILSAFE-2)."""
    unanswered = [f for f in EMERGENCY_SCREEN if f not in facts]
    if decision.get("route") != "emergency" and unanswered and decision.get("route") in ("self_care",
                                                                                        "voluntary_sector"):
        return ["Ask the emergency screen before closing this call as self-care or voluntary sector."]
    return []


def readback(contact: Contact, decision: dict, route: str, pathway: str | None, zone: str,
             facts: dict | None = None) -> dict:
    """What the handler reads back to the caller: what happens next, by when, what happens
    about safeguarding, what to do while waiting, and the safety-netting (the words are the
    dialogue's, spoa.dialogue.wording, the same as the chat's outcome)."""
    same = route == decision.get("route")
    target = decision.get("response_target") if same else None
    due = due_at(contact.received_at, target, zone)
    if route == "emergency":
        by_when = "Now."
    elif due is not None:
        by_when = f"By {local_time_words(due, zone)} ({duration_words(target).lower()} of your call)."
    elif route in worklist.REFERRING_ROUTES:
        by_when = "The team will contact you as soon as they can; the duty worker sets the time."
    else:
        by_when = readback_no_target(decision)
    also = [ROUTE_LABELS.get(r, r).lower() for r in decision.get("also") or [] if r != route]
    withheld = consent.referral_withheld(route, decision, facts or {})
    words = readback_lines(decision, contact.id, route, by_when, withheld=withheld)
    if also:
        words["lines"].append(f"We will also pass this on for follow-up: {', '.join(also)}.")
    return {"reference": contact.id, "lines": words["lines"], "next": words["next"], "by_when": by_when,
            "while_you_wait": words["while_you_wait"], "safety_netting": decision.get("advice") or [],
            "route_label": ROUTE_LABELS.get(route, route), "pathway_label": PATHWAY_LABELS.get(pathway or "", "")}


def call_state(session: Session, triage, contact_id: str, *, now: datetime, zone: str = "Europe/London") -> dict:
    """Everything the console shows for one contact."""
    flows: Flows = triage.flows
    contact = contacts.get_contact(session, contact_id)
    row = _call_row(session, contact.id) or {}
    events = _events(session, contact.id)
    latest, partial = contacts.fact_state(session, contact.id)
    facts = core.known_facts(latest)
    decision_row = contacts.latest_decision(session, contact.id)
    decision = decision_row.decision if decision_row is not None else triage.decide(
        contacts.engine_contact(contact, latest, partial), now)
    question = core.next_question(flows, decision, latest, "call_handler", partial=partial)
    item = session.scalar(select(WorklistItem).where(WorklistItem.contact_id == contact.id, WorklistItem.kind == "referral")
                          .order_by(WorklistItem.id.desc()).limit(1))
    route = contact.route or decision.get("route")
    state = {
        "contact": {"id": contact.id, "channel": contact.channel, "status": contact.status,
                    "received_at": contacts.iso(contact.received_at), "caller_name": row.get("caller_name"),
                    "about": row.get("about"), "handler": row.get("handler"), "overridden": contact.overridden,
                    "route": route, "pathway": contact.pathway},
        "facts": facts,
        "answers": _answers(flows, events, getattr(triage, "config", None)),
        "decision": decision,
        "view": _view(flows, contact, decision, facts, now, zone, getattr(triage, "config", None)),
        "question": (_place_again(flows, triage, contact, events, latest, decision)
                     or (question.to_dict() if question is not None else None)) if contact.status == "open" else None,
        "notes": row.get("notes") or "",
        "close_blockers": _close_blockers(decision, facts),
        "worklist_item": worklist.item_dict(item, now) if item is not None else None,
        "readback": readback(contact, decision, route, contact.pathway, zone, facts),
    }
    return state


# -- changing a call --------------------------------------------------------------------------

def _text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConsoleError(f"{field} must be text.", field=field)
    value = " ".join(value.split())
    if len(value) > limit:
        raise ConsoleError(f"{field} is too long (at most {limit} characters).", field=field)
    return value or None


def _own(session: Session, contact_id: str, handler: str, *, open_only: bool = True) -> Contact:
    contact = contacts.get_contact(session, contact_id)
    row = _call_row(session, contact.id)
    if row is None or row["handler"] != handler:
        raise ConsoleError(f"Contact {contact.id} is not one of your console calls.", field="contact", status=403)
    if open_only and contact.status != "open":
        raise ConsoleError(f"Contact {contact.id} is closed; nothing more can be added.", field="contact",
                           status=409)
    return contact


def start_call(session: Session, triage, body: dict, *, handler: str, role: str | None, now: datetime) -> str:
    """A new contact for this handler (phone or professional referral); returns its reference."""
    channel = body.get("channel") or "phone"
    if channel not in CHANNELS:
        raise ConsoleError(f"channel must be one of {', '.join(CHANNELS)}.", field="channel", allowed=list(CHANNELS))
    caller = body.get("caller")
    if caller in ("", None):
        caller = None
    elif caller not in CALLERS:
        raise ConsoleError(f"caller must be one of {', '.join(CALLERS)}.", field="caller", allowed=list(CALLERS))
    caller_name = _text(body.get("caller_name"), "caller_name", LABEL_MAX)
    about = _text(body.get("about"), "about", LABEL_MAX)
    facts = {"caller": caller} if caller else {}
    outcome = contacts.create_contact(session, triage, {"channel": channel, "facts": facts}, now=now,
                                      source="console", actor=handler, refer=False)
    session.execute(console_calls.insert().values(contact_id=outcome.contact.id, handler=handler,
                                                  caller_name=caller_name, about=about, notes=None,
                                                  started_at=now, updated_at=now))
    audit.append(session, actor=handler, actor_role=role, action="console.start", target=outcome.contact.id,
                 details={"channel": channel}, at=now)
    return outcome.contact.id


def _check_fact_names(triage, facts: Any) -> dict:
    if not isinstance(facts, dict) or not facts:
        raise ConsoleError('Send the facts as {"facts": {"fact_name": value}}.', field="facts")
    known = triage.flows.facts
    for name in facts:
        if name not in known:
            raise ConsoleError(f"{name!r} is not a fact this service knows.", field=name)
    return facts


def set_facts(session: Session, triage, contact_id: str, facts: Any, *, handler: str, role: str | None,
              now: datetime, source: str = "console", locality_words: str | None = None) -> contacts.Outcome:
    """Set, change or clear (null) facts; the engine decides again. Raises ContactError on a
    wrong type or value (422 naming the field)."""
    contact = _own(session, contact_id, handler)
    _check_fact_names(triage, facts)
    was_emergency = contact.route == "emergency"
    outcome = contacts.add_facts(session, triage, contact.id, facts, now=now, source=source, actor=handler,
                                 refer=False, locality_words=locality_words)
    if outcome.decision.get("route") == "emergency" and not was_emergency:
        # Recorded for the supervisor; the facts themselves are in fact_events, not the log.
        audit.append(session, actor=handler, actor_role=role, action="console.emergency", target=contact.id,
                     details={"pathway": outcome.decision.get("pathway")}, at=now)
    session.execute(console_calls.update().where(console_calls.c.contact_id == contact.id).values(updated_at=now))
    return outcome


def answer_question(session: Session, triage, contact_id: str, question_id: Any, answer: Any, *, handler: str,
                    role: str | None, now: datetime, ask: Any = None, change: bool = False) -> contacts.Outcome:
    """An answer to one question (a button's value, ticked items, a number or text).

    `ask` is the facts the question was shown with. Unless `change` (the handler is changing
    an earlier answer), an answer only sets facts not yet known: a second tab still showing an
    old question, or "none of these" after a red flag was ticked, never undoes what is known.
    """
    flows: Flows = triage.flows
    if not isinstance(question_id, str) or question_id not in flows.by_id:
        raise ConsoleError(f"Unknown question {question_id!r}.", field="question")
    spec = flows.by_id[question_id]
    if ask is not None:
        if not isinstance(ask, list) or not ask or any(f not in spec.facts for f in ask):
            raise ConsoleError(f"ask must list facts of question {question_id!r}.", field="ask",
                               allowed=list(spec.facts))
    question = build_question(spec, "call_handler", None, list(ask) if ask else None)
    if isinstance(answer, str) and question.kind in ("number", "text") and answer.strip().lower() in ("u", UNKNOWN):
        answer = UNKNOWN
    try:
        facts = answer_to_facts(question, answer, triage.config)
    except AnswerError as error:
        # Typed words ("ninety", "yeah she did", "she hasn't fallen") are read as a caller's
        # words would be.
        facts = _words_answer(question, answer, triage.config)
        if facts is None:
            raise ConsoleError(str(error), field=question_id) from None
    known, partial = contacts.fact_state(session, contacts.normalise_reference(contact_id))
    facts = core.answer_to_store(known, facts, partial, change=change)
    if not facts:
        return current_outcome(session, triage, contact_id, handler=handler)
    words = answer if question.place and isinstance(answer, str) and answer != UNKNOWN else None
    return set_facts(session, triage, contact_id, facts, handler=handler, role=role, now=now, locality_words=words)


def _words_answer(question, answer: Any, config: Any) -> dict | None:  # noqa: ANN001
    if not isinstance(answer, str):
        return None
    try:
        return denies_presumed(question, answer) or parse_answer(question, answer, config)
    except AnswerError as error:
        raise ConsoleError(str(error), field=question.id) from None


def current_outcome(session: Session, triage, contact_id: str, *, handler: str) -> contacts.Outcome:
    """The call as it stands (an answer that changed nothing)."""
    contact = _own(session, contact_id, handler)
    row = contacts.latest_decision(session, contact.id)
    return contacts.Outcome(contact=contact, decision=row.decision, decision_id=row.id,
                            facts=contacts.current_facts(session, contact.id))


def save_notes(session: Session, contact_id: str, notes: Any, *, handler: str, now: datetime) -> str:
    contact = _own(session, contact_id, handler)
    if not isinstance(notes, str):
        raise ConsoleError("notes must be text.", field="notes")
    if len(notes) > NOTES_MAX:
        raise ConsoleError(f"notes are too long (at most {NOTES_MAX} characters).", field="notes")
    session.execute(console_calls.update().where(console_calls.c.contact_id == contact.id)
                    .values(notes=notes, updated_at=now))
    return notes


def propose_facts(triage, extractor, notes: str, facts: dict) -> list[dict]:
    """Facts the extractor found in the notes that differ from what is known: proposals the
    handler confirms one by one. Nothing is set here."""
    if extractor is None or not notes.strip():
        return []
    found = extractor.extract(notes, known=facts)  # the known caller keeps their own age out
    said: dict[str, list[str]] = {}
    for item in found.get("evidence") or []:
        if isinstance(item, dict) and item.get("fact") and item.get("text"):
            said.setdefault(item["fact"], [])
            if item["text"] not in said[item["fact"]]:
                said[item["fact"]].append(item["text"])
    flows: Flows = triage.flows
    proposals = []
    for fact, value in (found.get("facts") or {}).items():
        if value is None or fact not in flows.facts or facts.get(fact) == value:
            continue
        proposals.append({"fact": fact, "value": value, "words": fact_words(flows, fact, value, triage.config),
                          "evidence": "; ".join(said.get(fact, [])) or None,
                          "current": value_words(flows, fact, facts[fact], triage.config) if fact in facts else None})
    return proposals


def close_call(session: Session, contact_id: str, *, action: Any, route: Any, pathway: Any, reason: Any,
               handler: str, role: str | None, now: datetime) -> None:
    """Confirm the decision, or override its route with a reason (required), and close."""
    contact = _own(session, contact_id, handler)
    if action not in ("confirm", "override"):
        raise ConsoleError("action must be confirm or override.", field="action", allowed=["confirm", "override"])
    if reason is not None and not isinstance(reason, str):
        raise ConsoleError("reason must be text.", field="reason")
    decision_row = contacts.latest_decision(session, contact.id)
    decision = decision_row.decision if decision_row is not None else {}
    facts = contacts.current_facts(session, contact.id)
    final_route = route if action == "override" else decision.get("route")
    if final_route in ("self_care", "voluntary_sector") and any(f not in facts for f in EMERGENCY_SCREEN) \
            and decision.get("route") != "emergency":
        raise ConsoleError("Ask the emergency screen before closing this call as self-care or voluntary sector.",
                           field="emergency_screen")
    contacts.review(session, contact.id, action=action, actor=handler, actor_role=role, now=now,
                    route=route if action == "override" else None,
                    pathway=(pathway or None) if action == "override" else None, reason=reason)
    if action == "confirm" and decision_row is not None:
        # The referral reaches the worklist when the handler confirms it (an override put
        # its own route there in contacts.review).
        worklist.sync(session, contact, decision, decision_id=decision_row.id, now=now)
    contacts.close_contact(session, contact.id, now=now)
    audit.append(session, actor=handler, actor_role=role, action="console.close", target=contact.id,
                 details={"action": action, "route": final_route}, at=now)


def my_open_calls(session: Session, handler: str) -> list[dict]:
    """This handler's open console calls, newest first."""
    rows = session.execute(
        select(console_calls, Contact.status, Contact.route, Contact.channel, Contact.received_at,
               Contact.decision_status)
        .join(Contact, Contact.id == console_calls.c.contact_id)
        .where(console_calls.c.handler == handler, Contact.status == "open")
        .order_by(console_calls.c.started_at.desc(), console_calls.c.contact_id)).mappings()
    return [{"id": r["contact_id"], "caller_name": r["caller_name"], "about": r["about"], "route": r["route"],
             "route_label": ROUTE_LABELS.get(r["route"], r["route"]), "channel": r["channel"],
             # Nothing is decided until the emergency screen is answered (FAILSAFE-2).
             "decided": r["decision_status"] == "complete" or r["route"] == "emergency",
             "received_at": contacts.iso(r["received_at"])} for r in rows]


def started_by(session: Session, contact_id: str) -> str | None:
    row = _call_row(session, contacts.normalise_reference(contact_id))
    return row["handler"] if row else None

