"""The chat's actions: each sends what the resident said to the app, then says what it got back.

Every resident message reaches the app whatever intent Rasa gave it, because red flags and
safeguarding never depend on the Rasa model alone: outside the triage loop through
`action_triage_start`, inside it through `validate_triage_form`, and on a hand-over through
`action_handover`.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .api import ApiUnavailable, SpoaApi
from .messages import is_refusal, outcome_messages, parse_phone, question_messages

logger = logging.getLogger(__name__)

# Intents that begin triage (a contact is made) even when the app finds no facts in the message.
STARTS_TRIAGE = {"describe_problem", "report_emergency"}
# "Change my last answer", "I pressed the wrong button": the app asks that question again.
CHANGE_ANSWER = "change_answer"
# Replies for messages that carry no facts, by intent.
SMALL_TALK = {
    "greet": "utter_greet",
    "thank": "utter_thank",
    "goodbye": "utter_goodbye",
    "bot_challenge": "utter_bot_challenge",
}


def _api(tracker: Tracker) -> SpoaApi:
    # The conversation (Rasa's sender id, the page's chat id) binds the turn to one contact.
    return SpoaApi.from_env(conversation_id=tracker.sender_id)


def _say(dispatcher: CollectingDispatcher, messages: List[Dict[Text, Any]]) -> None:
    for message in messages:
        dispatcher.utter_message(**message)


def _service_unavailable(dispatcher: CollectingDispatcher, error: Exception) -> None:
    logger.warning("triage service unavailable: %s", error)
    dispatcher.utter_message(response="utter_service_unavailable")
    dispatcher.utter_message(json_message={"error": "service_unavailable"})


def _is_emergency(reply: Dict[Text, Any]) -> bool:
    return (reply.get("decision") or {}).get("route") == "emergency"


def _is_finished(reply: Dict[Text, Any]) -> bool:
    """No more questions, or a 999 outcome, which is given at once (protocol section 4)."""
    return reply.get("question") is None or _is_emergency(reply)


def _outcome(reply: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
    """The `decision` slot's value: the decision with the app's words for it (the turn's
    `summary`). The slot is `any` and not featurised, so its shape is the actions' own."""
    if not reply.get("decision"):
        return None
    return {"decision": reply["decision"], "summary": reply.get("summary"), "outcome": reply.get("outcome")}


def _slots_from_reply(reply: Dict[Text, Any], tracker: Tracker) -> Dict[Text, Any]:
    return {
        "contact_id": reply.get("contact_id") or tracker.get_slot("contact_id"),
        "decision": _outcome(reply),
        "question": None if _is_finished(reply) else reply.get("question"),
    }


def _events(slots: Dict[Text, Any]) -> List[EventType]:
    return [SlotSet(name, value) for name, value in slots.items()]


class ActionTriageStart(Action):
    """A message outside the triage loop: send it to the app, then ask, conclude or chat."""

    def name(self) -> Text:
        return "action_triage_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        contact_id = tracker.get_slot("contact_id")
        describes = intent in STARTS_TRIAGE
        change = intent == CHANGE_ANSWER and contact_id is not None
        try:
            reply = _api(tracker).turn(contact_id, text, None, tracker.get_slot("asked"), start=describes, change=change)
        except ApiUnavailable as error:
            _service_unavailable(dispatcher, error)
            return []
        if reply.get("changing"):
            # The question answered last, asked again; its answer replaces the old one.
            dispatcher.utter_message(response="utter_change_answer")
            slots = _slots_from_reply(reply, tracker)
            # Asked even after a 999 outcome: the decision stands until the answer changes.
            slots.update(question=reply.get("question"), triage_answer=None, reasked=None)
            return _events(slots) + [FollowupAction("triage_form")]
        if reply.get("contact_id") is None:
            # Nothing to triage in it yet ("hi", "yes"): invite a description.
            dispatcher.utter_message(response=SMALL_TALK.get(intent, "utter_describe"))
            return []
        if contact_id is not None and not describes and not reply.get("facts_added"):
            # Small talk after the questions, with nothing new in it: no need to go over it again.
            dispatcher.utter_message(response=SMALL_TALK.get(intent, "utter_anything_else"))
            return []
        if intent == "report_emergency" and not _is_emergency(reply):
            # It sounds like 999 but the app found no red flag in the words: say it anyway,
            # then the emergency screen (always the first question) settles it.
            dispatcher.utter_message(response="utter_emergency_first")
        slots = _slots_from_reply(reply, tracker)
        slots.update(triage_answer=None, reasked=None)
        follow = "action_triage_outcome" if _is_finished(reply) else "triage_form"
        return _events(slots) + [FollowupAction(follow)]


class ActionAskTriageAnswer(Action):
    """Ask the question the app chose from flows/ (the triage loop's request for a slot)."""

    def name(self) -> Text:
        return "action_ask_triage_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        question = tracker.get_slot("question")
        if not question:
            return []
        reasked = tracker.get_slot("reasked") == question.get("id")
        prefix = "Sorry, I didn't quite catch that." if reasked else None
        _say(dispatcher, question_messages(question, prefix, tracker.get_slot("contact_id")))
        asked = list(tracker.get_slot("asked") or [])
        asked += [fact for fact in question.get("ask") or [] if fact not in asked]
        return [SlotSet("asked", asked)]


class ValidateTriageForm(FormValidationAction):
    """Each answer goes to the app, which parses it, stores the facts and decides again."""

    def name(self) -> Text:
        return "validate_triage_form"

    def validate_triage_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        if slot_value is None:
            # The loop validates every slot set since the last message, this one too when an
            # action has just cleared it: there is no answer to send.
            return {"triage_answer": None}
        question = tracker.get_slot("question")
        answer = {"question_id": question.get("id"), "value": slot_value} if question else None
        try:
            reply = _api(tracker).turn(tracker.get_slot("contact_id"), slot_value, answer, tracker.get_slot("asked"))
        except ApiUnavailable as error:
            _service_unavailable(dispatcher, error)
            # Leave the loop; the outcome action has no decision to show, and says nothing.
            return {"triage_answer": str(slot_value), "decision": None, "question": None}
        slots = _slots_from_reply(reply, tracker)
        if reply.get("changing"):
            # "Sorry, wrong button": the app asks the question answered last again.
            dispatcher.utter_message(response="utter_change_answer")
            slots.update(question=reply.get("question"), reasked=None, triage_answer=None)
            return slots
        not_understood = reply.get("understood") is False and question is not None
        if not_understood and reply.get("problem"):
            # What is wrong with a contact detail ("its check digit is wrong"), said before asking again.
            dispatcher.utter_message(text=str(reply["problem"]))
        if not_understood and not _is_finished(reply) and tracker.get_slot("reasked") != question.get("id"):
            # Ask the same question once more before moving on (as the app words it again, when
            # it does: a place it couldn't find is asked again with the localities as choices).
            again = slots.get("question") if (slots.get("question") or {}).get("id") == question.get("id") else question
            slots.update(question=again, reasked=question.get("id"), triage_answer=None)
            return slots
        slots["triage_answer"] = str(slot_value) if _is_finished(reply) else None
        return slots


class ActionTriageOutcome(Action):
    """The decision in plain words, then the decision itself in a custom message."""

    def name(self) -> Text:
        return "action_triage_outcome"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        outcome = tracker.get_slot("decision")
        if outcome and outcome.get("decision"):
            _say(dispatcher, outcome_messages(outcome["decision"], tracker.get_slot("contact_id"), outcome.get("summary"),
                                              outcome.get("outcome")))
        return [SlotSet("triage_answer", None), SlotSet("question", None), SlotSet("reasked", None)]


class ActionHandover(Action):
    """'I want to talk to someone': keep what they said, then ask for a call-back number."""

    def name(self) -> Text:
        return "action_handover"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        try:
            reply = _api(tracker).turn(tracker.get_slot("contact_id"), text, None, tracker.get_slot("asked"))
        except ApiUnavailable as error:
            _service_unavailable(dispatcher, error)
            return [ActiveLoop(None)]
        slots = _slots_from_reply(reply, tracker)
        events = _events(slots) + [SlotSet("triage_answer", None)]
        if _is_emergency(reply):
            return events + [FollowupAction("action_triage_outcome")]
        return events + [SlotSet("callback_phone", None), FollowupAction("callback_form")]


class ValidateCallbackForm(FormValidationAction):
    """A UK phone number, or a refusal; anything else goes to the app and is asked again."""

    def name(self) -> Text:
        return "validate_callback_form"

    def validate_callback_phone(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        if slot_value is None:
            return {"callback_phone": None}
        text = str(slot_value)
        phone = parse_phone(text)
        if phone:
            return {"callback_phone": phone}
        if is_refusal(text):
            return {"callback_phone": "none"}
        try:
            reply = _api(tracker).turn(tracker.get_slot("contact_id"), text, None, tracker.get_slot("asked"))
        except ApiUnavailable as error:
            _service_unavailable(dispatcher, error)
            return {"callback_phone": None}
        slots = _slots_from_reply(reply, tracker)
        if _is_emergency(reply):
            # 999 advice at once; the call-back request still goes on the worklist.
            _say(dispatcher, outcome_messages(reply["decision"], slots["contact_id"], reply.get("summary")))
            slots["callback_phone"] = "none"
            return slots
        dispatcher.utter_message(response="utter_callback_phone_invalid")
        slots["callback_phone"] = None
        return slots


class ActionRequestCallback(Action):
    """Put the call-back request on the duty team's worklist, and say what happens next."""

    def name(self) -> Text:
        return "action_request_callback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        contact_id: Optional[Text] = tracker.get_slot("contact_id")
        phone = tracker.get_slot("callback_phone")
        phone = None if phone in (None, "none") else phone
        if contact_id is None:
            dispatcher.utter_message(response="utter_service_unavailable")
            return [SlotSet("callback_phone", None)]
        try:
            result = _api(tracker).request_callback(contact_id, phone)
        except ApiUnavailable as error:
            _service_unavailable(dispatcher, error)
            return [SlotSet("callback_phone", None)]
        if phone:
            dispatcher.utter_message(
                text=f"Thank you. I've asked the duty team to call you on {phone}. "
                "If anyone is in danger in the meantime, call 999."
            )
        else:
            dispatcher.utter_message(
                text="Thank you. I've put your request on the duty team's worklist. Without a phone number "
                "they can't call you, so please call NHS 111 if you need help sooner, or 999 in an emergency."
            )
        dispatcher.utter_message(text=f"Your reference number is {contact_id}.")
        dispatcher.utter_message(json_message={"callback": result, "contact_id": contact_id})
        return [SlotSet("callback_phone", None)]
