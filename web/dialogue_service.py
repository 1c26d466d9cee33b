"""One turn of a resident's chat: `take_turn(services, request) -> dict`.

Used by the dialogue API (web/blueprints/dialogue_api.py, for the Rasa action server) and by
the chat page's guided form when Rasa is unavailable (web/blueprints/chat.py), so both paths
read, store and decide the same way. One turn reads the resident's words with the rule-based
extractor (red flags and safeguarding never depend on the Rasa model alone), reads the
answer to the question that was asked, stores the facts, decides again and picks the next
question from flows/:

    request  {"contact_id": str|null, "conversation_id": str|null, "text": str|null,
              "answer": {"question_id": str, "value": any}|null,
              "asked": [fact ids already put to the resident], "start": bool, "change": bool}
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
`summary` is the outcome panel's wording as chat lines (spoa.dialogue.wording), which the Rasa
actions say, so the wording lives in one place. Text asking to change an answer ("I pressed
the wrong button"), or `change` true, asks the last answered question again (`changing` names
it); the contact and its reference stay the same, and the answer to it replaces the old one.
The rules (what to ask, what an answer may overwrite, how heard facts enter, when to stop)
are the dialogue core's (spoa.dialogue.core); this module only stores and loads.
Bad input raises `web.errors.ApiError` (422, naming the field).
"""
from __future__ import annotations

import logging
from typing import Any

from spoa.dialogue import core
from spoa import consent, person
from spoa.dialogue.answers import (AnswerError, answer_to_facts, asks_for_person, declines, denies_presumed,
                                   is_change_request, parse_answer)
from spoa.dialogue.place import place_answer, reask_question
from spoa.dialogue.questions import Flows, build_question
from spoa.dialogue.wording import outcome_lines, outcome_view
from web.errors import ApiError
from web.store import contacts, people, worklist
from web.store.models import PersonDetails

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 5000
HANDOVER_NOTE = "Web chat: the resident asked to talk to a person."
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
        if answer["question_id"] not in flows.by_id and core.detail_field(answer["question_id"]) is None:
            raise ApiError(422, "invalid_turn", f"Unknown question {answer['question_id']!r}.", field="answer")
    asked = asked if asked is not None else []
    if not isinstance(asked, list) or not all(isinstance(fact, str) for fact in asked):
        raise ApiError(422, "invalid_turn", "asked must be a list of fact ids.", field="asked")
    if body.get("change") not in (None, True, False):
        raise ApiError(422, "invalid_turn", "change must be true or false.", field="change")
    return {"contact_id": contact_id, "conversation_id": conversation_id, "text": text or "", "answer": answer, "asked": asked,
            "start": body.get("start") is True, "change": body.get("change") is True}


def read_answer(flows: Flows, config: Any, answer: dict, known: dict, partial: list | None = None) -> dict | None:
    """Facts from the answer to one question: a button's value, or plain words. None if it
    can't be read. A checklist asked again covers only its items still to ask, so a red flag
    known already is never cleared by "none of these"; asked to change it (every item known),
    it covers them all. A denial of what the question presumed ("she hasn't fallen") answers
    that fact instead."""
    spec = flows.by_id[answer["question_id"]]
    ask = list(spec.facts)
    if spec.kind == "checklist" and not _changing(spec, known, partial or []):
        ask = [fact for fact in spec.facts if fact not in known]
    question = build_question(spec, "resident", core.known_facts(known), ask or None)
    value = answer.get("value")
    option_values = {str(option["value"]).lower(): option["value"] for option in question.options}
    try:
        if isinstance(value, (list, bool, int)):
            return answer_to_facts(question, value, config)
        if isinstance(value, str) and value.strip().lower() in option_values:
            return answer_to_facts(question, option_values[value.strip().lower()], config)
        return denies_presumed(question, str(value or "")) or parse_answer(question, str(value or ""), config)
    except AnswerError:
        return None


def _changing(spec, known: dict, partial: list) -> bool:  # noqa: ANN001
    """An answer to a question whose facts are all answered already changes that answer (the
    dialogue only asks such a question again when the person asks to change it)."""
    return all(fact in known and known[fact] is not None and fact not in partial for fact in spec.facts)


def take_turn(spoa, request: Any) -> dict:  # noqa: ANN001
    """One resident message: extract, read the answer, store, decide, and the next question.
    `spoa` is the app's web.bootstrap.Services; `request` the turn as described above."""
    triage, flows = spoa.triage, spoa.triage.flows
    turn_request = parse_request(request, flows)
    text = turn_request["text"]
    wants_change = turn_request["change"] or (turn_request["answer"] is None and is_change_request(text)) or (
        turn_request["answer"] is not None and is_change_request(turn_request["answer"].get("value")))
    detail = core.detail_field(turn_request["answer"]["question_id"]) if turn_request["answer"] else None
    # "I want to talk to someone" (FAILSAFE-6): the questions stop and a call-back is arranged.
    handover = asks_for_person(text) or bool(turn_request["answer"] and asks_for_person(
        turn_request["answer"].get("value")))
    if handover:
        turn_request["answer"] = None
        detail = None
    extractor = spoa.fact_extractor()
    now = spoa.now()
    place = place_answer(flows, triage.config, turn_request["answer"])
    place_words = place.words if place else None
    place_facts = flows.by_id[turn_request["answer"]["question_id"]].facts if place else ()
    reask = False   # set by work(): the place answer is asked once more

    def work(db):  # noqa: ANN001, ANN202
        contact_id, conversation_id = turn_request["contact_id"], turn_request["conversation_id"]
        if contact_id is None and conversation_id is not None:
            contact_id = contacts.contact_for_conversation(db, conversation_id)
        known, partial = contacts.fact_state(db, contacts.get_contact(db, contact_id).id) if contact_id else ({}, [])
        # read with what is known, so the known caller's own age or injury is not the person's
        # A contact detail (a name, an address) is not read for facts.
        extracted = extractor.extract(text, known=known)["facts"] if extractor and text.strip() and detail is None \
            else {}
        if wants_change and contact_id:
            # A red flag said with it ("wrong button, she's not breathing") still counts.
            escalations, _ = core.heard_to_store(known, extracted)
            if escalations:
                outcome = contacts.add_facts(db, triage, contact_id, {}, now=now, source="chat", actor="service",
                                             heard=escalations)
                if outcome.decision.get("route") == "emergency":
                    return {"contact_id": outcome.contact.id, "decision": outcome.decision, "added": escalations,
                            "understood": True, "facts": outcome.facts, "partial": outcome.partial, "confirm": {}}
            return _ask_again(db, contact_id, known)
        if detail is not None and contact_id:
            return _save_detail(db, contact_id, detail, turn_request["answer"].get("value"), known, partial)
        answered, understood, change = {}, None, False
        if turn_request["answer"] is not None:
            parsed = read_answer(flows, triage.config, turn_request["answer"], known, partial)
            # an unresolved or ambiguous place is kept as unknown (null) and asked once more: only
            # when the place was not answered before (the second try's answer is final)
            nonlocal reask
            reask = place is not None and place.ask_again and not any(f in known for f in place_facts)
            understood = parsed is not None and not reask
            answered = parsed or {}
            change = _changing(flows.by_id[turn_request["answer"]["question_id"]], known, partial)
        answer, heard, confirm = core.merge_turn(known, extracted, answered, partial, change=change)
        if contact_id is None:
            if not answer and not heard and not turn_request["start"]:
                return {"contact_id": None, "decision": None, "understood": understood}
            stored = {fact: value for fact, value in answer.items() if value is not None}
            outcome = contacts.create_contact(db, triage, {"channel": "web_chat", "facts": stored}, now=now,
                                              source="chat", actor="service", heard=heard,
                                              conversation_id=conversation_id, locality_words=place_words)
        elif answer or heard:
            outcome = contacts.add_facts(db, triage, contact_id, answer, now=now, source="chat", actor="service",
                                         heard=heard, locality_words=place_words)
        else:
            contact = contacts.get_contact(db, contact_id)
            latest = contacts.latest_decision(db, contact_id)
            decision = latest.decision if latest is not None else triage.decide(
                contacts.engine_contact(contact, known, partial), now)
            if handover:
                worklist.request_callback(db, contacts.lock_contact(db, contact.id), now=now, note=HANDOVER_NOTE,
                                          response_target=decision.get("response_target"))
            return {"contact_id": contact.id, "decision": decision, "added": {}, "understood": understood,
                    "facts": known, "partial": partial, "confirm": confirm}
        if handover:
            contact = contacts.lock_contact(db, outcome.contact.id)
            worklist.request_callback(db, contact, now=now, note=HANDOVER_NOTE,
                                      response_target=outcome.decision.get("response_target"))
        facts = {**outcome.facts, **{fact: None for fact in outcome.unknown}}
        return {"contact_id": outcome.contact.id, "decision": outcome.decision, "added": {**heard, **answer},
                "understood": understood, "facts": facts, "partial": outcome.partial, "confirm": confirm}

    def _save_detail(db, contact_id, field, value, known, partial):  # noqa: ANN001, ANN202
        """One contact detail, checked by spoa.person; "I don't know" or "rather not" skips it."""
        understood, problem = True, None
        if not declines(value):
            try:
                people.save_details(db, contact_id, {field: str(value or "")}, actor="service", actor_role=None,
                                    now=now, today=now.date())
            except person.PersonError as error:
                # said back to the person (their own words), never logged
                understood, problem = False, " ".join(error.errors.values())
            except people.PersonErased:
                understood = False
        contact = contacts.get_contact(db, contact_id)
        latest = contacts.latest_decision(db, contact.id)
        return {"contact_id": contact.id, "decision": latest.decision if latest else None, "added": {},
                "understood": understood, "facts": known, "partial": partial, "confirm": {}, "problem": problem}

    def _ask_again(db, contact_id, known):  # noqa: ANN001, ANN202
        contact = contacts.get_contact(db, contact_id)
        latest = contacts.latest_decision(db, contact.id)
        last = core.last_answered_question(flows, contacts.fact_events(db, contact.id), sources=("chat",))
        question = core.change_question(flows, last, known, "resident") if last else None
        return {"contact_id": contact.id, "decision": latest.decision if latest else None, "added": {},
                "understood": True, "changing": question}

    state = spoa.store.run(work, conflict_retries=1)
    contact_id, decision = state["contact_id"], state["decision"]
    if contact_id is not None and text.strip() and not detail:
        # The person's own words about what is wrong (not their contact details), for the duty
        # worker's referral page; erased with their details.
        spoa.store.run(lambda db: people.record_words(db, contact_id, text, source="chat", now=now))
    if "changing" in state:
        question = state["changing"]
        return {"contact_id": contact_id, "decision": decision, "question": question.to_dict() if question else None,
                "facts_added": {}, "understood": True, "changing": question.id if question else None,
                "extraction": "ok" if extractor is not None else "unavailable", "summary": None}
    question = None
    if decision is not None:
        details, callback = spoa.store.run(lambda db: _details(db, contact_id)) if contact_id else ({}, False)
        found = None if callback else core.next_question(
            flows, decision, state["facts"], "resident", partial=state["partial"],
            skip=_skip(turn_request["asked"], state["facts"]), heard=state["confirm"])
        if found is None and contact_id is not None and decision.get("route") != "emergency":
            # A detail just declined ("I don't know") is not asked again; one that couldn't be
            # read ("ZZ99") is.
            answered = [turn_request["answer"]["question_id"]] if detail and state["understood"] else []
            found = core.next_detail_question(decision, state["facts"], details, "resident",
                                              asked=turn_request["asked"] + answered, callback=callback)
        question = found.to_dict() if found is not None else None
        if reask and decision.get("route") != "emergency":
            question = reask_question(flows, triage.config, turn_request["answer"]["question_id"], place, state["facts"])
    # The outcome in words (the page's panel, and `summary` for the Rasa actions to say).
    view = outcome_view(decision, contact_id, _council(triage.config, state["facts"]),
                        withheld=consent.referral_withheld(decision.get("route"), decision, state["facts"])) \
        if decision is not None else None
    if contact_id is not None:
        log.info("chat turn on contact %s: route=%s status=%s", contact_id, decision["route"], decision.get("status"))
    return {"contact_id": contact_id, "decision": decision, "question": question, "handover": handover,
            "facts_added": state.get("added") or {}, "understood": state["understood"], "problem": state.get("problem"),
            "extraction": "ok" if extractor is not None else "unavailable",
            "outcome": view, "summary": outcome_lines(view) if view is not None else None}


def _council(config: Any, facts: dict) -> str | None:
    """The person's own council, when they are in another area the gazetteer knows."""
    locality = facts.get("locality")
    return config.resolve_place(locality).council if isinstance(locality, str) else None


def _details(db, contact_id: str) -> tuple[dict, bool]:  # noqa: ANN001
    """The person's details kept so far, and whether a call-back was asked for (then only the
    details are asked: the questions stopped when the person asked for a person)."""
    row = db.get(PersonDetails, contact_id)
    details = dict(row.details) if row is not None and row.erased_at is None else {}
    return details, worklist.has_open_callback(db, contact_id)


def _skip(asked: list[str], facts: dict) -> set[str]:
    """Facts put to the resident that are still not known: an answer that couldn't be read
    twice, so the dialogue moves on (a don't-know is a null in the contact already)."""
    return {fact for fact in asked if fact not in facts}
