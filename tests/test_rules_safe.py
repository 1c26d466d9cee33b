"""SAFE rules: safeguarding sets its own level and never lowers the route (PROTOCOL.md §3 SAFE,
§2 derived facts has_care_and_support_needs and s42_duty, FAILSAFE-1 for unknown answers)."""
from __future__ import annotations

import pytest

from engine_helpers import covers, decide, fired


def safeguarding(decision):
    s = decision["safeguarding"]
    return s["level"], s["about"], s["consent_basis"]


# --- SAFE-7: care and support needs (each way of having them, and the boundaries) ----------

NEEDS = {
    "outcomes_unable": {"outcomes_unable": ["hygiene"]},
    "frailty_5": {"frailty_score": 5},
    "dementia": {"dementia": True},
    "dementia_as_a_condition": {"long_term_conditions": ["dementia"]},
    "learning_disability": {"learning_disability": True},
    "care_home": {"setting": "care_home"},
    "lacks_capacity": {"lacks_capacity": True},
    "two_conditions": {"long_term_conditions": ["copd", "arthritis"]},
    "end_of_life": {"end_of_life": True},
}
NO_NEEDS = {
    "frailty_4": {"frailty_score": 4},
    "one_condition": {"long_term_conditions": ["copd"]},
    "no_outcomes": {"outcomes_unable": []},
    "own_home": {"setting": "own_home"},
    "no_dementia": {"dementia": False, "learning_disability": False, "lacks_capacity": False, "end_of_life": False},
}


@covers("SAFE-7", "SAFE-8", "SAFE-9", "SAFE-1", positive=True)
@pytest.mark.parametrize("need", sorted(NEEDS))
def test_financial_abuse_of_a_person_with_care_needs_is_a_safeguarding_referral(need):
    decision = decide(abuse_types=["financial"], **NEEDS[need])
    assert decision["safeguarding"]["level"] == "referral"
    assert decision["safeguarding"]["about"] == ["adult"] and decision["safeguarding"]["categories"] == ["financial"]
    assert {"SAFE-7", "SAFE-8", "SAFE-9", "SAFE-1"} <= set(fired(decision))
    assert decision["review_required"] is True
    assert any("Safeguarding level 'referral'" in reason for reason in decision["review_reasons"])


@covers("SAFE-7", "SAFE-8", "SAFE-1", positive=False)
@covers("SAFE-3", positive=True)
@pytest.mark.parametrize("near_miss", sorted(NO_NEEDS))
def test_financial_abuse_of_a_person_without_care_needs_is_a_recorded_concern(near_miss):
    decision = decide(abuse_types=["financial"], **NO_NEEDS[near_miss])
    assert safeguarding(decision) == ("concern", ["adult"], None)
    assert decision["safeguarding"]["categories"] == ["financial"]
    assert decision["route"] == "self_care"
    assert not {"SAFE-7", "SAFE-8", "SAFE-1"} & set(fired(decision)) and "SAFE-3" in fired(decision)
    assert decision["review_required"] is False
    assert any("0808 2000 247" in line for line in decision["advice"])


def test_frailty_score_4_is_not_care_needs_and_5_is():
    assert decide(abuse_types=["neglect"], frailty_score=4)["safeguarding"]["level"] == "concern"
    assert decide(abuse_types=["neglect"], frailty_score=5)["safeguarding"]["level"] == "referral"


def test_one_long_term_condition_is_not_care_needs_and_two_are():
    assert decide(abuse_types=["neglect"], long_term_conditions=["asthma"])["safeguarding"]["level"] == "concern"
    assert decide(abuse_types=["neglect"], long_term_conditions=["asthma", "epilepsy"])["safeguarding"]["level"] == "referral"


def test_no_outcomes_unmet_is_not_care_needs_and_one_is():
    assert decide(abuse_types=["neglect"], outcomes_unable=[])["safeguarding"]["level"] == "concern"
    assert decide(abuse_types=["neglect"], outcomes_unable=["nutrition"])["safeguarding"]["level"] == "referral"


# --- SAFE-8: able to protect themselves (FAILSAFE-1: unknown counts as unable) --------------

@covers("SAFE-8", positive=True)
@pytest.mark.parametrize("able", [False, None])
def test_person_with_dementia_unable_or_not_known_able_to_protect_themselves_is_a_referral(able):
    decision = decide(dementia=True, abuse_types=["psychological"], able_to_protect_self=able)
    assert decision["safeguarding"]["level"] == "referral" and "SAFE-8" in fired(decision)


@covers("SAFE-8", positive=False)
@covers("SAFE-3", positive=True)
def test_person_with_dementia_able_to_protect_themselves_is_a_concern_not_a_referral():
    decision = decide(dementia=True, abuse_types=["psychological"], able_to_protect_self=True)
    assert safeguarding(decision) == ("concern", ["adult"], None)
    assert "SAFE-8" not in fired(decision) and "SAFE-3" in fired(decision)
    assert decision["route"] == "self_care"


@covers("SAFE-3", positive=False)
def test_no_abuse_reported_is_no_safeguarding_at_all():
    decision = decide(dementia=True, abuse_types=[])
    assert safeguarding(decision) == ("none", [], None)
    assert not {"SAFE-1", "SAFE-3", "SAFE-8"} & set(fired(decision))


@covers("SAFE-3", positive=False)
def test_abuse_of_a_person_with_care_needs_is_not_left_as_a_concern():
    decision = decide(learning_disability=True, abuse_types=["sexual"])
    assert decision["safeguarding"]["level"] == "referral" and "SAFE-3" not in fired(decision)


# --- SAFE-5 consent, SAFE-9 (a referral can be made) ---------------------------------------

@covers("SAFE-5E", positive=True)
def test_person_who_agrees_to_the_referral_is_referred_with_consent():
    decision = decide(dementia=True, abuse_types=["financial"], consent_to_safeguarding_referral=True)
    assert safeguarding(decision) == ("referral", ["adult"], "consent")
    assert "SAFE-5E" in fired(decision)


@pytest.mark.hazard("HAZ-009")
@covers("SAFE-9", positive=True)
@covers("SAFE-5E", positive=False)
def test_consent_not_yet_asked_does_not_stop_the_referral():
    decision = decide(dementia=True, abuse_types=["financial"])
    assert safeguarding(decision) == ("referral", ["adult"], "unknown")
    assert "SAFE-9" in fired(decision) and "SAFE-5E" not in fired(decision)
    assert "consent_to_safeguarding_referral" in decision["missing"]


@pytest.mark.hazard("HAZ-009")
@covers("SAFE-5F", positive=True)
@covers("SAFE-9", positive=False)
@covers("SAFE-6", positive=False)
def test_person_who_refuses_a_referral_drops_to_a_recorded_concern_and_is_told_how_to_get_help():
    decision = decide(dementia=True, abuse_types=["financial"], consent_to_safeguarding_referral=False)
    assert safeguarding(decision) == ("concern", ["adult"], "refused")
    assert decision["safeguarding"]["categories"] == ["financial"]
    assert "SAFE-5F" in fired(decision) and not {"SAFE-9", "SAFE-1", "SAFE-6"} & set(fired(decision))
    assert decision["route"] == "self_care" and decision["review_required"] is False
    assert any("does not want a safeguarding referral" in line for line in decision["advice"])


@pytest.mark.hazard("HAZ-009")
@covers("SAFE-5A", positive=True)
@covers("SAFE-5F", positive=False)
def test_refusal_by_a_person_who_may_lack_capacity_does_not_stop_the_referral():
    decision = decide(abuse_types=["financial"], lacks_capacity=True, consent_to_safeguarding_referral=False)
    assert safeguarding(decision) == ("referral", ["adult"], "lacks_capacity")
    assert "SAFE-5A" in fired(decision) and "SAFE-5F" not in fired(decision)


@covers("SAFE-5A", positive=False)
def test_person_with_capacity_has_no_lacks_capacity_basis():
    decision = decide(dementia=True, abuse_types=["financial"], lacks_capacity=False, consent_to_safeguarding_referral=True)
    assert decision["safeguarding"]["consent_basis"] == "consent" and "SAFE-5A" not in fired(decision)


@pytest.mark.hazard("HAZ-009")
@covers("SAFE-5B", positive=True)
@covers("SAFE-5F", positive=False)
def test_refusal_when_others_are_at_risk_does_not_stop_the_referral():
    decision = decide(dementia=True, abuse_types=["physical"], others_at_risk=True, consent_to_safeguarding_referral=False)
    assert safeguarding(decision) == ("referral", ["adult"], "others_at_risk")
    assert "SAFE-5B" in fired(decision)


@covers("SAFE-5B", positive=True)
def test_refusal_when_a_child_is_at_risk_refers_both_adult_and_child_urgently():
    decision = decide(dementia=True, abuse_types=["domestic"], child_at_risk=True, consent_to_safeguarding_referral=False)
    assert safeguarding(decision) == ("urgent", ["adult", "child"], "others_at_risk")
    assert {"SAFE-5B", "SAFE-4", "SAFE-1"} <= set(fired(decision))


@covers("SAFE-5B", positive=False)
def test_nobody_else_at_risk_has_no_others_at_risk_basis():
    decision = decide(dementia=True, abuse_types=["physical"], others_at_risk=False, child_at_risk=False)
    assert decision["safeguarding"]["consent_basis"] == "unknown" and "SAFE-5B" not in fired(decision)


@covers("SAFE-5C", positive=True)
def test_refusal_in_immediate_danger_is_999_and_an_urgent_referral():
    decision = decide(dementia=True, abuse_types=["physical"], immediate_danger=True, consent_to_safeguarding_referral=False)
    assert (decision["route"], decision["pathway"]) == ("emergency", "police")
    assert safeguarding(decision) == ("urgent", ["adult"], "immediate_danger")
    assert "SAFE-5C" in fired(decision)


@covers("SAFE-5C", positive=False)
def test_no_immediate_danger_has_no_immediate_danger_basis():
    decision = decide(dementia=True, abuse_types=["physical"], consent_to_safeguarding_referral=True)
    assert "SAFE-5C" not in fired(decision) and decision["safeguarding"]["consent_basis"] == "consent"


@covers("SAFE-5D", positive=True)
def test_refusal_when_care_staff_are_implicated_does_not_stop_the_referral():
    decision = decide(setting="care_home", abuse_types=["organisational", "neglect"], consent_to_safeguarding_referral=False)
    assert safeguarding(decision) == ("referral", ["adult"], "organisational")
    assert decision["safeguarding"]["categories"] == ["organisational", "neglect"], "in the contract's order"
    assert "SAFE-5D" in fired(decision)


@covers("SAFE-5D", positive=False)
def test_neglect_at_home_with_refusal_is_not_organisational():
    decision = decide(setting="own_home", dementia=True, abuse_types=["neglect"], consent_to_safeguarding_referral=False)
    assert "SAFE-5D" not in fired(decision) and decision["safeguarding"]["consent_basis"] == "refused"


def test_lacks_capacity_is_the_first_basis_when_several_apply():
    decision = decide(abuse_types=["organisational"], lacks_capacity=True, others_at_risk=True,
                      consent_to_safeguarding_referral=True)
    assert decision["safeguarding"]["consent_basis"] == "lacks_capacity"


# --- SAFE-2 and SAFE-4: urgent levels --------------------------------------------------------

@covers("SAFE-2", positive=True)
def test_adult_in_immediate_danger_is_an_urgent_adult_safeguarding():
    decision = decide(immediate_danger=True, abuse_types=["domestic"])
    assert safeguarding(decision) == ("urgent", ["adult"], "immediate_danger")
    assert decision["safeguarding"]["categories"] == ["domestic"]
    assert "SAFE-2" in fired(decision)


@covers("SAFE-2", positive=False)
def test_child_in_immediate_danger_is_not_an_adult_safeguarding():
    decision = decide(age=14, immediate_danger=True)
    assert "SAFE-2" not in fired(decision)
    assert decision["safeguarding"]["about"] == ["child"]


@covers("SAFE-4", positive=True)
def test_adult_calling_about_a_child_at_risk_raises_an_urgent_child_safeguarding():
    decision = decide(child_at_risk=True)
    assert safeguarding(decision) == ("urgent", ["child"], None)
    assert "SAFE-4" in fired(decision) and decision["review_required"] is True


@covers("SAFE-4", positive=False)
def test_no_child_at_risk_raises_no_child_safeguarding():
    decision = decide(child_at_risk=False, dementia=True, abuse_types=["financial"])
    assert "SAFE-4" not in fired(decision) and decision["safeguarding"]["about"] == ["adult"]


# --- SAFE-6: a referral is never left at self-care ------------------------------------------

@covers("SAFE-6", positive=True)
def test_safeguarding_referral_with_nothing_else_goes_to_the_locality_team():
    decision = decide(dementia=True, abuse_types=["financial"])
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("mdt", "safeguarding", "P2D")
    assert "SAFE-6" in fired(decision)


@covers("SAFE-6", positive=True)
def test_safeguarding_referral_for_a_lonely_person_goes_to_the_team_with_voluntary_support_after():
    decision = decide(dementia=True, abuse_types=["financial"], lonely_or_isolated=True)
    assert (decision["route"], decision["pathway"]) == ("mdt", "safeguarding")
    assert decision["also"] == ["voluntary_sector"]
    assert decision["services"], "the voluntary-sector follow-up still lists services"


@covers("SAFE-6", positive=True)
def test_safeguarding_referral_does_not_lower_a_fall_to_the_team():
    decision = decide(dementia=True, abuse_types=["neglect"], fallen=True, fall_injury="minor")
    assert (decision["route"], decision["pathway"]) == ("rapid_response", "ucr")
    assert decision["also"] == ["mdt"]
    assert decision["safeguarding"]["level"] == "referral"


@covers("SAFE-6", positive=False)
def test_safeguarding_concern_stays_at_self_care():
    decision = decide(abuse_types=["domestic"])
    assert decision["route"] == "self_care" and "SAFE-6" not in fired(decision)


def test_safeguarding_never_lowers_an_emergency():
    decision = decide(chest_pain=True, dementia=True, abuse_types=["financial"])
    assert decision["route"] == "emergency"
    assert decision["safeguarding"]["level"] == "referral"
