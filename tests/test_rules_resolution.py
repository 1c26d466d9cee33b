"""How the fired rules become one decision (PROTOCOL.md §1 and §4): route precedence, the
shortest target leads within a route, lower referral routes go to `also`, and the trace in
`fired` names each rule's id, version and source."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from engine_helpers import NOW, RULES_DIR, contact, decide, decide_raw, fired, get_triage
from spoa.config import config_from_mapping
from spoa.decide import decide as decide_with
from spoa.durations import parse_duration
from spoa.ruleset import load_ruleset

contact_data = contact


def test_out_of_scope_beats_every_route_but_emergency():
    child = decide(age=16, suicidal_thoughts=True, fallen=True, lonely_or_isolated=True)
    assert (child["route"], child["also"]) == ("out_of_scope", [])
    elsewhere = decide(locality="Bexleyheath", catheter_problem=True, long_term_conditions=["copd", "asthma"], admissions_12m=3)
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


@pytest.mark.hazard("HAZ-015")
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


# --- configuration, not constants --------------------------------------------------------------

def ruleset_with(**changes):
    """The shipped rules compiled against config.yml with some settings changed."""
    service = get_triage()
    data = {**service.config.data, **changes}
    config = config_from_mapping(data, service.config.path)
    return load_ruleset(RULES_DIR, config, service.directory)


def test_kent_four_hour_rapid_response_target_comes_from_configuration():
    kent = ruleset_with(response_targets={**get_triage().config.data["response_targets"], "ucr": "PT4H"})
    contact = get_triage().parse_contact(contact_data(fallen=True, fall_injury="none"))
    decision = decide_with(contact, kent, NOW)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "ucr", "PT4H")
    assert decision["ruleset_version"] == kent.version != get_triage().ruleset.version


def test_configured_ucr_hours_decide_the_out_of_hours_advice():
    nine_to_five = ruleset_with(ucr_hours={"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"})
    service = get_triage()
    thursday_6pm = service.parse_contact(contact_data(catheter_problem=True, received_at="2026-11-26T18:00:00Z"))
    saturday_noon = service.parse_contact(contact_data(catheter_problem=True, received_at="2026-11-28T12:00:00Z"))
    thursday_noon = service.parse_contact(contact_data(catheter_problem=True, received_at="2026-11-26T12:00:00Z"))
    for received, closed in ((thursday_6pm, True), (saturday_noon, True), (thursday_noon, False)):
        advice = decide_with(received, nine_to_five, NOW)["advice"]
        assert any("Outside those hours" in line for line in advice) is closed
    assert not any("Outside those hours" in line for line in decide_with(thursday_6pm, service.ruleset, NOW)["advice"])


def test_the_ruleset_version_covers_the_settings_the_rules_read_and_no_others():
    base = ruleset_with().version
    assert ruleset_with(service_name="Somewhere else").version == base
    localities = dict(get_triage().config.data["localities"])
    localities.pop("swale")
    assert ruleset_with(localities=localities).version != base


def test_a_locality_removed_from_configuration_is_out_of_area():
    localities = {k: v for k, v in get_triage().config.data["localities"].items() if k != "swale"}
    without_swale = ruleset_with(localities=localities)
    contact = get_triage().parse_contact(contact_data(locality="swale", lonely_or_isolated=True))
    assert decide_with(contact, without_swale, NOW)["route"] == "out_of_scope"
    assert decide_with(contact, get_triage().ruleset, NOW)["route"] == "voluntary_sector"


@pytest.mark.parametrize("text, expected", [
    ("PT0M", timedelta(0)), ("PT2H", timedelta(hours=2)), ("PT24H", timedelta(hours=24)),
    ("P2D", timedelta(days=2)), ("P1DT30M", timedelta(days=1, minutes=30)), (None, None)])
def test_response_targets_read_as_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P", "PT", "2H", "P2W", "PT2H30"])
def test_a_target_that_is_not_a_duration_is_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)
