"""SCOPE rules: who this adult front door serves (PROTOCOL.md §3 SCOPE, FAILSAFE-3).

Each test builds a contact with the emergency screen answered "none of these" unless it says
otherwise, and asserts the decision a person would act on.
"""
from __future__ import annotations

import pytest

from engine_helpers import covers, decide, fired


@covers("SCOPE-1", positive=True)
@covers("SCOPE-3", positive=False)
def test_seventeen_year_old_goes_to_childrens_services():
    decision = decide(age=17, lonely_or_isolated=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("out_of_scope", "children_services", None)
    assert decision["also"] == [] and decision["services"] == []
    assert "SCOPE-1" in fired(decision) and "SCOPE-3" not in fired(decision)
    assert any("children's social care" in line for line in decision["advice"])


@covers("SCOPE-3", positive=True)
@covers("SCOPE-1", positive=False)
def test_eighteen_year_old_is_served_by_the_adult_front_door():
    decision = decide(age=18, lonely_or_isolated=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("voluntary_sector", "community_support", "P5D")
    assert "SCOPE-3" in fired(decision) and "SCOPE-1" not in fired(decision)


def test_seventeen_year_old_who_fell_goes_to_childrens_services_not_the_ucr():
    decision = decide(age=17, fallen=True, fall_injury="none")
    assert (decision["route"], decision["pathway"]) == ("out_of_scope", "children_services")
    assert "UCR-1" not in fired(decision)


def test_eighteen_year_old_who_fell_gets_the_urgent_community_response():
    decision = decide(age=18, fallen=True, fall_injury="none")
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "ucr", "PT2H")


@covers("SCOPE-1S", positive=True)
def test_child_being_abused_is_an_urgent_referral_to_childrens_social_care():
    decision = decide(age=9, abuse_types=["physical"])
    assert (decision["route"], decision["pathway"]) == ("out_of_scope", "children_services")
    assert decision["safeguarding"] == {"level": "urgent", "about": ["child"], "categories": ["physical"], "consent_basis": None}
    assert decision["review_required"] is True and decision["review_reasons"]


@covers("SCOPE-1S", positive=True)
def test_seventeen_year_old_at_risk_is_an_urgent_childrens_referral():
    decision = decide(age=17, child_at_risk=True)
    assert decision["route"] == "out_of_scope"
    assert decision["safeguarding"]["level"] == "urgent" and decision["safeguarding"]["about"] == ["child"]


@covers("SCOPE-1S", positive=False)
def test_child_with_no_abuse_or_risk_has_no_safeguarding():
    decision = decide(age=9)
    assert (decision["route"], decision["pathway"]) == ("out_of_scope", "children_services")
    assert decision["safeguarding"]["level"] == "none"
    assert "SCOPE-1S" not in fired(decision) and decision["review_required"] is False


@covers("SCOPE-1S", positive=False)
def test_eighteen_year_old_with_abuse_and_no_care_needs_is_an_adult_concern_not_a_child_referral():
    decision = decide(age=18, abuse_types=["domestic"])
    assert decision["safeguarding"]["level"] == "concern"
    assert decision["safeguarding"]["about"] == ["adult"]
    assert "SCOPE-1S" not in fired(decision)


@covers("SCOPE-2", positive=True)
@covers("SCOPE-4", positive=False)
def test_person_in_leeds_is_signposted_to_their_own_area():
    decision = decide(locality="Chatham", lonely_or_isolated=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("out_of_scope", "other_area", None)
    assert decision["also"] == [] and decision["services"] == []
    assert "SCOPE-2" in fired(decision) and "SCOPE-4" not in fired(decision)
    assert any("Kent only" in line for line in decision["advice"])


@pytest.mark.hazard("HAZ-008")
@covers("SCOPE-4", positive=True)
@covers("SCOPE-2", positive=False)
def test_person_in_ramsgate_is_in_the_thanet_locality_and_served():
    decision = decide(locality="Ramsgate", lonely_or_isolated=True)
    assert decision["route"] == "voluntary_sector"
    assert "SCOPE-4" in fired(decision) and "SCOPE-2" not in fired(decision)
    assert decision["services"] and {s["locality"] for s in decision["services"]} == {"thanet"}


@covers("SCOPE-4", positive=True)
def test_configured_locality_id_is_in_area():
    decision = decide(locality="west_kent", lonely_or_isolated=True)
    assert decision["route"] == "voluntary_sector" and "SCOPE-2" not in fired(decision)


@covers("SCOPE-3", positive=True)
def test_unknown_age_is_served_and_the_age_is_still_asked():
    decision = decide(age=None, lonely_or_isolated=True)
    assert (decision["route"], decision["pathway"]) == ("voluntary_sector", "community_support")
    assert "SCOPE-3" in fired(decision)
    assert "age" in decision["missing"]


@pytest.mark.hazard("HAZ-004")
@covers("SCOPE-4", positive=True)
def test_unknown_locality_is_served_and_the_locality_is_still_asked():
    decision = decide(locality=None, fallen=True, fall_injury="none")
    assert (decision["route"], decision["pathway"]) == ("rapid_response", "ucr")
    assert "SCOPE-4" in fired(decision)
    assert "locality" in decision["missing"]


def test_child_with_chest_pain_is_999_not_childrens_services():
    decision = decide(age=12, chest_pain=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("emergency", "ambulance", "PT0M")


def test_child_in_immediate_danger_is_police_999_and_an_urgent_childrens_referral():
    decision = decide(age=15, immediate_danger=True)
    assert (decision["route"], decision["pathway"]) == ("emergency", "police")
    assert decision["safeguarding"]["level"] == "urgent" and "child" in decision["safeguarding"]["about"]


def test_out_of_area_adult_with_dementia_being_exploited_keeps_the_safeguarding_referral():
    decision = decide(locality="Chatham", dementia=True, abuse_types=["financial"])
    assert (decision["route"], decision["pathway"]) == ("out_of_scope", "other_area")
    assert decision["safeguarding"]["level"] == "referral" and decision["safeguarding"]["about"] == ["adult"]
    assert decision["review_required"] is True
    assert "SAFE-6" not in fired(decision), "the s.42 referral goes to the local authority where the adult is"


def test_out_of_area_fall_is_signposted_not_sent_the_kent_ucr():
    decision = decide(locality="Crowborough", fallen=True, fall_injury="none")
    assert (decision["route"], decision["pathway"]) == ("out_of_scope", "other_area")
    assert decision["also"] == []


# --- SCOPE-5 (1.1): out of area with an urgent need -------------------------------------------

URGENT_ELSEWHERE = "call NHS 111 now"


@covers("SCOPE-5", positive=True)
def test_out_of_area_fall_with_a_long_lie_is_told_to_call_nhs_111_now():
    decision = decide(locality="Crowborough", fallen=True, on_floor_cannot_get_up=True, fall_injury="none")
    assert (decision["route"], decision["pathway"]) == ("out_of_scope", "other_area")
    assert URGENT_ELSEWHERE in decision["advice"][0], "the urgent advice comes first"
    assert "UCR-1" in fired(decision) and "SCOPE-5" in fired(decision)


@covers("SCOPE-5", positive=True)
def test_out_of_area_man_with_a_suicide_plan_is_told_to_call_nhs_111_now():
    decision = decide(locality="Chatham", suicide_plan_or_intent=True)
    assert decision["route"] == "out_of_scope" and URGENT_ELSEWHERE in " ".join(decision["advice"])
    assert any("116 123" in line for line in decision["advice"])


@covers("SCOPE-5", positive=False)
def test_out_of_area_lonely_man_is_signposted_without_urgent_advice():
    decision = decide(locality="Chatham", lonely_or_isolated=True)
    assert decision["route"] == "out_of_scope" and "SCOPE-5" not in fired(decision)
    assert not any(URGENT_ELSEWHERE in line for line in decision["advice"])


@covers("SCOPE-5", positive=False)
def test_fall_in_kent_gets_the_ucr_not_the_out_of_area_advice():
    decision = decide(locality="thanet", fallen=True, fall_injury="none")
    assert decision["route"] == "rapid_response" and "SCOPE-5" not in fired(decision)


@covers("SCOPE-5", positive=False)
def test_out_of_area_seventeen_year_old_after_a_fall_goes_to_childrens_services():
    decision = decide(locality="Chatham", age=17, fallen=True, fall_injury="none")
    assert decision["pathway"] == "children_services" and "SCOPE-5" not in fired(decision)


def test_place_where_the_person_is_unknown_never_turns_a_fall_away():
    decision = decide(locality=None, fallen=True, fall_injury="none")
    assert decision["route"] == "rapid_response" and "SCOPE-5" not in fired(decision)
