"""The resident web chat end to end: a trained Rasa model, the action server and the real app.

Each conversation goes through Rasa's standard REST channel (POST /webhooks/rest/webhook)
as any Rasa client would, answering the questions the app chooses from flows/ the way a
person would ("yes", "she's 84", "none of those", or a button's payload), and must end in the
protocol's decision. The servers are started once for the module on free loopback ports
(see assistant/chat_stack.py) and stopped at the end.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "assistant"))

import importlib.util  # noqa: E402

import chat_stack  # noqa: E402
from web import chat_outcome  # noqa: E402
from chat_stack import Conversation, Resident, outcome_in, question_in  # noqa: E402

# The actions' message helpers are plain Python (no Rasa import), so they are tested here too.
_spec = importlib.util.spec_from_file_location("chat_messages", ROOT / "assistant" / "actions" / "messages.py")
messages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(messages)


SCREEN = ["unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs", "severe_bleeding",
          "seizure_ongoing", "severe_allergic_reaction", "serious_injury", "overdose_or_self_harm",
          "immediate_danger"]
NOTHING_URGENT_NOW = {fact: False for fact in SCREEN}


@pytest.fixture(scope="module")
def stack():
    missing = chat_stack.prerequisites()
    if missing:
        pytest.skip("the chat stack can't run yet: missing " + "; ".join(missing))
    with chat_stack.new_stack() as running:
        yield running


# -- the message helpers (no servers) -----------------------------------------------------

CHECKLIST = {"id": "emergency_screen", "ask": ["chest_pain", "stroke_signs"], "kind": "checklist",
             "text": "Is any of this happening now?",
             "options": [{"value": "chest_pain", "label": "Pain in the chest"},
                         {"value": "stroke_signs", "label": "Face drooping"},
                         {"value": "none", "label": "None of these"}]}


def test_question_message_has_buttons_then_the_custom_payload():
    first, second = messages.question_messages(CHECKLIST)
    assert first["text"] == "Is any of this happening now?"
    assert [b["payload"] for b in first["buttons"]] == ["chest_pain", "stroke_signs", "none"]
    custom = second["json_message"]
    assert custom["ask"] == ["chest_pain", "stroke_signs"] and custom["kind"] == "checklist"
    assert custom["options"] == CHECKLIST["options"]


def test_number_question_has_no_buttons():
    first, second = messages.question_messages({"id": "age", "ask": ["age"], "kind": "number",
                                                "text": "How old is the person?", "options": []})
    assert "buttons" not in first and second["json_message"]["options"] == []


def test_emergency_outcome_leads_with_999_and_carries_the_decision():
    decision = {"route": "emergency", "pathway": "ambulance", "response_target": "PT0M", "status": "complete",
                "safeguarding": {"level": "none"}, "advice": ["Call 999 now."]}
    lines = messages.outcome_lines(decision, "SPA-AAAA-BBBB")   # a turn without the app's summary
    assert lines[0].startswith("Call 999 now")
    assert lines[-1] == "Your reference number is SPA-AAAA-BBBB."
    custom = messages.outcome_messages(decision, "SPA-AAAA-BBBB")[-1]["json_message"]
    assert custom["decision"] is decision and custom["contact_id"] == "SPA-AAAA-BBBB"


def app_summary(decision: dict, contact_id: str | None) -> list[str]:
    """The outcome's words as the app's dialogue turn returns them (`summary`)."""
    return chat_outcome.outcome_lines(chat_outcome.outcome_view(decision, contact_id))


def test_emergency_outcome_says_the_apps_words_and_leads_with_999():
    decision = {"route": "emergency", "pathway": "ambulance", "response_target": "PT0M", "status": "complete",
                "safeguarding": {"level": "none"}, "advice": ["Call 999 now."]}
    summary = app_summary(decision, "SPA-AAAA-BBBB")
    lines = messages.outcome_lines(decision, "SPA-AAAA-BBBB", summary)
    assert lines == summary and lines[0].startswith("Call 999 now")
    assert lines[-1] == "Your reference number is SPA-AAAA-BBBB."
    custom = messages.outcome_messages(decision, "SPA-AAAA-BBBB", summary)[-1]["json_message"]
    assert custom["summary"] == summary   # the chat page drops these lines: its panel says them


def test_urgent_community_response_says_within_two_hours():
    decision = {"route": "rapid_response", "pathway": "ucr", "response_target": "PT2H", "status": "complete",
                "safeguarding": {"level": "none"}}
    lines = messages.outcome_lines(decision, None, app_summary(decision, None))
    assert "The urgent community response team will contact you within 2 hours and come to see the person." in lines


def test_safeguarding_referral_is_mentioned_in_the_outcome():
    decision = {"route": "mdt", "pathway": "safeguarding", "response_target": "P2D", "status": "complete",
                "safeguarding": {"level": "referral"}}
    lines = messages.outcome_lines(decision, None, app_summary(decision, None))
    assert any("safeguarding referral" in line for line in lines)
    assert "The local care team will contact you within 2 working days to talk about what is needed." in lines


def test_uk_mobile_number_is_a_phone_number():
    assert messages.parse_phone("07700 900123") == "07700900123"
    assert messages.parse_phone("+44 (0)1227 123456") == "01227123456"


def test_nine_digits_are_not_a_phone_number():
    assert messages.parse_phone("0770 09001") is None
    assert messages.parse_phone("I want to talk to someone") is None


def test_no_number_is_a_refusal_but_a_number_is_not():
    assert messages.is_refusal("no number") and messages.is_refusal("I'd rather not")
    assert not messages.is_refusal("no, it's 07700 900123")


# -- whole conversations through the REST channel -----------------------------------------

def converse(stack, opening: str, knows: dict, buttons: bool = False) -> tuple[dict, Conversation]:
    conversation = Conversation(stack, Resident(knows, buttons=buttons))
    outcome = conversation.run(opening)
    return outcome, conversation


@pytest.mark.rasa
def test_rasa_data_is_valid():
    if not chat_stack.RASA_BIN.exists():
        pytest.skip("no .venv-rasa (make rasa-setup)")
    result = subprocess.run([str(chat_stack.RASA_BIN), "data", "validate", "--quiet"], cwd=ROOT / "assistant",
                            capture_output=True, text=True, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


LONG_LIE = ("My mum is 90 and she fell getting out of bed. She's been on the floor since 5am and can't get up. "
            "She isn't hurt and she didn't hit her head.")


def long_lie_knows(place: str) -> dict:
    """What the daughter of a 90-year-old on the floor since 5am knows, she being at `place`."""
    return {**NOTHING_URGENT_NOW, "caller": "family_friend", "age": 90, "locality": place, "fallen": True,
            "on_floor_cannot_get_up": True, "fall_injury": "none", "head_injury": False, "lost_consciousness": False,
            "setting": "own_home", "lives_alone": True, "consent_to_share": True}


def assert_rapid_response(decision: dict) -> None:
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "ucr", "PT2H")


@pytest.mark.rasa
def test_fall_with_long_lie_goes_to_rapid_response(stack):
    outcome, chat = converse(stack, LONG_LIE, long_lie_knows("Sittingbourne"))
    decision = outcome["decision"]
    assert_rapid_response(decision)
    assert decision["status"] == "complete"
    assert outcome["contact_id"]
    # Said in the first message, so never asked.
    asked = {fact for question in chat.questions for fact in question["ask"]}
    assert not asked & {"fallen", "on_floor_cannot_get_up"}, chat.describe()


@pytest.mark.hazard("HAZ-004")
@pytest.mark.rasa
def test_fall_with_long_lie_in_a_kent_village_not_in_config_goes_to_rapid_response(stack):
    # Wittersham is not among config.yml's place names: the gazetteer places it in Ashford (issue 8).
    outcome, chat = converse(stack, LONG_LIE, long_lie_knows("Wittersham"))
    assert_rapid_response(outcome["decision"])
    assert any("locality" in question["ask"] for question in chat.questions), chat.describe()


@pytest.mark.rasa
def test_a_place_answer_that_cant_be_found_is_asked_again_with_the_localities_and_the_fall_is_still_served(stack):
    outcome, chat = converse(stack, LONG_LIE, long_lie_knows("at her bungalow"))
    asked = [question for question in chat.questions if "locality" in question["ask"]]
    assert len(asked) == 2, chat.describe()
    assert {"west_kent", "somewhere else", "unknown"} <= {o["value"] for o in asked[1]["options"]}, chat.describe()
    assert outcome["decision"]["route"] == "rapid_response", chat.describe()


@pytest.mark.rasa
def test_fall_with_suspected_broken_hip_is_told_to_call_999(stack):
    outcome, chat = converse(
        stack,
        "Dad has fallen in the kitchen and I think he's broken his hip, he can't move his leg.",
        {**NOTHING_URGENT_NOW, "serious_injury": True, "caller": "family_friend", "fallen": True,
         "fall_injury": "serious"})
    decision = outcome["decision"]
    assert (decision["route"], decision["pathway"]) == ("emergency", "ambulance")
    assert any("999" in line for line in outcome["summary"])


@pytest.mark.hazard("HAZ-001")
@pytest.mark.rasa
def test_chest_pain_is_told_to_call_999_at_once(stack):
    outcome, chat = converse(stack, "I'm 70 and I've got chest pain going down my left arm.",
                             {"chest_pain": True, "age": 70, "caller": "self"})
    decision = outcome["decision"]
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("emergency", "ambulance", "PT0M")
    assert chat.questions == [], chat.describe()


@pytest.mark.rasa
def test_no_chest_pain_but_swollen_legs_is_not_an_emergency_and_the_no_is_confirmed(stack):
    conversation = Conversation(stack, Resident({}))
    replies = conversation.send("No chest pain but my legs are swollen.")
    assert outcome_in(replies) is None, conversation.describe()
    question = question_in(replies)
    # A "no" heard in passing doesn't close the question: the screen shows it, to confirm.
    assert question is not None and question["heard"] == {"chest_pain": False}, conversation.describe()


@pytest.mark.rasa
def test_red_flag_in_a_greeting_still_reaches_the_app(stack):
    conversation = Conversation(stack, Resident({}))
    outcome = outcome_in(conversation.send("Hello, my husband has collapsed and he isn't breathing"))
    assert outcome is not None, conversation.describe()
    assert outcome["decision"]["route"] == "emergency"


@pytest.mark.rasa
def test_emergency_words_without_a_red_flag_are_told_999_before_the_screen(stack):
    conversation = Conversation(stack, Resident({}))
    replies = conversation.send("It's an emergency, please help me quickly")
    texts = [m.get("text") or "" for m in replies]
    assert any("call 999 straight away" in text for text in texts), conversation.describe()
    assert question_in(replies)["question_id"] == "emergency_screen", conversation.describe()


@pytest.mark.rasa
def test_everyday_worry_is_not_told_999_before_the_screen(stack):
    conversation = Conversation(stack, Resident({}))
    replies = conversation.send("I'm worried about my dad, he's not managing his shopping any more")
    assert not any("call 999 straight away" in (m.get("text") or "") for m in replies), conversation.describe()
    assert question_in(replies)["question_id"] == "emergency_screen", conversation.describe()


@pytest.mark.rasa
def test_lonely_neighbour_goes_to_the_voluntary_sector(stack):
    outcome, chat = converse(
        stack,
        "I'm worried about my neighbour. He's 82 and lives on his own in Dartford, he hasn't left the house "
        "for weeks and he'd like some company.",
        {**NOTHING_URGENT_NOW, "caller": "family_friend", "age": 82, "locality": "Dartford", "lonely_or_isolated": True,
         "lives_alone": True, "setting": "own_home", "suicidal_thoughts": False, "mental_health_crisis": False,
         "consent_to_share": True, "practical_help": [], "outcomes_unable": []},
        buttons=True)
    decision = outcome["decision"]
    assert (decision["route"], decision["pathway"], decision["response_target"]) == (
        "voluntary_sector", "community_support", "P5D")
    assert decision["status"] == "complete"


@pytest.mark.rasa
def test_financial_abuse_of_a_person_with_dementia_is_a_safeguarding_referral(stack):
    outcome, chat = converse(
        stack,
        "My nan is 85 and has dementia. I think her carer has been taking money out of her purse. She lives in Ashford.",
        {**NOTHING_URGENT_NOW, "caller": "family_friend", "age": 85, "locality": "Ashford", "dementia": True,
         "abuse_types": ["financial"], "lacks_capacity": True, "able_to_protect_self": False,
         "others_at_risk": False, "child_at_risk": False, "setting": "own_home"})
    decision = outcome["decision"]
    assert (decision["route"], decision["pathway"]) == ("mdt", "safeguarding")
    assert decision["safeguarding"]["level"] == "referral"
    assert decision["review_required"] is True


@pytest.mark.rasa
def test_carer_at_breaking_point_gets_an_urgent_response(stack):
    outcome, chat = converse(
        stack,
        "I look after my husband, he has dementia, and I'm at breaking point. I can't carry on caring for him "
        "and he can't be left on his own.",
        {**NOTHING_URGENT_NOW, "caller": "unpaid_carer", "age": 79, "locality": "Deal", "is_unpaid_carer": True,
         "carer_breakdown": True, "dementia": True, "setting": "own_home"})
    decision = outcome["decision"]
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "ucr", "PT2H")


@pytest.mark.rasa
def test_exhausted_carer_not_in_crisis_gets_a_carers_assessment(stack):
    outcome, chat = converse(
        stack,
        "I care for my mum. I've had to give up work and I never see my friends any more, and I'm exhausted. "
        "She's not in crisis, I just need some support for me.",
        {**NOTHING_URGENT_NOW, "caller": "unpaid_carer", "age": 59, "locality": "Canterbury", "is_unpaid_carer": True,
         "carer_breakdown": False, "carer_outcomes_unable": ["work_learning_volunteering", "relationships"],
         "carer_wellbeing_impact_significant": True, "carer_health_deteriorating": False})
    decision = outcome["decision"]
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("mdt", "carer_assessment", "P2D")


@pytest.mark.rasa
def test_child_is_signposted_to_childrens_services(stack):
    outcome, chat = converse(
        stack, "I need some help for my grandson, he's 9.",
        {**NOTHING_URGENT_NOW, "caller": "family_friend", "age": 9, "locality": "Margate", "child_at_risk": False,
         "abuse_types": []},
        buttons=True)
    decision = outcome["decision"]
    assert (decision["route"], decision["pathway"], decision["response_target"]) == (
        "out_of_scope", "children_services", None)


@pytest.mark.rasa
def test_adult_of_eighteen_is_not_signposted_to_childrens_services(stack):
    outcome, chat = converse(
        stack, "My son has just turned 18 and he's very lonely, he never goes out.",
        {**NOTHING_URGENT_NOW, "caller": "family_friend", "age": 18, "locality": "Margate", "lonely_or_isolated": True,
         "suicidal_thoughts": False, "mental_health_crisis": False, "consent_to_share": True})
    assert outcome["decision"]["route"] != "out_of_scope"


@pytest.mark.rasa
def test_person_out_of_area_is_signposted_to_their_own_area(stack):
    outcome, chat = converse(
        stack, "My mum lives in Croydon and she isn't coping at home on her own.",
        {**NOTHING_URGENT_NOW, "caller": "family_friend", "age": 80, "locality": "Croydon", "lives_alone": True})
    decision = outcome["decision"]
    assert (decision["route"], decision["pathway"]) == ("out_of_scope", "other_area")


@pytest.mark.rasa
def test_asking_for_a_person_puts_a_call_back_on_the_worklist(stack):
    conversation = Conversation(stack, Resident({}))
    first = conversation.send("My dad isn't coping at home since he came out of hospital.")
    assert question_in(first) is not None, conversation.describe()
    asked = conversation.send("I want to talk to someone")
    assert any("phone number" in (m.get("text") or "") for m in asked), conversation.describe()
    done = conversation.send("07700 900123")
    callback = [m["custom"] for m in done if isinstance(m.get("custom"), dict) and "callback" in m["custom"]]
    assert callback, conversation.describe()
    item = callback[0]["callback"]
    assert item["kind"] == "callback" and item["contact_id"] == callback[0]["contact_id"], item
    assert "07700900123" in item["note"]


def test_collapse_not_breathing_turn_carries_the_999_words_the_actions_say(client, service_headers):
    """The dialogue turn returns the outcome's words (`summary`), so the actions need none of their own."""
    response = client.post("/api/dialogue/turn", headers=service_headers,
                           json={"contact_id": None, "text": "my dad has collapsed and he's not breathing",
                                 "answer": None, "asked": [], "start": True})
    assert response.status_code == 200, response.get_data(as_text=True)
    reply = response.get_json()
    assert reply["decision"]["route"] == "emergency" and reply["question"] is None
    assert reply["summary"][0].startswith("Call 999 now")
    assert reply["summary"][-1] == f"Your reference number is {reply['contact_id']}."
    assert messages.outcome_lines(reply["decision"], reply["contact_id"], reply["summary"]) == reply["summary"]


@pytest.mark.rasa
def test_someone_in_danger_tapped_by_mistake_is_changed_in_the_same_contact(stack):
    conversation = Conversation(stack, Resident({}))
    first = question_in(conversation.send("My mum is 80 and she's been very lonely since dad died."))
    assert first is not None and first["question_id"] == "emergency_screen", conversation.describe()
    wrong = outcome_in(conversation.send("immediate_danger"))
    assert wrong is not None and wrong["decision"]["route"] == "emergency", conversation.describe()
    again = conversation.send("sorry, I pressed the wrong button")
    question = question_in(again)
    assert question is not None and question["question_id"] == "emergency_screen", conversation.describe()
    assert question["contact_id"] == wrong["contact_id"]                  # the same contact and reference
    assert question["heard"]["immediate_danger"] is True
    after = conversation.send("none of those")
    outcome, next_question = outcome_in(after), question_in(after)
    assert next_question is not None or (outcome and outcome["decision"]["route"] != "emergency"), \
        conversation.describe()
    reference = (next_question or outcome)["contact_id"]
    assert reference == wrong["contact_id"], conversation.describe()


@pytest.mark.rasa
def test_change_my_last_answer_asks_that_question_again(stack):
    conversation = Conversation(stack, Resident({}))
    conversation.send("My dad is 84 and lonely, he lives in Dartford.")
    second = question_in(conversation.send("none of those"))
    assert second is not None, conversation.describe()
    conversation.send(Resident({}).answer(second))
    again = question_in(conversation.send("change my last answer"))
    assert again is not None and again["question_id"] == second["question_id"], conversation.describe()
    assert again["contact_id"] == second["contact_id"]
