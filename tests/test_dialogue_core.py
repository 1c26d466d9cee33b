"""The dialogue core (spoa/dialogue): one set of rules for the chat and the console. Pure: the
real flows and, where a decision is needed, the real engine; no web app, no database."""
from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import ADULT_IN_KENT, NOW, SCREEN_NO, get_triage

from spoa.dialogue import core
from spoa.dialogue.answers import denies_presumed, is_change_request, parse_answer
from spoa.dialogue.questions import build_question, load_flows
from spoa.dialogue.wording import outcome_lines, outcome_view, readback_lines, target_words

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def flows():
    return load_flows(ROOT / "flows")


def decide(facts: dict, partial: list | None = None) -> dict:
    triage = get_triage()
    contact = {"channel": "web_chat", "facts": {k: v for k, v in facts.items() if v is not None}}
    decision = triage.decide(triage.parse_contact(contact) | ({"partial": partial} if partial else {}), NOW)
    return decision


# --- what to ask next ----------------------------------------------------------------------------

def test_a_fact_answered_dont_know_is_never_asked_again(flows):
    decision = {"route": "self_care", "missing": ["age", "locality"]}
    question = core.next_question(flows, decision, {"age": None}, "resident")
    assert question.id == "locality"


def test_a_fact_not_asked_yet_is_asked(flows):
    decision = {"route": "self_care", "missing": ["age", "locality"]}
    assert core.next_question(flows, decision, {}, "resident").id == "age"


def test_a_settled_decision_asks_nothing_more_even_with_facts_missing(flows):
    decision = {"route": "rapid_response", "missing": ["lives_alone"], "settled": True, "also": []}
    assert core.next_question(flows, decision, {}, "resident") is None


def test_an_unsettled_decision_asks_on(flows):
    decision = {"route": "rapid_response", "missing": ["lives_alone"], "settled": False, "also": []}
    assert core.next_question(flows, decision, {}, "resident").id == "lives_alone"


@pytest.mark.hazard("HAZ-009")
def test_a_999_decision_asks_nothing_not_even_consent(flows):
    decision = {"route": "emergency", "missing": ["age"], "settled": True, "also": ["mdt"]}
    assert core.next_question(flows, decision, {}, "resident") is None


@pytest.mark.hazard("HAZ-003")
def test_a_list_heard_in_passing_is_asked_with_its_items_ticked(flows):
    decision = {"route": "self_care", "missing": ["long_term_conditions"], "settled": False}
    facts = {"long_term_conditions": ["other"]}
    question = core.next_question(flows, decision, facts, "resident", partial=["long_term_conditions"])
    assert question.id == "long_term_conditions"
    assert question.to_dict()["heard"] == {"long_term_conditions": ["other"]}


def test_a_list_answered_to_its_own_question_is_not_asked_again(flows):
    decision = {"route": "self_care", "missing": ["long_term_conditions"], "settled": False}
    assert core.next_question(flows, decision, {"long_term_conditions": ["other"]}, "resident") is None


def test_a_checklist_asks_only_its_items_still_unanswered(flows):
    decision = {"route": "self_care", "missing": ["chest_pain", "stroke_signs"], "settled": False}
    question = core.next_question(flows, decision, {"unresponsive": False, "stroke_signs": None}, "call_handler")
    assert question.id == "emergency_screen" and question.facts == ["chest_pain"]


# --- what an answer may change -------------------------------------------------------------------

def test_an_answer_does_not_overwrite_a_known_fact_unless_the_person_changes_it():
    assert core.answer_to_store({"lives_alone": True}, {"lives_alone": False}, []) == {}
    assert core.answer_to_store({"lives_alone": True}, {"lives_alone": False}, [], change=True) == {"lives_alone": False}


def test_a_red_flag_answered_yes_after_a_no_is_taken_but_not_the_other_way():
    assert core.answer_to_store({"chest_pain": False}, {"chest_pain": True}, []) == {"chest_pain": True}
    assert core.answer_to_store({"chest_pain": True}, {"chest_pain": False}, []) == {}


def test_dont_know_fills_an_unanswered_fact_but_never_clears_a_known_one():
    assert core.answer_to_store({}, {"age": None}, []) == {"age": None}
    assert core.answer_to_store({"age": 84}, {"age": None}, []) == {}


def test_the_answer_to_a_partial_lists_own_question_replaces_what_was_heard():
    store = core.answer_to_store({"long_term_conditions": ["other"]}, {"long_term_conditions": ["copd", "other"]},
                                 ["long_term_conditions"])
    assert store == {"long_term_conditions": ["copd", "other"]}


# --- how facts heard in free text enter ----------------------------------------------------------

@pytest.mark.hazard("HAZ-001")
def test_a_red_flag_heard_in_passing_is_stored_at_once():
    store, confirm = core.heard_to_store({"chest_pain": False}, {"chest_pain": True})
    assert store == {"chest_pain": True} and confirm == {}


@pytest.mark.hazard("HAZ-002")
def test_a_no_heard_in_passing_is_confirmed_by_asking_not_stored():
    store, confirm = core.heard_to_store({}, {"chest_pain": False, "fall_injury": "none"})
    assert store == {} and confirm == {"chest_pain": False, "fall_injury": "none"}


def test_a_list_heard_in_passing_joins_what_is_known():
    store, _ = core.heard_to_store({"long_term_conditions": ["copd"]}, {"long_term_conditions": ["other"]})
    assert store == {"long_term_conditions": ["copd", "other"]}


@pytest.mark.hazard("HAZ-003")
def test_a_list_heard_is_partial_until_its_own_question_is_answered():
    facts, partial = core.fold_events([("long_term_conditions", ["other"], "extraction"), ("age", 71, "chat")])
    assert partial == ["long_term_conditions"]
    facts, partial = core.fold_events([("long_term_conditions", ["other"], "extraction"),
                                       ("long_term_conditions", ["other", "copd"], "chat")])
    assert partial == []


def test_dont_know_is_kept_as_null_and_not_asked_again():
    facts, _ = core.fold_events([("age", None, "chat")])
    assert facts == {"age": None}


@pytest.mark.hazard("HAZ-001")
def test_a_heard_red_flag_wins_over_an_answered_no_in_the_same_turn():
    answer, heard, _ = core.merge_turn({}, {"chest_pain": True}, {"chest_pain": False}, [])
    assert heard == {"chest_pain": True} and "chest_pain" not in answer


# --- a denial of what the question presumed ------------------------------------------------------

@pytest.mark.parametrize("said", ["she hasn't fallen", "She didn't fall", "there was no fall", "she never fell",
                                  "no, she hasn't had a fall"])
def test_she_hasnt_fallen_answers_the_fall_not_the_injury(flows, said):
    question = build_question(flows.by_id["fall_injury"], "resident")
    assert denies_presumed(question, said) == {"fallen": False, "fall_injury": None}


@pytest.mark.parametrize("said", ["not hurt from the fall", "no, she didn't hurt herself when she fell", "she fell"])
def test_an_answer_about_the_fall_itself_is_not_a_denial(flows, said):
    question = build_question(flows.by_id["fall_injury"], "resident")
    assert denies_presumed(question, said) is None


def test_a_denied_fall_takes_the_falls_rule_away(flows):
    facts = {**ADULT_IN_KENT, **SCREEN_NO, "fallen": False, "fall_injury": None}
    decision = decide(facts)
    assert decision["route"] != "rapid_response" or decision["pathway"] != "ucr"


# --- changing an answer --------------------------------------------------------------------------

@pytest.mark.parametrize("said", ["change my last answer", "Sorry, I pressed the wrong button",
                                  "sorry wrong button", "I tapped the wrong one", "that was a mistake",
                                  "can I change my answer"])
def test_asking_to_change_an_answer_is_recognised(said):
    assert is_change_request(said)


@pytest.mark.parametrize("said", ["no", "she hasn't changed at all", "the button on her alarm is broken",
                                  "I'm worried something is wrong with her"])
@pytest.mark.hazard("HAZ-020")
def test_an_ordinary_answer_is_not_a_change_request(said):
    assert not is_change_request(said)


def test_changing_the_last_answer_asks_that_question_again_with_the_answer_given(flows):
    events = [("immediate_danger", True, "chat"), ("long_term_conditions", ["other"], "extraction")]
    last = core.last_answered_question(flows, events, sources=("chat",))
    assert last == "emergency_screen"
    question = core.change_question(flows, last, {"immediate_danger": True}, "resident")
    assert len(question.facts) == 10 and question.to_dict()["heard"] == {"immediate_danger": True}


# --- the end of the dialogue ---------------------------------------------------------------------

def test_consent_to_share_is_asked_before_a_voluntary_sector_referral(flows):
    decision = {"route": "voluntary_sector", "missing": [], "settled": True, "also": []}
    assert core.next_question(flows, decision, {}, "resident").id == "consent_to_share"


def test_consent_is_not_asked_when_the_person_lacks_capacity(flows):
    decision = {"route": "mdt", "missing": [], "settled": True, "also": []}
    assert core.next_question(flows, decision, {"lacks_capacity": True}, "resident") is None


def test_consent_is_not_asked_for_self_care_information(flows):
    decision = {"route": "self_care", "missing": [], "settled": True, "also": []}
    assert core.next_question(flows, decision, {}, "resident") is None


def test_contact_details_follow_a_referral_or_a_call_back_but_not_self_care():
    assert core.needs_contact_details({"route": "mdt"})
    assert core.needs_contact_details({"route": "self_care"}, callback=True)
    assert not core.needs_contact_details({"route": "self_care", "safeguarding": {"level": "none"}})


# --- wording -------------------------------------------------------------------------------------

def self_care(level: str, about: list[str]) -> dict:
    return {"route": "self_care", "pathway": "information", "response_target": None, "status": "complete",
            "safeguarding": {"level": level, "about": about}, "advice": [], "also": []}


@pytest.mark.hazard("HAZ-020")
def test_self_care_with_a_child_safeguarding_referral_never_says_no_referral_and_says_what_happens_for_the_child():
    lines = " ".join(outcome_lines(outcome_view(self_care("urgent", ["child"]), "SPA-1")))
    assert "no referral" not in lines.lower() and "don't need a referral" not in lines.lower()
    assert "children's social care" in lines and "child" in lines


@pytest.mark.hazard("HAZ-020")
def test_self_care_with_no_referral_of_any_kind_says_no_referral_is_needed():
    lines = " ".join(outcome_lines(outcome_view(self_care("none", []), "SPA-1")))
    assert "No referral is needed" in lines


def test_a_day_target_reads_working_days_in_the_chat_and_the_console():
    assert target_words("P2D") == "Within 2 working days"
    view = outcome_view({"route": "mdt", "pathway": "care_act_assessment", "response_target": "P2D",
                         "safeguarding": {"level": "none"}}, None)
    assert "within 2 working days" in view["next_steps"]


def test_after_a_fall_the_wait_advice_says_not_to_lift_them_and_keep_them_warm_in_chat_and_read_back():
    decision = {"route": "rapid_response", "pathway": "ucr", "response_target": "PT2H",
                "safeguarding": {"level": "none"}, "advice": []}
    chat = " ".join(outcome_lines(outcome_view(decision, "SPA-1")))
    console = " ".join(readback_lines(decision, "SPA-1", "rapid_response", "By noon.")["lines"])
    for words in (chat, console):
        assert "don't try to lift them" in words and "warm" in words and "call 999" in words


def test_outcome_words_carry_no_internal_codes():
    decision = {"route": "mdt", "pathway": "safeguarding", "response_target": "P2D", "status": "complete",
                "safeguarding": {"level": "referral", "about": ["adult", "child"]}, "advice": []}
    words = " ".join(outcome_lines(outcome_view(decision, "SPA-1")))
    for code in ("mdt", "ucr", "safeguarding_referral", "SAFE-", "MDT-", "_"):
        assert code not in words


def test_plain_words_none_of_those_answers_a_checklist_asked_again_only_for_its_open_items(flows):
    question = build_question(flows.by_id["emergency_screen"], "resident", {}, ["chest_pain", "stroke_signs"])
    assert parse_answer(question, "none of those") == {"chest_pain": False, "stroke_signs": False}


# --- the person's contact details, at the end ----------------------------------------------------

def test_details_follow_a_referral_the_persons_first_then_the_callers_own():
    decision = {"route": "mdt", "safeguarding": {"level": "none"}, "also": []}
    facts = {"caller": "family_friend", "consent_to_share": True}
    first = core.next_detail_question(decision, facts, {}, "resident")
    assert first.id == "details.name" and "the person's" in first.text
    asked = [core.DETAILS_PREFIX + f for f in ("name", "date_of_birth", "address", "postcode", "phone", "nhs_number")]
    assert core.next_detail_question(decision, facts, {}, "resident", asked=asked).id == "details.caller_name"


def test_a_person_calling_for_themselves_is_asked_their_own_details_and_no_callers():
    decision = {"route": "voluntary_sector", "safeguarding": {"level": "none"}, "also": []}
    facts = {"caller": "self", "consent_to_share": True}
    assert core.next_detail_question(decision, facts, {}, "resident").text == "What is your full name?"
    assert "caller_name" not in core.detail_fields(facts)


def test_no_details_when_the_person_declines_to_share_or_for_self_care_or_999():
    facts = {"caller": "self", "consent_to_share": False}
    assert core.next_detail_question({"route": "voluntary_sector", "also": []}, facts, {}, "resident") is None
    assert core.next_detail_question({"route": "self_care", "also": []}, {}, {}, "resident") is None
    assert core.next_detail_question({"route": "emergency", "also": []}, {}, {}, "resident") is None


def test_a_detail_given_or_declined_is_not_asked_again():
    decision = {"route": "rapid_response", "safeguarding": {"level": "none"}, "also": []}
    question = core.next_detail_question(decision, {"caller": "self"}, {"name": "Ann"}, "resident",
                                         asked=["details.date_of_birth"])
    assert question.id == "details.address"


@pytest.mark.parametrize("said, declined", [("I don't know", True), ("skip", True), ("I'd rather not say", True),
                                            ("CT9 1AA", False), ("Ann Example", False)])
def test_a_detail_can_be_declined_in_plain_words(said, declined):
    from spoa.dialogue.answers import declines
    assert declines(said) is declined


def test_a_declined_voluntary_sector_referral_says_no_referral_was_made_and_points_to_the_services():
    decision = {"route": "voluntary_sector", "pathway": "community_support", "response_target": "P5D",
                "safeguarding": {"level": "none"}, "advice": [], "services": [{"name": "Befriending Circle"}]}
    words = " ".join(outcome_lines(outcome_view(decision, "SPA-1", withheld=True)))
    assert "not made a referral" in words and "will contact you" not in words and "Befriending Circle" in words


def test_an_agreed_voluntary_sector_referral_says_who_will_contact_them():
    decision = {"route": "voluntary_sector", "pathway": "community_support", "response_target": "P5D",
                "safeguarding": {"level": "none"}, "advice": [], "services": []}
    assert "will contact you within 5 working days" in " ".join(outcome_lines(outcome_view(decision, "SPA-1")))


def test_the_read_back_of_self_care_with_a_safeguarding_referral_never_says_no_referral():
    from spoa.dialogue.wording import readback_no_target
    assert "No referral" not in readback_no_target(self_care("referral", ["adult"]))
    assert readback_no_target(self_care("none", [])).startswith("No referral")


def test_after_she_hasnt_fallen_the_injury_question_waits_for_the_floor_question(flows):
    decision = {"route": "rapid_response", "missing": ["fall_injury", "head_injury"], "settled": False}
    assert core.next_question(flows, decision, {"fallen": False}, "resident").id == "on_floor_cannot_get_up"
    assert core.next_question(flows, decision, {}, "resident").id == "fallen"


def test_after_a_fall_the_injury_question_is_asked_at_once(flows):
    decision = {"route": "rapid_response", "missing": ["fall_injury", "head_injury"], "settled": False}
    assert core.next_question(flows, decision, {"fallen": True}, "resident").id == "fall_injury"
