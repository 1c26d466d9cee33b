"""MDT rules: the locality multi-disciplinary team (PROTOCOL.md §3 MDT, §2 derived facts
high_risk, care_act_eligible_likely and carer_eligible_likely)."""
from __future__ import annotations

import pytest

from engine_helpers import covers, decide, fired

TWO_CONDITIONS = ["diabetes", "chronic_kidney_disease"]
CARE_ACT = {"needs_from_illness_or_disability": True, "wellbeing_impact_significant": True}
CARER = {"is_unpaid_carer": True, "carer_wellbeing_impact_significant": True}


def route_pathway_target(decision):
    return decision["route"], decision["pathway"], decision["response_target"]


# --- MDT-6 / MDT-1: high risk ---------------------------------------------------------------

@covers("MDT-6", "MDT-1", positive=True)
def test_two_conditions_and_two_admissions_is_high_risk_complex_care():
    decision = decide(long_term_conditions=TWO_CONDITIONS, admissions_12m=2)
    assert route_pathway_target(decision) == ("mdt", "complex_care", "P2D")
    assert {"MDT-6", "MDT-1"} <= set(fired(decision))


@covers("MDT-6", "MDT-1", positive=False)
def test_two_conditions_and_one_admission_is_not_high_risk():
    decision = decide(long_term_conditions=TWO_CONDITIONS, admissions_12m=1)
    assert decision["route"] == "self_care"
    assert not {"MDT-6", "MDT-1"} & set(fired(decision))


@covers("MDT-6", "MDT-1", positive=True)
def test_two_conditions_and_frailty_6_is_high_risk_complex_care():
    decision = decide(long_term_conditions=TWO_CONDITIONS, frailty_score=6)
    assert route_pathway_target(decision) == ("mdt", "complex_care", "P2D")


@covers("MDT-6", "MDT-1", positive=False)
def test_two_conditions_and_frailty_5_is_not_high_risk():
    decision = decide(long_term_conditions=TWO_CONDITIONS, frailty_score=5, admissions_12m=0)
    assert decision["route"] == "self_care" and "MDT-6" not in fired(decision)


@covers("MDT-6", "MDT-1", positive=False)
def test_one_condition_with_many_admissions_and_severe_frailty_is_not_high_risk():
    decision = decide(long_term_conditions=["copd"], admissions_12m=5, frailty_score=7)
    assert "MDT-6" not in fired(decision) and decision["pathway"] != "complex_care"


def test_two_conditions_with_admissions_not_yet_known_asks_about_admissions():
    decision = decide(long_term_conditions=TWO_CONDITIONS)
    assert "admissions_12m" in decision["missing"] and "frailty_score" in decision["missing"]


# --- MDT-7 / MDT-2: Care Act eligibility ---------------------------------------------------

@covers("MDT-7", "MDT-2", positive=True)
def test_two_unmet_outcomes_from_illness_with_significant_impact_is_a_care_act_assessment():
    decision = decide(outcomes_unable=["hygiene", "nutrition"], **CARE_ACT)
    assert route_pathway_target(decision) == ("mdt", "care_act_assessment", "P2D")
    assert {"MDT-7", "MDT-2"} <= set(fired(decision)) and "VCS-3" not in fired(decision)


@covers("MDT-7", "MDT-2", positive=False)
def test_one_unmet_outcome_is_prevention_support_not_a_care_act_assessment():
    decision = decide(outcomes_unable=["hygiene"], **CARE_ACT)
    assert route_pathway_target(decision) == ("voluntary_sector", "community_support", "P5D")
    assert not {"MDT-7", "MDT-2"} & set(fired(decision)) and "VCS-3" in fired(decision)


@covers("MDT-7", "MDT-2", positive=False)
@pytest.mark.parametrize("fact", sorted(CARE_ACT))
def test_two_unmet_outcomes_without_an_eligibility_condition_is_prevention_support(fact):
    decision = decide(outcomes_unable=["hygiene", "dressing"], **{**CARE_ACT, fact: False})
    assert route_pathway_target(decision) == ("voluntary_sector", "community_support", "P5D")
    assert "MDT-2" not in fired(decision)


# --- MDT-8 / MDT-3: carer eligibility --------------------------------------------------------

@covers("MDT-8", "MDT-3", positive=True)
def test_carer_with_one_unmet_outcome_and_significant_impact_gets_a_carers_assessment():
    decision = decide(carer_outcomes_unable=["recreation"], **CARER)
    assert route_pathway_target(decision) == ("mdt", "carer_assessment", "P2D")
    assert {"MDT-8", "MDT-3"} <= set(fired(decision)) and "VCS-4" not in fired(decision)


@covers("MDT-8", "MDT-3", positive=True)
def test_carer_whose_health_is_deteriorating_gets_a_carers_assessment():
    decision = decide(carer_health_deteriorating=True, carer_outcomes_unable=[], **CARER)
    assert route_pathway_target(decision) == ("mdt", "carer_assessment", "P2D")


@covers("MDT-8", "MDT-3", positive=False)
def test_carer_with_no_unmet_outcome_and_health_holding_up_gets_carers_support():
    decision = decide(carer_health_deteriorating=False, carer_outcomes_unable=[], **CARER)
    assert route_pathway_target(decision) == ("voluntary_sector", "community_support", "P5D")
    assert not {"MDT-8", "MDT-3"} & set(fired(decision)) and "VCS-4" in fired(decision)


@covers("MDT-8", "MDT-3", positive=False)
def test_carer_without_significant_impact_gets_carers_support_not_an_assessment():
    decision = decide(is_unpaid_carer=True, carer_health_deteriorating=True, carer_wellbeing_impact_significant=False)
    assert decision["route"] == "voluntary_sector" and "MDT-3" not in fired(decision)


def test_carer_eligible_even_when_the_person_cared_for_is_not():
    decision = decide(carer_outcomes_unable=["relationships"], outcomes_unable=[], **CARER)
    assert decision["pathway"] == "carer_assessment"


# --- MDT-4: end of life ----------------------------------------------------------------------

@covers("MDT-4", positive=True)
def test_person_in_their_last_year_of_life_without_a_crisis_gets_end_of_life_coordination():
    decision = decide(end_of_life=True, palliative_crisis=False)
    assert route_pathway_target(decision) == ("mdt", "end_of_life", "P2D")
    assert "MDT-4" in fired(decision)


@covers("MDT-4", positive=False)
def test_person_not_at_end_of_life_gets_no_end_of_life_coordination():
    decision = decide(end_of_life=False)
    assert "MDT-4" not in fired(decision) and decision["route"] == "self_care"


@covers("MDT-4", positive=False)
def test_end_of_life_crisis_is_the_two_hour_response_not_coordination():
    decision = decide(end_of_life=True, palliative_crisis=True)
    assert route_pathway_target(decision) == ("rapid_response", "ucr", "PT2H")
    assert "MDT-4" not in fired(decision) and "UCR-4" in fired(decision)


# --- MDT-5: after discharge ------------------------------------------------------------------

@covers("MDT-5", positive=True)
def test_home_from_hospital_this_week_and_struggling_to_wash_gets_post_discharge_support():
    decision = decide(discharged_within_7_days=True, outcomes_unable=["hygiene"])
    assert route_pathway_target(decision) == ("mdt", "post_discharge", "P2D")
    assert "MDT-5" in fired(decision)
    assert decision["also"] == ["voluntary_sector"], "the one unmet outcome also gets prevention support"


@covers("MDT-5", positive=False)
def test_home_from_hospital_and_managing_gets_no_post_discharge_referral():
    decision = decide(discharged_within_7_days=True, outcomes_unable=[])
    assert decision["route"] == "self_care" and "MDT-5" not in fired(decision)


@covers("MDT-5", positive=False)
def test_struggling_to_wash_without_a_recent_discharge_is_prevention_support():
    decision = decide(discharged_within_7_days=False, outcomes_unable=["hygiene"])
    assert route_pathway_target(decision) == ("voluntary_sector", "community_support", "P5D")
    assert "MDT-5" not in fired(decision)


# --- within the mdt route --------------------------------------------------------------------

def test_mdt_pathways_with_equal_targets_go_to_the_first_listed_in_the_protocol():
    decision = decide(long_term_conditions=TWO_CONDITIONS, admissions_12m=3, end_of_life=True, palliative_crisis=False)
    assert decision["pathway"] == "complex_care"
    assert any("end of life care coordination" in line for line in decision["advice"])


def test_high_risk_person_who_is_being_exploited_is_complex_care_with_a_safeguarding_referral():
    decision = decide(long_term_conditions=TWO_CONDITIONS, admissions_12m=2, abuse_types=["financial"])
    assert (decision["route"], decision["pathway"]) == ("mdt", "complex_care")
    assert decision["safeguarding"]["level"] == "referral" and decision["review_required"] is True


def test_mdt_need_for_a_child_goes_to_childrens_services():
    decision = decide(age=17, long_term_conditions=TWO_CONDITIONS, admissions_12m=4)
    assert decision["route"] == "out_of_scope" and "MDT-1" not in fired(decision)
