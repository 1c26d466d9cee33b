"""Properties of decide() over random valid contacts (Hypothesis), issue 2 item 9.

The strategy is built from the contract's vocabulary (spoa.vocabulary.facts()): any subset of
the facts, each unknown (null) or a valid value. Contacts go through parse_contact like real
input, so only validated facts reach the engine.
"""
from __future__ import annotations

import pytest

from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine_helpers import NOW, assert_valid, decide, get_triage
from spoa.vocabulary import EMERGENCY_SCREEN, ROUTE_PRECEDENCE, FactSpec, facts

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PLACES = ["ashford", "thanet", "swale", "west_kent", "Margate", "Dover", "Chatham", "Cardiff"]


def value_strategy(spec: FactSpec):
    if spec.kind == "boolean":
        return st.booleans()
    if spec.kind == "integer":
        return st.integers(min_value=spec.minimum or 0, max_value=spec.maximum if spec.maximum is not None else 20)
    if spec.kind == "choice":
        return st.sampled_from(spec.options)
    if spec.kind == "multi":
        return st.lists(st.sampled_from(spec.options), unique=True, max_size=4)
    if spec.id == "locality":
        return st.sampled_from(PLACES)
    return st.text(alphabet="abcdefghij ", min_size=1, max_size=12)


VALUES = {fact_id: value_strategy(spec) for fact_id, spec in facts().items()}


@st.composite
def fact_sets(draw, max_facts: int = 20):
    chosen = draw(st.lists(st.sampled_from(sorted(VALUES)), unique=True, max_size=max_facts))
    return {fact_id: draw(st.none() | VALUES[fact_id]) for fact_id in chosen}


@st.composite
def contacts(draw):
    data = {"facts": draw(fact_sets())}
    if draw(st.booleans()):
        data["received_at"] = draw(st.sampled_from(["2026-11-26T10:00:00Z", "2026-11-26T21:00:00Z", "2026-07-01T07:30:00+01:00"]))
    return data


def decide_data(data: dict) -> dict:
    service = get_triage()
    return service.decide(service.parse_contact(data), NOW)


def with_fact(data: dict, fact_id: str, value) -> dict:
    return {**data, "facts": {**data["facts"], fact_id: value}}


def rank(route: str) -> int:
    return ROUTE_PRECEDENCE.index(route)


@SETTINGS
@given(contacts())
def test_every_decision_validates_against_the_schema(data):
    decision = decide_data(data)
    assert_valid(decision)
    assert decision["advice"], "safety-netting is on every decision"
    assert decision["missing"] == sorted(set(decision["missing"]), key=list(facts()).index)


@SETTINGS
@given(contacts())
def test_the_same_contact_always_gets_the_same_decision(data):
    assert decide_data(data) == decide_data(data)


@pytest.mark.hazard("HAZ-001")
@SETTINGS
@given(contacts(), st.sampled_from(EMERGENCY_SCREEN))
def test_setting_any_emergency_red_flag_never_lowers_the_route_and_gives_emergency(data, flag):
    before = decide_data(data)
    after = decide_data(with_fact(data, flag, True))
    assert rank(after["route"]) <= rank(before["route"])
    assert after["route"] == "emergency"
    assert after["status"] == "complete"


@st.composite
def emergencies(draw):
    data = draw(contacts())
    if draw(st.booleans()):
        data = with_fact(data, draw(st.sampled_from(EMERGENCY_SCREEN)), True)
    return data


@SETTINGS
@given(emergencies(), st.data())
def test_turning_an_unknown_fact_into_a_known_one_never_turns_an_emergency_into_something_else(data, more):
    before = decide_data(data)
    assume(before["route"] == "emergency")
    unknown = sorted(f for f in facts() if data["facts"].get(f) is None)
    fact_id = more.draw(st.sampled_from(unknown))
    after = decide_data(with_fact(data, fact_id, more.draw(VALUES[fact_id])))
    assert after["route"] == "emergency", (fact_id, after["route"])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(contacts(), min_size=8, max_size=16))
def test_decisions_from_eight_threads_equal_the_single_threaded_ones(batch):
    expected = [decide_data(data) for data in batch]

    def worker(offset: int):
        order = [(offset + i) % len(batch) for i in range(len(batch))]
        return [(i, decide_data(batch[i])) for i in order]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for results in pool.map(worker, range(8)):
            for index, decision in results:
                assert decision == expected[index]


CONTRADICTIONS = {"FAILSAFE-4A", "FAILSAFE-4B"}


def unasked_change(data: dict, fact_id: str, value):
    """(before, after) when fact_id is unknown and not in `missing`; None when the check does
    not apply. Two exclusions, stated rather than hidden: an emergency (the engine stops asking
    once 999 is advised; a second red flag may move ambulance to police or back, never off
    `emergency`, checked here), and an answer that contradicts another (FAILSAFE-4: no question
    is asked to discover a contradiction)."""
    before = decide_data(data)
    if fact_id in before["missing"]:
        return None
    after = decide_data(with_fact(data, fact_id, value))
    if before["route"] == "emergency":
        assert after["route"] == "emergency"
        return None
    if CONTRADICTIONS & ({entry["rule"] for entry in after["fired"]} - {entry["rule"] for entry in before["fired"]}):
        return None
    return before, after


@SETTINGS
@given(contacts(), st.data())
def test_a_fact_not_in_missing_cannot_change_the_route_or_pathway(data, more):
    """`missing` is honest: an unknown fact the engine does not ask for, whatever its value,
    leaves the route and the pathway as they are."""
    missing = decide_data(data)["missing"]
    unasked = sorted(f for f in facts() if data["facts"].get(f) is None and f not in missing)
    assume(unasked)
    fact_id = more.draw(st.sampled_from(unasked))
    value = more.draw(VALUES[fact_id])
    change = unasked_change(data, fact_id, value)
    assume(change is not None)
    before, after = change
    assert (after["route"], after["pathway"]) == (before["route"], before["pathway"]), \
        f"{fact_id}={value!r} changed the decision but was not in missing"


def test_person_being_exploited_with_repeat_admissions_is_asked_about_long_term_conditions():
    # Found by the property above: equal targets within a route go to the pathway listed first.
    decision = decide(dementia=True, abuse_types=["financial"], admissions_12m=3)
    assert (decision["route"], decision["pathway"]) == ("mdt", "safeguarding")
    assert "long_term_conditions" in decision["missing"], \
        "two conditions would make the person high risk, and complex_care leads safeguarding"
