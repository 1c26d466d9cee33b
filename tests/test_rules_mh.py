"""MH rules: mental health crisis (PROTOCOL.md §3 MH, FAILSAFE-1 for an unknown plan)."""
from __future__ import annotations

import pytest

from engine_helpers import covers, decide, fired

LINES = ("option 2", "116 123", "85258")


def assert_mental_health_lines(decision):
    text = " ".join(decision["advice"])
    for line in LINES:
        assert line in text, f"MH decisions carry the 24/7 lines: {line!r} missing"


@pytest.mark.hazard("HAZ-018")
@covers("MH-1", positive=True)
def test_suicidal_with_a_plan_goes_to_the_crisis_team_within_4_hours():
    decision = decide(suicidal_thoughts=True, suicide_plan_or_intent=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "mental_health_crisis", "PT4H")
    assert "MH-1" in fired(decision) and "MH-2" not in fired(decision)
    assert_mental_health_lines(decision)


@covers("MH-1", positive=True)
def test_suicidal_with_the_plan_not_yet_asked_is_treated_as_very_urgent():
    decision = decide(suicidal_thoughts=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "mental_health_crisis", "PT4H")
    assert "MH-1" in fired(decision)


def test_suicidal_with_the_plan_not_yet_asked_asks_about_the_plan_next():
    decision = decide(suicidal_thoughts=True)
    assert "suicide_plan_or_intent" in decision["missing"]
    assert decision["missing"][0] == "suicide_plan_or_intent"


# --- 1.1: a plan or intent implies the thoughts (derived fact `suicidal`, MH-3) ----------------

@pytest.mark.hazard("HAZ-018")
@covers("MH-3", positive=True)
@covers("MH-1", positive=True)
def test_a_plan_to_end_his_life_with_thoughts_never_asked_goes_to_the_crisis_team_within_4_hours():
    # Issue 12: this was self-care, and learning "no thoughts" then made it more urgent.
    decision = decide(suicide_plan_or_intent=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "mental_health_crisis", "PT4H")
    assert {"MH-3", "MH-1"} <= set(fired(decision)) and decision["review_required"] is False
    assert_mental_health_lines(decision)


@covers("MH-3", positive=True)
def test_a_plan_with_thoughts_answered_dont_know_goes_to_the_crisis_team_within_4_hours():
    decision = decide(suicidal_thoughts=None, suicide_plan_or_intent=True)
    assert (decision["route"], decision["response_target"]) == ("rapid_response", "PT4H")
    assert decision["settled"] is False, "no child or abuse question answered yet"


@covers("MH-3", positive=False)
def test_no_plan_and_thoughts_never_asked_is_not_suicidal_and_asks_about_thoughts():
    decision = decide(suicide_plan_or_intent=False)
    assert "MH-3" not in fired(decision) and decision["route"] == "self_care"
    assert "suicidal_thoughts" in decision["missing"]


@pytest.mark.hazard("HAZ-018")
def test_learning_that_thoughts_are_denied_never_makes_a_plan_less_urgent():
    before = decide(suicide_plan_or_intent=True)
    after = decide(suicide_plan_or_intent=True, suicidal_thoughts=False)
    assert before["response_target"] == after["response_target"] == "PT4H"


@pytest.mark.hazard("HAZ-018")
def test_thoughts_denied_still_asks_about_a_plan():
    # FAILSAFE-6: the plan question is not gated behind a "yes" to thoughts.
    decision = decide(suicidal_thoughts=False)
    assert "suicide_plan_or_intent" in decision["missing"]


@covers("MH-1", positive=False)
@covers("MH-2", positive=True)
def test_suicidal_thoughts_without_a_plan_go_to_the_crisis_team_within_24_hours():
    decision = decide(suicidal_thoughts=True, suicide_plan_or_intent=False)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "mental_health_crisis", "PT24H")
    assert "MH-2" in fired(decision) and "MH-1" not in fired(decision)
    assert_mental_health_lines(decision)


@covers("MH-2", positive=True)
def test_mental_health_crisis_goes_to_the_crisis_team_within_24_hours():
    decision = decide(mental_health_crisis=True, suicidal_thoughts=False)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "mental_health_crisis", "PT24H")
    assert_mental_health_lines(decision)


@covers("MH-1", positive=False)
@covers("MH-2", positive=False)
def test_no_suicidal_thoughts_and_no_crisis_is_not_a_mental_health_referral():
    decision = decide(suicidal_thoughts=False, mental_health_crisis=False)
    assert decision["route"] == "self_care"
    assert not {"MH-1", "MH-2"} & set(fired(decision))
    assert not any("116 123" in line for line in decision["advice"])


@covers("MH-2", positive=False)
def test_crisis_not_yet_known_with_no_suicidal_thoughts_asks_about_the_crisis():
    decision = decide(suicidal_thoughts=False)
    assert "MH-2" not in fired(decision) and decision["route"] == "self_care"
    assert "mental_health_crisis" in decision["missing"]


def test_suicidal_with_a_plan_and_a_crisis_leads_with_4_hours():
    decision = decide(suicidal_thoughts=True, suicide_plan_or_intent=True, mental_health_crisis=True)
    assert decision["response_target"] == "PT4H"


def test_overdose_beats_the_crisis_team():
    decision = decide(suicidal_thoughts=True, suicide_plan_or_intent=True, overdose_or_self_harm=True)
    assert (decision["route"], decision["pathway"]) == ("emergency", "ambulance")
    assert not {"MH-1", "MH-2"} & set(fired(decision))


def test_suicidal_person_with_dementia_goes_to_the_crisis_team_within_4_hours():
    decision = decide(suicidal_thoughts=True, suicide_plan_or_intent=True, dementia=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "mental_health_crisis", "PT4H")


@pytest.mark.parametrize("frailty_score", [5, 6])
def test_suicidal_person_with_frailty_goes_to_the_crisis_team(frailty_score):
    decision = decide(suicidal_thoughts=True, frailty_score=frailty_score)
    assert (decision["route"], decision["pathway"]) == ("rapid_response", "mental_health_crisis")


@pytest.mark.parametrize("frailty_score", [3, 4])
def test_suicidal_person_with_mild_frailty_goes_to_the_crisis_team(frailty_score):
    decision = decide(suicidal_thoughts=True, frailty_score=frailty_score)
    assert (decision["route"], decision["pathway"]) == ("rapid_response", "mental_health_crisis")
