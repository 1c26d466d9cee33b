"""One turn of a resident's chat: `take_turn(services, request) -> dict`.

Used by the dialogue API (web/blueprints/dialogue_api.py, for the Rasa action server) and by
the chat page's guided form when Rasa is unavailable (web/blueprints/chat.py), so both paths
read, store and decide the same way. One turn reads the resident's words with the rule-based
extractor (red flags and safeguarding never depend on the Rasa model alone), reads the
answer to the question that was asked, stores the facts, decides again and picks the next
question from flows/:

    request  {"contact_id": str|null, "conversation_id": str|null, "text": str|null,
              "answer": {"question_id": str, "value": any}|null,
              "asked": [fact ids already put to the resident], "start": bool}
    result   {"contact_id": str|null, "decision": {...}|null,
              "question": {"id", "ask", "kind", "text", "options", ...}|null,
              "facts_added": {...}, "understood": bool|null, "extraction": "ok"|"unavailable",
              "summary": [the decision in the resident's words, one line each]|null}

A first message with nothing in it ("hi") stores nothing and answers contact_id null,
unless `start` is true. `conversation_id` (the chat's conversation, Rasa's sender id) binds
the contact to the conversation: a turn without a contact_id continues the contact already
stored for it (the Rasa path and the page's fallback form share one), and two racing first
turns can't make two (a unique index; the loser runs again and finds the winner's). `understood` is false when an answer couldn't be read (the
question's facts stay unknown). A 999 decision has no next question: it is given at once.
`summary` is the outcome panel's wording as chat lines (web/chat_outcome.py), which the Rasa
actions say, so the wording lives in one place.
Bad input raises `web.errors.ApiError` (422, naming the field).
"""
from __future__ import annotations

import logging
from typing import Any

from spoa.flows import AnswerError, Flows, answer_to_facts, build_question, next_question, parse_answer
from web.chat_outcome import outcome_lines, outcome_view
from web.errors import ApiError
from web.store import contacts

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 5000
MAX_CONVERSATION_ID_CHARS = 64   # contacts.conversation_id


def parse_request(body: Any, flows: Flows) -> dict:
    """The turn's fields, checked: 422 names the field that is wrong."""
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_turn", "The body must be a JSON object.")
    contact_id, text, answer, asked = body.get("contact_id"), body.get("text"), body.get("answer"), body.get("asked")
    if contact_id is not None and (not isinstance(contact_id, str) or not contact_id.strip()):
        raise ApiError(422, "invalid_turn", "contact_id must be a contact reference or null.", field="contact_id")
    conversation_id = body.get("conversation_id")
    if conversation_id is not None and (not isinstance(conversation_id, str) or not conversation_id.strip()
                                        or len(conversation_id) > MAX_CONVERSATION_ID_CHARS):
        raise ApiError(422, "invalid_turn", f"conversation_id must be a string of 1 to {MAX_CONVERSATION_ID_CHARS} "
                       "characters, or null.", field="conversation_id")
    if text is not None and not isinstance(text, str):
        raise ApiError(422, "invalid_turn", "text must be a string or null.", field="text")
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise ApiError(422, "invalid_turn", f"text is longer than {MAX_TEXT_CHARS} characters.", field="text")
    if answer is not None:
        if not isinstance(answer, dict) or not isinstance(answer.get("question_id"), str):
            raise ApiError(422, "invalid_turn", "answer must be {\"question_id\": ..., \"value\": ...} or null.",
                           field="answer")
        if answer["question_id"] not in flows.by_id:
            raise ApiError(422, "invalid_turn", f"Unknown question {answer['question_id']!r}.", field="answer")
    asked = asked if asked is not None else []
    if not isinstance(asked, list) or not all(isinstance(fact, str) for fact in asked):
        raise ApiError(422, "invalid_turn", "asked must be a list of fact ids.", field="asked")
    return {"contact_id": contact_id, "conversation_id": conversation_id, "text": text or "", "answer": answer, "asked": asked,
            "start": body.get("start") is True}


def read_answer(flows: Flows, config: Any, answer: dict, known: dict) -> dict | None:
    """Facts from the answer to one question: a button's value, or plain words. None if it
    can't be read. A checklist asked again covers only its items still unknown, so a red flag
    known already is never cleared by "none of these"."""
    spec = flows.by_id[answer["question_id"]]
    ask = [fact for fact in spec.facts if fact not in known] if spec.kind == "checklist" else list(spec.facts)
    question = build_question(spec, "resident", known, ask or None)
    value = answer.get("value")
    option_values = {str(option["value"]).lower(): option["value"] for option in question.options}
    try:
        if isinstance(value, (list, bool, int)):
            return answer_to_facts(question, value, config)
        if isinstance(value, str) and value.strip().lower() in option_values:
            return answer_to_facts(question, option_values[value.strip().lower()], config)
        return parse_answer(question, str(value or ""), config)
    except AnswerError:
        return None


def merge_facts(known: dict, extracted: dict, answered: dict) -> dict:
    """The facts this turn adds. The answer sets the facts it was asked about; what the
    extractor read fills in facts not yet known, and may only escalate a known one (a red
    flag said now turns a "no" into a "yes", never the other way). Between the two, a true
    flag wins. A don't-know (None) is kept only for a fact not yet known."""
    added: dict = {}
    for fact, value in extracted.items():
        if value is None:
            continue
        if fact not in known or (value is True and known[fact] is False):
            added[fact] = value
    for fact, value in answered.items():
        if value is None:
            if fact not in known and fact not in added:
                added[fact] = None
        elif added.get(fact) is True and value is False:
            continue
        elif known.get(fact) != value:
            added[fact] = value
    return added


def take_turn(spoa, request: Any) -> dict:  # noqa: ANN001
    """One resident message: extract, read the answer, store, decide, and the next question.
    `spoa` is the app's web.bootstrap.Services; `request` the turn as described above."""
    triage, flows = spoa.triage, spoa.triage.flows
    turn_request = parse_request(request, flows)
    extractor = spoa.fact_extractor()
    extracted = extractor.extract(turn_request["text"])["facts"] if extractor and turn_request["text"].strip() else {}
    now = spoa.now()

    def work(db):  # noqa: ANN001, ANN202
        contact_id, conversation_id = turn_request["contact_id"], turn_request["conversation_id"]
        if contact_id is None and conversation_id is not None:
            contact_id = contacts.contact_for_conversation(db, conversation_id)
        known = contacts.current_facts(db, contacts.get_contact(db, contact_id).id) if contact_id else {}
        answered, understood = {}, None
        if turn_request["answer"] is not None:
            parsed = read_answer(flows, triage.config, turn_request["answer"], known)
            understood = parsed is not None
            answered = parsed or {}
        added = merge_facts(known, extracted, answered)
        if contact_id is None:
            if not added and not turn_request["start"]:
                return None, None, {}, understood, {}
            stored = {fact: value for fact, value in added.items() if value is not None}
            outcome = contacts.create_contact(db, triage, {"channel": "web_chat", "facts": stored}, now=now,
                                              source="chat", actor="service", conversation_id=conversation_id)
        elif added:
            outcome = contacts.add_facts(db, triage, contact_id, added, now=now, source="chat", actor="service")
        else:
            latest = contacts.latest_decision(db, contact_id)
            contact = contacts.get_contact(db, contact_id)
            decision = latest.decision if latest is not None else triage.decide(
                contacts.engine_contact(contact, known), now)
            return contact.id, decision, {}, understood, known
        return outcome.contact.id, outcome.decision, added, understood, outcome.facts

    contact_id, decision, added, understood, facts = spoa.store.run(work, conflict_retries=1)
    question = None
    if decision is not None and decision.get("route") != "emergency":
        skip = set(turn_request["asked"]) | {fact for fact, value in added.items() if value is None}
        found = next_question(flows, decision.get("missing") or [], facts, "resident", skip=skip)
        question = found.to_dict() if found is not None else None
    if contact_id is not None:
        log.info("chat turn on contact %s: route=%s status=%s", contact_id, decision["route"], decision.get("status"))
    return {"contact_id": contact_id, "decision": decision, "question": question, "facts_added": added,
            "understood": understood, "extraction": "ok" if extractor is not None else "unavailable",
            "summary": outcome_lines(outcome_view(decision, contact_id)) if decision is not None else None}
