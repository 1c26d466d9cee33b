"""EMERG rules: 999 now (PROTOCOL.md §3 EMERG), and that an emergency beats everything."""
from __future__ import annotations

import pytest

from engine_helpers import covers, decide, fired

LIFE_THREATENING = ["unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs",
                    "severe_bleeding", "seizure_ongoing", "severe_allergic_reaction"]
CALL_999 = "Call 999 now."


def assert_ambulance_now(decision):
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("emergency", "ambulance", "PT0M")
    assert decision["advice"][0].startswith(CALL_999), "the 999 advice comes first"
    assert decision["status"] == "complete" and decision["missing"] == []


@pytest.mark.hazard("HAZ-001")
@covers("EMERG-1", positive=True)
@pytest.mark.parametrize("flag", LIFE_THREATENING)
def test_life_threatening_presentation_is_999_ambulance(flag):
    decision = decide(**{flag: True})
    assert_ambulance_now(decision)
    assert "EMERG-1" in fired(decision)


@covers("EMERG-1", positive=True)
def test_chest_pain_with_nothing_else_known_is_999_and_complete():
    decision = decide(screen=False, base=False, chest_pain=True)
    assert_ambulance_now(decision)


@covers("EMERG-1", positive=False)
@covers("EMERG-2", positive=False)
@covers("EMERG-3", positive=False)
@covers("EMERG-4", positive=False)
def test_emergency_screen_all_no_is_not_an_emergency():
    decision = decide()
    assert decision["route"] == "self_care"
    assert not [rule for rule in fired(decision) if rule.startswith("EMERG-")]
    assert not any(line.startswith(CALL_999) for line in decision["advice"])


@covers("EMERG-2", positive=True)
def test_fall_with_suspected_broken_hip_is_999():
    decision = decide(fallen=True, serious_injury=True)
    assert_ambulance_now(decision)
    assert "EMERG-2" in fired(decision) and "UCR-1" not in fired(decision)


@covers("EMERG-2", positive=True)
def test_fall_with_serious_injury_reported_as_the_fall_injury_is_999():
    decision = decide(fallen=True, fall_injury="serious")
    assert_ambulance_now(decision)
    assert "EMERG-2" in fired(decision)


@covers("EMERG-2", positive=False)
def test_fall_with_a_minor_injury_is_the_urgent_community_response_not_999():
    decision = decide(fallen=True, fall_injury="minor", head_injury=False)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "ucr", "PT2H")
    assert "EMERG-2" not in fired(decision)


@covers("EMERG-2", positive=True)
def test_fall_with_head_injury_and_lost_consciousness_is_999():
    decision = decide(fallen=True, fall_injury="minor", head_injury=True, lost_consciousness=True)
    assert_ambulance_now(decision)
    assert "EMERG-2" in fired(decision)


@covers("EMERG-2", positive=True)
def test_fall_with_head_injury_on_blood_thinners_is_999():
    decision = decide(fallen=True, fall_injury="none", head_injury=True, lost_consciousness=False, on_anticoagulants=True)
    assert_ambulance_now(decision)
    assert "EMERG-2" in fired(decision)


@covers("EMERG-2", positive=False)
def test_fall_with_head_bump_no_blackout_and_no_blood_thinners_is_ucr():
    decision = decide(fallen=True, fall_injury="minor", head_injury=True, lost_consciousness=False, on_anticoagulants=False)
    assert (decision["route"], decision["pathway"]) == ("rapid_response", "ucr")
    assert "EMERG-2" not in fired(decision)


@covers("EMERG-2", positive=False)
def test_fall_with_no_head_injury_on_blood_thinners_is_ucr():
    decision = decide(fallen=True, fall_injury="none", head_injury=False, on_anticoagulants=True)
    assert (decision["route"], decision["pathway"]) == ("rapid_response", "ucr")
    assert "EMERG-2" not in fired(decision)


def test_fall_with_head_injury_and_blackout_unknown_asks_about_the_blackout():
    decision = decide(fallen=True, fall_injury="none", head_injury=True)
    assert (decision["route"], decision["pathway"]) == ("rapid_response", "ucr")
    assert "lost_consciousness" in decision["missing"] and "on_anticoagulants" in decision["missing"]


@covers("EMERG-2", positive=True)
def test_head_injury_with_blackout_and_fall_not_yet_confirmed_is_999():
    decision = decide(head_injury=True, lost_consciousness=True)
    assert_ambulance_now(decision)


@covers("EMERG-3", positive=True)
def test_overdose_is_999_with_the_mental_health_lines():
    decision = decide(overdose_or_self_harm=True, suicidal_thoughts=True)
    assert_ambulance_now(decision)
    assert "EMERG-3" in fired(decision) and "MH-1" not in fired(decision)
    assert any("116 123" in line for line in decision["advice"])


@covers("EMERG-3", positive=False)
def test_suicidal_thoughts_without_self_harm_are_not_999():
    decision = decide(suicidal_thoughts=True, suicide_plan_or_intent=True)
    assert decision["route"] == "rapid_response" and "EMERG-3" not in fired(decision)


@covers("EMERG-4", positive=True)
def test_someone_in_immediate_danger_from_another_person_is_police_999_and_urgent_safeguarding():
    decision = decide(immediate_danger=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("emergency", "police", "PT0M")
    assert decision["advice"][0].startswith("Call 999 now and ask for the police")
    assert decision["safeguarding"]["level"] == "urgent" and decision["safeguarding"]["about"] == ["adult"]
    assert decision["safeguarding"]["consent_basis"] == "immediate_danger"
    assert decision["review_required"] is True


@covers("EMERG-4", positive=False)
def test_abuse_without_immediate_danger_is_not_police_999():
    decision = decide(abuse_types=["domestic"], immediate_danger=False)
    assert decision["route"] != "emergency" and "EMERG-4" not in fired(decision)


def test_emergency_beats_every_other_route():
    decision = decide(stroke_signs=True, fallen=True, fall_injury="none", suicidal_thoughts=True,
                      long_term_conditions=["copd", "diabetes"], admissions_12m=3, lonely_or_isolated=True,
                      age=16, locality="Chatham")
    assert_ambulance_now(decision)


def test_ambulance_leads_when_police_and_ambulance_both_fire():
    decision = decide(chest_pain=True, immediate_danger=True)
    assert (decision["route"], decision["pathway"]) == ("emergency", "ambulance")
    assert decision["advice"][0].startswith(CALL_999)
    assert any(line.startswith("Call 999 now and ask for the police") for line in decision["advice"])
    assert decision["safeguarding"]["level"] == "urgent"


def test_emergency_keeps_lower_referrals_in_also():
    decision = decide(chest_pain=True, lonely_or_isolated=True)
    assert decision["route"] == "emergency"
    assert decision["also"] == ["voluntary_sector"]
