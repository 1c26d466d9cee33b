"""VCS rules: voluntary and community sector support, with services matched from the
directory (PROTOCOL.md §3 VCS)."""
from __future__ import annotations

import pytest

from engine_helpers import covers, decide, fired
from spoa.vocabulary import facts

PRACTICAL_HELP = facts()["practical_help"].options


def assert_community_support(decision):
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("voluntary_sector", "community_support", "P5D")


@covers("VCS-1", positive=True)
def test_lonely_person_in_dartford_is_offered_befriending_in_their_locality():
    decision = decide(locality="dartford_gravesham_swanley", lonely_or_isolated=True)
    assert_community_support(decision)
    assert "VCS-1" in fired(decision)
    assert decision["services"]
    assert all(s["locality"] == "dartford_gravesham_swanley" for s in decision["services"])
    assert any("befriending" in s["taxonomy"] for s in decision["services"])


@covers("VCS-1", positive=False)
def test_person_who_is_not_lonely_gets_no_befriending():
    decision = decide(lonely_or_isolated=False)
    assert decision["route"] == "self_care" and "VCS-1" not in fired(decision)
    assert decision["services"] == []


@covers("VCS-2", positive=True)
@pytest.mark.parametrize("need", PRACTICAL_HELP)
def test_practical_help_is_matched_to_a_local_service(need):
    decision = decide(locality="swale", practical_help=[need])
    assert_community_support(decision)
    assert "VCS-2" in fired(decision)
    assert any(need in s["taxonomy"] and s["locality"] == "swale" for s in decision["services"]), decision["services"]


@covers("VCS-2", positive=False)
def test_no_practical_help_asked_for_is_no_referral():
    decision = decide(practical_help=[])
    assert decision["route"] == "self_care" and "VCS-2" not in fired(decision)


@covers("VCS-3", positive=True)
def test_one_unmet_outcome_is_prevention_support():
    decision = decide(outcomes_unable=["home_safety"], needs_from_illness_or_disability=True, wellbeing_impact_significant=False)
    assert_community_support(decision)
    assert "VCS-3" in fired(decision)


@covers("VCS-3", positive=False)
def test_care_act_eligible_person_is_not_sent_prevention_support():
    decision = decide(outcomes_unable=["home_safety", "nutrition"], needs_from_illness_or_disability=True,
                      wellbeing_impact_significant=True)
    assert decision["route"] == "mdt" and "VCS-3" not in fired(decision)


@covers("VCS-4", positive=True)
def test_carer_below_the_eligibility_threshold_gets_carers_support():
    decision = decide(locality="ashford", is_unpaid_carer=True, carer_wellbeing_impact_significant=False)
    assert_community_support(decision)
    assert "VCS-4" in fired(decision)
    assert any("carer_support" in s["taxonomy"] for s in decision["services"])


@covers("VCS-4", positive=False)
def test_person_who_is_not_a_carer_gets_no_carers_support():
    decision = decide(is_unpaid_carer=False)
    assert "VCS-4" not in fired(decision) and decision["route"] == "self_care"


@covers("VCS-1", "VCS-2", positive=False)
def test_lonely_seventeen_year_old_goes_to_childrens_services_with_no_adult_services():
    decision = decide(age=17, lonely_or_isolated=True, practical_help=["shopping"])
    assert decision["route"] == "out_of_scope" and not {"VCS-1", "VCS-2"} & set(fired(decision))
    assert decision["services"] == []


def test_lonely_eighteen_year_old_is_offered_befriending():
    assert_community_support(decide(age=18, lonely_or_isolated=True))


@covers("VCS-1", positive=False)
def test_lonely_person_in_leeds_is_signposted_with_no_kent_services():
    decision = decide(locality="Chatham", lonely_or_isolated=True)
    assert decision["route"] == "out_of_scope" and decision["services"] == []


def test_lonely_person_with_locality_not_yet_known_is_offered_support_and_asked_where():
    decision = decide(locality=None, lonely_or_isolated=True)
    assert_community_support(decision)
    assert decision["services"] == [], "no locality, no local services yet"
    assert "locality" in decision["missing"]


def test_several_needs_list_services_for_each():
    decision = decide(locality="thanet", lonely_or_isolated=True, practical_help=["shopping"])
    taxonomy = {term for s in decision["services"] for term in s["taxonomy"]}
    assert {"befriending", "shopping"} <= taxonomy


def test_voluntary_support_follows_a_rapid_response_as_also():
    decision = decide(fallen=True, fall_injury="none", lonely_or_isolated=True)
    assert (decision["route"], decision["pathway"]) == ("rapid_response", "ucr")
    assert decision["also"] == ["voluntary_sector"]
    assert decision["services"], "services are listed for the follow-up"
