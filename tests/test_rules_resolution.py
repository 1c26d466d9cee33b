"""How the fired rules become one decision (PROTOCOL.md §1 and §4): route precedence, the
shortest target leads within a route, lower referral routes go to `also`, and the trace in
`fired` names each rule's id, version and source."""
from __future__ import annotations

import copy

from engine_helpers import NOW, contact, decide, decide_raw, fired, get_triage


def test_out_of_scope_beats_every_route_but_emergency():
    child = decide(age=16, suicidal_thoughts=True, fallen=True, lonely_or_isolated=True)
    assert (child["route"], child["also"]) == ("out_of_scope", [])
    elsewhere = decide(locality="Glasgow", catheter_problem=True, long_term_conditions=["copd", "asthma"], admissions_12m=3)
    assert (elsewhere["route"], elsewhere["pathway"], elsewhere["also"]) == ("out_of_scope", "other_area", [])


def test_fall_and_mental_health_crisis_lead_with_the_two_hour_target_and_name_the_crisis_team():
    decision = decide(fallen=True, fall_injury="none", mental_health_crisis=True)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "ucr", "PT2H")
    assert any("the mental health crisis team" in line for line in decision["advice"])
    assert any("116 123" in line for line in decision["advice"]), "MH lines stay on an MH decision"


def test_suicidal_with_a_plan_and_a_fall_still_lead_with_the_two_hour_target():
    decision = decide(fallen=True, fall_injury="none", suicidal_thoughts=True, suicide_plan_or_intent=True)
    assert (decision["pathway"], decision["response_target"]) == ("ucr", "PT2H")


def test_lower_referral_routes_go_to_also_in_precedence_order():
    decision = decide(catheter_problem=True, long_term_conditions=["copd", "asthma"], admissions_12m=2,
                      lonely_or_isolated=True)
    assert decision["route"] == "rapid_response"
    assert decision["also"] == ["mdt", "voluntary_sector"]


def test_self_care_is_never_in_also():
    decision = decide(lonely_or_isolated=True)
    assert "self_care" not in decision["also"] and decision["also"] == []


def test_fired_carries_id_version_and_source_of_each_rule():
    decision = decide(fallen=True, fall_injury="none", lonely_or_isolated=True)
    rulebook = get_triage().ruleset.rulebook
    assert fired(decision) == sorted(fired(decision), key=lambda rule_id: rulebook.by_id(rule_id).order)
    for entry in decision["fired"]:
        rule = rulebook.by_id(entry["rule"])
        assert (entry["version"], entry["source"], entry["title"]) == (rule.version, rule.source, rule.title)
    roles = {entry["rule"]: entry["role"] for entry in decision["fired"]}
    assert roles["UCR-1"] == "decided the route" and roles["VCS-1"] == "also referred"
    assert roles["UCR-0"] == "derived fall_known"
    assert {entry["rule"]: entry["matched"] for entry in decision["fired"]}["UCR-0"] == {"fallen": True, "fall_injury": "none"}


def test_decision_names_the_ruleset_version_that_made_it():
    assert decide()["ruleset_version"] == get_triage().ruleset.version


def test_same_contact_twice_gets_the_same_decision_and_is_not_changed():
    data = contact(fallen=True, abuse_types=["financial"], dementia=True, practical_help=["meals"])
    original = copy.deepcopy(data)
    assert decide_raw(data) == decide_raw(data)
    assert data == original
    service = get_triage()
    parsed = service.parse_contact(data)
    frozen = copy.deepcopy(parsed)
    service.decide(parsed, NOW)
    assert parsed == frozen, "decide does not change the contact it is given"
