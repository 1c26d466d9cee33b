"""FAILSAFE rules: unknown never lowers urgency, the emergency screen comes first, unknown
scope serves the person, contradictions are read the urgent way and reviewed (PROTOCOL.md §3
FAILSAFE-1 to FAILSAFE-5)."""
from __future__ import annotations

import pytest

from engine_helpers import covers, decide, fired
from spoa.vocabulary import EMERGENCY_SCREEN, facts

# --- FAILSAFE-1 ------------------------------------------------------------------------------


def test_fall_with_injury_unknown_is_rapid_response_never_lower():
    decision = decide(fallen=True, fall_injury=None)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "ucr", "PT2H")
    assert "fall_injury" in decision["missing"]


@pytest.mark.hazard("HAZ-018")
def test_suicidal_thoughts_with_the_plan_unknown_are_treated_as_mh1_four_hours():
    decision = decide(suicidal_thoughts=True, suicide_plan_or_intent=None)
    assert (decision["pathway"], decision["response_target"]) == ("mental_health_crisis", "PT4H")
    assert "MH-1" in fired(decision)


def test_able_to_protect_self_unknown_counts_as_unable_and_the_referral_is_made():
    decision = decide(dementia=True, abuse_types=["physical"], able_to_protect_self=None)
    assert decision["safeguarding"]["level"] == "referral"
    assert "able_to_protect_self" in decision["missing"]


def test_consent_unknown_does_not_stop_a_referral():
    decision = decide(dementia=True, abuse_types=["physical"], consent_to_safeguarding_referral=None)
    assert decision["safeguarding"]["level"] == "referral"
    assert decision["safeguarding"]["consent_basis"] == "unknown"


def test_referral_made_while_able_to_protect_self_is_unknown_still_asks_it():
    decision = decide(dementia=True, abuse_types=["physical"], consent_to_safeguarding_referral=True)
    assert (decision["route"], decision["safeguarding"]["level"]) == ("mdt", "referral")
    assert "able_to_protect_self" in decision["missing"]


def test_answering_able_to_protect_self_can_turn_a_referral_into_a_concern():
    decision = decide(dementia=True, abuse_types=["physical"], consent_to_safeguarding_referral=True, able_to_protect_self=True)
    assert (decision["route"], decision["safeguarding"]["level"]) == ("self_care", "concern")


# --- FAILSAFE-2 and FAILSAFE-5 ---------------------------------------------------------------

def test_first_message_about_loneliness_is_incomplete_and_asks_the_emergency_screen_first():
    decision = decide(screen=False, base=False, lonely_or_isolated=True)
    assert decision["route"] == "voluntary_sector" and decision["status"] == "incomplete"
    assert decision["missing"][:len(EMERGENCY_SCREEN)] == list(EMERGENCY_SCREEN)


@pytest.mark.hazard("HAZ-001")
def test_nothing_known_is_self_care_but_incomplete_and_the_screen_leads():
    decision = decide(screen=False, base=False)
    assert (decision["route"], decision["status"]) == ("self_care", "incomplete")
    assert decision["missing"][:len(EMERGENCY_SCREEN)] == list(EMERGENCY_SCREEN)


def screen_without(fact: str) -> dict:
    return {f: False for f in EMERGENCY_SCREEN if f != fact}


@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize("unanswered", EMERGENCY_SCREEN)
def test_one_emergency_question_not_asked_yet_keeps_the_decision_incomplete_and_asks_it_first(unanswered):
    decision = decide(screen=False, lonely_or_isolated=True, **screen_without(unanswered))
    assert decision["status"] == "incomplete" and decision["settled"] is False
    assert decision["missing"][0] == unanswered


@pytest.mark.parametrize("dont_know", EMERGENCY_SCREEN)
def test_one_emergency_question_answered_dont_know_completes_the_screen_and_a_person_checks_it(dont_know):
    # 1.1: null is asked and not known; it is not asked again, and it never holds a decision
    # open, so a person reviews the unknown red flag instead.
    decision = decide(screen=False, lonely_or_isolated=True, **screen_without(dont_know), **{dont_know: None})
    assert decision["status"] == "complete" and decision["review_required"] is True
    assert any(dont_know in reason for reason in decision["review_reasons"])


def test_emergency_screen_all_answered_no_is_complete_and_not_asked_again():
    decision = decide(lonely_or_isolated=True)
    assert decision["status"] == "complete"
    assert not set(EMERGENCY_SCREEN) & set(decision["missing"])


def test_emergency_with_the_rest_of_the_screen_unanswered_is_complete_with_nothing_missing():
    decision = decide(screen=False, base=False, severe_bleeding=True)
    assert (decision["route"], decision["status"], decision["missing"]) == ("emergency", "complete", [])


def test_missing_follows_the_clinical_asking_order():
    decision = decide(screen=False, base=False)
    order = list(facts())
    assert decision["missing"] == sorted(decision["missing"], key=order.index)
    assert decision["missing"].index("suicidal_thoughts") < decision["missing"].index("fallen") \
        < decision["missing"].index("abuse_types") < decision["missing"].index("lonely_or_isolated")


# --- FAILSAFE-3 ------------------------------------------------------------------------------

def test_unknown_age_does_not_make_a_fall_out_of_scope():
    decision = decide(age=None, fallen=True, fall_injury="none")
    assert decision["route"] == "rapid_response" and "age" in decision["missing"]


@pytest.mark.hazard("HAZ-004")
def test_unknown_locality_does_not_make_a_fall_out_of_scope():
    decision = decide(locality=None, fallen=True, fall_injury="none")
    assert decision["route"] == "rapid_response" and "locality" in decision["missing"]


def test_known_age_and_locality_are_not_asked_again():
    decision = decide(fallen=True, fall_injury="none")
    assert "age" not in decision["missing"] and "locality" not in decision["missing"]


# --- FAILSAFE-4 ------------------------------------------------------------------------------

@covers("FAILSAFE-4A", positive=True)
def test_not_fallen_but_on_the_floor_is_treated_as_a_fall_and_reviewed():
    decision = decide(fallen=False, on_floor_cannot_get_up=True)
    assert (decision["route"], decision["pathway"]) == ("rapid_response", "ucr")
    assert decision["review_required"] is True
    assert any("Contradictory falls facts" in reason for reason in decision["review_reasons"])
    assert "FAILSAFE-4A" in fired(decision)


def test_not_fallen_but_on_the_floor_is_still_asked_about_injuries_that_would_mean_999():
    decision = decide(fallen=False, on_floor_cannot_get_up=True)
    assert decision["route"] == "rapid_response"
    assert "fall_injury" in decision["missing"] and "head_injury" in decision["missing"]


def test_no_fall_and_not_on_the_floor_asks_no_fall_injury_questions():
    decision = decide(fallen=False, on_floor_cannot_get_up=False)
    assert not {"fall_injury", "head_injury", "lost_consciousness"} & set(decision["missing"])


@covers("FAILSAFE-4A", positive=True)
def test_not_fallen_but_a_fall_injury_given_is_treated_as_a_fall_and_reviewed():
    decision = decide(fallen=False, fall_injury="minor")
    assert decision["route"] == "rapid_response" and decision["review_required"] is True


def test_no_fall_yet_hit_their_head_in_the_fall_on_blood_thinners_is_999_and_reviewed():
    decision = decide(fallen=False, head_injury=True, on_anticoagulants=True)
    assert (decision["route"], decision["pathway"]) == ("emergency", "ambulance")
    assert decision["review_required"] is True
    assert any("Contradictory falls facts" in reason for reason in decision["review_reasons"])


@covers("FAILSAFE-4A", positive=False)
def test_not_fallen_and_not_on_the_floor_is_no_contradiction():
    decision = decide(fallen=False, on_floor_cannot_get_up=False)
    assert decision["review_required"] is False and "FAILSAFE-4A" not in fired(decision)


@covers("FAILSAFE-4A", positive=False)
def test_fallen_and_on_the_floor_is_no_contradiction():
    decision = decide(fallen=True, on_floor_cannot_get_up=True, fall_injury="none")
    assert decision["review_required"] is False and "FAILSAFE-4A" not in fired(decision)


@pytest.mark.hazard("HAZ-018")
@covers("FAILSAFE-4B", positive=True)
def test_plan_to_end_life_with_suicidal_thoughts_denied_is_treated_as_mh1_and_reviewed():
    decision = decide(suicidal_thoughts=False, suicide_plan_or_intent=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "mental_health_crisis", "PT4H")
    assert decision["review_required"] is True
    assert any("Contradictory mental health facts" in reason for reason in decision["review_reasons"])
    assert any("116 123" in line for line in decision["advice"])


@covers("FAILSAFE-4B", positive=False)
def test_no_plan_and_no_suicidal_thoughts_is_no_contradiction():
    decision = decide(suicidal_thoughts=False, suicide_plan_or_intent=False)
    assert decision["review_required"] is False and "FAILSAFE-4B" not in fired(decision)
    assert decision["route"] == "self_care"


def test_contradictory_mental_health_answers_with_an_overdose_are_999_and_still_reviewed():
    decision = decide(suicidal_thoughts=False, suicide_plan_or_intent=True, overdose_or_self_harm=True)
    assert decision["route"] == "emergency" and "FAILSAFE-4B" in fired(decision)
    assert decision["review_required"] is True


@covers("FAILSAFE-4B", positive=False)
def test_a_plan_with_thoughts_never_asked_is_no_contradiction():
    decision = decide(suicide_plan_or_intent=True)
    assert "FAILSAFE-4B" not in fired(decision) and decision["review_required"] is False
    assert decision["response_target"] == "PT4H"
